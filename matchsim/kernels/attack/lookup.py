"""Exact lookup of candidate digests among an upload's sorted distinct digests (numba).

The digests are sorted, so their first eight bytes (big-endian) are sorted keys; the
keys' top bits index buckets of about one digest each (:attr:`TargetSet._buckets`). A
candidate's bucket is walked to the first key not below its own, and the digest there
is compared byte by byte: one pass, no temporary arrays, where the NumPy version walks
all candidates in lockstep with a few full-size arrays per step.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def lookup(
    digests: np.ndarray,
    keys: np.ndarray,
    starts: np.ndarray,
    shift: int,
    candidates: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[i]``: the index of ``candidates[i]`` in ``digests``, or -1."""
    m = digests.shape[0]
    width = digests.shape[1]
    for i in range(candidates.shape[0]):
        ck = np.uint64(0)
        for t in range(8):
            ck = (ck << np.uint64(8)) | np.uint64(candidates[i, t])
        b = ck >> np.uint64(shift)
        pos = starts[b]
        end = starts[b + 1]
        while pos < end and keys[pos] < ck:
            pos += 1
        if pos > m - 1:
            pos = m - 1
        found = pos
        for t in range(width):
            if digests[pos, t] != candidates[i, t]:
                found = -1
                break
        out[i] = found
