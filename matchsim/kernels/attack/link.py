"""Numba kernels of the re-identification linkage: upload rows joined to a register on
the codes of several fields at once, counted per key.

A row's key is its tuple of field codes. Each tuple is folded into one 64-bit word
(:func:`mix_codes`, one pass per field), the distinct words of the upload rows go into an
open-addressing table, and every register row is looked up once (:func:`key_counts`):
per key, how many register rows carry it and the last one that did. Two different
tuples may fold to the same word, so the caller confirms every pairing field by field
(:func:`same_codes`) and only trusts the counts when no pairing differs: the result is
exact, never probabilistic.
"""

from __future__ import annotations

import numba
import numpy as np

from matchsim.kernels.mix import splitmix64
from matchsim.kernels.prefetch import prefetch

_SEED = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, nogil=True)
def mix_codes(h: np.ndarray, ok: np.ndarray, codes: np.ndarray) -> None:
    """Fold one field's ``codes`` into the words ``h``; a negative code clears ``ok``."""
    for i in range(h.shape[0]):
        c = codes[i]
        if c < 0:
            ok[i] = False
        h[i] = splitmix64((h[i] ^ np.uint64(c)) + _SEED)


_FILTER_BITS_PER_KEY = 16  # filter bits per distinct upload key (about 6 % false hits)
_AHEAD = 16  # rows between a slot's prefetch and its use


@numba.njit(cache=True, nogil=True, inline="always")
def _passes(bits: np.ndarray, w: np.uint64, shift: np.uint64) -> bool:
    b = w >> shift
    return bits[b >> np.uint64(6)] & (np.uint64(1) << (b & np.uint64(63))) != 0


@numba.njit(cache=True, nogil=True)
def key_counts(
    up_h: np.ndarray, up_ok: np.ndarray, reg_h: np.ndarray, reg_ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Key ids of the upload rows, and the register rows that share their word.

    Register rows first go through a bit filter of the upload words that fits in cache,
    so the many that match nothing never touch the table. A slot holds a word and its
    key side by side (one cache line per lookup), and each row's slot is prefetched
    ``_AHEAD`` rows before its turn, so that the misses overlap.

    Returns:
        ``(up_key, rep, count, last, reg_rows, reg_keys)``: the key of each upload row
        (-1 where not ``up_ok``), the first upload row of each key, per key the number
        of register rows with it and the last of them (-1 if none), and every register
        row (``reg_ok``) whose word is a key's, in order, with that key.
    """
    n_up = up_h.shape[0]
    size = 1
    while size < 2 * n_up + 2:
        size *= 2
    mask = np.uint64(size - 1)
    fbits = 6
    while (np.int64(1) << fbits) < _FILTER_BITS_PER_KEY * n_up:
        fbits += 1
    shift = np.uint64(64 - fbits)
    bits = np.zeros((np.int64(1) << fbits) // 64, dtype=np.uint64)
    # slot s: table[2 s] its word, table[2 s + 1] its key plus one (0: empty)
    table = np.zeros(2 * size, dtype=np.uint64)
    up_key = np.full(n_up, -1, dtype=np.int64)
    rep = np.empty(n_up, dtype=np.int64)
    n_keys = 0
    for i in range(n_up):
        if i + _AHEAD < n_up:
            prefetch(table, np.int64(2 * (up_h[i + _AHEAD] & mask)))  # type: ignore[call-arg]
        if not up_ok[i]:
            continue
        w = up_h[i]
        s = w & mask
        while table[2 * s + 1] != 0 and table[2 * s] != w:
            s = (s + np.uint64(1)) & mask
        if table[2 * s + 1] == 0:
            table[2 * s] = w
            table[2 * s + 1] = np.uint64(n_keys + 1)
            rep[n_keys] = i
            n_keys += 1
            b = w >> shift
            bits[b >> np.uint64(6)] |= np.uint64(1) << (b & np.uint64(63))
        up_key[i] = np.int64(table[2 * s + 1]) - 1
    count = np.zeros(n_keys, dtype=np.int64)
    last = np.full(n_keys, -1, dtype=np.int64)
    reg_rows = np.empty(reg_h.shape[0], dtype=np.int64)
    reg_keys = np.empty(reg_h.shape[0], dtype=np.int64)
    m = 0
    n_reg = reg_h.shape[0] if n_keys else 0
    for j in range(n_reg):
        if j + _AHEAD < n_reg:
            ahead = reg_h[j + _AHEAD]
            if _passes(bits, ahead, shift):
                prefetch(table, np.int64(2 * (ahead & mask)))  # type: ignore[call-arg]
        if not reg_ok[j]:
            continue
        w = reg_h[j]
        if not _passes(bits, w, shift):
            continue
        s = w & mask
        while table[2 * s + 1] != 0 and table[2 * s] != w:
            s = (s + np.uint64(1)) & mask
        key = np.int64(table[2 * s + 1]) - 1
        if key >= 0:
            reg_rows[m] = j
            reg_keys[m] = key
            m += 1
            count[key] += 1
            last[key] = j
    return up_key, rep[:n_keys], count, last, reg_rows[:m], reg_keys[:m]


@numba.njit(cache=True, nogil=True)
def same_codes(
    up_codes: np.ndarray,
    reg_codes: np.ndarray,
    up_key: np.ndarray,
    rep: np.ndarray,
    reg_rows: np.ndarray,
    reg_keys: np.ndarray,
) -> bool:
    """True when every row paired with a key carries the same code of this field as the
    key's first upload row (no two different tuples shared a word)."""
    for i in range(up_key.shape[0]):
        key = up_key[i]
        if key >= 0 and up_codes[i] != up_codes[rep[key]]:
            return False
    for t in range(reg_rows.shape[0]):
        if reg_codes[reg_rows[t]] != up_codes[rep[reg_keys[t]]]:
            return False
    return True
