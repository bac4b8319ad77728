"""Normalising and hashing each distinct value once gives exactly the row-by-row answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.generate import Population
from matchsim.join.platform import table_digests
from matchsim.normalise import distinct, get_profile
from matchsim.schemes import get_scheme
from matchsim.secrets import Secret

_DIRTY = [
    None, "", "  ", "Jan", "jan", " JAN ", "Jan-Willem", "O'Neil", "1990-01-31", "19900131",
    "1890-01-01", "not a date", "1234 AB", "1234ab", "x", "06-12345678", "+31612345678",
    "0031 6 1234 5678", "abc", "A@B.NL", "a@b", "a@@b.nl", "Jöhn", "john.doe+x@gmail.com",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
]  # fmt: skip


@pytest.mark.parametrize("profile", ["meta", "google", "tiktok"])
@pytest.mark.parametrize(
    "field", ["email", "phone", "first_name", "last_name", "dob", "postcode", "madid"]
)
def test_distinct_normalise_equals_row_by_row(profile: str, field: str) -> None:
    prof = get_profile(profile)
    if field not in prof.fields:
        pytest.skip(f"{profile} takes no {field}")
    values = pa.array(_DIRTY * 10, pa.string())  # repeats: the dictionary path
    assert distinct.repeats(values)
    once = distinct.normalise(prof, field, values, "NL")
    rows = prof.normalise(field, values, "NL")
    assert once.values.equals(rows.values)
    assert once.reasons.equals(rows.reasons)
    assert np.array_equal(once.rejected, rows.rejected)
    assert np.array_equal(once.prehashed, rows.prehashed)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.sampled_from(_DIRTY[1:]), st.text(max_size=8)), max_size=200)
)
def test_distinct_encode_equals_row_by_row(texts: list[str | None]) -> None:
    values = pa.array(texts, pa.string())
    for scheme in (get_scheme("sha256"), get_scheme("hmac-sha256", secret=Secret(b"k" * 32, "t"))):
        once, rows = distinct.encode(scheme, values), scheme.encode(values)
        assert np.array_equal(once.data, rows.data)
        assert np.array_equal(once.valid, rows.valid)


def test_salted_scheme_is_never_shared_between_equal_values() -> None:
    values = pa.array(["a@b.nl"] * 100, pa.string())
    d = distinct.encode(get_scheme("salted-sha256"), values)
    assert len(np.unique(d.data, axis=0)) == 100  # a salt per record, not per value


@pytest.mark.parametrize("profile", ["meta", "google"])
def test_platform_digests_equal_row_by_row(
    nl_population: Population, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = Path(nl_population.out) / "platform.parquet"
    table = pq.ParquetFile(path).read_row_group(1)
    prof, sch = get_profile(profile), get_scheme("sha256")
    fast = table_digests(table, prof, sch, path)
    monkeypatch.setattr(distinct, "repeats", lambda values: False)
    slow = table_digests(table, prof, sch, path)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert np.array_equal(fast[key].words, slow[key].words), key
        assert np.array_equal(fast[key].ids, slow[key].ids), key


def test_repeats_counts_present_values_only() -> None:
    """Nulls do not make a column repeat: present values nearly all distinct go row by
    row, however many nulls sit between them (unless most rows are null)."""
    n = 10_000
    distinct_values = [f"+316{i:08d}" for i in range(n)]
    some_missing = pa.array([None if i % 10 < 3 else v for i, v in enumerate(distinct_values)])
    assert not distinct.repeats(some_missing)  # 30 % null, the rest distinct
    mostly_missing = pa.array([None if i % 10 < 6 else v for i, v in enumerate(distinct_values)])
    assert distinct.repeats(mostly_missing)
    few = pa.array([None if i % 10 < 3 else f"v{i % 50}" for i in range(n)])
    assert distinct.repeats(few)
    assert not distinct.repeats(pa.array(distinct_values))


def test_normalised_layer_dictionaries_hold_each_value_once(tmp_path: Path) -> None:
    """Normalising a dictionary maps "Jan", "jan" and " JAN " to one value; the layer's
    dictionary must hold it once, or Parquet stores the whole column plain (1 M first
    names: 10.3 MB instead of 1.8 MB). Row by row the values are unchanged."""
    from matchsim.join.platform import normalised_values

    prof = get_profile("meta")
    raw = pa.array(["Jan", "jan", " JAN ", None, "Piet", "PIET", ""] * 50, pa.string())
    encoded = pa.DictionaryArray.from_arrays(
        distinct.dictionary(raw).indices, distinct.dictionary(raw).dictionary
    )
    got = normalised_values(prof, "first_name", encoded, "NL")
    assert isinstance(got, pa.DictionaryArray)
    assert len(got.dictionary) == len(set(got.dictionary.to_pylist()))
    assert got.cast(pa.string()).equals(prof.normalise("first_name", raw, "NL").values)
    path = tmp_path / "layer.parquet"
    pq.write_table(pa.table({"first_name": got}), path, compression="none")
    encodings = pq.ParquetFile(path).metadata.row_group(0).column(0).encodings
    assert "RLE_DICTIONARY" in encodings


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["1234 AB", "é"])),
                max_size=300))  # fmt: skip
def test_short_codes_number_values_as_arrow_does(texts: list[str | None]) -> None:
    """Packed short strings give Arrow's dictionary_encode codes and dictionary (first
    seen order), null as -1; a value over 7 bytes gives None."""
    values = pa.array(texts, pa.string())
    short = distinct.short_codes(values)
    if any(t is not None and len(t.encode()) > 7 for t in texts) or not texts:
        assert short is None
        return
    assert short is not None
    codes, dictionary = short
    want = values.dictionary_encode()
    assert dictionary.equals(want.dictionary)
    assert codes.tolist() == [-1 if c is None else c for c in want.indices.to_pylist()]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(max_size=3), min_size=1, max_size=40, unique=True),
    st.lists(st.one_of(st.none(), st.integers(0, 39)), max_size=120),
)
def test_used_only_keeps_every_row_and_drops_unused_entries(
    table: list[str], rows: list[int | None]
) -> None:
    rows = [None if r is None else r % len(table) for r in rows]
    encoded = pa.DictionaryArray.from_arrays(pa.array(rows, pa.int32()), pa.array(table))
    got = distinct.used_only(encoded)
    assert got.to_pylist() == encoded.to_pylist()
    assert got.dictionary.to_pylist() == [
        v for i, v in enumerate(table) if i in {r for r in rows if r is not None}
    ]


def test_a_whole_name_table_as_dictionary_is_hashed_only_where_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Parquet row group may carry a whole name table as its dictionary (500 generated
    users: 124,153 last names); each distinct value is hashed once, the unused never (under
    scrypt they cost the join 379 of its 380 CPU-seconds)."""
    from matchsim.join.platform import _digest_table, normalised_values

    prof = get_profile("meta")
    names = pa.array([f"Name{i}" for i in range(5_000)])
    used = [7, 4_999, 7, 123, 4_999]  # no null: a null took the re-encoding path
    column = pa.DictionaryArray.from_arrays(pa.array(used, pa.int32()), names)
    sch = get_scheme("sha256")
    hashed: list[int] = []
    plain_encode = type(sch).encode
    monkeypatch.setattr(
        type(sch), "encode", lambda self, v: hashed.append(len(v)) or plain_encode(self, v)
    )
    want = [None if u is None else names[u].as_py() for u in used]
    once = distinct.encode(sch, column)
    assert sum(hashed) <= 3 and np.array_equal(once.valid, [w is not None for w in want])
    layer = normalised_values(prof, "last_name", column, "NL")
    assert len(layer.dictionary) <= 3
    hashed.clear()
    data, index, valid = _digest_table(prof, sch, "last_name", layer)
    assert sum(hashed) <= 3
    rows = prof.normalise("last_name", pa.array(want, pa.string()), "NL").values
    direct = sch.encode(rows)
    assert index is not None
    assert np.array_equal(valid, direct.valid)
    assert np.array_equal(data[index][valid], direct.data[valid])
