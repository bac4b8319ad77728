"""The lane layout the CPU attack kernels share: ``LANES`` candidates per row."""

from __future__ import annotations

import numba
import numpy as np

from matchsim.kernels.attack._numba_start import defer_blas_check

defer_blas_check()

LANES = 48
"""Candidates hashed together: the MD5 block functions hash them as three interleaved
groups of 16 (two AVX2 registers each; ``_gen_unrolled.MD5_GROUPS`` says why), so a
multiple of 48. Measured against 16, 32 (two groups of 16: 70 M MD5 candidates per
CPU-second against 95) and 96 (the block functions alone were faster, the scan slower:
75 M single-threaded against 97)."""


@numba.njit(cache=True, inline="always")
def _ix(row: int, ln: int) -> np.uint64:
    """Index of lane ``ln`` in ``row``, unsigned so numba emits no negative-index fix-up
    (which would stop LLVM from vectorising the lane loop)."""
    return np.uint64(row * LANES + ln)
