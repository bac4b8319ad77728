"""What a join produces: verified (row, user) pairs per key and the platform's report."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from matchsim.arrays import sorted_unique
from matchsim.kernels.join import count_bits, mark_bits, set_bits


def _bitset(values: np.ndarray, lo: int, hi: int) -> np.ndarray:
    bits = np.zeros((hi - lo) // 64 + 1, dtype=np.uint64)
    if len(values):
        mark_bits(values, lo, bits)
    return bits


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct int64 values; a bitset instead of a sort when the range is compact."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:
        return values
    lo, hi = int(values.min()), int(values.max())
    if not _compact(lo, hi, len(values)):
        return sorted_unique(values)
    bits = _bitset(values, lo, hi)
    return set_bits(bits, lo, int(count_bits(bits)))


_SPLIT = 1 << 20  # pairs from which the rows' and the users' sets are made on two threads


def _compact(lo: int, hi: int, n: int) -> bool:
    """Whether a bitset over ``lo..hi`` is cheaper than sorting ``n`` values."""
    return hi - lo <= max(64 * n, 1 << 20)


def _union(parts: list[np.ndarray]) -> tuple[np.ndarray, list[int], list[int]]:
    """``(sorted distinct values of all parts, each part's distinct count, each part's
    count of values no other part holds)``. Where the range is compact one bitset a part
    serves all three; else sorted arrays. Some part must be non-empty."""
    lo = min(int(p.min()) for p in parts if len(p))
    hi = max(int(p.max()) for p in parts if len(p))
    if _compact(lo, hi, sum(len(p) for p in parts)):
        sets = [_bitset(p, lo, hi) for p in parts]
        union = sets[0]
        only = [int(count_bits(sets[0]))]
        if len(sets) > 1:
            union = sets[0].copy()
            for bits in sets[1:]:
                union |= bits
            only = []
            for j, mine in enumerate(sets):
                others = np.zeros_like(mine)
                for i, bits in enumerate(sets):
                    if i != j:
                        others |= bits
                only.append(int(count_bits(mine & ~others)))
        values = set_bits(union, lo, int(count_bits(union)))
        return values, [int(count_bits(b)) for b in sets], only
    each = [distinct(p) for p in parts]
    values = distinct(np.concatenate(each))
    only = []
    for j, mine in enumerate(each):
        rest = [e for i, e in enumerate(each) if i != j]
        others = distinct(np.concatenate(rest)) if rest else mine[:0]
        only.append(len(np.setdiff1d(mine, others, assume_unique=True)))
    return values, [len(e) for e in each], only


@dataclass(frozen=True)
class KeyReport:
    """One key's contribution to a join."""

    key: str
    upload_digests: int
    rows_matched: int
    users_matched: int
    users_only_this_key: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "upload_digests": self.upload_digests,
            "rows_matched": self.rows_matched,
            "users_matched": self.users_matched,
            "users_only_this_key": self.users_only_this_key,
        }


@dataclass(frozen=True)
class MatchResult:
    """The outcome of ``Engine.match``; identical on every engine.

    Attributes:
        pairs: per key, verified ``(upload row, user id)`` pairs (unordered; may repeat
            when a user holds a digest twice, e.g. the same address as e-mail and e-mail 2).
        n_rows: rows in the upload; ``accepted_rows``: rows with at least one usable key.
        matched_rows: sorted distinct upload rows that matched through any key.
        matched_users: sorted distinct user ids matched (a user matched by several rows or
            keys counts once): what the platform learns, "customers of this advertiser".
        per_key: each key's contribution.
    """

    pairs: Mapping[str, tuple[np.ndarray, np.ndarray]]
    n_rows: int
    accepted_rows: int
    matched_rows: np.ndarray
    matched_users: np.ndarray
    per_key: Mapping[str, KeyReport]

    @property
    def match_rate(self) -> float:
        """Matched rows over accepted rows, as a platform shows it."""
        return len(self.matched_rows) / self.accepted_rows if self.accepted_rows else 0.0

    @classmethod
    def from_pairs(
        cls,
        pairs: Mapping[str, tuple[np.ndarray, np.ndarray]],
        n_rows: int,
        accepted_rows: int,
        upload_digests: Mapping[str, int],
    ) -> MatchResult:
        keys = list(pairs)
        rows = [np.asarray(pairs[k][0], np.int64) for k in keys]
        users = [np.asarray(pairs[k][1], np.int64) for k in keys]
        if not sum(len(u) for u in users):
            empty = np.zeros(0, np.int64)
            zero = {k: KeyReport(k, upload_digests.get(k, 0), 0, 0, 0) for k in keys}
            return cls(dict(zip(keys, zip(rows, users, strict=True), strict=True)), n_rows,
                       accepted_rows, empty, empty, zero)  # fmt: skip
        if sum(len(u) for u in users) >= _SPLIT:  # rows on a second thread (nogil kernels)
            with ThreadPoolExecutor(1) as pool:
                of_rows = pool.submit(_union, rows)
                matched_users, user_counts, only = _union(users)
                matched_rows, row_counts, _ = of_rows.result()
        else:
            matched_rows, row_counts, _ = _union(rows)
            matched_users, user_counts, only = _union(users)
        per_key = {
            key: KeyReport(key, upload_digests.get(key, 0), row_counts[j], user_counts[j], only[j])
            for j, key in enumerate(keys)
        }
        return cls(
            pairs=dict(zip(keys, zip(rows, users, strict=True), strict=True)),
            n_rows=n_rows,
            accepted_rows=accepted_rows,
            matched_rows=matched_rows,
            matched_users=matched_users,
            per_key=per_key,
        )

    def row_user_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct ``(upload row, user id)`` pairs over all keys, sorted by row then user."""
        rows = np.concatenate([r for r, _ in self.pairs.values()] or [np.zeros(0, np.int64)])
        users = np.concatenate([u for _, u in self.pairs.values()] or [np.zeros(0, np.int64)])
        if len(rows) == 0:
            return rows.astype(np.int64), users.astype(np.int64)
        lo_r, lo_u = int(rows.min()), int(users.min())
        span_u = int(users.max()) - lo_u + 1
        if lo_r >= 0 and lo_u >= 0 and (int(rows.max()) + 1) * span_u < 2**62:
            # One int64 key per pair, row-major: a 1-d sort instead of a row-wise unique.
            key = sorted_unique(rows.astype(np.int64) * span_u + (users - lo_u))
            return key // span_u, key % span_u + lo_u
        both = np.unique(np.stack([rows, users], axis=1), axis=0)
        return both[:, 0].copy(), both[:, 1].copy()

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.n_rows,
            "accepted_rows": self.accepted_rows,
            "matched_rows": len(self.matched_rows),
            "matched_users": len(self.matched_users),
            "match_rate": round(self.match_rate, 6),
            "per_key": {k: r.to_dict() for k, r in self.per_key.items()},
        }
