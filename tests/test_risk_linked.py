"""Sample classes linked to a population (matchsim.risk.linked) against the joint grouping.

Second implementation: group the concatenated tables with :func:`group` and split, as the
risk section did before; both must give the same classes in the same order and the same
population size per class, over every column kind the section meets (plain and dictionary
strings, short and long, dates, nulls, transforms).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.generate import Population
from matchsim.kernels.groups import count_into, first_rows, first_seen_groups, pack_short_strings
from matchsim.risk.assess import _concat, _split
from matchsim.risk.classes import field_values, group, parse_qi
from matchsim.risk.linked import LinkedCodes

_POSTCODES = ["1011 AB", "1011 AC", "1012 AB", "2000 CD", "20", "", "3000 GH", "999999999 ZZ"]
_NAMES = ["Jan", "Anna", "de Vries", "Ö", "Jan ", "jan"]
_DAYS = [dt.date(1970, 1, 1) + dt.timedelta(days=d) for d in (0, 1, 40, 365, 366, 9000)]


def _joint(sample: pa.Table, pop: pa.Table, qi: str) -> tuple[list[int], list[int], list[int]]:
    fields = parse_qi(qi)
    values = [_concat(field_values(sample, f), field_values(pop, f)) for f in fields]
    classes, pop_sizes = _split(group(values, [f.name for f in fields]), sample.num_rows)
    return classes.row_class.tolist(), classes.sizes.tolist(), pop_sizes.tolist()


def _linked(sample: pa.Table, pop: pa.Table, qi: str) -> tuple[list[int], list[int], list[int]]:
    found = LinkedCodes(sample, pop).classes(parse_qi(qi))
    assert found is not None
    classes, pop_sizes = found
    return classes.row_class.tolist(), classes.sizes.tolist(), pop_sizes.tolist()


def _table(rows: list[tuple[int | None, int | None, int | None]], dictionary: bool) -> pa.Table:
    pc_ = pa.array([None if r[0] is None else _POSTCODES[r[0]] for r in rows], pa.string())
    name = pa.array([None if r[1] is None else _NAMES[r[1]] for r in rows], pa.string())
    dob = pa.array([None if r[2] is None else _DAYS[r[2]] for r in rows], pa.date32())
    if dictionary:
        name = name.dictionary_encode()
    return pa.table({"postcode": pc_, "name": name, "dob": dob})


_ROW = st.tuples(
    st.one_of(st.none(), st.integers(0, len(_POSTCODES) - 1)),
    st.one_of(st.none(), st.integers(0, len(_NAMES) - 1)),
    st.one_of(st.none(), st.integers(0, len(_DAYS) - 1)),
)


@settings(max_examples=150, deadline=None)
@given(
    sample=st.lists(_ROW, min_size=1, max_size=40),
    pop=st.lists(_ROW, min_size=0, max_size=80),
    qi=st.sampled_from(
        [
            "postcode",
            "postcode:4",
            "postcode:4,dob",
            "name,dob:year",
            "postcode,name,dob",
            "dob:month,name",
            "dob",
        ]
    ),
    pop_dictionary=st.booleans(),
)
def test_linked_classes_equal_the_joint_grouping(
    sample: list[tuple[int | None, int | None, int | None]],
    pop: list[tuple[int | None, int | None, int | None]],
    qi: str,
    pop_dictionary: bool,
) -> None:
    s, p = _table(sample, False), _table(pop, pop_dictionary)
    assert _linked(s, p, qi) == _joint(s, p, qi)


def test_chunked_dictionaries_and_known_answer() -> None:
    """Population in two row groups with different dictionaries (as Parquet reads them)."""
    sample = pa.table({"name": ["b", "a", "b", "c"], "pc": ["1011 AB", "1011 AB", "x", None]})
    first = pa.table({"name": pa.array(["a", "b"]).dictionary_encode(), "pc": ["1011 AB", "x"]})
    second = pa.table(
        {"name": pa.array(["c", "b", "b"]).dictionary_encode(), "pc": [None, "x", "1011 AB"]}
    )
    pop = pa.concat_tables([first, second])
    assert pop.column("name").num_chunks == 2
    row_class, sizes, pop_sizes = _linked(sample, pop, "name,pc")
    # classes (b,1011 AB) (a,1011 AB) (b,x) (c,null), in order of first appearance
    assert row_class == [0, 1, 2, 3]
    assert sizes == [1, 1, 1, 1]
    assert pop_sizes == [1, 1, 2, 1]
    assert (row_class, sizes, pop_sizes) == _joint(sample, pop, "name,pc")


def test_kernels_known_answers() -> None:
    keys = np.array([5, 9, 5, -1, 9, 7, 5], dtype=np.int64)
    ids, table, groups = first_seen_groups(keys)
    assert ids.tolist() == [0, 1, 0, 2, 1, 3, 0]
    assert groups == 4
    assert first_rows(ids, groups).tolist() == [0, 1, 3, 5]
    probe = np.array([9, 9, 8, -1, 5, 0, 7, 7, 7], dtype=np.int64)
    assert count_into(probe, table, groups).tolist() == [1, 2, 1, 3]


def test_kernels_grow_past_the_first_table() -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(-(1 << 62), 1 << 62, 20_000)
    keys = np.concatenate([keys, keys[::-1]])
    ids, _, groups = first_seen_groups(keys)
    assert groups == 20_000
    assert ids[:20_000].tolist() == list(range(20_000))
    assert ids[20_000:].tolist() == list(range(20_000))[::-1]


@pytest.mark.parametrize(
    ("strings", "ok"), [(["", "a", "a\x00", "1234567"], True), (["12345678"], False)]
)
def test_pack_short_strings(strings: list[str], ok: bool) -> None:
    arr = pa.array(strings)
    _, offsets, data = arr.buffers()
    keys, packed = pack_short_strings(
        np.frombuffer(offsets, np.int32), np.frombuffer(data or b"\x00", np.uint8)
    )
    assert packed is ok
    if ok:
        assert len(set(keys.tolist())) == len(strings)  # "a" and "a\0" differ


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(1 << 40), 1 << 40), max_size=60))
def test_sorted_unique_is_numpys_unique(values: list[int]) -> None:
    from matchsim.arrays import sorted_unique

    arr = np.array(values, dtype=np.int64)
    got, want = sorted_unique(arr), np.unique(arr)
    assert got.dtype == want.dtype
    assert got.tolist() == want.tolist()


def _per_set(customers: object, platform: object, qi_sets: list[list[str]]) -> dict[str, object]:
    """The risk section as before: every QI set reads its own columns and groups the two
    files jointly (the shared tables and the linked codes switched off)."""
    from unittest.mock import patch

    from matchsim.risk import assess, risk_section

    with (
        patch.object(assess, "_shared_tables", lambda *a: None),
        patch.object(LinkedCodes, "classes", lambda self, fields: None),
    ):
        return risk_section(customers, platform=platform, qi_sets=qi_sets, country="NL")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "qi_sets",
    [
        [
            ["postcode:4", "dob"],
            ["postcode", "dob", "gender"],
            ["first_name", "last_name", "dob:year"],
        ],
        [["gender"], ["postcode", "no_such_column"], ["city", "dob:month"]],  # one set skipped
        [["email", "dob"]],  # long strings: Arrow's dictionaries, not packed keys
    ],
)
def test_risk_section_equals_the_per_set_joint_path(
    nl_population: Population, qi_sets: list[list[str]]
) -> None:
    from matchsim.risk import risk_section

    got = risk_section(
        nl_population.customers, platform=nl_population.platform, qi_sets=qi_sets, country="NL"
    )
    want = _per_set(nl_population.customers, nl_population.platform, qi_sets)
    assert got == want
    entries: list[dict[str, object]] = got["quasi_identifiers"]
    skipped = [q["qi"] for q in entries if "skipped" in q]
    assert skipped == [q for q in qi_sets if "no_such_column" in q]


def _chunked_dictionary(
    dictionaries: list[list[str | None]], rows: list[list[int | None]]
) -> pa.ChunkedArray:
    return pa.chunked_array(
        [
            pa.DictionaryArray.from_arrays(pa.array(r, pa.int32()), pa.array(d, pa.string()))
            for d, r in zip(dictionaries, rows, strict=True)
        ]
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=5),
    st.integers(1, 4),
    st.booleans(),
    st.data(),
)
def test_encode_skips_unification_only_where_it_changes_nothing(
    words: list[str], chunks: int, same: bool, data: st.DataObject
) -> None:
    """One shared dictionary of distinct values: encoded without unifying, with exactly
    unify_dictionaries' dictionary and indices; duplicates or differing chunks take the
    unifying path (a null in a dictionary too, which Arrow refuses to unify, as before)."""
    from matchsim.risk.linked import _encode

    dictionaries = [list(words) if same or i == 0 else list(reversed(words)) for i in range(chunks)]
    rows = [
        data.draw(st.lists(st.one_of(st.none(), st.integers(0, len(words) - 1)), max_size=6))
        for _ in range(chunks)
    ]
    column = _chunked_dictionary(dictionaries, rows)
    got = _encode(column)
    unified = column.unify_dictionaries()
    want = np.concatenate(
        [
            np.asarray(c.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
            for c in unified.chunks
        ]
    )
    assert got.dictionary.equals(unified.chunks[0].dictionary)
    assert got.indices.tolist() == want.tolist()
