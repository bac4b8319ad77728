"""The digest table's probe: exact on full digests, also when 64-bit keys collide."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.join.keys import KeyDigests
from matchsim.join.table import DigestTable


def _reference(upload: np.ndarray, platform: np.ndarray) -> set[tuple[int, int]]:
    rows: dict[bytes, list[int]] = {}
    for i, d in enumerate(upload):
        rows.setdefault(d.tobytes(), []).append(i)
    return {(r, j) for j, d in enumerate(platform) for r in rows.get(d.tobytes(), [])}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(1, 5))
def test_probe_equals_reference_when_first_words_collide(seed: int, n: int, firsts: int) -> None:
    rng = np.random.default_rng(seed)
    # Few distinct first words: every probe walks a cluster of 64-bit key collisions.
    upload = rng.integers(0, 4, size=(n, 4), dtype=np.uint64)
    upload[:, 0] = rng.choice(rng.integers(0, 2**63, size=firsts, dtype=np.uint64), size=n)
    platform = np.concatenate([upload[rng.integers(0, n, size=n // 2)], upload ^ np.uint64(1)])
    platform = platform[rng.permutation(len(platform))]
    table = DigestTable(KeyDigests(upload, np.arange(n, dtype=np.int64), 32))
    rows, users = table.probe(KeyDigests(platform, np.arange(len(platform), dtype=np.int64), 32))
    got = set(zip(rows.tolist(), users.tolist(), strict=True))
    assert got == _reference(upload, platform)
    assert len(got) == len(rows)  # no pair twice
