"""The lane layout the CPU attack kernels share: ``LANES`` candidates per row."""

from __future__ import annotations

import numba
import numpy as np

from matchsim.kernels.attack._numba_start import defer_blas_check

defer_blas_check()

LANES = 16
"""Candidates hashed together; 16 x uint32 fills one AVX-512 register (two AVX2)."""


@numba.njit(cache=True, inline="always")
def _ix(row: int, ln: int) -> np.uint64:
    """Index of lane ``ln`` in ``row``, unsigned so numba emits no negative-index fix-up
    (which would stop LLVM from vectorising the lane loop)."""
    return np.uint64(row * LANES + ln)
