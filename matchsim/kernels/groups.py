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

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, nogil=True)
def _slot(key: np.int64, shift: np.uint64) -> np.int64:
    return np.int64((np.uint64(key) * _GOLDEN) >> shift)


@numba.njit(cache=True, nogil=True)
def _insert(slot_keys: np.ndarray, slot_ids: np.ndarray, key: np.int64, g: np.int64) -> None:
    mask = slot_ids.shape[0] - 1
    shift = np.uint64(64 - _bits(slot_ids.shape[0]))
    s = _slot(key, shift)
    while slot_ids[s] >= 0:
        s = (s + 1) & mask
    slot_keys[s] = key
    slot_ids[s] = g


@numba.njit(cache=True, nogil=True)
def _bits(size: int) -> int:
    bits = 0
    while (1 << bits) < size:
        bits += 1
    return bits


@numba.njit(cache=True, nogil=True)
def first_seen_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(ids, slot_keys, slot_ids, groups)``: the group id of each key (0, 1, ... in order
    of first appearance), the hash table (for :func:`count_into`) and the number of groups.
    The table doubles whenever it is half full, so its size follows the distinct keys."""
    n = keys.shape[0]
    size = 1 << 12
    slot_keys = np.zeros(size, dtype=np.int64)
    slot_ids = np.full(size, -1, dtype=np.int64)
    shift = np.uint64(64 - _bits(size))
    ids = np.empty(n, dtype=np.int64)
    groups = 0
    for i in range(n):
        key = keys[i]
        s = _slot(key, shift)
        while True:
            g = slot_ids[s]
            if g < 0:
                g = groups
                groups += 1
                slot_keys[s] = key
                slot_ids[s] = g
                break
            if slot_keys[s] == key:
                break
            s = (s + 1) & (size - 1)
        ids[i] = g
        if 2 * groups > size:  # grow: re-insert every key into a table twice the size
            old_keys, old_ids = slot_keys, slot_ids
            size *= 2
            shift = np.uint64(64 - _bits(size))
            slot_keys = np.zeros(size, dtype=np.int64)
            slot_ids = np.full(size, -1, dtype=np.int64)
            for j in range(old_ids.shape[0]):
                if old_ids[j] >= 0:
                    _insert(slot_keys, slot_ids, old_keys[j], old_ids[j])
    return ids, slot_keys, slot_ids, groups


@numba.njit(cache=True, nogil=True)
def count_into(
    keys: np.ndarray, slot_keys: np.ndarray, slot_ids: np.ndarray, groups: int
) -> np.ndarray:
    """How many of ``keys`` fall in each group of the table :func:`first_seen_groups` made
    (keys in no group are not counted)."""
    mask = slot_ids.shape[0] - 1
    shift = np.uint64(64 - _bits(slot_ids.shape[0]))
    counts = np.zeros(groups, dtype=np.int64)
    for i in range(keys.shape[0]):
        key = keys[i]
        s = _slot(key, shift)
        while True:
            g = slot_ids[s]
            if g < 0:
                break
            if slot_keys[s] == key:
                counts[g] += 1
                break
            s = (s + 1) & mask
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
