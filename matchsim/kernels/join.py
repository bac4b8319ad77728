"""Numba kernels of the digest join: a direct-addressed hash table over the upload side.

Digests of a cryptographic hash are uniformly distributed, which a general-purpose join
engine cannot assume. Here the table slot of a digest is simply the top ``bits`` bits of
its first 64-bit word (no hash function, no sort), the table is sized from the known
upload count (load factor <= 2/3), and candidates are confirmed by comparing the full
digest. Each slot is one 64-bit word: the low 32 bits of the key (a fingerprint) over the
upload row plus one (0 marks an empty slot), so a lookup touches one cache line. Each
slot holds one *distinct* digest, so a platform row matches at most one slot; duplicated
upload digests are listed apart, (row, first row holding the digest).

Because the slot is the top bits, the table splits into regions by its top ``pbits``
bits (linear probing wraps within a region): the upload is radix-partitioned into them
and the regions are filled in parallel, each in cache. Probing goes through a blocked
filter (8 bits per slot, three bits per key in one 64-bit word) that mostly stays in the
last-level cache, so nearly all platform digests that match nothing (about 1 in 100 gets
through) never touch the table; all lookups are prefetched ahead (``llvm.prefetch``) so
that cache misses overlap. A probe writes only its matches.

Digests travel as ``(n, W)`` uint64 "words" (a zero-copy view of ``(n, 8W)`` bytes).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from matchsim.kernels.mix import splitmix64
from matchsim.kernels.prefetch import prefetch as _prefetch
from matchsim.kernels.prefetch import prefetch_at as _prefetch_at

_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_LOW = np.uint64(0xFFFFFFFF)
_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd: spreads every key bit into the top bits
_S32 = np.uint64(32)
_S46 = np.uint64(46)
_S52 = np.uint64(52)
_S58 = np.uint64(58)
_M63 = np.uint64(63)
_AHEAD = 16  # lookups between a prefetch and its use
_BUCKET = 8  # slots in a 64-byte cache line
_FILTER_AHEAD = 48  # rows between a filter word's prefetch and its test
_BLOCK = 2048  # probe rows per pass of the three stages (scratch stays in L1/L2)
FILTER_BITS = 3
"""log2 of filter bits per table slot."""
MAX_ROWS = (1 << 32) - 2
"""Most digests one table holds (a slot stores the row plus one in 32 bits)."""


@intrinsic
def _popcount(typingctx: Any, word: Any) -> Any:
    """Set bits of a uint64 (``llvm.ctpop``: one instruction where the CPU has it)."""
    sig = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


@intrinsic
def _lowest_bit(typingctx: Any, word: Any) -> Any:
    """Index of the lowest set bit of a non-zero uint64 (``llvm.cttz``)."""
    sig = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

    return sig, codegen


@numba.njit(cache=True, nogil=True, inline="always")
def _same(a: np.ndarray, i: int, b: np.ndarray, j: int) -> bool:
    for w in range(a.shape[1]):  # noqa: SIM110 - a plain loop compiles to an early exit
        if a[i, w] != b[j, w]:
            return False
    return True


@numba.njit(cache=True, nogil=True, inline="always")
def _filter_word(k: np.uint64, wbits: int) -> np.int64:
    """The filter word of key ``k`` in a filter of ``2**wbits`` words (its top bits)."""
    return np.int64((k >> _ONE) >> np.uint64(63 - wbits))


@numba.njit(cache=True, nogil=True, inline="always")
def _filter_mask(k: np.uint64) -> np.uint64:
    """The three bits key ``k`` sets in its filter word (from a multiply of all its bits)."""
    h = k * _MUL
    return (_ONE << (h >> _S58)) | (_ONE << ((h >> _S52) & _M63)) | (_ONE << ((h >> _S46) & _M63))


@numba.njit(cache=True, nogil=True, inline="always")
def _home(k: np.uint64, shift: np.uint64) -> int:
    """The first slot of key ``k``'s bucket: its top bits, rounded down to a cache line
    of ``_BUCKET`` slots (the table is 64-byte aligned), where linear probing starts."""
    return int(k >> shift) & ~(_BUCKET - 1)


@numba.njit(cache=True, nogil=True, inline="always")
def _stops(table: np.ndarray, s: int, fp: np.uint64) -> np.uint64:
    """Bit ``j`` set where slot ``s + j`` of the bucket at ``s`` is empty or holds
    fingerprint ``fp``: the whole cache line compared at once, without branches."""
    stop = _ZERO
    for j in range(_BUCKET):
        t = table[s + j]
        stop |= np.uint64((t == _ZERO) | ((t >> _S32) == fp)) << np.uint64(j)
    return stop


@numba.njit(cache=True, nogil=True, inline="always")
def _row_of(t: np.uint64) -> int:
    """The upload row a (non-empty) slot word holds."""
    return int(t & _LOW) - 1


@numba.njit(cache=True, nogil=True, inline="always")
def _entry(k: np.uint64, row: int) -> np.uint64:
    """A table slot's word: the key's low 32 bits over ``row + 1``."""
    return ((k & _LOW) << _S32) | np.uint64(row + 1)


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


@numba.njit(cache=True, nogil=True, inline="always")
def _build_region(
    words: np.ndarray,
    part_keys: np.ndarray,
    part_rows: np.ndarray,
    lo: int,
    hi: int,
    base: int,
    bits: int,
    rmask: int,
    table: np.ndarray,
    bloom: np.ndarray,
    dup_rows: np.ndarray,
    dup_of: np.ndarray,
) -> int:
    """Insert rows ``lo..hi`` of the partition (one region); their duplicates go to
    ``dup_rows[lo:]``/``dup_of[lo:]``. Returns the number of duplicates."""
    shift = np.uint64(64 - bits)
    wbits = bits + FILTER_BITS - 6  # log2 of the filter's words
    d = lo
    for j in range(lo, hi):
        if j + _AHEAD < hi:
            ahead = part_keys[j + _AHEAD]
            _prefetch(table, _home(ahead, shift))  # type: ignore[call-arg]
            _prefetch(bloom, _filter_word(ahead, wbits))
        k = part_keys[j]
        i = part_rows[j]
        fp = k & _LOW
        s = _home(k, shift)
        stop = _stops(table, s, fp)
        if stop:  # start at the bucket's first empty or same-fingerprint slot
            s += int(_lowest_bit(stop))  # type: ignore[call-arg]
        while True:
            t = table[s]
            if t == _ZERO:
                table[s] = _entry(k, i)
                bloom[_filter_word(k, wbits)] |= _filter_mask(k)
                break
            if (t >> _S32) == fp:
                r = _row_of(t)
                if _same(words, r, words, i):
                    dup_rows[d] = i
                    dup_of[d] = r
                    d += 1
                    break
            s = base | ((s + 1) & rmask)
    return d - lo


@numba.njit(cache=True, nogil=True, parallel=True)
def build_table(
    words: np.ndarray,
    part_keys: np.ndarray,
    part_rows: np.ndarray,
    starts: np.ndarray,
    pbits: int,
    bits: int,
    table: np.ndarray,
    bloom: np.ndarray,
    dup_rows: np.ndarray,
    dup_of: np.ndarray,
) -> int:
    """Insert each row's digest into ``table`` (``2**bits`` zeroed slots).

    The table is ``2**pbits`` independent regions (a digest's region is its top
    ``pbits`` bits, and linear probing wraps within the region), so regions are built in
    parallel from the rows :func:`radix_partition` grouped for them; rows are inserted
    in upload order, so the row a slot keeps is the first holding its digest. Each
    distinct key also sets its bits in ``bloom`` (``2**(bits + 3)`` bits; a filter word
    lies in one region). A row whose digest an earlier row holds is not inserted:
    ``dup_rows[j]``/``dup_of[j]`` receive it and that earlier row (both arrays sized
    like the upload). Returns the number of such duplicates, listed first.
    """
    parts = 1 << pbits
    rmask = (1 << (bits - pbits)) - 1
    found = np.zeros(parts, dtype=np.int64)
    for g in prange(parts):
        found[g] = _build_region(
            words, part_keys, part_rows, starts[g], starts[g + 1], g << (bits - pbits),
            bits, rmask, table, bloom, dup_rows, dup_of,
        )  # fmt: skip
    d = 0
    for g in range(parts):
        for j in range(starts[g], starts[g] + found[g]):
            dup_rows[d] = dup_rows[j]
            dup_of[d] = dup_of[j]
            d += 1
    return d


@numba.njit(cache=True, nogil=True, inline="always")
def _filter_block(
    probe: np.ndarray, lo: int, hi: int, wbits: int, bloom: np.ndarray, survivors: np.ndarray
) -> int:
    """Rows ``lo..hi`` of ``probe`` whose three filter bits are set, into ``survivors``;
    their count. Branch-free; filter words are prefetched ``_FILTER_AHEAD`` rows early."""
    m = 0
    for i in range(lo, min(hi, lo + _FILTER_AHEAD)):
        _prefetch(bloom, _filter_word(probe[i, 0], wbits))  # type: ignore[call-arg]
    for i in range(lo, hi):
        if i + _FILTER_AHEAD < hi:
            _prefetch(bloom, _filter_word(probe[i + _FILTER_AHEAD, 0], wbits))  # type: ignore[call-arg]
        k = probe[i, 0]
        mask = _filter_mask(k)
        survivors[m] = i
        m += int((bloom[_filter_word(k, wbits)] & mask) == mask)
    return m


@numba.njit(cache=True, nogil=True, inline="always")
def _slot_block(
    probe: np.ndarray,
    survivors: np.ndarray,
    m: int,
    bits: int,
    rmask: int,
    table: np.ndarray,
    cand_i: np.ndarray,
    cand_r: np.ndarray,
) -> int:
    """For each of the ``m`` filter survivors, the row of the first slot holding its
    fingerprint, into ``cand_i``/``cand_r``; their count. A bucket (one cache line) is
    read whole and its first empty-or-matching slot picked without branching; only a
    full bucket sends the lookup on to the next. Buckets are prefetched."""
    shift = np.uint64(64 - bits)
    for c in range(min(m, _AHEAD)):
        _prefetch(table, _home(probe[survivors[c], 0], shift))  # type: ignore[call-arg]
    q = 0
    for c in range(m):
        if c + _AHEAD < m:
            _prefetch(table, _home(probe[survivors[c + _AHEAD], 0], shift))  # type: ignore[call-arg]
        i = survivors[c]
        k = probe[i, 0]
        fp = k & _LOW
        s = _home(k, shift)
        stop = _stops(table, s, fp)
        if stop:
            t = table[s + int(_lowest_bit(stop))]  # type: ignore[call-arg]
        else:  # a full bucket: walk on
            s = (s & ~rmask) | ((s + _BUCKET) & rmask)
            while True:
                t = table[s]
                if t == _ZERO or (t >> _S32) == fp:
                    break
                s = (s & ~rmask) | ((s + 1) & rmask)
        cand_i[q] = i
        cand_r[q] = _row_of(t)
        q += int(t != _ZERO)
    return q


@numba.njit(cache=True, nogil=True, inline="always")
def _walk(
    probe: np.ndarray, i: int, bits: int, rmask: int, table: np.ndarray, words: np.ndarray
) -> int:
    """The table row whose full digest equals ``probe[i]`` (walking the slot's cluster
    past fingerprint collisions), else -1."""
    k = probe[i, 0]
    fp = k & _LOW
    s = _home(k, np.uint64(64 - bits))
    while True:
        t = table[s]
        if t == _ZERO:
            return -1
        if (t >> _S32) == fp:
            r = _row_of(t)
            if _same(words, r, probe, i):
                return r
        s = (s & ~rmask) | ((s + 1) & rmask)


@numba.njit(cache=True, nogil=True)
def probe_range(
    probe: np.ndarray,
    ids: np.ndarray,
    lo: int,
    hi: int,
    bits: int,
    rmask: int,
    table: np.ndarray,
    bloom: np.ndarray,
    words: np.ndarray,
    up_ids: np.ndarray,
    out_r: np.ndarray,
    out_id: np.ndarray,
    out_u: np.ndarray,
) -> int:
    """Matches of the platform rows ``probe[lo:hi]``; their count ``q``.

    Writes, for the ``j``-th match, ``out_r[lo + j]`` (the table's upload row ``r``: the
    first holding that digest), ``out_id[lo + j] = up_ids[r]`` and ``out_u[lo + j] =
    ids[i]`` (the platform row's id), platform rows in order; ``out_*`` are sized like
    ``probe``. ``rmask`` is the region size minus
    one. Single-threaded and without the GIL: callers run ranges on several threads.
    Per block of rows, three stages: the filter (:func:`_filter_block`), the table for
    the survivors only (:func:`_slot_block`), and the full-digest check of the
    candidates, the upload's digests prefetched ahead.
    """
    wbits = bits + FILTER_BITS - 6  # log2 of the filter's words
    survivors = np.empty(_BLOCK, dtype=np.int64)
    cand_i = np.empty(_BLOCK, dtype=np.int64)
    cand_r = np.empty(_BLOCK, dtype=np.int64)
    q = lo
    for blo in range(lo, hi, _BLOCK):
        bhi = min(hi, blo + _BLOCK)
        m = _filter_block(probe, blo, bhi, wbits, bloom, survivors)
        c2 = _slot_block(probe, survivors, m, bits, rmask, table, cand_i, cand_r)
        last = words.shape[1] - 1  # a row may straddle two cache lines: fetch both
        for c in range(min(c2, _AHEAD)):
            _prefetch(words, cand_r[c])  # type: ignore[call-arg]
            _prefetch_at(words, cand_r[c], last)
            _prefetch(up_ids, cand_r[c])
        for c in range(c2):
            if c + _AHEAD < c2:
                _prefetch(words, cand_r[c + _AHEAD])  # type: ignore[call-arg]
                _prefetch_at(words, cand_r[c + _AHEAD], last)
                _prefetch(up_ids, cand_r[c + _AHEAD])
            i = cand_i[c]
            r = cand_r[c]
            if not _same(words, r, probe, i):  # a rare fingerprint collision
                r = _walk(probe, i, bits, rmask, table, words)
            if r >= 0:
                out_r[q] = r
                out_id[q] = up_ids[r]
                out_u[q] = ids[i]
                q += 1
    return q - lo


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
    """Set bit ``v - lo`` of ``bitset`` (uint64 words) for every value (words prefetched
    ahead: a bitset of 10**8 users does not fit in the cache)."""
    n = values.shape[0]
    for i in range(n):
        if i + _FILTER_AHEAD < n:
            _prefetch(bitset, (values[i + _FILTER_AHEAD] - lo) >> 6)  # type: ignore[call-arg]
        d = values[i] - lo
        bitset[d >> 6] |= _ONE << np.uint64(d & 63)


@numba.njit(cache=True, nogil=True)
def count_bits(bitset: np.ndarray) -> int:
    total = 0
    for i in range(bitset.shape[0]):
        total += int(_popcount(bitset[i]))  # type: ignore[call-arg]
    return total


@numba.njit(cache=True, nogil=True)
def set_bits(bitset: np.ndarray, lo: int, count: int) -> np.ndarray:
    """The ``count`` positions (plus ``lo``) whose bit is set, ascending."""
    out = np.empty(count, dtype=np.int64)
    j = 0
    for i in range(bitset.shape[0]):
        x = bitset[i]
        while x:
            out[j] = lo + i * 64 + int(_lowest_bit(x))  # type: ignore[call-arg]
            j += 1
            x &= x - _ONE
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
    """A blocked filter of ``2**fbits`` bits (``fbits >= 6``), the table's kind: three
    bits of each row's key in the word its top bits pick."""
    wbits = fbits - 6
    bloom = np.zeros(1 << wbits, dtype=np.uint64)
    for i in range(words.shape[0]):
        k = words[i, 0]
        bloom[_filter_word(k, wbits)] |= _filter_mask(k)
    return bloom


@numba.njit(cache=True, nogil=True, parallel=True)
def filter_pass(words: np.ndarray, fbits: int, bloom: np.ndarray) -> np.ndarray:
    """Rows whose filter bits are set (a superset of the rows that can match)."""
    n = words.shape[0]
    keep = np.zeros(n, dtype=np.bool_)
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        lo = blk * _BLOCK
        hi = min(n, lo + _BLOCK)
        survivors = np.empty(hi - lo, dtype=np.int64)
        m = _filter_block(words, lo, hi, fbits - 6, bloom, survivors)
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
