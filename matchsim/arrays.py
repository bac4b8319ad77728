"""Small NumPy helpers shared by stages.

``sorted_unique`` stands in for ``np.unique(values)`` on 1-d integer arrays: NumPy 2's
``np.unique`` became hash-based and takes ~20x longer than one sort on 10^6 ids here
(1.56 s against 0.08 s for 1.5 M int64 keys, NumPy 2.4); it returns the same array.
"""

from __future__ import annotations

import numpy as np


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (sorted distinct values, same dtype) by one sort."""
    s = np.sort(np.asarray(values).ravel())
    if s.size == 0:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


__all__ = ["sorted_unique"]
