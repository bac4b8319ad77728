"""A 64-bit mixer for keys that must spread evenly over a table (hash sets, key words)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def splitmix64(x: np.uint64) -> np.uint64:
    """The splitmix64 finaliser (Steele, Lea & Flood 2014): a bijection on 64-bit words."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def mix_into_first(words: np.ndarray) -> None:
    """``words[:, 0] = mix_rows(words[:, 1:])`` in place, reading the row's other words
    where they lie (no contiguous copy of them first); the same mix word for word as
    :func:`matchsim.kernels.join.mix_rows`."""
    n, w = words.shape
    for i in range(n):
        h = np.uint64(0x9E3779B97F4A7C15)
        for j in range(1, w):
            h = splitmix64(h ^ words[i, j])
        words[i, 0] = h


@numba.njit(cache=True, nogil=True)
def gather_words(src: np.ndarray, keep: np.ndarray, dst: np.ndarray, col: int) -> None:
    """``dst[i, col : col + w] = src[keep[i]]`` for every ``i`` (``w``: src's width), whole
    uint64 words at a time: what :func:`matchsim.kernels.join.gather_bytes` does byte by
    byte, for parts whose width and offset are multiples of 8 bytes."""
    w = src.shape[1]
    for i in range(keep.shape[0]):
        r = keep[i]
        for j in range(w):
            dst[i, col + j] = src[r, j]
