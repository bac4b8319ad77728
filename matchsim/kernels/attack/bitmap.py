"""The attack's bitmap filter built by a numba loop: one bit set per target digest.

:func:`matchsim.kernels.attack.params.make_bitmap` builds the same bitmap with NumPy (a
byte per bit, then packed: 32 MB written for a million digests at 2^25 bits); this loop
sets the bits in the packed words directly. It is compiled ahead of time into each
algorithm's module (:mod:`matchsim.kernels.aot`), where a fresh process builds the
bitmaps without numba; without that module the NumPy version runs (loading numba for
it would cost more than it saves).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def set_bits(words: np.ndarray, bits_mask: np.uint64, bitmap: np.ndarray) -> None:
    """Set bit ``w & bits_mask`` (bit ``b & 63`` of word ``b >> 6``) of ``bitmap`` for
    every ``w`` in ``words``."""
    one = np.uint64(1)
    for i in range(words.shape[0]):
        b = np.uint64(words[i]) & bits_mask
        bitmap[b >> np.uint64(6)] |= one << (b & np.uint64(63))
