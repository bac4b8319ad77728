"""The lane layout the CPU attack kernels share: ``lanes`` candidates per row, a number
per algorithm (in :mod:`.params`, which the ahead-of-time path reads without numba)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba.core import types

from matchsim.kernels.attack._numba_start import defer_blas_check
from matchsim.kernels.attack.params import (
    LANES,
    LANES_MD5,
    LANES_SHA1,
    LANES_SHA256,
    LANES_SHA512,
)

defer_blas_check()

__all__ = [
    "LANES",
    "LANES_MD5",
    "LANES_SHA1",
    "LANES_SHA256",
    "LANES_SHA512",
    "_ix",
    "data_pointers",
    "u32_lane_arrays",
]


@numba.njit(cache=True, inline="always")
def _ix(row: int, ln: int, lanes: int) -> np.uint64:
    """Index of lane ``ln`` in ``row`` of a lane array of ``lanes`` lanes, unsigned so
    numba emits no negative-index fix-up (which would stop LLVM from vectorising the
    lane loop). ``lanes`` is a compile-time constant wherever it is called."""
    return np.uint64(row * lanes + ln)


def u32_lane_arrays(*arrays: Any) -> bool:
    """Whether numba types ``arrays`` are what the LLVM-IR block intrinsics (:mod:`.shani`,
    :mod:`.sha1_word`) take: C-contiguous one-dimensional uint32 arrays."""
    return all(
        isinstance(a, types.Array) and a.dtype == types.uint32 and a.ndim == 1 and a.layout == "C"
        for a in arrays
    )


def data_pointers(context: Any, builder: Any, signature: Any, args: Any) -> list[Any]:
    """In an intrinsic's codegen: the data pointer of each array argument, in order."""
    return [
        context.make_array(t)(context, builder, a).data
        for t, a in zip(signature.args, args, strict=True)
    ]
