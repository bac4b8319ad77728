"""A register column's codes (``reidentify._normalised_codes``): the one-pass coding
equals the three-pass definition it replaced (encode the raw column, normalise its
dictionary, then ``unique`` and ``index_in``), code for code and value for value, on
generated columns of every shape a register brings (plain and dictionary text, nulls,
mostly distinct e-mails and phones, repeating names and postcodes, dates, chunks,
dictionaries with entries no row uses)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matchsim.attack import reidentify as R
from matchsim.normalise import get_profile

META = get_profile("meta")


def _three_pass(field: str, column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """The definition: the register's coding before the one-pass version."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    dictionary = arr.dictionary
    kind = dictionary.type
    if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind) or pa.types.is_string(kind)):
        dictionary = dictionary.cast(pa.string())
    norm = META.normalise(field, dictionary, "NL").values
    distinct = pc.unique(pc.drop_null(norm))
    found = pc.fill_null(pc.index_in(norm, value_set=distinct), -1)
    remap = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
    indices = arr.indices.to_numpy(zero_copy_only=False)
    if arr.null_count:
        valid = arr.is_valid().to_numpy(zero_copy_only=False)
        codes = np.full(len(arr), -1, dtype=np.int64)
        codes[valid] = remap[indices[valid].astype(np.int64)]
    else:
        codes = remap[indices.astype(np.int64)]
    return codes, distinct


def _same(field: str, column: pa.ChunkedArray | pa.Array) -> None:
    codes, distinct = R._normalised_codes(META, field, column, "NL")
    want_codes, want_distinct = _three_pass(field, column)
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, want_codes)
    assert distinct.equals(want_distinct), (distinct, want_distinct)


_NAMES = ["Jan", "JAN", " jan ", "Anna", "anna", "Ömer", "de Vries", "", "Piet-Jan"]
_EMAILS = ["a@x.nl", "A@X.NL", " b@y.com ", "c.d@gmail.com", "cd@gmail.com", "not an e-mail",
           "", "e+tag@z.org"]  # fmt: skip
_PHONES = ["0612345678", "+31 6 12345678", "06-12345678", "0031612345678", "123", "",
           "020 123 4567", "+49 30 1234567"]  # fmt: skip
_POSTCODES = ["1234AB", "1234 ab", "9999ZZ", "1011", "", "12345678", "3511AA"]

_POOLS = {"first_name": _NAMES, "email": _EMAILS, "phone": _PHONES, "postcode": _POSTCODES}


@st.composite
def _columns(draw: st.DrawFn) -> tuple[str, pa.ChunkedArray | pa.Array]:
    field = draw(st.sampled_from(sorted(_POOLS)))
    pool = _POOLS[field]
    # distinct values numbered so a column can be nearly all distinct (the row-by-row
    # path) or mostly repeats (the dictionary path), with pool values mixed in
    n = draw(st.integers(0, 300))
    spread = draw(st.sampled_from([1, 3, 1000]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values: list[str | None] = []
    for i in range(n):
        r = rng.random()
        if r < _null_share(rng):
            values.append(None)
        elif r < 0.5:
            values.append(pool[int(rng.integers(len(pool)))])
        else:
            k = i if spread == 1000 else int(rng.integers(spread))
            values.append(_numbered(field, k))
    arr = pa.array(values, pa.string())
    shape = draw(st.sampled_from(["plain", "dictionary", "unused", "chunked"]))
    if shape == "dictionary":
        return field, pc.dictionary_encode(arr)
    if shape == "unused":  # a Parquet row group's dictionary: entries no row uses, shuffled
        enc = pc.dictionary_encode(arr)
        extra = pa.array([_numbered(field, 10_000 + j) for j in range(5)] + pool, pa.string())
        dictionary = pa.concat_arrays([enc.dictionary, extra])
        perm = rng.permutation(len(dictionary))
        where = np.empty_like(perm)
        where[perm] = np.arange(len(perm))
        idx = enc.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        valid = enc.indices.is_valid().to_numpy(zero_copy_only=False)
        moved = pa.array(where[idx].astype(np.int32), mask=~valid)
        return field, pa.DictionaryArray.from_arrays(moved, dictionary.take(pa.array(perm)))
    if shape == "chunked" and n > 2:
        cut = int(rng.integers(1, n))
        return field, pa.chunked_array([arr.slice(0, cut), arr.slice(cut)])
    return field, arr


def _null_share(rng: np.random.Generator) -> float:
    return float(rng.choice([0.0, 0.1, 0.6]))


def _numbered(field: str, k: int) -> str:
    return {
        "first_name": f"Name{k}",
        "email": f"User{k}@Example.NL",
        "phone": f"06{k:08d}",
        "postcode": f"{1000 + k % 9000}{'AB' if k % 2 else 'cd'}",
    }[field]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_columns())
def test_codes_equal_the_three_pass_definition(case: tuple[str, pa.Array]) -> None:
    _same(*case)


@pytest.mark.parametrize("kind", ["plain", "dictionary"])
def test_dates_and_nulls(kind: str) -> None:
    days = [dt.date(1980, 1, 1) + dt.timedelta(days=int(d)) for d in range(0, 4000, 7)]
    values = [None if i % 11 == 0 else days[(i * 37) % len(days)] for i in range(2000)]
    arr = pa.array(values, pa.date32())
    _same("dob", pc.dictionary_encode(arr) if kind == "dictionary" else arr)


def test_each_path_is_taken() -> None:
    """The columns above reach each route: row by row (nearly all distinct plain text),
    the raw column encoded first (plain text that repeats), a dictionary column."""
    import pyarrow.compute as pc

    from matchsim.normalise.distinct import repeats

    emails = pa.array([_numbered("email", k) for k in range(500)])
    postcodes = pa.array([_numbered("postcode", k % 20) for k in range(500)])
    names = pc.dictionary_encode(pa.array([_numbered("first_name", k % 20) for k in range(500)]))
    assert not repeats(emails)
    assert repeats(postcodes) and not pa.types.is_dictionary(postcodes.type)
    assert pa.types.is_dictionary(names.type)
    for field, arr in (("email", emails), ("postcode", postcodes), ("first_name", names)):
        _same(field, arr)
