"""Whole-population uniqueness (Golle, the Dutch DPA) and membership disclosure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchsim.errors import ConfigError, InputError
from matchsim.generate import Population
from matchsim.risk import (
    Upload,
    expected_share_unique,
    membership,
    read_matched,
    simulate_share_unique,
)


def test_us_zip_dob_sex_near_golle() -> None:
    # Golle 2006: 63 % of the 2000 US population unique on (ZIP5, dob, sex).
    adults = expected_share_unique("US", "postcode,dob,gender", "adults")
    everyone = expected_share_unique("US", "postcode,dob,gender", "all")
    assert 0.58 < adults["share_unique"] < 0.68
    assert 0.58 < everyone["share_unique"] < 0.68
    assert expected_share_unique("US", "postcode,dob:year,gender")["share_unique"] < 0.01


def test_nl_pc4_dob_mostly_unique() -> None:
    # Dutch DPA: date of birth + the 4 digits of a postcode is often unique.
    shares = [
        expected_share_unique("NL", qi)["share_unique"]
        for qi in ("postcode:4,dob:year", "postcode:4,dob", "postcode:4,dob,gender")
    ]
    assert shares == sorted(shares)
    assert shares[1] > 0.7


def test_analytic_matches_simulation() -> None:
    for qi in ("postcode,dob", "postcode,dob:year,gender"):
        analytic = expected_share_unique("NL", qi, scale=0.02)
        drawn = simulate_share_unique("NL", qi, scale=0.02, seed=4, chunk_people=100_000)
        assert drawn["people"] == pytest.approx(analytic["people"], abs=5)
        assert drawn["share_unique"] == pytest.approx(analytic["share_unique"], abs=0.005)


def test_expected_takes_every_spelling_risk_takes() -> None:
    # Issue 20: NL places are PC4; the generator completes them to PC6 ("1011 AB").
    pc4 = expected_share_unique("NL", "postcode:4,dob,gender")
    assert pc4["qi"] == ["postcode:4", "dob", "gender"]
    assert pc4["share_unique"] == pytest.approx(0.871, abs=0.001)  # the 87.1 %
    assert pc4["areas"] == 4045
    assert expected_share_unique("NL", "postcode:5,dob,gender") == pc4 | {
        "qi": ["postcode:5", "dob", "gender"]
    }  # "1011 " is PC4 with its space
    pc6 = expected_share_unique("NL", "postcode,dob,gender")["share_unique"]
    first_letter = expected_share_unique("NL", "postcode:6,dob,gender")["share_unique"]
    assert pc4["share_unique"] < first_letter < pc6 < 1
    us = expected_share_unique("US", "postcode:5,dob,gender")["share_unique"]
    assert us == expected_share_unique("US", "postcode,dob,gender")["share_unique"]
    assert expected_share_unique("US", "postcode:3,dob,gender")["share_unique"] < us
    month = expected_share_unique("NL", "postcode:4,dob:month,gender")["share_unique"]
    year = expected_share_unique("NL", "postcode:4,dob:year,gender")["share_unique"]
    assert year < month < pc4["share_unique"]
    # no area field: the whole country is one area (uniques only among the very old)
    assert expected_share_unique("NL", "dob,gender")["areas"] == 1
    assert expected_share_unique("NL", "dob,gender")["share_unique"] < 1e-3
    city = expected_share_unique("NL", "city,dob,gender")["share_unique"]
    assert 0 < city < pc4["share_unique"]


def test_analytic_matches_simulation_for_prefixes_suffixes_and_months() -> None:
    for qi in ("postcode,dob:year", "postcode:6,dob:month,gender", "city,dob:year,gender"):
        analytic = expected_share_unique("NL", qi, scale=0.05)
        drawn = simulate_share_unique("NL", qi, scale=0.05, seed=5, chunk_people=200_000)
        assert drawn["share_unique"] == pytest.approx(analytic["share_unique"], abs=0.005), qi


def test_expected_rejects_unmodelled_fields() -> None:
    with pytest.raises(ConfigError, match="modelled for postcode") as exc:
        expected_share_unique("NL", "first_name,dob")
    assert exc.value.one_line().endswith("not for first_name")
    with pytest.raises(ConfigError, match="not for dob:7"):
        expected_share_unique("NL", "postcode:4,dob:7")
    with pytest.raises(ConfigError, match="unknown transform"):
        expected_share_unique("NL", "postcode:4,dob:week")
    with pytest.raises(ConfigError, match="unknown country 'XX'"):
        expected_share_unique("XX")


def _matched(path: Path, uids: list[int]) -> Path:
    path.mkdir(parents=True)
    pq.write_table(pa.table({"uid": pa.array(uids, pa.int64())}), path / "matched.parquet")
    return path


def test_membership_by_hand(tmp_path: Path) -> None:
    a = read_matched(_matched(tmp_path / "a", [1, 2, 3, 3]))
    b = read_matched(_matched(tmp_path / "b", [3, 4]) / "matched.parquet")
    c = read_matched(_matched(tmp_path / "c", [2, 3, 5]))
    report = membership(
        [
            Upload("insurer", a, sensitive=True, category="health"),
            Upload("shoes", b),
            Upload("clinic", c, sensitive=True, category="health"),
        ],
        platform_users=10,
    ).to_dict()
    assert [u["users_matched"] for u in report["uploads"]] == [3, 2, 3]
    assert report["users_known_customers"] == 5
    assert report["users_known_customers_share"] == 0.5
    assert report["users_with_sensitive_attribute"] == 4  # 1, 2, 3, 5
    # user 3 is in all three lists, 2 in two, 1/4/5 in one
    assert report["users_by_number_of_advertisers"] == {"1": 3, "2": 1, "3": 1}
    assert report["users_by_number_of_sensitive_advertisers"] == {"0": 1, "1": 2, "2": 2}
    assert report["users_by_sensitive_category"] == {"health": 4}
    assert [c["users_known_customers"] for c in report["cumulative"]] == [3, 4, 5]
    assert [c["users_with_sensitive_attribute"] for c in report["cumulative"]] == [3, 3, 4]
    json.dumps(report)


def test_membership_from_a_perfect_match(nl_population: Population) -> None:
    # Stand-in for a join: the uids of customers who have an account (tests only).
    truth = pq.read_table(nl_population.truth, columns=["uid"]).column("uid")
    uids = truth.drop_null().to_numpy()
    half = uids[: uids.size // 2]
    report = membership(
        [Upload("insurer", uids, sensitive=True), Upload("retailer", half)], platform_users=20_000
    )
    assert report.users_known == np.unique(uids).size == 2_400  # 60 % of 4 000
    assert report.users_sensitive == 2_400
    assert report.by_advertiser_count == {"1": 2_400 - half.size, "2": half.size}


def test_membership_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_matched(tmp_path)
    assert exc.value.one_line() == f"{tmp_path / 'matched.parquet'}: no such file"
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"cid": [1]}), bad)
    with pytest.raises(InputError) as exc:
        read_matched(bad)
    assert exc.value.one_line() == f"{bad}, column 'uid': no such column"
    with pytest.raises(ConfigError, match="advertiser label repeated: a"):
        membership([Upload("a", np.array([1])), Upload("a", np.array([2]))])
