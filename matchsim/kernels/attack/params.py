"""The attack kernels' per-algorithm facts (ids, IVs, check words), without numba.

The CPU kernels (:mod:`.mask`) and their ahead-of-time build (:mod:`matchsim.kernels.aot`)
both read these, and so does the engine that drives them; keeping them apart from the
kernels lets a fresh process plan and prepare an attack without importing numba.
"""

from __future__ import annotations

import numpy as np

from matchsim.kernels import constants as C

ALGO_MD5, ALGO_SHA1, ALGO_SHA256, ALGO_SHA512 = 0, 1, 2, 3
ALGORITHMS = {"md5": ALGO_MD5, "sha1": ALGO_SHA1, "sha256": ALGO_SHA256, "sha512": ALGO_SHA512}
NAMES = {v: k for k, v in ALGORITHMS.items()}

LANES_MD5, LANES_SHA1, LANES_SHA256, LANES_SHA512 = 48, 48, 48, 48
LANES = {
    ALGO_MD5: LANES_MD5,
    ALGO_SHA1: LANES_SHA1,
    ALGO_SHA256: LANES_SHA256,
    ALGO_SHA512: LANES_SHA512,
}
"""Candidates each algorithm's CPU kernels hash together (the rows of their lane arrays:
``W[w * lanes + ln]``); the JIT kernels, their block functions and the ahead-of-time
side all read them here. MD5's scan block functions hash three interleaved groups of 16
(two AVX2 registers each; ``_gen_unrolled.MD5_GROUPS`` says why), so a multiple of 48:
measured against 16, 32 (two groups of 16: 70 M MD5 candidates per CPU-second against
95) and 96 (the block functions alone were faster, the scan slower: 75 M
single-threaded against 97). SHA-512 (not interleaved) was suspected of losing to 48
lanes what MD5 gained; measured on this project's 2-core Zen 3 under load (one thread
and two, three alternating runs each, round 5), 48 lanes scanned 8.7-10.0 M
NL mobile candidates per CPU-second against 8.0-9.1 for 16, 24 and 32 in between: no
loss, so 48 as well. Fewer than 16 does not vectorise (8: 3.3 M).

numba's cache does not see these numbers (they are constants compiled into the block
functions of :mod:`._unrolled` and :mod:`.shani`): clear it after changing them."""

SHA256_IV = np.array(C.SHA256_IV, dtype=np.uint32)
SHA512_IV = np.array(C.SHA512_IV, dtype=np.uint64)
SHA1_IV = np.array(C.SHA1_IV, dtype=np.uint32)
MD5_IV = np.array(C.MD5_IV, dtype=np.uint32)
IVS: dict[int, np.ndarray] = {
    ALGO_MD5: MD5_IV,
    ALGO_SHA1: SHA1_IV,
    ALGO_SHA256: SHA256_IV,
    ALGO_SHA512: SHA512_IV,
}

# Rounds after which both bitmap words are final (early rejection).
EARLY_ROUNDS_MD5, EARLY_ROUNDS_SHA1, EARLY_ROUNDS_SHA256, EARLY_ROUNDS_SHA512 = 62, 77, 61, 77
EARLY_ROUNDS = {
    ALGO_MD5: EARLY_ROUNDS_MD5,
    ALGO_SHA1: EARLY_ROUNDS_SHA1,
    ALGO_SHA256: EARLY_ROUNDS_SHA256,
    ALGO_SHA512: EARLY_ROUNDS_SHA512,
}
BIG_ENDIAN = {ALGO_MD5: False, ALGO_SHA1: True, ALGO_SHA256: True, ALGO_SHA512: True}
# Which digest words (32-bit, or 64-bit for SHA-512, in digest byte order) the two
# bitmaps index (by their low bits).
CHECK_WORDS = {ALGO_MD5: (0, 3), ALGO_SHA1: (4, 3), ALGO_SHA256: (3, 7), ALGO_SHA512: (3, 7)}
STATE_WORDS = {ALGO_MD5: 4, ALGO_SHA1: 5, ALGO_SHA256: 8, ALGO_SHA512: 8}
WORD_BYTES = {ALGO_MD5: 4, ALGO_SHA1: 4, ALGO_SHA256: 4, ALGO_SHA512: 8}
"""Bytes per message/state word; a block is 16 words (64 bytes, or 128 for SHA-512)."""


def make_bitmap(words: np.ndarray, bits: int) -> np.ndarray:
    """A ``2**bits``-bit bitmap (uint64 array) with the bit of every ``words`` value set:
    bit ``w & 63`` of word ``w >> 6``. Built as one byte per bit, then packed (35 ms for
    a million digests at 2^25 bits, against 115 ms for ``np.bitwise_or.at``)."""
    flags = np.zeros(max(64, 1 << bits), dtype=np.bool_)
    flags[(words.astype(np.uint64) & np.uint64((1 << bits) - 1)).astype(np.intp)] = True
    return np.packbits(flags, bitorder="little").view("<u8").astype(np.uint64, copy=False)
