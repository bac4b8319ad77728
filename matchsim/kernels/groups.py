"""Group int64 keys in order of first appearance, and count other keys into those groups.

The risk section groups a customer file (10^6 rows) by its quasi-identifier key and asks,
for each group, how many platform users (10^7 rows) share the key. A joint hash
factorise over both files costs a hash insert per platform row; here the sample's keys
go into an open-addressing table (twice their count in slots, multiplicative hashing,
linear probing) and each platform key only probes it: a miss (most of them) touches one
or two slots and stores nothing.

Group ids are the order of first appearance (as ``pandas.factorize(sort=False)``), so
every figure computed from them sums in the same order as before.
"""

from __future__ import annotations

import numba
import numpy as np

from matchsim.kernels.prefetch import prefetch

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_AHEAD = 16  # rows between a slot's prefetch and its use
_BLOCK = 4096  # population rows whose keys are built before they are probed


@numba.njit(cache=True, nogil=True)
def _slot(key: np.int64, shift: np.uint64) -> np.int64:
    return np.int64((np.uint64(key) * _GOLDEN) >> shift)


@numba.njit(cache=True, nogil=True)
def _bits(size: int) -> int:
    bits = 0
    while (1 << bits) < size:
        bits += 1
    return bits


@numba.njit(cache=True, nogil=True)
def _empty_table(size: int) -> np.ndarray:
    """``size`` slots, each ``[key, group]`` side by side (one cache line); group -1 empty."""
    table = np.zeros(2 * size, dtype=np.int64)
    table[1::2] = -1
    return table


@numba.njit(cache=True, nogil=True)
def _find(table: np.ndarray, key: np.int64, shift: np.uint64) -> np.int64:
    """The slot holding ``key``, else the empty slot where it goes (linear probing)."""
    size = table.shape[0] // 2
    s = _slot(key, shift)
    while table[2 * s + 1] >= 0 and table[2 * s] != key:
        s = (s + 1) & (size - 1)
    return s


@numba.njit(cache=True, nogil=True)
def _insert(table: np.ndarray, key: np.int64, g: np.int64) -> None:
    s = _find(table, key, np.uint64(64 - _bits(table.shape[0] // 2)))
    table[2 * s] = key
    table[2 * s + 1] = g


@numba.njit(cache=True, nogil=True)
def first_seen_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """``(ids, table, groups)``: the group id of each key (0, 1, ... in order of first
    appearance), the hash table (for :func:`count_into`) and the number of groups. The
    table doubles whenever it is half full, so its size follows the distinct keys."""
    n = keys.shape[0]
    size = 1 << 12
    table = _empty_table(size)
    shift = np.uint64(64 - _bits(size))
    ids = np.empty(n, dtype=np.int64)
    groups = 0
    for i in range(n):
        if i + _AHEAD < n:
            prefetch(table, 2 * _slot(keys[i + _AHEAD], shift))  # type: ignore[call-arg]
        key = keys[i]
        s = _find(table, key, shift)
        g = table[2 * s + 1]
        if g < 0:
            g = groups
            groups += 1
            table[2 * s] = key
            table[2 * s + 1] = g
        ids[i] = g
        if 2 * groups > size:  # grow: re-insert every key into a table twice the size
            old = table
            size *= 2
            shift = np.uint64(64 - _bits(size))
            table = _empty_table(size)
            for j in range(old.shape[0] // 2):
                if old[2 * j + 1] >= 0:
                    _insert(table, old[2 * j], old[2 * j + 1])
    return ids, table, groups


@numba.njit(cache=True, nogil=True)
def _count_probes(
    keys: np.ndarray, m: int, table: np.ndarray, shift: np.uint64, counts: np.ndarray
) -> None:
    """Add one to ``counts[g]`` for each of ``keys[:m]`` found in group ``g`` of the table
    (each slot prefetched :data:`_AHEAD` keys before its probe)."""
    for i in range(m):
        if i + _AHEAD < m:
            prefetch(table, 2 * _slot(keys[i + _AHEAD], shift))  # type: ignore[call-arg]
        g = table[2 * _find(table, keys[i], shift) + 1]
        if g >= 0:
            counts[g] += 1


@numba.njit(cache=True, nogil=True)
def count_into(keys: np.ndarray, table: np.ndarray, groups: int) -> np.ndarray:
    """How many of ``keys`` fall in each group of the table :func:`first_seen_groups` made
    (keys in no group are not counted)."""
    shift = np.uint64(64 - _bits(table.shape[0] // 2))
    counts = np.zeros(groups, dtype=np.int64)
    _count_probes(keys, keys.shape[0], table, shift, counts)
    return counts


@numba.njit(cache=True, nogil=True)
def count_linked(
    indices: tuple[np.ndarray, ...],
    maps: tuple[np.ndarray, ...],
    cards: np.ndarray,
    table: np.ndarray,
    groups: int,
) -> np.ndarray:
    """:func:`count_into` of keys built on the fly: row ``i``'s key combines, field by
    field (mixed radix ``cards``), ``maps[f][indices[f][i]]`` (index -1: the map's last
    entry). Keys are built a block at a time, then probed with prefetch. ``indices`` and
    ``maps`` are tuples of int64 arrays (one compiled version per number of fields)."""
    size = table.shape[0] // 2
    shift = np.uint64(64 - _bits(size))
    n = indices[0].shape[0]
    counts = np.zeros(groups, dtype=np.int64)
    block = np.empty(_BLOCK, dtype=np.int64)
    for lo in range(0, n, _BLOCK):
        m = min(_BLOCK, n - lo)
        block[:m] = 0
        for f in range(len(indices)):
            idx, codes, card = indices[f], maps[f], cards[f]
            last = codes.shape[0] - 1
            for j in range(m):
                k = idx[lo + j]
                block[j] = block[j] * card + codes[k if k >= 0 else last]
        _count_probes(block, m, table, shift, counts)
    return counts


@numba.njit(cache=True, nogil=True)
def pack_short_strings(offsets: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, bool]:
    """Each string of an Arrow string array (``offsets``, ``data`` bytes) as one int64:
    its length in the top byte, its bytes below; ``ok`` is False (and the keys unusable)
    as soon as one string is longer than 7 bytes. Equal keys, equal strings."""
    n = offsets.shape[0] - 1
    keys = np.empty(n, dtype=np.int64)
    for i in range(n):
        start, end = offsets[i], offsets[i + 1]
        length = end - start
        if length > 7:
            return keys, False
        key = np.int64(length) << 56
        for j in range(length):
            key |= np.int64(data[start + j]) << (8 * j)
        keys[i] = key
    return keys, True


@numba.njit(cache=True, nogil=True)
def first_rows(ids: np.ndarray, groups: int) -> np.ndarray:
    """The first row of each group (``ids`` numbered in order of first appearance)."""
    rows = np.empty(groups, dtype=np.int64)
    seen = 0
    for i in range(ids.shape[0]):
        if ids[i] == seen:
            rows[seen] = i
            seen += 1
    return rows
