"""Numba kernels of the digest join: a direct-addressed hash table over the upload side.

Digests of a cryptographic hash are uniformly distributed, which a general-purpose join
engine cannot assume. Here the table slot of a digest is simply the top ``bits`` bits of
its first 64-bit word (no hash function, no sort), the table is sized from the known
upload count (load factor <= 2/3), and equal 64-bit keys are confirmed by comparing the
full digest. Each slot holds the key and the upload row of one *distinct* digest, so a
platform row matches at most one slot and a probe needs no output larger than its chunk.

Because the slot is the top bits, the table splits into regions by its top ``pbits``
bits (linear probing wraps within a region): the upload is radix-partitioned into them
and the regions are filled in parallel, each in cache. Probing goes through a filter of
8 bits per slot that fits in the last-level cache, so most platform digests — which do
not match — never touch the table; all lookups are prefetched ahead (``llvm.prefetch``)
so that cache misses overlap.

Digests travel as ``(n, W)`` uint64 "words" (a zero-copy view of ``(n, 8W)`` bytes).
Key 0 marks an empty slot; a real key of 0 is stored as 1 (the full-digest comparison
keeps that exact).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from matchsim.kernels.mix import splitmix64

_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_AHEAD = 32  # rows between a slot's prefetch and its probe
_BLOCK = 4096  # probe rows per parallel work item
_FILTER_BITS = 3  # log2 of filter bits per table slot


@intrinsic
def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """``llvm.prefetch`` of ``array[index]``: start the cache miss early, do not wait."""
    sig = types.void(array, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read, high temporal locality, data cache
        builder.call(
            fn,
            [
                builder.bitcast(ptr, i8p),
                ir.Constant(i32, 0),
                ir.Constant(i32, 3),
                ir.Constant(i32, 1),
            ],
        )
        return context.get_dummy_value()

    return sig, codegen


@numba.njit(cache=True, nogil=True, inline="always")
def _same(a: np.ndarray, i: int, b: np.ndarray, j: int) -> bool:
    for w in range(a.shape[1]):  # noqa: SIM110 - a plain loop compiles to an early exit
        if a[i, w] != b[j, w]:
            return False
    return True


@numba.njit(cache=True, nogil=True, parallel=True)
def radix_partition(
    words: np.ndarray, pbits: int, keys_out: np.ndarray, rows_out: np.ndarray, starts: np.ndarray
) -> None:
    """Scatter each row's first word and row number into ``2**pbits`` groups by top bits.

    Rows keep their order within a group. ``starts[g]..starts[g+1]`` delimit group ``g``.
    """
    n = words.shape[0]
    parts = 1 << pbits
    shift = np.uint64(64 - pbits) if pbits > 0 else np.uint64(63)
    blocks = max(1, min(64, n // 65536))
    size = (n + blocks - 1) // blocks
    hist = np.zeros((blocks, parts), dtype=np.int64)
    for b in prange(blocks):
        for i in range(b * size, min(n, (b + 1) * size)):
            g = np.int64(words[i, 0] >> shift) if pbits > 0 else 0
            hist[b, g] += 1
    total = 0
    for g in range(parts):
        starts[g] = total
        for b in range(blocks):
            c = hist[b, g]
            hist[b, g] = total
            total += c
    starts[parts] = total
    for b in prange(blocks):
        for i in range(b * size, min(n, (b + 1) * size)):
            k = words[i, 0]
            g = np.int64(k >> shift) if pbits > 0 else 0
            j = hist[b, g]
            hist[b, g] = j + 1
            keys_out[j] = k
            rows_out[j] = i


@numba.njit(cache=True, nogil=True, parallel=True)
def build_table(
    words: np.ndarray,
    part_keys: np.ndarray,
    part_rows: np.ndarray,
    starts: np.ndarray,
    pbits: int,
    bits: int,
    keys: np.ndarray,
    rows: np.ndarray,
    rep: np.ndarray,
    bloom: np.ndarray,
) -> int:
    """Insert each row's digest into the table ``(keys, rows)`` of ``2**bits`` slots.

    The table is ``2**pbits`` independent regions (a digest's region is its top
    ``pbits`` bits, and linear probing wraps within the region), so regions are built in
    parallel from the rows :func:`radix_partition` grouped for them. ``rep[i]`` receives
    the first row holding the same digest as row ``i``. Each distinct key also sets bit
    ``key >> (64 - bits - 3)`` of ``bloom`` (8 filter bits per slot). Returns the
    distinct count.
    """
    parts = 1 << pbits
    rmask = (1 << (bits - pbits)) - 1
    shift = np.uint64(64 - bits)
    fshift = np.uint64(64 - bits - _FILTER_BITS)
    found = np.zeros(parts, dtype=np.int64)
    for g in prange(parts):
        base = g << (bits - pbits)
        for j in range(starts[g], starts[g + 1]):
            k = part_keys[j]
            if k == _ZERO:
                k = _ONE
            i = part_rows[j]
            s = np.int64(k >> shift)
            while True:
                t = keys[s]
                if t == _ZERO:
                    keys[s] = k
                    rows[s] = i
                    rep[i] = i
                    found[g] += 1
                    f = np.int64(k >> fshift)
                    bloom[f >> 6] |= _ONE << np.uint64(f & 63)
                    break
                if t == k:
                    r = rows[s]
                    if _same(words, r, words, i):
                        rep[i] = r
                        break
                s = base | ((s + 1) & rmask)
    return found.sum()


@numba.njit(cache=True, nogil=True, inline="always")
def _filter_block(
    probe: np.ndarray, lo: int, hi: int, fshift: np.uint64, bloom: np.ndarray, survivors: np.ndarray
) -> int:
    """Rows ``lo..hi`` of ``probe`` whose filter bit is set, into ``survivors``; their count.

    The filter (8 bits per table slot) is small enough to stay in the last-level cache;
    about 1 in 12 rows that match nothing gets through. Lookups are prefetched
    ``_AHEAD`` rows early so that the cache misses overlap.
    """
    m = 0
    for i in range(lo, min(hi, lo + _AHEAD)):
        _prefetch(bloom, np.int64(probe[i, 0] >> fshift) >> 6)  # type: ignore[call-arg]
    for i in range(lo, hi):
        if i + _AHEAD < hi:
            f = np.int64(probe[i + _AHEAD, 0] >> fshift) >> 6
            _prefetch(bloom, f)  # type: ignore[call-arg]
        k = probe[i, 0]
        if k == _ZERO:
            k = _ONE
        f = np.int64(k >> fshift)
        if (bloom[f >> 6] >> np.uint64(f & 63)) & _ONE:
            survivors[m] = i
            m += 1
    return m


@numba.njit(cache=True, nogil=True, inline="always")
def _slot_block(
    probe: np.ndarray,
    survivors: np.ndarray,
    m: int,
    bits: int,
    rmask: int,
    keys: np.ndarray,
    rows: np.ndarray,
    cand_i: np.ndarray,
    cand_r: np.ndarray,
) -> int:
    """For each of the ``m`` filter survivors, the table row holding its 64-bit key (the
    first such slot), into ``cand_i``/``cand_r``; their count. Slots are prefetched."""
    shift = np.uint64(64 - bits)
    for c in range(min(m, _AHEAD)):
        s = np.int64(probe[survivors[c], 0] >> shift)
        _prefetch(keys, s)  # type: ignore[call-arg]
        _prefetch(rows, s)
    q = 0
    for c in range(m):
        if c + _AHEAD < m:
            nxt = np.int64(probe[survivors[c + _AHEAD], 0] >> shift)
            _prefetch(keys, nxt)  # type: ignore[call-arg]
            _prefetch(rows, nxt)
        i = survivors[c]
        k = probe[i, 0]
        if k == _ZERO:
            k = _ONE
        s = np.int64(k >> shift)
        while True:
            t = keys[s]
            if t == _ZERO:
                break
            if t == k:
                cand_i[q] = i
                cand_r[q] = rows[s]
                q += 1
                break
            s = (s & ~rmask) | ((s + 1) & rmask)
    return q


@numba.njit(cache=True, nogil=True, inline="always")
def _walk(
    probe: np.ndarray,
    i: int,
    bits: int,
    rmask: int,
    keys: np.ndarray,
    rows: np.ndarray,
    words: np.ndarray,
) -> int:
    """The table row whose full digest equals ``probe[i]`` (walking the slot's cluster
    past 64-bit key collisions), else -1."""
    k = probe[i, 0]
    if k == _ZERO:
        k = _ONE
    s = np.int64(k >> np.uint64(64 - bits))
    while True:
        t = keys[s]
        if t == _ZERO:
            return -1
        if t == k:
            r = rows[s]
            if _same(words, r, probe, i):
                return int(r)
        s = (s & ~rmask) | ((s + 1) & rmask)


@numba.njit(cache=True, nogil=True, parallel=True)
def probe_table(
    probe: np.ndarray,
    pbits: int,
    bits: int,
    keys: np.ndarray,
    rows: np.ndarray,
    bloom: np.ndarray,
    words: np.ndarray,
    out: np.ndarray,
) -> int:
    """``out[i]`` = the table row whose full digest equals ``probe[i]``, else -1.

    At platform scale the table is far larger than the cache, so a probe runs in three
    stages per block of rows: the filter (:func:`_filter_block`), the table for the
    survivors only (:func:`_slot_block`), and the full-digest check of the 64-bit
    matches, the upload's digests prefetched ahead. Returns the number of matched rows.
    """
    n = probe.shape[0]
    rmask = (1 << (bits - pbits)) - 1
    fshift = np.uint64(64 - bits - _FILTER_BITS)
    hits = 0
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        lo = blk * _BLOCK
        hi = min(n, lo + _BLOCK)
        out[lo:hi] = -1
        survivors = np.empty(hi - lo, dtype=np.int64)
        m = _filter_block(probe, lo, hi, fshift, bloom, survivors)
        cand_i = np.empty(m, dtype=np.int64)
        cand_r = np.empty(m, dtype=np.int64)
        q = _slot_block(probe, survivors, m, bits, rmask, keys, rows, cand_i, cand_r)
        for c in range(min(q, _AHEAD)):
            _prefetch(words, cand_r[c])  # type: ignore[call-arg]
        for c in range(q):
            if c + _AHEAD < q:
                _prefetch(words, cand_r[c + _AHEAD])  # type: ignore[call-arg]
            i = cand_i[c]
            r = cand_r[c]
            if not _same(words, r, probe, i):  # a rare 64-bit key collision
                r = _walk(probe, i, bits, rmask, keys, rows, words)
            if r >= 0:
                out[i] = r
                hits += 1
    return hits


@numba.njit(cache=True, nogil=True)
def mix_rows(words: np.ndarray) -> np.ndarray:
    """A uniform 64-bit key per row from all its words (for short or composite digests)."""
    n, w = words.shape
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = np.uint64(0x9E3779B97F4A7C15)
        for j in range(w):
            h = splitmix64(h ^ words[i, j])
        out[i] = h
    return out


@numba.njit(cache=True, nogil=True)
def mark_bits(values: np.ndarray, lo: int, bitset: np.ndarray) -> None:
    """Set bit ``v - lo`` of ``bitset`` (uint64 words) for every value."""
    for i in range(values.shape[0]):
        d = values[i] - lo
        bitset[d >> 6] |= _ONE << np.uint64(d & 63)


@numba.njit(cache=True, nogil=True)
def count_bits(bitset: np.ndarray) -> int:
    total = 0
    for i in range(bitset.shape[0]):
        x = bitset[i]
        while x:
            x &= x - _ONE
            total += 1
    return total


@numba.njit(cache=True, nogil=True)
def set_bits(bitset: np.ndarray, lo: int, count: int) -> np.ndarray:
    """The ``count`` positions (plus ``lo``) whose bit is set, ascending."""
    out = np.empty(count, dtype=np.int64)
    j = 0
    for i in range(bitset.shape[0]):
        x = bitset[i]
        b = 0
        while x:
            if x & _ONE:
                out[j] = lo + i * 64 + b
                j += 1
            x >>= _ONE
            b += 1
    return out


@numba.njit(cache=True, nogil=True)
def prefix_order(words: np.ndarray, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """A counting sort of the rows by ``words[:, 0] % parts`` (its low bits, the digest's
    first byte): ``(order, starts)``, rows kept in order within a group."""
    n = words.shape[0]
    mask = np.uint64(parts - 1)
    starts = np.zeros(parts + 1, dtype=np.int64)
    for i in range(n):
        starts[np.int64(words[i, 0] & mask) + 1] += 1
    for g in range(parts):
        starts[g + 1] += starts[g]
    fill = starts[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        group = np.int64(words[i, 0] & mask)
        order[fill[group]] = i
        fill[group] += 1
    return order, starts


@numba.njit(cache=True, nogil=True)
def make_filter(words: np.ndarray, fbits: int) -> np.ndarray:
    """A one-hash filter of ``2**fbits`` bits: bit ``key >> (64 - fbits)`` of each row."""
    bloom = np.zeros(max(1, (1 << fbits) >> 6), dtype=np.uint64)
    fshift = np.uint64(64 - fbits)
    for i in range(words.shape[0]):
        k = words[i, 0]
        if k == _ZERO:
            k = _ONE
        f = np.int64(k >> fshift)
        bloom[f >> 6] |= _ONE << np.uint64(f & 63)
    return bloom


@numba.njit(cache=True, nogil=True, parallel=True)
def filter_pass(words: np.ndarray, fbits: int, bloom: np.ndarray) -> np.ndarray:
    """Rows whose filter bit is set (a superset of the rows that can match)."""
    n = words.shape[0]
    fshift = np.uint64(64 - fbits)
    keep = np.zeros(n, dtype=np.bool_)
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        lo = blk * _BLOCK
        hi = min(n, lo + _BLOCK)
        survivors = np.empty(hi - lo, dtype=np.int64)
        m = _filter_block(words, lo, hi, fshift, bloom, survivors)
        for c in range(m):
            keep[survivors[c]] = True
    return keep


@numba.njit(cache=True, nogil=True)
def gather_bytes(src: np.ndarray, keep: np.ndarray, dst: np.ndarray, col: int) -> None:
    """``dst[i, col : col + w] = src[keep[i]]`` for every ``i`` (``w``: src's width)."""
    w = src.shape[1]
    for i in range(keep.shape[0]):
        r = keep[i]
        for j in range(w):
            dst[i, col + j] = src[r, j]
