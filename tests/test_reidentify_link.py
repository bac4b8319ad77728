"""The re-identification linkage: the numba hash join against brute force and against
the factorised join it replaced, and its fallback when two keys share a hash word."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matchsim.attack.reidentify as reid
import matchsim.kernels.attack.link as kernels
from matchsim.attack.reidentify import (
    Linkage,
    Register,
    Reversed,
    _link_factorised,
    _link_hashed,
    link,
)
from matchsim.normalise import get_profile

FIELDS = ("first_name", "last_name", "postcode")


def _world(
    seed: int, n_up: int, n_reg: int, card: int, null_share: float
) -> tuple[Reversed, Register]:
    """An upload of ``n_up`` rows and a register of ``n_reg``, values drawn from
    ``card`` per field (so keys repeat), some missing on either side."""
    rng = np.random.default_rng(seed)
    values: dict[str, pa.Array] = {}
    codes: dict[str, np.ndarray] = {}
    dictionary: dict[str, pa.Array] = {}
    for f in FIELDS:
        words = np.array([f"{f}{i}" for i in range(card + 2)], dtype=object)
        # upload values may lie outside the register's dictionary (the last two words)
        up = words[rng.integers(0, card + 2, n_up)]
        up_mask = rng.random(n_up) < null_share
        values[f] = pa.array(up, pa.string(), mask=up_mask)
        reg = rng.integers(0, card, n_reg)
        reg[rng.random(n_reg) < null_share] = -1
        codes[f] = reg.astype(np.int64)
        dictionary[f] = pa.array(words[:card], pa.string())
    fields = dict.fromkeys(FIELDS)
    rev = Reversed(n_up, get_profile("meta"), "NL", values, fields)  # type: ignore[arg-type]
    ids = pa.array(np.arange(n_reg, dtype=np.int64))
    return rev, Register(ids, codes, dictionary)


def _brute(rev: Reversed, reg: Register) -> tuple[np.ndarray, np.ndarray]:
    """Per upload row: register rows equal on every field the row has, by loops."""
    up = {f: rev.values[f].to_pylist() for f in FIELDS}
    words = {f: reg.dictionary[f].to_pylist() for f in FIELDS}
    reg_vals = [
        tuple(words[f][c] if c >= 0 else None for f, c in zip(FIELDS, row, strict=True))
        for row in zip(*(reg.codes[f].tolist() for f in FIELDS), strict=True)
    ]
    k = np.full(rev.n_rows, -1, dtype=np.int64)
    match = np.full(rev.n_rows, -1, dtype=np.int64)
    for i in range(rev.n_rows):
        have = [j for j, f in enumerate(FIELDS) if up[f][i] is not None]
        if not have:
            continue
        hits = [
            r
            for r, vals in enumerate(reg_vals)
            if all(vals[j] is not None and vals[j] == up[FIELDS[j]][i] for j in have)
        ]
        k[i] = len(hits)
        if len(hits) == 1:
            match[i] = hits[0]
    return k, match


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_up=st.integers(1, 60),
    n_reg=st.integers(0, 120),
    card=st.integers(1, 6),
    null_share=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_link_equals_brute_force(
    seed: int, n_up: int, n_reg: int, card: int, null_share: float
) -> None:
    rev, reg = _world(seed, n_up, n_reg, card, null_share)
    result = link(rev, reg, FIELDS)
    k, match = _brute(rev, reg)
    assert np.array_equal(result.k, k)
    assert np.array_equal(result.match, match)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), card=st.integers(1, 40))
def test_hashed_join_equals_factorised(seed: int, card: int) -> None:
    rev, reg = _world(seed, 400, 3_000, card, 0.0)
    codes = {
        f: np.asarray(
            pa.compute.index_in(rev.values[f], value_set=reg.dictionary[f])
            .fill_null(-1)
            .to_numpy(zero_copy_only=False),
            dtype=np.int64,
        )
        for f in FIELDS
    }
    rows = np.flatnonzero(np.all([codes[f] >= 0 for f in FIELDS], axis=0))
    hashed = _link_hashed(rows, list(FIELDS), codes, reg)
    assert hashed is not None
    k, match = _link_factorised(rows, list(FIELDS), codes, reg)
    assert np.array_equal(hashed[0], k) and np.array_equal(hashed[1], match)
    assert (k > 0).any()  # the draw makes keys the register holds


def test_shared_hash_word_falls_back_to_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key folded to the same word: the pairing check notices, and link() still
    counts exactly (through the factorised join)."""
    rev, reg = _world(3, 300, 2_000, 4, 0.1)
    honest = link(rev, reg, FIELDS)

    def same_word(h: np.ndarray, ok: np.ndarray, codes: np.ndarray) -> None:
        ok &= codes >= 0  # h stays 0 for every row: every tuple shares one word

    monkeypatch.setattr(kernels, "mix_codes", same_word)
    codes = {f: np.asarray(reg.codes[f][:300]) for f in FIELDS}
    rows = np.flatnonzero(np.all([codes[f] >= 0 for f in FIELDS], axis=0))
    assert _link_hashed(rows, list(FIELDS), codes, reg) is None
    forced = link(rev, reg, FIELDS)
    assert np.array_equal(forced.k, honest.k)
    assert np.array_equal(forced.match, honest.match)
    k, match = _brute(rev, reg)
    assert np.array_equal(forced.k, k) and np.array_equal(forced.match, match)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_up=st.integers(1, 8))
def test_few_rows_join_only_candidate_register_rows(seed: int, n_up: int) -> None:
    """A few upload rows: only the register rows sharing their most varied value are
    hashed (``_register_candidates``), with the same answer as brute force."""
    from matchsim.attack.reidentify import _register_candidates

    rev, reg = _world(seed, n_up, 3_000, 3, 0.1)
    # one field with many values, so that a few rows pick out a few register rows
    rng = np.random.default_rng(seed)
    words = np.array([f"pc{i}" for i in range(300)], dtype=object)
    reg.codes["postcode"] = rng.integers(0, 300, reg.rows).astype(np.int64)
    reg.dictionary["postcode"] = pa.array(words, pa.string())
    rev.values["postcode"] = pa.array(words[reg.codes["postcode"][:n_up]], pa.string())
    up = {"postcode": reg.codes["postcode"][:n_up]}
    assert _register_candidates(up, list(FIELDS), reg) is not None
    result = link(rev, reg, FIELDS)
    k, match = _brute(rev, reg)
    assert np.array_equal(result.k, k) and np.array_equal(result.match, match)
    assert (k >= 0).all()  # every row has a postcode to link on


_SHORT = st.one_of(st.none(), st.text(alphabet="AB 1é", max_size=4))  # é: 2 bytes


@settings(max_examples=60, deadline=None)
@given(
    chunks=st.lists(st.lists(_SHORT, max_size=12), min_size=1, max_size=4),
    customers=st.lists(_SHORT, max_size=12),
    long=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_gathered_short_strings_equal_arrow_dictionary_encode(
    chunks: list[list[str | None]],
    customers: list[str | None],
    long: bool,
    seed: int,
) -> None:
    """Plain text of at most 7 bytes (postcodes), grouped as packed int64 keys, gathers
    into the same dictionary array (dictionary and codes) as Arrow's dictionary_encode;
    a longer value takes the Arrow path."""
    if long:
        customers = [*customers, "longer than seven bytes"]
    parts = [
        pa.chunked_array([pa.array(c, pa.string()) for c in chunks], pa.string()),
        pa.chunked_array([pa.array(customers, pa.string())], pa.string()),
    ]
    n = sum(len(c) for c in chunks) + len(customers)
    rows = np.random.default_rng(seed).permutation(n)[: max(n - 2, 0)]
    values = [v for c in [*chunks, customers] for v in c if v is not None]
    too_long = any(len(v.encode()) > 7 for v in values)
    assert (reid._short_codes(parts) is None) == (too_long or n == 0)
    got = reid._gathered(parts, rows)
    if not values:  # Arrow's path fails on this (no dictionary at all); codes: all null
        assert n == 0 or (got.null_count == len(rows) and len(got.dictionary) == 0)
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reid, "_short_codes", lambda parts: None)
        want = reid._gathered(parts, rows)
    assert got.type == want.type
    assert got.dictionary.equals(want.dictionary)
    assert got.indices.equals(want.indices)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), card=st.integers(1, 6))
def test_scenarios_reuse_the_linkage_and_codes(seed: int, card: int) -> None:
    """What-ifs handed the upload's own linkage and codes (as :func:`reidentify` does)
    classify every scenario as linking each afresh does, with one linkage fewer."""
    rev, reg = _world(seed, 50, 90, card, 0.2)
    rev.fields = {f: SimpleNamespace(hashed=f != "postcode") for f in FIELDS}  # type: ignore[misc]
    calls: list[tuple[str, ...]] = []

    def counted(*args: Any, **kwargs: Any) -> Linkage:
        calls.append(tuple(args[2]))
        return link(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reid, "link", counted)
        fresh = reid.scenarios(rev, reg)
        n_fresh = len(calls)
        codes: dict[str, np.ndarray] = {}
        reused = reid.scenarios(rev, reg, link(rev, reg, _codes=codes), _codes=codes)
    assert n_fresh - (len(calls) - n_fresh) == 1
    assert [(s.name, s.fields, s.classes) for s in reused] == [
        (s.name, s.fields, s.classes) for s in fresh
    ]
