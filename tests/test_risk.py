"""Quasi-identifier risk: known answers on hand-built tables, second implementations."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchsim.errors import ConfigError, InputError
from matchsim.generate import Population
from matchsim.risk import (
    equivalence_classes,
    keyspace,
    keyspace_size,
    parse_qi,
    qi_risk,
    risk_section,
    sample_risk,
)

# 7 records, classes (a,x)x2 (b,x)x1 (b,y)x3 (c,z)x1: sizes 2,1,3,1.
SMALL = pa.table(
    {
        "postcode": ["1011 AB", "1011 AB", "2000 CD", "2000 EF", "2000 EF", "2000 EF", "3000 GH"],
        "gender": ["F", "F", "F", "M", "M", "M", "F"],
        "dob": pa.array(
            [dt.date(1980, 1, 1)] * 2
            + [dt.date(1980, 5, 1)]
            + [dt.date(1990, 2, 3)] * 3
            + [dt.date(1990, 2, 3)],
            pa.date32(),
        ),
    }
)


def sorted_sizes(table: pa.Table, qi: str) -> list[int]:
    return sorted(equivalence_classes(table, qi).sizes.tolist())


def test_known_classes_and_risks() -> None:
    classes = equivalence_classes(SMALL, "postcode,gender")
    assert sorted(classes.sizes.tolist()) == [1, 1, 2, 3]
    assert classes.row_sizes().tolist() == [2, 2, 1, 3, 3, 3, 1]
    assert classes.histogram().tolist() == [0, 2, 1, 1]
    r = qi_risk(SMALL, "postcode,gender", threshold=0.4)
    s = r.sample
    assert (s.records, s.classes, s.k, s.unique_records) == (7, 4, 1, 2)
    assert s.share_unique == pytest.approx(2 / 7)
    assert s.prosecutor.highest == 1.0
    assert s.prosecutor.average == pytest.approx(4 / 7)
    # risk 1/f > 0.4 for f in {1, 2}: 1 + 1 + 2 records
    assert s.prosecutor.records_at_risk == pytest.approx(4 / 7)
    assert s.journalist == s.prosecutor  # no population table
    assert s.marketer == pytest.approx(4 / 7)
    assert r.records_by_class_size == {
        "1": 2,
        "2": 2,
        "3": 3,
        **{str(i): 0 for i in range(4, 10)},
        "10+": 0,
    }


def test_transforms_generalise() -> None:
    assert sorted_sizes(SMALL, "postcode:4") == [1, 2, 4]
    assert sorted_sizes(SMALL, "dob:year") == [3, 4]
    assert sorted_sizes(SMALL, "dob:month,gender") == [1, 1, 2, 3]
    assert sorted_sizes(SMALL, "postcode:1") == [1, 2, 4]


def test_null_is_a_value_of_its_own() -> None:
    t = pa.table({"a": ["x", None, None, "x", "y"], "b": pa.array([1, 2, 2, None, None])})
    assert sorted_sizes(t, "a") == [1, 2, 2]
    assert sorted_sizes(t, "a,b") == [1, 1, 1, 2]
    assert qi_risk(t, "a,b").nulls == {"a": 2, "b": 2}


def test_dictionary_chunks_with_different_dictionaries() -> None:
    chunks = [
        pa.array(["x", "y"]).dictionary_encode(),
        pa.array(["y", "z", "x"]).dictionary_encode(),
    ]
    t = pa.table({"a": pa.chunked_array(chunks)})
    assert sorted_sizes(t, "a") == [1, 2, 2]
    # a transform that makes dictionary entries equal
    t2 = pa.table({"a": pa.array(["1011 AB", "1011 CD", "2000 AB"]).dictionary_encode()})
    assert sorted_sizes(t2, "a:4") == [1, 2]


def test_journalist_and_marketer_with_a_population() -> None:
    # sample classes f = [2, 1]; population F = [4, 1]; plus one sample record absent.
    sample = pa.table({"k": ["a", "a", "b", "c"]})
    population = pa.table({"k": ["a"] * 4 + ["b"] + ["d"] * 5})
    r = qi_risk(sample, "k", population=population, threshold=0.3)
    s = r.sample
    assert s.not_in_population == 1
    assert s.journalist.highest == 1.0
    # ARX: max(J / sum F, sum(f/F) / n) over classes seen in the population
    assert s.journalist.average == pytest.approx(max(2 / 5, (2 / 4 + 1 / 1) / 4))
    assert s.journalist.records_at_risk == pytest.approx(1 / 4)  # only "b": 1/1 > 0.3
    assert s.marketer == pytest.approx((2 / 4 + 1 / 1) / 4)
    assert s.prosecutor.records_at_risk == pytest.approx(4 / 4)
    assert r.population is not None and r.population.population == 10


def test_sample_risk_without_population_matches_formulae() -> None:
    sizes = np.array([5, 1, 1, 3])
    s = sample_risk(sizes, threshold=0.25)
    assert s.k == 1 and s.records == 10 and s.classes == 4
    assert s.prosecutor.average == pytest.approx(0.4)
    assert s.prosecutor.records_at_risk == pytest.approx(5 / 10)  # 1/1, 1/1, 1/3 > 0.25


def test_grouping_matches_pandas_groupby(nl_population: Population) -> None:
    table = pq.read_table(nl_population.platform)
    ours = sorted(equivalence_classes(table, "postcode,dob,gender").sizes.tolist())
    frame = table.select(["postcode", "dob", "gender"]).to_pandas()
    theirs = sorted(
        frame.groupby(["postcode", "dob", "gender"], dropna=False, observed=True).size()
    )
    assert ours == theirs


def test_k_anonymity_matches_pycanon(nl_population: Population) -> None:
    anonymity = pytest.importorskip("pycanon.anonymity")
    frame = pq.read_table(nl_population.customers).to_pandas()
    frame["pc4"] = frame["postcode"].astype(str).str.slice(0, 4)
    frame["year"] = pd.to_datetime(frame["dob"]).dt.year
    frame = frame.dropna(subset=["year"])
    frame["gender"] = frame["gender"].astype(str)
    for qi, ours in (
        (["gender"], "gender"),
        (["pc4"], "postcode:4"),
        (["gender", "year"], "gender,dob:year"),
    ):
        table = pa.Table.from_pandas(frame[["gender", "postcode", "dob"]], preserve_index=False)
        expected = anonymity.k_anonymity(frame[[*qi, "cid"]], qi)
        assert qi_risk(table, ours).sample.k == expected


def test_uniqueness_rises_with_more_fields(nl_population: Population) -> None:
    shares = [
        qi_risk(nl_population.platform, qi).sample.share_unique
        for qi in (
            "gender",
            "gender,dob:year",
            "postcode:4,dob:year",
            "postcode:4,dob:year,gender",
            "postcode:4,dob",
            "postcode,dob,gender",
        )
    ]
    assert shares == sorted(shares) and len(set(shares)) == len(shares)
    assert shares[0] == 0.0
    assert shares[-1] > 0.99  # 20 k people over 4 k PC4 x 30 k days x 2: all unique


def _sha256_combination(table: pa.Table) -> pa.Array:
    frame = table.select(["postcode", "dob", "gender"]).to_pandas().astype(object).fillna("-")
    text = (
        frame["postcode"].astype(str)
        + "|"
        + frame["dob"].astype(str)
        + "|"
        + frame["gender"].astype(str)
    )
    # Hash each distinct combination once (a test helper; hashing proper is schemes/).
    inverse, distinct = pd.factorize(text)
    digests = [hashlib.sha256(t.encode()).digest() for t in distinct]
    return pa.array(digests, pa.binary(32)).take(pa.array(inverse))


def test_hashing_the_combination_changes_nothing(nl_population: Population, tmp_path: Path) -> None:
    customers = pq.read_table(nl_population.customers)
    upload = pa.table({"qi_sha256": _sha256_combination(customers)})
    pq.write_table(upload, tmp_path / "upload.parquet")
    clear = qi_risk(customers, "postcode,dob,gender", population_size=1_000_000)
    hashed = qi_risk(tmp_path / "upload.parquet", "qi_sha256", population_size=1_000_000)
    assert clear.sample == hashed.sample
    assert clear.population == hashed.population
    # hex digests (another encoding of the same bytes) too
    hexed = pa.table({"h": pa.array([d.hex() for d in upload.column(0).to_pylist()])})
    assert qi_risk(hexed, "h").sample == clear.sample


def test_keyspace_of_combinations() -> None:
    nl = keyspace("postcode:4,dob,gender", "NL")
    assert nl == {"postcode:4": 4045, "dob": round(83 * 365.25), "gender": 2}
    assert keyspace_size("postcode:4,dob,gender", "NL") == 4045 * 30316 * 2
    assert keyspace("postcode,dob:year", "US") == {"postcode": 33187, "dob:year": 83}
    assert keyspace("postcode", "NL") == {"postcode": 4045 * 397}
    with pytest.raises(ConfigError, match="no known value space for QI field 'email'"):
        keyspace("email", "NL")


def test_parse_qi_errors() -> None:
    assert [f.name for f in parse_qi(" postcode:4 , dob ")] == ["postcode:4", "dob"]
    with pytest.raises(ConfigError) as exc:
        parse_qi("dob:week")
    assert str(exc.value) == (
        "--qi: unknown transform 'week' in 'dob:week' "
        "(use year, month or a prefix length such as postcode:4)"
    )
    with pytest.raises(ConfigError, match="field repeated: dob"):
        parse_qi("dob,gender,dob")
    with pytest.raises(ConfigError, match="give at least one field"):
        parse_qi(" , ")


def test_bad_input_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.parquet"
    pq.write_table(SMALL.slice(0, 0), empty)
    with pytest.raises(InputError) as exc:
        qi_risk(empty, "dob")
    assert exc.value.one_line() == f"{empty}: the file has no rows"
    with pytest.raises(InputError) as exc:
        qi_risk(empty, "dob,zip")
    assert exc.value.one_line() == (
        f"{empty}, column 'zip': no such column (the file has: postcode, gender, dob)"
    )
    with pytest.raises(InputError, match="'year' needs a date column"):
        qi_risk(SMALL, "gender:year")
    with pytest.raises(ConfigError, match="smaller than the file"):
        qi_risk(SMALL, "gender", population_size=3)


def test_risk_section_skips_missing_columns(nl_population: Population) -> None:
    section = risk_section(
        nl_population.customers,
        platform=nl_population.platform,
        qi_sets=[("postcode:4", "dob"), ("ssn",)],
        country="NL",
    )
    first, second = section["quasi_identifiers"]
    assert first["qi"] == ["postcode:4", "dob"] and first["keyspace"]["size"] == 4045 * 30316
    assert 0 < first["journalist"]["average"] <= 1
    assert first["population_uniqueness"]["population"] == 20_000
    assert second["skipped"].endswith(
        "column 'ssn': no such column (the file has: "
        + second["skipped"].split("(the file has: ")[1]
    )
    assert math.isfinite(first["population_uniqueness"]["share_unique"]["dankar"])
