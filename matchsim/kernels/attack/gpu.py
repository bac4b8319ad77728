"""The attack's scan on an NVIDIA GPU (``numba.cuda``): same masks, bitmaps and answers.

The GPU kernels take exactly what the CPU kernels of :mod:`matchsim.kernels.attack.mask`
take: a mask's message template, its varying byte positions, the HMAC/IV state, and the
two bitmaps of the target set's check words. Each thread owns one *outer* index (every
varying position but the last few), decodes it once with integer division, then hashes
the ``P`` candidates of the inner space by OR-ing a precomputed row of word
contributions into the message (as the CPU kernel fills its lanes). The check words are
computed with the same early rejection (the last rounds never run); a candidate passing
both bitmaps is appended to a hit list with an atomic counter. The host verifies hits
exactly with the CPU row hasher, so a GPU run and a CPU run return the same recovered
set — the tests compare them candidate for candidate.

The block functions are generated with the CPU's from one description of each
algorithm (:mod:`._gen_unrolled`), every round spelled out so the state can live in
registers; 32-bit words are uint64 masked back to 32 bits, which NVVM narrows to 32-bit
instructions, and SHA-512 uses native 64-bit words.

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

from matchsim.errors import ConfigError
from matchsim.kernels.attack import _unrolled_gpu as G
from matchsim.kernels.attack import mask as K

MAX_WORDS = 64
"""Message words per candidate the kernels hold (4 blocks: 256 bytes, 512 for SHA-512)."""
THREADS_PER_BLOCK = 256
MIN_INNER = 64
"""Smallest inner space a thread hashes after one decode (more threads than the CPU's
256: a GPU wants ~10^5-10^6 threads in flight)."""


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


# The block functions, ``<algo>_block_<rounds>(M, moff, S, out)``, are generated with the
# CPU's from one description of each algorithm (:mod:`._gen_unrolled`).
_BLOCKS = {
    K.ALGO_MD5: (G.md5_block_62, G.md5_block_64),
    K.ALGO_SHA1: (G.sha1_block_77, G.sha1_block_80),
    K.ALGO_SHA256: (G.sha256_block_61, G.sha256_block_64),
    K.ALGO_SHA512: (G.sha512_block_77, G.sha512_block_80),
}
"""Per algorithm: (check words only, after the early rounds; the full new state)."""


@cuda.jit(device=True)
def _outer_words(  # type: ignore[no-untyped-def]
    base, template, o, n_outer, var_offset, var_choices, var_counts, big, wide
):
    """The message words of outer index ``o``: the template with its outer bytes."""
    lane_bytes = 7 if wide else 3
    word_shift = 3 if wide else 2
    for w in range(template.shape[0]):
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


@cuda.jit(device=True)
def _outer_message(msg, S, outer_state):  # type: ignore[no-untyped-def]
    """HMAC's outer hash: the opad state into ``S``, the inner digest and its padding
    into ``msg``."""
    for w in range(8):
        msg[w] = S[w]
        S[w] = outer_state[w]
    msg[8] = np.uint64(0x80000000)
    for w in range(9, 15):
        msg[w] = np.uint64(0)
    msg[15] = np.uint64(768)


@cuda.jit(device=True)
def _keep_survivor(out, bm1, bm2, bits_mask, hits, n_hits, index):  # type: ignore[no-untyped-def]
    """Record ``index`` if check words ``out[0]`` and ``out[1]`` pass both bitmaps."""
    c1 = out[0] & bits_mask
    if (bm1[c1 >> np.uint64(6)] >> (c1 & np.uint64(63))) & np.uint64(1):
        c2 = out[1] & bits_mask
        if (bm2[c2 >> np.uint64(6)] >> (c2 & np.uint64(63))) & np.uint64(1):
            k = cuda.atomic.add(n_hits, 0, 1)  # type: ignore[call-arg]
            if k < hits.shape[0]:
                hits[k] = index


def _make_scan(algo: int) -> Any:
    """The scan kernel of one algorithm (compiled on first launch)."""
    block_early, block_full = _BLOCKS[algo]
    n_state = K.STATE_WORDS[algo]
    wide = algo == K.ALGO_SHA512
    big = algo != K.ALGO_MD5

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
        S = cuda.local.array(8, np.uint64)
        out = cuda.local.array(8, np.uint64)
        _outer_words(base, template, o, n_outer, var_offset, var_choices, var_counts, big, wide)
        hmac = outer_state.shape[0] > 0
        for j in range(j_lo, j_hi):
            for w in range(n_words):
                msg[w] = base[w] | inner_words[w, j]
            for w in range(n_state):
                S[w] = init_state[w]
            for blk in range(n_blocks):
                last = blk == n_blocks - 1 and not hmac
                if last:
                    block_early(msg, blk * 16, S, out)
                else:
                    block_full(msg, blk * 16, S, out)
                    for w in range(n_state):
                        S[w] = out[w]
            if hmac:
                _outer_message(msg, S, outer_state)
                block_early(msg, 0, S, out)
            _keep_survivor(out, bm1, bm2, bits_mask, hits, n_hits, o * P + j)

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
