"""Random-digest workloads for benchmarks: a platform built where it is joined.

:class:`RandomPlatform` yields chunks of uniformly random 32-byte digests from a seed, so
a Dask worker generates its own chunks instead of receiving them; :func:`random_upload`
draws an upload of which a given share are platform digests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from matchsim.join.keys import EMAIL, KeyDigests, UploadKeys


@dataclass(frozen=True)
class RandomPlatform:
    """``users`` random SHA-256-sized digests under the e-mail key, uid = row number."""

    users: int
    seed: int = 1
    chunk_rows: int = 1 << 22

    @property
    def keys(self) -> Mapping[str, int]:
        return {EMAIL: 32}

    @property
    def n_users(self) -> int:
        return self.users

    @property
    def n_chunks(self) -> int:
        return max(1, -(-self.users // self.chunk_rows))

    def words(self, index: int) -> np.ndarray:
        start = index * self.chunk_rows
        n = max(0, min(self.chunk_rows, self.users - start))
        rng = np.random.default_rng([self.seed, index])
        return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)

    def chunk(self, index: int) -> Mapping[str, KeyDigests]:
        words = self.words(index)
        start = index * self.chunk_rows
        return {EMAIL: KeyDigests(words, np.arange(start, start + len(words)), 32)}


def random_upload(
    platform: RandomPlatform, rows: int, overlap: float = 0.5, seed: int = 2
) -> UploadKeys:
    """An upload of ``rows`` digests, ``overlap`` of them drawn from ``platform``."""
    rng = np.random.default_rng(seed)
    members = np.sort(rng.choice(platform.users, int(rows * overlap), replace=False))
    parts = []
    for i in range(platform.n_chunks):
        lo, hi = np.searchsorted(members, [i * platform.chunk_rows, (i + 1) * platform.chunk_rows])
        if hi > lo:
            parts.append(platform.words(i)[members[lo:hi] - i * platform.chunk_rows])
    others = rng.integers(0, 2**64, size=(rows - len(members), 4), dtype=np.uint64)
    words = np.concatenate([*parts, others])[rng.permutation(rows)]
    return UploadKeys(rows, {EMAIL: KeyDigests(words, np.arange(rows), 32)})
