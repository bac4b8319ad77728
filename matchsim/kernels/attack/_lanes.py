"""The lane layout the CPU attack kernels share: ``LANES`` candidates per row (the
number lives in :mod:`.params`, which the ahead-of-time path reads without numba)."""

from __future__ import annotations

import numba
import numpy as np

from matchsim.kernels.attack._numba_start import defer_blas_check
from matchsim.kernels.attack.params import LANES

defer_blas_check()

__all__ = ["LANES", "_ix"]


@numba.njit(cache=True, inline="always")
def _ix(row: int, ln: int) -> np.uint64:
    """Index of lane ``ln`` in ``row``, unsigned so numba emits no negative-index fix-up
    (which would stop LLVM from vectorising the lane loop)."""
    return np.uint64(row * LANES + ln)
