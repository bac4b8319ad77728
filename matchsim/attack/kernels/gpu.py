"""The attack's scan on an NVIDIA GPU (``numba.cuda``): same masks, bitmaps and answers.

The GPU kernels take exactly what the CPU kernels of :mod:`matchsim.attack.kernels.mask`
take: a mask's message template, its varying byte positions, the HMAC/IV state, and the
two bitmaps of the target set's check words. Each thread owns one *outer* index (every
varying position but the last few), decodes it once with integer division, then hashes
the ``P`` candidates of the inner space by OR-ing a precomputed row of word
contributions into the message (as the CPU kernel fills its lanes). The check words are
computed with the same early rejection (the last rounds never run); a candidate passing
both bitmaps is appended to a hit list with an atomic counter. The host verifies hits
exactly with the CPU row hasher, so a GPU run and a CPU run return the same recovered
set — the tests compare them candidate for candidate.

Arithmetic is written in uint64 masked back to 32 bits (as in the CPU kernels), which
NVVM narrows to 32-bit instructions; SHA-512 uses native 64-bit words.

Without a GPU the same code runs in numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``), which is how the test suite checks it on CPU-only
machines; the real-device tests and benchmark skip cleanly when
``numba.cuda.is_available()`` is false.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import cuda

from matchsim.attack.kernels import mask as K
from matchsim.errors import ConfigError
from matchsim.kernels import constants as C

MAX_WORDS = 64
"""Message words per candidate the kernels hold (4 blocks: 256 bytes, 512 for SHA-512)."""
THREADS_PER_BLOCK = 256
MIN_INNER = 64
"""Smallest inner space a thread hashes after one decode (more threads than the CPU's
256: a GPU wants ~10^5-10^6 threads in flight)."""

M32 = np.uint64(0xFFFFFFFF)
_K256 = np.array(C.SHA256_K, dtype=np.uint64)
_K512 = np.array(C.SHA512_K, dtype=np.uint64)
_K1 = np.array(C.SHA1_K, dtype=np.uint64)
_T_MD5 = np.array(C.MD5_T, dtype=np.uint64)
_S_MD5 = np.array(C.MD5_S, dtype=np.uint64)
_G_MD5 = np.array(C.MD5_G, dtype=np.int64)


def available() -> bool:
    """True when numba can launch kernels on a CUDA device (or its simulator is on)."""
    try:
        return bool(cuda.is_available())
    except Exception:  # a broken driver install reads as "no GPU"
        return False


def simulated() -> bool:
    """True when ``numba.cuda`` is the CPU simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    from numba import config

    return bool(getattr(config, "ENABLE_CUDASIM", 0))


# --------------------------------------------------------------------------- devices


@cuda.jit(device=True)
def _rotr32(x: Any, n: Any) -> Any:
    return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & M32


@cuda.jit(device=True)
def _rotl32(x: Any, n: Any) -> Any:
    return ((x << np.uint64(n)) | (x >> np.uint64(32 - n))) & M32


@cuda.jit(device=True)
def _rotr64(x: Any, n: Any) -> Any:
    return (x >> np.uint64(n)) | (x << np.uint64(64 - n))


@cuda.jit(device=True)
def _sha256_dev(M: Any, moff: Any, S: Any, W: Any, out: Any, early: Any) -> None:
    """One SHA-256 block ``M[moff:moff+16]`` from state ``S``. ``early``: stop after
    round 61 and write digest words 3 and 7 to ``out[0]``/``out[1]``; otherwise write the
    new state to ``out[0:8]``."""
    rounds = K.EARLY_ROUNDS_SHA256 if early else 64
    for t in range(16):
        W[t] = M[moff + t]
    for t in range(16, rounds):
        x = W[t - 2]
        y = W[t - 15]
        s1 = _rotr32(x, 17) ^ _rotr32(x, 19) ^ (x >> np.uint64(10))
        s0 = _rotr32(y, 7) ^ _rotr32(y, 18) ^ (y >> np.uint64(3))
        W[t] = (s1 + W[t - 7] + s0 + W[t - 16]) & M32
    a, b, c, d = S[0], S[1], S[2], S[3]
    e, f, g, h = S[4], S[5], S[6], S[7]
    for t in range(rounds):
        t1 = (
            h
            + (_rotr32(e, 6) ^ _rotr32(e, 11) ^ _rotr32(e, 25))
            + (g ^ (e & (f ^ g)))
            + _K256[t]
            + W[t]
        )
        t2 = (_rotr32(a, 2) ^ _rotr32(a, 13) ^ _rotr32(a, 22)) + ((a & b) | (c & (a | b)))
        h = g
        g = f
        f = e
        e = (d + t1) & M32
        d = c
        c = b
        b = a
        a = (t1 + t2) & M32
    if early:
        out[0] = (S[3] + a) & M32
        out[1] = (S[7] + e) & M32
        return
    out[0] = (S[0] + a) & M32
    out[1] = (S[1] + b) & M32
    out[2] = (S[2] + c) & M32
    out[3] = (S[3] + d) & M32
    out[4] = (S[4] + e) & M32
    out[5] = (S[5] + f) & M32
    out[6] = (S[6] + g) & M32
    out[7] = (S[7] + h) & M32


@cuda.jit(device=True)
def _sha512_dev(M: Any, moff: Any, S: Any, W: Any, out: Any, early: Any) -> None:
    """:func:`_sha256_dev` for SHA-512 (64-bit words; check words final after round 77)."""
    rounds = K.EARLY_ROUNDS_SHA512 if early else 80
    for t in range(16):
        W[t] = M[moff + t]
    for t in range(16, rounds):
        x = W[t - 2]
        y = W[t - 15]
        s1 = _rotr64(x, 19) ^ _rotr64(x, 61) ^ (x >> np.uint64(6))
        s0 = _rotr64(y, 1) ^ _rotr64(y, 8) ^ (y >> np.uint64(7))
        W[t] = s1 + W[t - 7] + s0 + W[t - 16]
    a, b, c, d = S[0], S[1], S[2], S[3]
    e, f, g, h = S[4], S[5], S[6], S[7]
    for t in range(rounds):
        t1 = (
            h
            + (_rotr64(e, 14) ^ _rotr64(e, 18) ^ _rotr64(e, 41))
            + (g ^ (e & (f ^ g)))
            + _K512[t]
            + W[t]
        )
        t2 = (_rotr64(a, 28) ^ _rotr64(a, 34) ^ _rotr64(a, 39)) + ((a & b) | (c & (a | b)))
        h = g
        g = f
        f = e
        e = d + t1
        d = c
        c = b
        b = a
        a = t1 + t2
    if early:
        out[0] = S[3] + a
        out[1] = S[7] + e
        return
    out[0] = S[0] + a
    out[1] = S[1] + b
    out[2] = S[2] + c
    out[3] = S[3] + d
    out[4] = S[4] + e
    out[5] = S[5] + f
    out[6] = S[6] + g
    out[7] = S[7] + h


@cuda.jit(device=True)
def _sha1_dev(M: Any, moff: Any, S: Any, W: Any, out: Any, early: Any) -> None:
    """:func:`_sha256_dev` for SHA-1 (check words 4 and 3, final after round 77)."""
    rounds = K.EARLY_ROUNDS_SHA1 if early else 80
    for t in range(16):
        W[t] = M[moff + t]
    for t in range(16, rounds):
        W[t] = _rotl32(W[t - 3] ^ W[t - 8] ^ W[t - 14] ^ W[t - 16], 1)
    a, b, c, d, e = S[0], S[1], S[2], S[3], S[4]
    for t in range(rounds):
        if t < 20:
            f = d ^ (b & (c ^ d))
        elif t < 40 or t >= 60:
            f = b ^ c ^ d
        else:
            f = (b & c) | (d & (b | c))
        x = (_rotl32(a, 5) + f + e + _K1[t // 20] + W[t]) & M32
        e = d
        d = c
        c = _rotl32(b, 30)
        b = a
        a = x
    if early:
        out[0] = (S[4] + _rotl32(b, 30)) & M32
        out[1] = (S[3] + _rotl32(a, 30)) & M32
        return
    out[0] = (S[0] + a) & M32
    out[1] = (S[1] + b) & M32
    out[2] = (S[2] + c) & M32
    out[3] = (S[3] + d) & M32
    out[4] = (S[4] + e) & M32


@cuda.jit(device=True)
def _md5_dev(M: Any, moff: Any, S: Any, W: Any, out: Any, early: Any) -> None:
    """:func:`_sha256_dev` for MD5 (check words 0 and 3, final after step 62). ``W`` is
    unused: MD5 reads the message words directly."""
    steps = K.EARLY_ROUNDS_MD5 if early else 64
    a, b, c, d = S[0], S[1], S[2], S[3]
    for i in range(steps):
        if i < 16:
            f = d ^ (b & (c ^ d))
        elif i < 32:
            f = c ^ (d & (b ^ c))
        elif i < 48:
            f = b ^ c ^ d
        else:
            f = c ^ ((b | (~d & M32)) & M32)
        x = (a + f + _T_MD5[i] + M[moff + _G_MD5[i]]) & M32
        s = _S_MD5[i]
        a = d
        d = c
        c = b
        b = (b + (((x << s) | (x >> (np.uint64(32) - s))) & M32)) & M32
    if early:
        out[0] = (S[0] + c) & M32
        out[1] = (S[3] + b) & M32
        return
    out[0] = (S[0] + a) & M32
    out[1] = (S[1] + b) & M32
    out[2] = (S[2] + c) & M32
    out[3] = (S[3] + d) & M32


_COMPRESS = {
    K.ALGO_MD5: _md5_dev,
    K.ALGO_SHA1: _sha1_dev,
    K.ALGO_SHA256: _sha256_dev,
    K.ALGO_SHA512: _sha512_dev,
}


def _make_scan(algo: int) -> Any:
    """The scan kernel of one algorithm (compiled on first launch)."""
    compress = _COMPRESS[algo]
    n_state = K.STATE_WORDS[algo]
    wide = algo == K.ALGO_SHA512
    big = algo != K.ALGO_MD5
    word_shift = 3 if wide else 2
    lane_bytes = 7 if wide else 3

    @cuda.jit
    def scan(  # type: ignore[no-untyped-def]
        template,
        var_offset,
        var_choices,
        var_counts,
        n_outer,
        inner_words,
        init_state,
        outer_state,
        o_start,
        start,
        stop,
        bm1,
        bm2,
        bits_mask,
        hits,
        n_hits,
    ):
        """Thread ``i`` hashes candidates ``(o_start + i) * P + j`` for the inner indices
        ``j`` that fall in ``[start, stop)``; ``inner_words`` is ``(n_words, P)``."""
        o = o_start + cuda.grid(1)  # type: ignore[call-arg]
        P = inner_words.shape[1]
        j_lo = max(start - o * P, 0)
        j_hi = min(stop - o * P, P)
        if j_lo >= j_hi:
            return
        n_words = template.shape[0]
        n_blocks = n_words // 16
        base = cuda.local.array(MAX_WORDS, np.uint64)
        msg = cuda.local.array(MAX_WORDS, np.uint64)
        W = cuda.local.array(80, np.uint64)
        S = cuda.local.array(8, np.uint64)
        out = cuda.local.array(8, np.uint64)
        for w in range(n_words):
            base[w] = template[w]
        rem = o
        for v in range(n_outer - 1, -1, -1):
            count = var_counts[v]
            off = var_offset[v]
            byte = np.uint64(var_choices[v, rem % count])
            pos = off & lane_bytes
            sh = 8 * (lane_bytes - pos) if big else 8 * pos
            base[off >> word_shift] |= byte << np.uint64(sh)
            rem //= count
        hmac = outer_state.shape[0] > 0
        for j in range(j_lo, j_hi):
            for w in range(n_words):
                msg[w] = base[w] | inner_words[w, j]
            for w in range(n_state):
                S[w] = init_state[w]
            for blk in range(n_blocks):
                last = blk == n_blocks - 1 and not hmac
                compress(msg, blk * 16, S, W, out, last)
                if not last:
                    for w in range(n_state):
                        S[w] = out[w]
            if hmac:
                # Outer hash: the opad state, then the inner digest and its padding.
                for w in range(8):
                    msg[w] = S[w]
                    S[w] = outer_state[w]
                msg[8] = np.uint64(0x80000000)
                for w in range(9, 15):
                    msg[w] = np.uint64(0)
                msg[15] = np.uint64(768)
                compress(msg, 0, S, W, out, True)
            c1 = out[0] & bits_mask
            if (bm1[c1 >> np.uint64(6)] >> (c1 & np.uint64(63))) & np.uint64(1):
                c2 = out[1] & bits_mask
                if (bm2[c2 >> np.uint64(6)] >> (c2 & np.uint64(63))) & np.uint64(1):
                    k = cuda.atomic.add(n_hits, 0, 1)
                    if k < hits.shape[0]:
                        hits[k] = o * P + j

    return scan


_SCANS: dict[int, Any] = {}


def _scan_kernel(algo: int) -> Any:
    if algo not in _SCANS:
        _SCANS[algo] = _make_scan(algo)
    return _SCANS[algo]


def inner_table(layout: dict[str, Any], algo: int) -> np.ndarray:
    """``(n_words, P)`` uint64 word contributions of every inner index of a mask layout
    (the bytes of its last ``n_inner`` varying positions), built with NumPy."""
    template = layout["template"]
    n_words = template.shape[0]
    word = K.WORD_BYTES[algo]
    offsets = layout["var_offset"]
    counts = layout["var_counts"]
    n_var = offsets.shape[0]
    n_inner = layout["n_inner"]
    P = int(np.prod(counts[n_var - n_inner :]))
    buf = np.zeros((P, n_words * word), dtype=np.uint8)
    j = np.arange(P, dtype=np.int64)
    for v in range(n_var - 1, n_var - n_inner - 1, -1):
        c = int(counts[v])
        buf[:, offsets[v]] = layout["var_choices"][v, j % c]
        j = j // c
    order = ("<" if algo == K.ALGO_MD5 else ">") + f"u{word}"
    return np.ascontiguousarray(buf.view(order).astype(np.uint64).T)


def check_layout(layout: dict[str, Any]) -> None:
    """Refuse a mask layout whose messages exceed the kernels' local arrays.

    Raises:
        ConfigError: more than ``MAX_WORDS`` message words (a long pepper, say).
    """
    n_words = layout["template"].shape[0]
    if n_words > MAX_WORDS:
        raise ConfigError(
            f"candidates of {n_words // 16} hash blocks (a long pepper?) exceed the GPU "
            f"kernels' {MAX_WORDS // 16}; use --device cpu"
        )


class GpuScanner:
    """Launches one algorithm's scan for one target set (bitmaps kept on the device).

    Args:
        algo: ``mask.ALGO_*``.
        init_state, outer_state: as for the CPU scan (IV or HMAC ipad state; opad state
            or empty).
        bm1, bm2, bits: the target set's bitmaps (see ``engine._Filter``).
    """

    def __init__(
        self,
        algo: int,
        init_state: np.ndarray,
        outer_state: np.ndarray,
        bm1: np.ndarray,
        bm2: np.ndarray,
        bits: int,
    ) -> None:
        self.algo = algo
        self._kernel = _scan_kernel(algo)
        self._init = cuda.to_device(init_state.astype(np.uint64))
        self._outer = cuda.to_device(outer_state.astype(np.uint64))
        self._bm1 = cuda.to_device(bm1)
        self._bm2 = cuda.to_device(bm2)
        self._bits_mask = np.uint64((1 << bits) - 1)
        self._layouts: dict[int, tuple[Any, ...]] = {}

    def _device_layout(self, layout: dict[str, Any]) -> tuple[Any, ...]:
        key = id(layout)
        if key not in self._layouts:
            check_layout(layout)
            template = layout["template"]
            n_var = layout["var_offset"].shape[0]
            inner = inner_table(layout, self.algo)
            self._layouts[key] = (
                cuda.to_device(template.astype(np.uint64)),
                cuda.to_device(layout["var_offset"]),
                cuda.to_device(layout["var_choices"]),
                cuda.to_device(layout["var_counts"]),
                n_var - layout["n_inner"],
                cuda.to_device(inner),
                inner.shape[1],
                layout,  # keeps id(layout) from being reused while cached
            )
        return self._layouts[key]

    def scan(self, layout: dict[str, Any], start: int, stop: int, cap: int) -> np.ndarray:
        """Indices in ``[start, stop)`` whose check words pass both bitmaps (unverified).

        ``layout`` is the engine's mask layout built with ``min_inner=MIN_INNER``.
        """
        template, offsets, choices, counts, n_outer, inner, P, _ = self._device_layout(layout)
        o_start = start // P
        n_threads = math.ceil(stop / P) - o_start
        per_block = max(1, min(THREADS_PER_BLOCK, n_threads))
        blocks = max(1, math.ceil(n_threads / per_block))
        while True:
            hits = cuda.device_array(max(1, cap), dtype=np.int64)
            n_hits = cuda.to_device(np.zeros(1, dtype=np.uint32))
            self._kernel[blocks, per_block](
                template,
                offsets,
                choices,
                counts,
                n_outer,
                inner,
                self._init,
                self._outer,
                np.int64(o_start),
                np.int64(start),
                np.int64(stop),
                self._bm1,
                self._bm2,
                self._bits_mask,
                hits,
                n_hits,
            )
            found = int(n_hits.copy_to_host()[0])
            if found <= cap:
                return np.sort(hits.copy_to_host()[:found])
            cap = found
