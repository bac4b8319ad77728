"""What a join produces: verified (row, user) pairs per key and the platform's report."""

from __future__ import annotations

from collections.abc import Mapping
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
    if hi - lo > max(64 * len(values), 1 << 20):
        return sorted_unique(values)
    bits = _bitset(values, lo, hi)
    return set_bits(bits, lo, int(count_bits(bits)))


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
        rows_all = [r for r, _ in pairs.values()]
        users_all = [u for _, u in pairs.values()]
        matched_rows = distinct(np.concatenate(rows_all)) if rows_all else np.zeros(0, np.int64)
        matched_users = distinct(np.concatenate(users_all)) if users_all else np.zeros(0, np.int64)
        per_key: dict[str, KeyReport] = {}
        if len(matched_users):
            lo, hi = int(matched_users[0]), int(matched_users[-1])
            sets = {k: _bitset(u, lo, hi) for k, (_, u) in pairs.items()}
            for key, (rows, _users) in pairs.items():
                others = np.zeros_like(sets[key])
                for other, bits in sets.items():
                    if other != key:
                        others |= bits
                per_key[key] = KeyReport(
                    key,
                    upload_digests.get(key, 0),
                    len(distinct(rows)),
                    int(count_bits(sets[key])),
                    int(count_bits(sets[key] & ~others)),
                )
        else:
            per_key = {k: KeyReport(k, upload_digests.get(k, 0), 0, 0, 0) for k in pairs}
        return cls(
            pairs={
                k: (np.asarray(r, np.int64), np.asarray(u, np.int64)) for k, (r, u) in pairs.items()
            },
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
