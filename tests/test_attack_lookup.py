"""TargetSet.lookup (the numba walk) against a dictionary of the digests."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.attack.targets import TargetSet


def _targets(digests: np.ndarray) -> TargetSet:
    digests = np.unique(digests, axis=0)
    n = digests.shape[0]
    return TargetSet("sha256", "hex", np.ascontiguousarray(digests),
                     np.arange(n), np.arange(n), n)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(1, 3_000),
    n=st.integers(0, 3_000),
    shared_prefix=st.booleans(),
)
def test_lookup_equals_a_dictionary(seed: int, m: int, n: int, shared_prefix: bool) -> None:
    rng = np.random.default_rng(seed)
    digests = rng.integers(0, 256, (m, 32), dtype=np.uint8)
    if shared_prefix:  # digests that agree on their first 8 bytes (the key), not after
        digests[: m // 2, :8] = digests[0, :8]
    targets = _targets(digests)
    hits = targets.digests[rng.integers(0, targets.n_distinct, n // 2)]
    near = hits.copy()
    if near.shape[0]:
        near[:, -1] ^= 1  # same key, another digest: a miss
    other = rng.integers(0, 256, (n - n // 2, 32), dtype=np.uint8)
    candidates = np.concatenate([hits, near, other])
    index = {bytes(d): i for i, d in enumerate(targets.digests)}
    expected = np.array([index.get(bytes(c), -1) for c in candidates], dtype=np.int64)
    got = targets.lookup(candidates)
    assert np.array_equal(got, targets._lookup_numpy(candidates))  # the walk it replaced
    if shared_prefix:
        # equal keys: the walk stops at the first digest with the key, as it always did
        assert np.array_equal(got[got >= 0], expected[got >= 0])
    else:
        assert np.array_equal(got, expected)
