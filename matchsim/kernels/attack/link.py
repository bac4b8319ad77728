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

_SEED = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, nogil=True)
def mix_codes(h: np.ndarray, ok: np.ndarray, codes: np.ndarray) -> None:
    """Fold one field's ``codes`` into the words ``h``; a negative code clears ``ok``."""
    for i in range(h.shape[0]):
        c = codes[i]
        if c < 0:
            ok[i] = False
        h[i] = splitmix64((h[i] ^ np.uint64(c)) + _SEED)


@numba.njit(cache=True, nogil=True)
def key_counts(
    up_h: np.ndarray, up_ok: np.ndarray, reg_h: np.ndarray, reg_ok: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Key ids of the upload rows and the register rows that share their word.

    Returns:
        ``(up_key, reg_key, rep, count, last)``: the key of each upload row (-1 where not
        ``up_ok``), of each register row (-1 where not ``reg_ok`` or no upload row has its
        word), the first upload row of each key, and per key the number of register rows
        with it and the last of them (-1 if none).
    """
    n_up = up_h.shape[0]
    size = 1
    while size < 2 * n_up + 2:
        size *= 2
    mask = np.uint64(size - 1)
    slot_h = np.zeros(size, dtype=np.uint64)
    slot_key = np.full(size, -1, dtype=np.int64)
    up_key = np.full(n_up, -1, dtype=np.int64)
    rep = np.empty(n_up, dtype=np.int64)
    n_keys = 0
    for i in range(n_up):
        if not up_ok[i]:
            continue
        w = up_h[i]
        s = splitmix64(w) & mask
        while slot_key[s] >= 0 and slot_h[s] != w:
            s = (s + np.uint64(1)) & mask
        if slot_key[s] < 0:
            slot_h[s] = w
            slot_key[s] = n_keys
            rep[n_keys] = i
            n_keys += 1
        up_key[i] = slot_key[s]
    count = np.zeros(n_keys, dtype=np.int64)
    last = np.full(n_keys, -1, dtype=np.int64)
    reg_key = np.full(reg_h.shape[0], -1, dtype=np.int64)
    if n_keys == 0:
        return up_key, reg_key, rep[:0], count, last
    for j in range(reg_h.shape[0]):
        if not reg_ok[j]:
            continue
        w = reg_h[j]
        s = splitmix64(w) & mask
        while slot_key[s] >= 0 and slot_h[s] != w:
            s = (s + np.uint64(1)) & mask
        key = slot_key[s]
        if key >= 0:
            reg_key[j] = key
            count[key] += 1
            last[key] = j
    return up_key, reg_key, rep[:n_keys], count, last


@numba.njit(cache=True, nogil=True)
def same_codes(
    up_codes: np.ndarray,
    reg_codes: np.ndarray,
    up_key: np.ndarray,
    reg_key: np.ndarray,
    rep: np.ndarray,
) -> bool:
    """True when every row paired with a key carries the same code of this field as the
    key's first upload row (no two different tuples shared a word)."""
    for i in range(up_key.shape[0]):
        key = up_key[i]
        if key >= 0 and up_codes[i] != up_codes[rep[key]]:
            return False
    for j in range(reg_key.shape[0]):
        key = reg_key[j]
        if key >= 0 and reg_codes[j] != up_codes[rep[key]]:
            return False
    return True
