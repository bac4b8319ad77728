"""Dice-coefficient matching of CLKs: all pairs, popcount in numba, greedy 1-to-1.

Threat model of CLK linkage: advertiser and platform share the encoding secret; the party
that compares (the platform, or a linkage unit in anonlink's three-party setting) sees
every record's filter. Filters are deterministic per (secret, schema, value): equal or
similar names give equal or similar bit patterns, which is what makes typo-tolerant
matching possible and what frequency and pattern-mining attacks exploit
(:mod:`matchsim.clk.attack`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from matchsim.clk.encode import Clks
from matchsim.clk.schema import LinkParams
from matchsim.errors import ConfigError


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> np.uint64:
    # SWAR popcount; LLVM turns this idiom into the POPCNT instruction.
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True)
def popcounts(words: np.ndarray) -> np.ndarray:
    """Bits set per row."""
    out = np.zeros(words.shape[0], dtype=np.int64)
    for i in range(words.shape[0]):
        c = np.uint64(0)
        for w in range(words.shape[1]):
            c += _popcount(words[i, w])
        out[i] = np.int64(c)
    return out


@njit(cache=True)
def _top_candidates(
    a: np.ndarray, b: np.ndarray, threshold: float, top_k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``a``: the ``top_k`` best rows of ``b`` by Dice (>= threshold)."""
    na, nw = a.shape
    pa_ = popcounts(a)
    pb = popcounts(b)
    idx = np.full((na, top_k), -1, dtype=np.int64)
    score = np.zeros((na, top_k), dtype=np.float64)
    for i in range(na):
        for j in range(b.shape[0]):
            tot = pa_[i] + pb[j]
            if tot == 0:
                continue
            # prune: Dice <= 2·min/tot, so skip pairs whose weights are too far apart
            if 2.0 * min(pa_[i], pb[j]) < threshold * tot:
                continue
            c = np.uint64(0)
            for w in range(nw):
                c += _popcount(a[i, w] & b[j, w])
            s = 2.0 * np.float64(c) / tot
            if s >= threshold and s > score[i, top_k - 1]:
                m = top_k - 1
                while m > 0 and score[i, m - 1] < s:
                    score[i, m] = score[i, m - 1]
                    idx[i, m] = idx[i, m - 1]
                    m -= 1
                score[i, m] = s
                idx[i, m] = j
    return idx, score


@njit(cache=True)
def _greedy(ia: np.ndarray, ib: np.ndarray, nb: int, na: int) -> np.ndarray:
    used_a = np.zeros(na, dtype=np.bool_)
    used_b = np.zeros(nb, dtype=np.bool_)
    keep = np.zeros(ia.shape[0], dtype=np.bool_)
    for t in range(ia.shape[0]):
        if not used_a[ia[t]] and not used_b[ib[t]]:
            used_a[ia[t]] = True
            used_b[ib[t]] = True
            keep[t] = True
    return keep


def match(a: Clks, b: Clks, params: LinkParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one links between ``a`` and ``b``: ``(pairs (m, 2) int64, dice (m,))``,
    best first; greedy like anonlink's solver over each row's ``top_k`` candidates."""
    params = params or LinkParams()
    ConfigError.collect(params.problems())
    if a.schema != b.schema:
        raise ConfigError("both parties must encode with the same CLK schema")
    idx, score = _top_candidates(a.words, b.words, float(params.threshold), params.top_k)
    rows, cols = np.nonzero(idx >= 0)
    ia, ib, s = rows.astype(np.int64), idx[rows, cols], score[rows, cols]
    order = np.lexsort((ib, ia, -s))
    ia, ib, s = ia[order], ib[order], s[order]
    keep = _greedy(ia, ib, len(b), len(a))
    return np.stack([ia[keep], ib[keep]], axis=1), s[keep]
