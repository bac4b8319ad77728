"""The in-memory digest join against a plain reference (a dict of digests), exactly.

Digests are drawn to stress what the table relies on: equal first words, equal 32-bit
fingerprints (the low half of the first word) with different digests, all-zero digests,
duplicated upload and platform digests, one- to five-word widths, and probes split into
many work items on several threads.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matchsim.join.table as table_module
from matchsim.join import InMemoryPlatform, KeyDigests, UploadKeys, get_engine
from matchsim.join.table import DigestTable
from matchsim.kernels.join import filter_pass, make_filter


def _draw(rng: np.random.Generator, n: int, width: int, style: int) -> np.ndarray:
    """``n`` digests of ``width`` words; ``style`` picks how often words collide."""
    if style == 0:  # uniform
        return rng.integers(0, 2**64, size=(n, width), dtype=np.uint64)
    words = rng.integers(0, 3, size=(n, width), dtype=np.uint64)
    high = rng.integers(0, 2**32, size=4, dtype=np.uint64) << np.uint64(32)
    low = rng.integers(0, 2**32, size=3, dtype=np.uint64)
    if style == 1:  # few first words: long clusters of equal 64-bit keys
        words[:, 0] = rng.choice(high | low[0], size=n)
    else:  # equal fingerprints (low 32 bits) under different high halves
        words[:, 0] = rng.choice(high, size=n) | rng.choice(low, size=n)
    words[rng.random(n) < 0.05] = 0  # all-zero digests
    return words


def _case(seed: int, n_up: int, n_pl: int, width: int, style: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    upload = _draw(rng, n_up, width, style)
    upload[rng.integers(0, n_up, size=n_up // 4)] = upload[rng.integers(0, n_up, size=n_up // 4)]
    platform = _draw(rng, n_pl, width, style)
    take = rng.integers(0, n_pl, size=n_pl // 3)
    platform[take] = upload[rng.integers(0, n_up, size=len(take))]  # matches, some repeated
    platform[rng.integers(0, n_pl, size=8)] ^= np.uint64(1) << np.uint64(63)  # near misses
    uids = rng.permutation(10 * n_pl)[:n_pl].astype(np.int64)
    rows = rng.permutation(3 * n_up)[:n_up].astype(np.int64)  # upload ids: not positions
    return upload, rows, platform, uids


def _reference(
    upload: np.ndarray, rows: np.ndarray, platform: np.ndarray, uids: np.ndarray
) -> Counter[tuple[int, int]]:
    where: dict[bytes, list[int]] = {}
    for row, d in zip(rows.tolist(), upload, strict=True):
        where.setdefault(d.tobytes(), []).append(row)
    return Counter(
        (row, uid)
        for uid, d in zip(uids.tolist(), platform, strict=True)
        for row in where.get(d.tobytes(), [])
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 2000),
    st.integers(1, 3000),
    st.integers(1, 5),
    st.integers(0, 2),
    st.sampled_from([1, 7, 64, 1 << 18]),
)
def test_probe_equals_reference(
    seed: int, n_up: int, n_pl: int, width: int, style: int, task: int
) -> None:
    upload, rows, platform, uids = _case(seed, n_up, n_pl, width, style)
    table = DigestTable(KeyDigests(upload, rows, 8 * width))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(table_module, "_TASK", task)  # many work items, on several threads
        got_rows, got_uids = table.probe(KeyDigests(platform, uids, 8 * width))
    # Every (upload row, user) pair, as often as the platform holds the digest.
    assert Counter(zip(got_rows.tolist(), got_uids.tolist(), strict=True)) == _reference(
        upload, rows, platform, uids
    )
    distinct = {d.tobytes() for d in upload}
    assert table.distinct == len(distinct)
    first: dict[bytes, int] = {}
    expected = [first.setdefault(d.tobytes(), i) for i, d in enumerate(upload)]
    assert table.first_rows().tolist() == expected


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(1, 4), st.integers(0, 2))
def test_filter_passes_every_upload_digest(seed: int, n: int, width: int, style: int) -> None:
    rng = np.random.default_rng(seed)
    upload = _draw(rng, n, width, style)
    fbits = max(6, int(np.ceil(np.log2(1.5 * n))) + 3)
    bloom = make_filter(upload, fbits)
    assert filter_pass(upload, fbits, bloom).all()
    if style == 0 and n >= 500:  # three bits a key, eight bits a slot: few false positives
        other = _draw(rng, 20_000, width, 0)
        assert filter_pass(other, fbits, bloom).mean() < 0.05


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 1500), st.integers(1, 3000), st.integers(0, 2))
def test_local_engine_counts_equal_reference(seed: int, n_up: int, n_pl: int, style: int) -> None:
    """Match sets and per-key counts of a two-key join, platform in several chunks."""
    email = _case(seed, n_up, n_pl, 4, style)
    phone = _case(seed + 1, n_up, n_pl, 2, style)
    n_rows = 3 * n_up
    upload = UploadKeys(
        n_rows,
        {"email": KeyDigests(email[0], email[1], 32), "phone": KeyDigests(phone[0], phone[1], 16)},
    )
    platform = InMemoryPlatform(
        {"email": KeyDigests(email[2], email[3], 32), "phone": KeyDigests(phone[2], phone[3], 16)},
        users=10 * n_pl,
        chunk_rows=max(1, n_pl // 3),
    )
    with get_engine("local") as eng:
        result = eng.match(upload, platform)
    ref = {k: _reference(*case) for k, case in (("email", email), ("phone", phone))}
    users = {k: {u for _, u in pairs} for k, pairs in ref.items()}
    assert result.matched_rows.tolist() == sorted({r for p in ref.values() for r, _ in p})
    assert result.matched_users.tolist() == sorted(users["email"] | users["phone"])
    for key, other in (("email", "phone"), ("phone", "email")):
        report = result.per_key[key]
        assert report.rows_matched == len({r for r, _ in ref[key]})
        assert report.users_matched == len(users[key])
        assert report.users_only_this_key == len(users[key] - users[other])
        got = Counter(zip(*(a.tolist() for a in result.pairs[key]), strict=True))
        assert got == ref[key]


def _probe_count(table: DigestTable, words: np.ndarray) -> None:
    rows, _ = table.probe(KeyDigests(words, np.arange(len(words), dtype=np.int64), 32))
    os._exit(0 if len(rows) == len(words) else 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_probe_in_a_forked_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child forked after the probe threads started gets threads of its own (a pool
    inherited from the parent has none and would wait forever)."""
    monkeypatch.setattr(table_module, "_TASK", 8)
    words = np.random.default_rng(0).integers(0, 2**64, size=(100, 4), dtype=np.uint64)
    table = DigestTable(KeyDigests(words, np.arange(100, dtype=np.int64), 32))
    assert len(table.probe(KeyDigests(words, np.arange(100, dtype=np.int64), 32))[0]) == 100
    child = multiprocessing.get_context("fork").Process(target=_probe_count, args=(table, words))
    child.start()
    child.join(60)
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 4),
    st.integers(0, 400),
    st.sampled_from([50, 5_000, 10**9, 2**40]),
    st.integers(-(2**20), 2**20),
)
def test_match_result_counts_equal_reference(
    seed: int, n_keys: int, n: int, span: int, base: int
) -> None:
    """Distinct rows and users, and each key's counts, against sets: compact ranges (the
    bitsets) and sparse ones (a sort), repeated pairs, negative ids, keys without pairs."""
    import matchsim.join.result as result_module
    from matchsim.join.result import MatchResult

    rng = np.random.default_rng(seed)
    pairs = {}
    for j in range(n_keys):
        m = int(rng.integers(0, n + 1)) if j else n
        rows = base + rng.integers(0, span, size=m)
        users = base + rng.integers(0, span, size=m)
        take = rng.integers(0, max(1, m), size=m // 3)
        pairs[f"k{j}"] = (np.concatenate([rows, rows[take]]), np.concatenate([users, users[take]]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(result_module, "_SPLIT", 0 if seed % 2 else 1 << 62)  # two threads or one
        result = MatchResult.from_pairs(pairs, 10, 9, {k: 7 for k in pairs})
    users_of = {k: set(u.tolist()) for k, (_, u) in pairs.items()}
    assert result.matched_rows.tolist() == sorted(
        {r for p in pairs.values() for r in p[0].tolist()}
    )
    assert result.matched_users.tolist() == sorted(set().union(*users_of.values()))
    for key, (rows, _) in pairs.items():
        report = result.per_key[key]
        others = set().union(*(u for k, u in users_of.items() if k != key))
        assert report.rows_matched == len(set(rows.tolist()))
        assert report.users_matched == len(users_of[key])
        assert report.users_only_this_key == len(users_of[key] - others)
        assert report.upload_digests == 7
        assert np.array_equal(result.pairs[key][0], rows)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 1500), st.integers(1, 3000), st.integers(1, 700))
def test_local_engine_pipelined_chunks_equal_reference(
    seed: int, n_up: int, n_pl: int, chunk: int
) -> None:
    """Chunks probed on several threads while the last chunk's matches are collected:
    the same pairs, in the same order, as probing the chunks one after another."""
    upload, rows, platform, uids = _case(seed, n_up, n_pl, 4, seed % 3)
    keys = UploadKeys(3 * n_up, {"email": KeyDigests(upload, rows, 32)})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(table_module, "_TASK", 5)  # many work items per chunk
        chunked = InMemoryPlatform({"email": KeyDigests(platform, uids, 32)}, n_pl, chunk)
        with get_engine("local") as eng:
            got = eng.match(keys, chunked).pairs["email"]
        table = DigestTable(KeyDigests(upload, rows, 32))
        one_by_one = [table.probe(chunked.chunk(i)["email"]) for i in range(chunked.n_chunks)]
    expected = [np.concatenate([p[j] for p in one_by_one]) for j in (0, 1)]
    assert Counter(zip(*(a.tolist() for a in got), strict=True)) == _reference(
        upload, rows, platform, uids
    )
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
