"""The lane layout the CPU attack kernels share: ``lanes`` candidates per row, a number
per algorithm (in :mod:`.params`, which the ahead-of-time path reads without numba)."""

from __future__ import annotations

import numba
import numpy as np

from matchsim.kernels.attack._numba_start import defer_blas_check
from matchsim.kernels.attack.params import (
    LANES,
    LANES_MD5,
    LANES_SHA1,
    LANES_SHA256,
    LANES_SHA512,
)

defer_blas_check()

__all__ = ["LANES", "LANES_MD5", "LANES_SHA1", "LANES_SHA256", "LANES_SHA512", "_ix"]


@numba.njit(cache=True, inline="always")
def _ix(row: int, ln: int, lanes: int) -> np.uint64:
    """Index of lane ``ln`` in ``row`` of a lane array of ``lanes`` lanes, unsigned so
    numba emits no negative-index fix-up (which would stop LLVM from vectorising the
    lane loop). ``lanes`` is a compile-time constant wherever it is called."""
    return np.uint64(row * lanes + ln)
