"""Fused enumerate-hash-filter kernels: the attacker's inner loop, on the CPU.

A *mask* is a fixed-width candidate whose positions each allow a small set of bytes
(a phone number shape with its ``+31``/``31`` prefix, a postcode, a date). The kernels
take a range of mask indices, generate every candidate inside the kernel with an
odometer (no Python per candidate), hash ``LANES`` candidates at a time in lane arrays
so LLVM turns each round into SIMD instructions, and test two digest words against two
bitmaps of the target set. Only candidates that pass both bitmaps leave the kernel; the
caller verifies them exactly (:mod:`matchsim.attack.kernels.digest`).

Tricks borrowed from hashcat's optimised kernels:

- **early rejection**: the bitmap words are final several rounds before the end
  (SHA-256 digest words 3 and 7 after round 61 of 64, SHA-512 the same words after
  round 77 of 80, SHA-1 words 4 and 3 after round 77 of 80, MD5 words 0 and 3 after
  step 62 of 64), so the last rounds are never run;
- **constant message words folded in**: message words that are zero for every
  candidate (most of a one-block phone number) skip their schedule terms;
- **32-bit lanes**: MD5, SHA-1 and SHA-256 compute with :mod:`matchsim.kernels.u32`,
  intrinsics that emit LLVM ``i32`` instructions (numba would widen every uint32
  operation to 64 bits, and vectorised loops then keep 64-bit lanes: half the
  candidates per SIMD instruction; this doubled the SHA-256 rate). SHA-512 computes in
  native uint64 words, 16 per 128-byte block; the driver is the same, compiled with
  64-bit word arrays.

HMAC-SHA256 with a *known* key (the attacker holds the advertiser's secret) is two
compressions per candidate: the key's ipad/opad states are computed once.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import prange

from matchsim.kernels import constants as C
from matchsim.kernels import u32

LANES = 16
"""Candidates hashed together; 16 x uint32 fills one AVX-512 register (two AVX2)."""

ALGO_MD5, ALGO_SHA1, ALGO_SHA256, ALGO_SHA512 = 0, 1, 2, 3
ALGORITHMS = {"md5": ALGO_MD5, "sha1": ALGO_SHA1, "sha256": ALGO_SHA256, "sha512": ALGO_SHA512}
M32 = np.uint64(0xFFFFFFFF)

SHA256_K = np.array(C.SHA256_K, dtype=np.uint32)
SHA256_IV = np.array(C.SHA256_IV, dtype=np.uint32)
SHA512_K = np.array(C.SHA512_K, dtype=np.uint64)
SHA512_IV = np.array(C.SHA512_IV, dtype=np.uint64)
SHA1_IV = np.array(C.SHA1_IV, dtype=np.uint32)
SHA1_K = np.array(C.SHA1_K, dtype=np.uint32)
MD5_IV = np.array(C.MD5_IV, dtype=np.uint32)
MD5_K = np.array(C.MD5_T, dtype=np.uint32)
MD5_S = np.array(C.MD5_S, dtype=np.uint32)
MD5_G = np.array(
    [i for i in range(16)]
    + [(5 * i + 1) % 16 for i in range(16)]
    + [(3 * i + 5) % 16 for i in range(16)]
    + [(7 * i) % 16 for i in range(16)],
    dtype=np.int64,
)

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


@numba.njit(cache=True, inline="always")
def _ix(row: int, ln: int) -> np.uint64:
    """Index of lane ``ln`` in ``row``, unsigned so numba emits no negative-index fix-up
    (which would stop LLVM from vectorising the lane loop)."""
    return np.uint64(row * LANES + ln)


# Each algorithm has one compression function, ``_<algo>_compress(W, zero, S, A, E, out,
# early)``, compiled once (not inlined) and shared by that algorithm's scan and row
# hasher. (Inlining a generic compression into every call site, three per scan and two
# per row hasher, each holding all three algorithms, made a cold compile take about a
# minute per algorithm.) The round count is a runtime value, so the round loop stays a
# loop; the lane loop inside it is what LLVM vectorises, which needs unsigned indices
# (:func:`_ix`).

# --------------------------------------------------------------------------- SHA-256


@numba.njit(cache=True, inline="always")
def _load_history(S: np.ndarray, A: np.ndarray, E: np.ndarray) -> None:
    """SHA-2's working variables before round 0: a, b, c, d as ``A[3], A[2], A[1],
    A[0]`` and e..h likewise in ``E`` (32- or 64-bit lanes)."""
    for ln in range(LANES):
        A[_ix(3, ln)] = S[_ix(0, ln)]
        A[_ix(2, ln)] = S[_ix(1, ln)]
        A[_ix(1, ln)] = S[_ix(2, ln)]
        A[_ix(0, ln)] = S[_ix(3, ln)]
        E[_ix(3, ln)] = S[_ix(4, ln)]
        E[_ix(2, ln)] = S[_ix(5, ln)]
        E[_ix(1, ln)] = S[_ix(6, ln)]
        E[_ix(0, ln)] = S[_ix(7, ln)]


@numba.njit(cache=True, nogil=True)
def _sha256_lanes(
    W: np.ndarray, zero: np.ndarray, S: np.ndarray, A: np.ndarray, E: np.ndarray, rounds: int
) -> None:
    """Compress one block per lane from state ``S`` (8, LANES); rounds 0..rounds-1.

    ``A[i + 3]`` holds working variable a after round i (b, c, d are earlier rows), ``E``
    likewise for e, so no variable is copied between rounds. ``zero[t]`` marks message
    words that are zero in every lane.
    """
    for t in range(16, rounds):
        skip0 = t - 15 < 16 and zero[t - 15]
        skip7 = t - 7 < 16 and zero[t - 7]
        if skip0 and skip7:
            for ln in range(LANES):
                x = W[_ix(t - 2, ln)]
                s1 = u32.xor(u32.xor(u32.rotr(x, 17), u32.rotr(x, 19)), u32.shr(x, 10))
                W[_ix(t, ln)] = u32.add(s1, W[_ix(t - 16, ln)])
        elif skip0:
            for ln in range(LANES):
                x = W[_ix(t - 2, ln)]
                s1 = u32.xor(u32.xor(u32.rotr(x, 17), u32.rotr(x, 19)), u32.shr(x, 10))
                W[_ix(t, ln)] = u32.add(u32.add(s1, W[_ix(t - 7, ln)]), W[_ix(t - 16, ln)])
        else:
            for ln in range(LANES):
                x = W[_ix(t - 2, ln)]
                y = W[_ix(t - 15, ln)]
                s1 = u32.xor(u32.xor(u32.rotr(x, 17), u32.rotr(x, 19)), u32.shr(x, 10))
                s0 = u32.xor(u32.xor(u32.rotr(y, 7), u32.rotr(y, 18)), u32.shr(y, 3))
                W[_ix(t, ln)] = u32.add(
                    u32.add(s1, W[_ix(t - 7, ln)]), u32.add(s0, W[_ix(t - 16, ln)])
                )
    _load_history(S, A, E)
    for t in range(rounds):
        k = SHA256_K[t]
        for ln in range(LANES):
            a = A[_ix(t + 3, ln)]
            b = A[_ix(t + 2, ln)]
            c = A[_ix(t + 1, ln)]
            e = E[_ix(t + 3, ln)]
            f = E[_ix(t + 2, ln)]
            g = E[_ix(t + 1, ln)]
            s1 = u32.xor(u32.xor(u32.rotr(e, 6), u32.rotr(e, 11)), u32.rotr(e, 25))
            ch = u32.xor(g, u32.and_(e, u32.xor(f, g)))
            t1 = u32.add(u32.add(u32.add(E[_ix(t, ln)], s1), u32.add(ch, k)), W[_ix(t, ln)])
            s0 = u32.xor(u32.xor(u32.rotr(a, 2), u32.rotr(a, 13)), u32.rotr(a, 22))
            maj = u32.or_(u32.and_(a, b), u32.and_(c, u32.or_(a, b)))
            A[_ix(t + 4, ln)] = u32.add(t1, u32.add(s0, maj))
            E[_ix(t + 4, ln)] = u32.add(A[_ix(t, ln)], t1)


@numba.njit(cache=True, nogil=True)
def _sha256_compress(
    W: np.ndarray,
    zero: np.ndarray,
    S: np.ndarray,
    A: np.ndarray,
    E: np.ndarray,
    out: np.ndarray,
    early: bool,
) -> None:
    """One block for every lane. ``early``: stop once the check words (digest words 3 and
    7) are final and write only those into ``out[0]``/``out[1]``; otherwise write the full
    new state ``S + (a..h)``."""
    _sha256_lanes(W, zero, S, A, E, EARLY_ROUNDS_SHA256 if early else 64)
    if early:
        for ln in range(LANES):
            out[_ix(0, ln)] = u32.add(S[_ix(3, ln)], A[_ix(64, ln)])
            out[_ix(1, ln)] = u32.add(S[_ix(7, ln)], E[_ix(64, ln)])
        return
    for w in range(4):
        for ln in range(LANES):
            out[_ix(w, ln)] = u32.add(S[_ix(w, ln)], A[_ix(67 - w, ln)])
            out[_ix(w + 4, ln)] = u32.add(S[_ix(w + 4, ln)], E[_ix(67 - w, ln)])


# --------------------------------------------------------------------------- SHA-512


@numba.njit(cache=True, inline="always")
def _rotr64(x: np.uint64, n: int) -> np.uint64:
    return (x >> np.uint64(n)) | (x << np.uint64(64 - n))


@numba.njit(cache=True, nogil=True)
def _sha512_compress(
    W: np.ndarray,
    zero: np.ndarray,
    S: np.ndarray,
    A: np.ndarray,
    E: np.ndarray,
    out: np.ndarray,
    early: bool,
) -> None:
    """SHA-512's compression over uint64 lane arrays, laid out as for SHA-256: 80 rounds,
    ``A[i + 3]``/``E[i + 3]`` hold a and e after round i, and the check words (digest
    words 3 and 7, 64-bit) are final after round 77. Native 64-bit arithmetic wraps, so
    nothing is masked."""
    rounds = EARLY_ROUNDS_SHA512 if early else 80
    for t in range(16, rounds):
        if t - 15 < 16 and zero[t - 15]:
            for ln in range(LANES):
                x = W[_ix(t - 2, ln)]
                s1 = _rotr64(x, 19) ^ _rotr64(x, 61) ^ (x >> np.uint64(6))
                W[_ix(t, ln)] = s1 + W[_ix(t - 7, ln)] + W[_ix(t - 16, ln)]
        else:
            for ln in range(LANES):
                x = W[_ix(t - 2, ln)]
                y = W[_ix(t - 15, ln)]
                s1 = _rotr64(x, 19) ^ _rotr64(x, 61) ^ (x >> np.uint64(6))
                s0 = _rotr64(y, 1) ^ _rotr64(y, 8) ^ (y >> np.uint64(7))
                W[_ix(t, ln)] = s1 + W[_ix(t - 7, ln)] + s0 + W[_ix(t - 16, ln)]
    _load_history(S, A, E)
    for t in range(rounds):
        k = SHA512_K[t]
        for ln in range(LANES):
            a = A[_ix(t + 3, ln)]
            b = A[_ix(t + 2, ln)]
            c = A[_ix(t + 1, ln)]
            e = E[_ix(t + 3, ln)]
            f = E[_ix(t + 2, ln)]
            g = E[_ix(t + 1, ln)]
            t1 = (
                E[_ix(t, ln)]
                + (_rotr64(e, 14) ^ _rotr64(e, 18) ^ _rotr64(e, 41))
                + (g ^ (e & (f ^ g)))
                + k
                + W[_ix(t, ln)]
            )
            t2 = (_rotr64(a, 28) ^ _rotr64(a, 34) ^ _rotr64(a, 39)) + ((a & b) | (c & (a | b)))
            A[_ix(t + 4, ln)] = t1 + t2
            E[_ix(t + 4, ln)] = A[_ix(t, ln)] + t1
    if early:
        for ln in range(LANES):
            out[_ix(0, ln)] = S[_ix(3, ln)] + A[_ix(80, ln)]
            out[_ix(1, ln)] = S[_ix(7, ln)] + E[_ix(80, ln)]
        return
    for w in range(4):
        for ln in range(LANES):
            out[_ix(w, ln)] = S[_ix(w, ln)] + A[_ix(83 - w, ln)]
            out[_ix(w + 4, ln)] = S[_ix(w + 4, ln)] + E[_ix(83 - w, ln)]


# --------------------------------------------------------------------------- SHA-1


@numba.njit(cache=True, inline="always")
def _sha1_rounds(W: np.ndarray, A: np.ndarray, R: np.ndarray, lo: int, hi: int, phase: int) -> None:
    """Rounds ``lo..hi-1``, all of one phase (its boolean function and constant).

    Inlined with a constant ``phase`` so the function choice folds away and the lane loop
    has no branch in it (it vectorises); small, so the four copies cost little.
    """
    k = SHA1_K[phase]
    for t in range(lo, hi):
        for ln in range(LANES):
            a = A[_ix(t + 4, ln)]
            b = A[_ix(t + 3, ln)]
            c = R[_ix(t + 2, ln)]
            d = R[_ix(t + 1, ln)]
            e = R[_ix(t, ln)]
            if phase == 0:
                f = u32.xor(d, u32.and_(b, u32.xor(c, d)))
            elif phase == 2:
                f = u32.or_(u32.and_(b, c), u32.and_(d, u32.or_(b, c)))
            else:
                f = u32.xor(u32.xor(b, c), d)
            x = u32.add(u32.add(u32.rotl(a, 5), f), u32.add(u32.add(e, k), W[_ix(t, ln)]))
            A[_ix(t + 5, ln)] = x
            R[_ix(t + 5, ln)] = u32.rotl(x, 30)


@numba.njit(cache=True, nogil=True)
def _sha1_compress(
    W: np.ndarray,
    zero: np.ndarray,
    S: np.ndarray,
    A: np.ndarray,
    R: np.ndarray,
    out: np.ndarray,
    early: bool,
) -> None:
    """Like :func:`_sha256_compress` (check words 4 and 3); ``A[i + 4]`` is a after round
    i and ``R = rotl30(A)``. ``zero`` is unused (SHA-1's schedule is cheap)."""
    rounds = EARLY_ROUNDS_SHA1 if early else 80
    for t in range(16, rounds):
        for ln in range(LANES):
            x = u32.xor(
                u32.xor(W[_ix(t - 3, ln)], W[_ix(t - 8, ln)]),
                u32.xor(W[_ix(t - 14, ln)], W[_ix(t - 16, ln)]),
            )
            W[_ix(t, ln)] = u32.rotl(x, 1)
    for ln in range(LANES):
        # a_{-1} = b0, rotl30(a_{-2}) = c0 ... so the history holds rotl2 of c, d, e.
        A[_ix(4, ln)] = S[_ix(0, ln)]
        A[_ix(3, ln)] = S[_ix(1, ln)]
        R[_ix(4, ln)] = u32.rotl(S[_ix(0, ln)], 30)
        R[_ix(3, ln)] = u32.rotl(S[_ix(1, ln)], 30)
        R[_ix(2, ln)] = S[_ix(2, ln)]
        R[_ix(1, ln)] = S[_ix(3, ln)]
        R[_ix(0, ln)] = S[_ix(4, ln)]
    _sha1_rounds(W, A, R, 0, 20, 0)
    _sha1_rounds(W, A, R, 20, 40, 1)
    _sha1_rounds(W, A, R, 40, 60, 2)
    _sha1_rounds(W, A, R, 60, rounds, 3)
    if early:
        for ln in range(LANES):
            out[_ix(0, ln)] = u32.add(S[_ix(4, ln)], R[_ix(80, ln)])
            out[_ix(1, ln)] = u32.add(S[_ix(3, ln)], R[_ix(81, ln)])
        return
    for ln in range(LANES):
        out[_ix(0, ln)] = u32.add(S[_ix(0, ln)], A[_ix(84, ln)])
        out[_ix(1, ln)] = u32.add(S[_ix(1, ln)], A[_ix(83, ln)])
    for w in range(2, 5):
        for ln in range(LANES):
            out[_ix(w, ln)] = u32.add(S[_ix(w, ln)], R[_ix(84 - w, ln)])


# --------------------------------------------------------------------------- MD5


@numba.njit(cache=True, inline="always")
def _md5_steps(W: np.ndarray, X: np.ndarray, lo: int, hi: int, phase: int) -> None:
    """Steps ``lo..hi-1``, all of one phase (see :func:`_sha1_rounds`)."""
    for i in range(lo, hi):
        k = MD5_K[i]
        s = MD5_S[i]
        g = MD5_G[i]
        for ln in range(LANES):
            a = X[_ix(i, ln)]
            d = X[_ix(i + 1, ln)]
            c = X[_ix(i + 2, ln)]
            b = X[_ix(i + 3, ln)]
            if phase == 0:
                f = u32.xor(d, u32.and_(b, u32.xor(c, d)))
            elif phase == 1:
                f = u32.xor(c, u32.and_(d, u32.xor(b, c)))
            elif phase == 2:
                f = u32.xor(u32.xor(b, c), d)
            else:
                f = u32.xor(c, u32.or_(b, u32.not_(d)))
            x = u32.add(u32.add(a, f), u32.add(k, W[_ix(g, ln)]))
            X[_ix(i + 4, ln)] = u32.add(b, u32.rotl_by(x, s))


@numba.njit(cache=True, nogil=True)
def _md5_compress(
    W: np.ndarray,
    zero: np.ndarray,
    S: np.ndarray,
    X: np.ndarray,
    E: np.ndarray,
    out: np.ndarray,
    early: bool,
) -> None:
    """Like :func:`_sha256_compress` (check words 0 and 3); ``X[i + 4]`` is the new b
    after step i, and a, d, c, b of step i are X[i..i+3]. ``zero`` and ``E`` are unused."""
    for ln in range(LANES):
        X[_ix(0, ln)] = S[_ix(0, ln)]
        X[_ix(1, ln)] = S[_ix(3, ln)]
        X[_ix(2, ln)] = S[_ix(2, ln)]
        X[_ix(3, ln)] = S[_ix(1, ln)]
    _md5_steps(W, X, 0, 16, 0)
    _md5_steps(W, X, 16, 32, 1)
    _md5_steps(W, X, 32, 48, 2)
    _md5_steps(W, X, 48, EARLY_ROUNDS_MD5 if early else 64, 3)
    if early:
        for ln in range(LANES):
            out[_ix(0, ln)] = u32.add(S[_ix(0, ln)], X[_ix(64, ln)])
            out[_ix(1, ln)] = u32.add(S[_ix(3, ln)], X[_ix(65, ln)])
        return
    for ln in range(LANES):
        out[_ix(0, ln)] = u32.add(S[_ix(0, ln)], X[_ix(64, ln)])
    for w in range(1, 4):
        for ln in range(LANES):
            out[_ix(w, ln)] = u32.add(S[_ix(w, ln)], X[_ix(68 - w, ln)])


# --------------------------------------------------------------------------- driver


@numba.njit(cache=True, inline="always")
def _put_byte(
    words: np.ndarray, offset: int, value: np.uint8, big_endian: bool, wide: bool
) -> None:
    """OR byte ``value`` into message byte ``offset`` of a word array (slot must be 0):
    32-bit words, or 64-bit big-endian words when ``wide`` (SHA-512)."""
    if wide:
        w = offset >> 3
        words[w] = words[w] | (np.uint64(value) << np.uint64(8 * (7 - (offset & 7))))
        return
    w = offset >> 2
    sh = np.uint64(8 * (3 - (offset & 3))) if big_endian else np.uint64(8 * (offset & 3))
    words[w] = np.uint32((np.uint64(words[w]) | (np.uint64(value) << sh)) & M32)


# Only ``prange`` loops become parallel; no other parfor conversions are wanted (the
# kernels write their loops out), so the parfor passes have less to do at compile time.
_PARALLEL: Any = {"prange": True, "numpy": False, "reduction": False, "setitem": False,
             "stencil": False, "fusion": False, "comprehension": False,
             "inplace_binop": False}  # fmt: skip


def _make_kernels(algo: int) -> tuple[Any, Any]:
    """The scan and row-hash kernels of one algorithm.

    Each is compiled for ``algo`` alone: the closure holds only plain constants (ints,
    bools and a NumPy scalar type, which pickle the same in every process, so numba's
    on-disk cache key is stable; a dispatcher in the closure would pickle with a
    per-process id and force a recompile every run), and the branches
    that pick the compression function compare it with constants, which numba prunes
    before typing. The kernels of other algorithms are never compiled.
    """
    big = algo != ALGO_MD5
    n_state = STATE_WORDS[algo]
    # SHA-512 computes in 64-bit words; the others in 32-bit words (closure constants).
    wide = algo == ALGO_SHA512
    word = np.uint64 if wide else np.uint32
    word_shift = 3 if wide else 2

    @numba.njit(cache=True, nogil=True, parallel=_PARALLEL)
    def scan(  # type: ignore[no-untyped-def]
        template,
        zero,
        var_offset,
        var_choices,
        var_counts,
        n_inner,
        init_state,
        outer_state,
        start,
        stop,
        n_tasks,
        bm1,
        bm2,
        bits_mask,
        hits,
        hit_counts,
    ):
        """Enumerate mask indices ``[start, stop)``, hash each, keep those passing both
        bitmaps.

        The last ``n_inner`` varying positions form the *inner* space (size P): their
        bytes are precomputed as word contributions, so filling 16 lanes is a vector OR of
        a base word with a table row. The other positions advance with a scalar odometer
        once per P candidates. ``start`` and ``stop`` must be multiples of P (or ``stop``
        the end).

        Args:
            template: (nb * 16,) uint32 message words of every candidate (constant bytes,
                padding and length filled in; varying byte slots are zero).
            zero: (nb * 16,) bool, words that are zero for every candidate.
            var_offset: (V,) message byte offset of each varying position.
            var_choices: (V, 256) uint8 allowed bytes per varying position.
            var_counts: (V,) how many bytes each varying position allows.
            n_inner: how many trailing varying positions form the inner space.
            init_state: (words,) uint32 chaining value before the first block (the IV, or
                the state after a known prefix such as an HMAC key's ipad block).
            outer_state: (8,) uint32 HMAC opad state, or empty for a plain hash.
            start, stop: index range; index = mixed radix over varying positions, last
                fastest.
            n_tasks: independent sub-ranges (threads pick them up).
            bm1, bm2: uint64 bitmaps over the two check words (``bits_mask + 1`` bits).
            hits: (n_tasks, cap) int64 output, the indices of surviving candidates.
            hit_counts: (n_tasks,) int64 output; a count above ``cap`` means overflow.
        """
        compress: Any  # the branches below are pruned to one before typing
        if algo == ALGO_SHA256:
            compress = _sha256_compress
        elif algo == ALGO_SHA512:
            compress = _sha512_compress
        elif algo == ALGO_SHA1:
            compress = _sha1_compress
        else:
            compress = _md5_compress
        n_words = template.shape[0]
        n_blocks = n_words // 16
        n_var = var_offset.shape[0]
        n_outer = n_var - n_inner
        hmac = outer_state.shape[0] > 0
        cap = hits.shape[1]
        # Inner table: word contributions of every inner index, stored word-major.
        P = 1
        for v in range(n_outer, n_var):
            P *= var_counts[v]
        P_pad = (P + LANES - 1) // LANES * LANES
        inner = np.zeros(n_words * P_pad, dtype=word)
        tmp = np.zeros(n_words, dtype=word)
        for j in range(P):
            for w in range(n_words):
                tmp[w] = 0
            rem = j
            for v in range(n_var - 1, n_outer - 1, -1):
                _put_byte(tmp, var_offset[v], var_choices[v, rem % var_counts[v]], big, wide)
                rem //= var_counts[v]
            for w in range(n_words):
                inner[w * P_pad + j] = tmp[w]
        varword = np.zeros(n_words, dtype=np.bool_)
        for v in range(n_var):
            varword[var_offset[v] >> word_shift] = True
        o_start = start // P
        o_stop = (stop + P - 1) // P
        o_total = o_stop - o_start
        for task in prange(n_tasks):
            o_lo = o_start + o_total * task // n_tasks
            o_hi = o_start + o_total * (task + 1) // n_tasks
            found = 0
            W = np.zeros(n_blocks * 80 * LANES, dtype=word)
            A = np.zeros(88 * LANES, dtype=word)
            E = np.zeros(88 * LANES, dtype=word)
            S = np.zeros(8 * LANES, dtype=word)
            S0 = np.zeros(8 * LANES, dtype=word)
            SO = np.zeros(8 * LANES, dtype=word)
            out = np.zeros(8 * LANES, dtype=word)
            Wo = np.zeros(80 * LANES, dtype=word)
            outer_zero = np.zeros(16, dtype=np.bool_)
            for j in range(9, 15):
                outer_zero[j] = True
            for w in range(n_state):
                for ln in range(LANES):
                    S0[_ix(w, ln)] = init_state[w]
                    if hmac:
                        SO[_ix(w, ln)] = outer_state[w]
            for w in range(n_words):
                for ln in range(LANES):
                    W[_ix((w // 16) * 80 + w % 16, ln)] = template[w]
            base = np.zeros(n_words, dtype=word)
            for o in range(o_lo, o_hi):
                # Base words of this outer index (decoded afresh: once per P candidates).
                for w in range(n_words):
                    base[w] = template[w]
                rem = o
                for v in range(n_outer - 1, -1, -1):
                    _put_byte(base, var_offset[v], var_choices[v, rem % var_counts[v]], big, wide)
                    rem //= var_counts[v]
                j_lo = max(start - o * P, np.int64(0))
                j_hi = min(stop - o * P, np.int64(P))
                for j0 in range(j_lo, j_hi, LANES):
                    n_lane = min(LANES, int(j_hi - j0))
                    for w in range(n_words):
                        if varword[w]:
                            row = ((w // 16) * 80 + w % 16) * LANES
                            b = base[w]
                            for ln in range(LANES):
                                W[row + ln] = b | inner[w * P_pad + j0 + ln]
                    state = S0
                    for blk in range(n_blocks):
                        Wblk = W[blk * 80 * LANES : (blk + 1) * 80 * LANES]
                        zblk = zero[blk * 16 : blk * 16 + 16]
                        last = blk == n_blocks - 1 and not hmac
                        compress(Wblk, zblk, state, A, E, out, last)
                        if not last:
                            for k in range(n_state * LANES):
                                S[k] = out[k]
                            state = S
                    if hmac:
                        # Outer hash: opad state, then the inner digest + padding (96 bytes).
                        for w in range(8):
                            for ln in range(LANES):
                                Wo[_ix(w, ln)] = S[_ix(w, ln)]
                        for ln in range(LANES):
                            Wo[_ix(8, ln)] = np.uint32(0x80000000)
                            Wo[_ix(15, ln)] = np.uint32(768)
                        for w in range(9, 15):
                            for ln in range(LANES):
                                Wo[_ix(w, ln)] = 0
                        compress(Wo, outer_zero, SO, A, E, out, True)
                    for ln in range(n_lane):
                        w1 = np.uint64(out[ln]) & bits_mask
                        if (bm1[w1 >> np.uint64(6)] >> (w1 & np.uint64(63))) & np.uint64(1):
                            w2 = np.uint64(out[LANES + ln]) & bits_mask
                            if (bm2[w2 >> np.uint64(6)] >> (w2 & np.uint64(63))) & np.uint64(1):
                                if found < cap:
                                    hits[task, found] = o * P + j0 + ln
                                found += 1
            hit_counts[task] = found

    @numba.njit(cache=True, nogil=True, parallel=_PARALLEL)
    def hash_rows(msgs, extra_bytes, init_state, outer_state, out_words):  # type: ignore[no-untyped-def]
        """Full digests (state words) of equal-length byte rows, ``LANES`` rows at a time
        (verification and dictionary path; HMAC given the key's pad states)."""
        compress: Any  # the branches below are pruned to one before typing
        if algo == ALGO_SHA256:
            compress = _sha256_compress
        elif algo == ALGO_SHA512:
            compress = _sha512_compress
        elif algo == ALGO_SHA1:
            compress = _sha1_compress
        else:
            compress = _md5_compress
        n, length = msgs.shape
        total = length + extra_bytes
        block = 16 << word_shift  # bytes
        n_blocks = (length + 2 * (1 << word_shift)) // block + 1
        hmac = outer_state.shape[0] > 0
        n_groups = (n + LANES - 1) // LANES
        for grp in prange(n_groups):
            W = np.zeros(80 * LANES, dtype=word)
            A = np.zeros(88 * LANES, dtype=word)
            E = np.zeros(88 * LANES, dtype=word)
            S = np.zeros(8 * LANES, dtype=word)
            out = np.zeros(8 * LANES, dtype=word)
            nz = np.zeros(16, dtype=np.bool_)
            words = np.zeros(n_blocks * 16, dtype=word)
            for w in range(n_state):
                for ln in range(LANES):
                    S[_ix(w, ln)] = init_state[w]
            r0 = grp * LANES
            for blk in range(n_blocks):
                for ln in range(LANES):
                    r = min(r0 + ln, n - 1)
                    for w in range(n_blocks * 16):
                        words[w] = 0
                    for i in range(length):
                        _put_byte(words, i, msgs[r, i], big, wide)
                    _put_byte(words, length, np.uint8(0x80), big, wide)
                    bits = np.uint64(total) * np.uint64(8)
                    last = n_blocks * 16
                    if wide:  # a 128-bit length; its top half is zero
                        words[last - 1] = bits
                    elif big:
                        words[last - 2] = np.uint32(bits >> np.uint64(32))
                        words[last - 1] = np.uint32(bits & M32)
                    else:
                        words[last - 2] = np.uint32(bits & M32)
                        words[last - 1] = np.uint32(bits >> np.uint64(32))
                    for w in range(16):
                        W[_ix(w, ln)] = words[blk * 16 + w]
                compress(W, nz, S, A, E, out, False)
                for k in range(n_state * LANES):
                    S[k] = out[k]
            if hmac:
                for ln in range(LANES):
                    for w in range(8):
                        W[_ix(w, ln)] = S[_ix(w, ln)]
                        S[_ix(w, ln)] = outer_state[w]
                    W[_ix(8, ln)] = np.uint32(0x80000000)
                    for w in range(9, 15):
                        W[_ix(w, ln)] = 0
                    W[_ix(15, ln)] = np.uint32(768)
                compress(W, nz, S, A, E, out, False)
            for ln in range(min(LANES, n - r0)):
                for w in range(n_state):
                    out_words[r0 + ln, w] = out[_ix(w, ln)]

    return scan, hash_rows


scan_md5, hash_rows_md5 = _make_kernels(ALGO_MD5)
scan_sha1, hash_rows_sha1 = _make_kernels(ALGO_SHA1)
scan_sha256, hash_rows_sha256 = _make_kernels(ALGO_SHA256)
scan_sha512, hash_rows_sha512 = _make_kernels(ALGO_SHA512)
SCANNERS = {
    ALGO_MD5: scan_md5,
    ALGO_SHA1: scan_sha1,
    ALGO_SHA256: scan_sha256,
    ALGO_SHA512: scan_sha512,
}
ROW_HASHERS = {
    ALGO_MD5: hash_rows_md5,
    ALGO_SHA1: hash_rows_sha1,
    ALGO_SHA256: hash_rows_sha256,
    ALGO_SHA512: hash_rows_sha512,
}


def make_bitmap(words: np.ndarray, bits: int) -> np.ndarray:
    """A ``2**bits``-bit bitmap (uint64 array) with the bit of every ``words`` value set."""
    bm = np.zeros(max(1, (1 << bits) // 64), dtype=np.uint64)
    w = words.astype(np.uint64) & np.uint64((1 << bits) - 1)
    np.bitwise_or.at(bm, (w >> np.uint64(6)).astype(np.int64), np.uint64(1) << (w & np.uint64(63)))
    return bm
