"""``KeyDigests.gather``: a combination key's digest is its parts side by side (zero-padded
to whole words) behind one mix word, whether the parts are copied word by word (widths of
whole words) or byte by byte (any other width)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.join.keys import KeyDigests
from matchsim.kernels.join import mix_rows


def _reference(
    parts: list[tuple[np.ndarray, np.ndarray | None]], valid: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    keep = np.flatnonzero(valid)
    rows = [d[keep] if index is None else d[index[keep]] for d, index in parts]
    body = np.concatenate(rows, axis=1) if rows else np.zeros((len(keep), 0), np.uint8)
    pad = -body.shape[1] % 8
    body = np.concatenate([body, np.zeros((len(keep), pad), np.uint8)], axis=1)
    rest = np.ascontiguousarray(body).view(np.uint64).reshape(len(keep), body.shape[1] // 8)
    return np.concatenate([mix_rows(rest)[:, None], rest], axis=1), ids[keep]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    widths=st.lists(st.sampled_from([8, 16, 20, 32, 64, 3]), min_size=1, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    tabled=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_gather_is_the_parts_side_by_side(
    n: int, widths: list[int], seed: int, tabled: list[bool]
) -> None:
    rng = np.random.default_rng(seed)
    parts: list[tuple[np.ndarray, np.ndarray | None]] = []
    for w, t in zip(widths, tabled, strict=False):
        if t:  # a dictionary's digests and each row's entry
            m = int(rng.integers(1, 6))
            parts.append((rng.integers(0, 256, (m, w), dtype=np.uint8),
                          rng.integers(0, m, n).astype(np.int64)))  # fmt: skip
        else:
            parts.append((rng.integers(0, 256, (n, w), dtype=np.uint8), None))
    valid = rng.random(n) < 0.7
    ids = rng.integers(0, 10**9, n).astype(np.int64)
    got = KeyDigests.gather(parts, valid, ids)
    want_words, want_ids = _reference(parts, valid, ids)
    assert got.digest_size == sum(widths)
    assert np.array_equal(got.words, want_words)
    assert np.array_equal(got.ids, want_ids)
