"""A growing set of 64-bit keys, for keeping identifiers unique across a whole population.

Platforms hold one account per e-mail address and per phone number; the generator claims
every identifier here before it is used and redraws the ones already taken. The set is an
open-addressing table of uint64 in a numba kernel: no Python object per key, and it stays
compact at 10^8 keys (8 bytes per slot, load factor at most 1/2).
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa

from matchsim.kernels.mix import splitmix64
from matchsim.kernels.prefetch import prefetch

_EMPTY = np.uint64(0)
_AHEAD = 16  # rows between a slot's prefetch and its insert


@numba.njit(cache=True, nogil=True)
def _home(key: np.uint64, mask: np.uint64) -> np.uint64:
    return splitmix64(np.uint64(1) if key == _EMPTY else key) & mask


@numba.njit(cache=True, nogil=True)
def _claim(table: np.ndarray, keys: np.ndarray, active: np.ndarray, taken: np.ndarray) -> int:
    mask = np.uint64(table.shape[0] - 1)
    n = keys.shape[0]
    added = 0
    # The table is far larger than the caches: each key's slot is prefetched _AHEAD rows
    # before its insert, so that the misses overlap (the inserts stay in row order).
    for i in range(min(n, _AHEAD)):
        prefetch(table, np.int64(_home(keys[i], mask)))  # type: ignore[call-arg]
    for i in range(n):
        if i + _AHEAD < n:
            prefetch(table, np.int64(_home(keys[i + _AHEAD], mask)))  # type: ignore[call-arg]
        if not active[i]:
            continue
        k = keys[i]
        if k == _EMPTY:
            k = np.uint64(1)
        slot = splitmix64(k) & mask
        while True:
            cur = table[slot]
            if cur == _EMPTY:
                table[slot] = k
                added += 1
                taken[i] = False
                break
            if cur == k:
                taken[i] = True
                break
            slot = (slot + np.uint64(1)) & mask
    return added


@numba.njit(cache=True, nogil=True)
def string_keys(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """64-bit key of each string of an Arrow string array (FNV-1a over its UTF-8 bytes)."""
    n = offsets.shape[0] - 1
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = np.uint64(0xCBF29CE484222325)
        for j in range(offsets[i], offsets[i + 1]):
            h = (h ^ np.uint64(data[j])) * np.uint64(0x100000001B3)
        out[i] = h
    return out


def arrow_string_keys(array: pa.Array) -> np.ndarray:
    """:func:`string_keys` of an Arrow string array (nulls hash as the empty string)."""
    if array.type not in (pa.string(), pa.large_string()):
        array = array.cast(pa.string())
    width = np.int64 if array.type == pa.large_string() else np.int32  # no copy either way
    _, off_buf, data_buf = array.buffers()
    offsets = np.frombuffer(off_buf, dtype=width)[array.offset : array.offset + len(array) + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    )
    return string_keys(offsets, data)


class KeySet:
    """Set of uint64 keys; :meth:`claim` inserts and reports which were already taken."""

    def __init__(self, expected: int = 1 << 16) -> None:
        size = 1 << max(16, int(2 * max(expected, 1) - 1).bit_length())
        self._table = np.zeros(size, dtype=np.uint64)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _grow(self) -> None:
        old = self._table[self._table != _EMPTY]
        self._table = np.zeros(self._table.shape[0] * 2, dtype=np.uint64)
        taken = np.zeros(old.shape[0], dtype=np.bool_)
        _claim(self._table, old, np.ones(old.shape[0], dtype=np.bool_), taken)

    def claim(self, keys: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
        """Insert ``keys`` (where ``active``); return a mask of those already present.

        A key repeated within ``keys`` is taken from its second occurrence on, so the first
        row that asks for an identifier gets it, in row order (deterministic).
        """
        keys = np.ascontiguousarray(keys, dtype=np.uint64)
        if active is None:
            active = np.ones(keys.shape[0], dtype=np.bool_)
        while 2 * (self._count + int(active.sum())) > self._table.shape[0]:
            self._grow()
        taken = np.zeros(keys.shape[0], dtype=np.bool_)
        self._count += _claim(self._table, keys, np.ascontiguousarray(active), taken)
        return taken
