"""The product catalogue, the [promises] section's validation, and the attacks per product."""

from __future__ import annotations

from pathlib import Path

import pytest

from matchsim.errors import ConfigError, InputError
from matchsim.experiment import parse_experiment
from matchsim.generate import Population
from matchsim.oracle import AudienceSizeAPI, Policy
from matchsim.oracle.catalogue import STATUSES, load_catalogue
from matchsim.oracle.promises import PromisesConfig, Setting, run, setting, summary
from matchsim.oracle.tactics import differencing, score, split_differencing


def test_catalogue_every_figure_has_a_status_and_verified_ones_a_source() -> None:
    products = load_catalogue()
    ids = {p.id for p in products}
    assert {"google-customer-match", "tiktok", "x", "linkedin", "amazon-marketing-cloud",
            "meta", "ads-data-hub-difference-checks", "ads-data-hub-noise",
            "aws-clean-rooms-threshold", "aws-clean-rooms-dp", "snowflake-dp", "pair",
            "uid2"} <= ids  # fmt: skip
    for p in products:
        assert p.figures
        for f in p.figures:
            assert f.status in STATUSES
            if f.status == "verified":
                assert f.source.startswith("https://")
    floors = {p.id: p.floor for p in products}
    assert floors["google-customer-match"] == 100
    assert floors["tiktok"] == 1000
    assert floors["x"] == 100
    assert floors["linkedin"] == 300
    aws = next(p for p in products if p.id == "aws-clean-rooms-threshold")
    assert next(f for f in aws.figures if "range" in f.name).value == [2, 100000]


def test_catalogue_problems_are_reported_with_locations(tmp_path: Path) -> None:
    bad = tmp_path / "cat.toml"
    bad.write_text(
        'version = 1\n[[product]]\nid = "a"\ncolour = 1\n'
        '[[product.figure]]\nname = "floor"\nvalue = 5\nstatus = "verified"\n'
        '[product.simulate]\nobservable = "telepathy"\n'
    )
    with pytest.raises(ConfigError) as exc:
        load_catalogue(bad)
    problems = exc.value.problems
    assert any("product[0]: unknown key 'colour' (known keys: " in p for p in problems)
    assert any("product[0].figure[0].source: a verified figure needs" in p for p in problems)
    assert any("product[0].simulate.observable: must be one of" in p for p in problems)
    assert all(p.startswith(str(bad)) for p in problems)
    with pytest.raises(InputError):
        load_catalogue(tmp_path / "missing.toml")


def test_promises_section_is_validated_up_front() -> None:
    tree = {
        "version": 1,
        "population": {"platform_users": 1000, "customers": 100},
        "promises": {"pool": 3, "products": ["tiktok", "myspace"], "colour": "red"},
    }
    with pytest.raises(ConfigError) as exc:
        parse_experiment(tree)
    problems = exc.value.problems
    assert "[promises].pool: must be >= 10 and <= 1000000, got 3" in problems
    assert any(p.startswith("[promises].products: unknown product(s) myspace") for p in problems)
    assert any(p.startswith("[promises]: unknown key 'colour' (known keys: ") for p in problems)


def test_difference_check_refuses_near_duplicates() -> None:
    import numpy as np

    from matchsim.oracle import IdentityIndex

    index = IdentityIndex(
        np.arange(200), *[__import__("pyarrow").array([None] * 200, "string")] * 3, region="NL"
    )
    api = AudienceSizeAPI(index, Policy("dc", granularity=1, floor=50, difference_check=True))
    a = api._platform_audience(np.arange(100))
    b = api._platform_audience(np.arange(101))
    c = api._platform_audience(np.arange(160))
    assert api.estimate([a]).key == 100
    assert api.estimate([b]).status == "below_floor"  # differs by one account
    assert api.estimate([c]).key == 160  # differs by 60: allowed


@pytest.fixture(scope="module")
def small(nl_population: Population) -> Setting:
    return setting(nl_population.out, pool=2400, targets=24, seed=7)


def test_difference_check_stops_naive_differencing_not_split_queries(small: Setting) -> None:
    policy = Policy("adh", granularity=1, floor=50, difference_check=True)
    naive = differencing(AudienceSizeAPI(small.index, policy), small.pool, small.targets)
    split = split_differencing(AudienceSizeAPI(small.index, policy), small.pool, small.targets)
    assert score(naive.guesses, small.truth)["advantage"] == 0.0
    assert score(split.guesses, small.truth)["success"] == 1.0
    # Without the check the naive attack needs nothing more.
    plain = Policy("plain", granularity=1, floor=50)
    assert score(differencing(AudienceSizeAPI(small.index, plain), small.pool,
                              small.targets).guesses, small.truth)["success"] == 1.0  # fmt: skip


def test_promises_run_end_to_end(nl_population: Population) -> None:
    config = PromisesConfig.from_dict(
        {
            "products": ["x", "meta", "ads-data-hub-noise", "pair", "uid2"],
            "pool": 2400,
            "targets": 12,
            "dp_trials": 2000,
            "pair_list": 40,
            "pair_rounds": 2,
        }
    )
    result = run(config, nl_population.out, seed=2)
    rows = {r["product"]["id"]: r for r in result["products"]}
    assert rows["x"]["succeeds"] and rows["x"]["best"] == "padding"
    assert rows["meta"]["succeeds"]  # the range-bucket oracle
    noisy = rows["ads-data-hub-noise"]
    assert noisy["best"] == "averaging" and noisy["days"] > 1
    assert noisy["dp"]["one_target_one_period"]["passed"]
    assert rows["pair"]["succeeds"]
    assert rows["uid2"]["success"] == 1.0
    assert all(c["passed"] is False for c in result["broken_mechanism_checks"])
    assert {f["status"] for f in result["unverified_figures"]} <= {"secondary", "unverified"}
    text, tables = summary(result)
    assert text.startswith("An ordinary advertiser account broke")
    assert {row["Verdict"] for row in tables[0]["rows"]} <= {"broken", "holds"}
    assert [row["Scheme"][:5] for row in tables[1]["rows"]][:2] == ["plain", "clean"]
    import json

    json.dumps(result)


def test_promises_experiment_reports_its_table(tmp_path: Path) -> None:
    from matchsim.experiment import run_experiment

    experiment = parse_experiment(
        {
            "version": 1,
            "name": "promises-small",
            "seed": 4,
            "population": {"platform_users": 3000, "customers": 1500, "overlap": 0.6},
            "promises": {"products": ["linkedin", "pair"], "pool": 900, "targets": 6,
                         "pair_list": 20, "pair_rounds": 2, "phone_victims": 1},
        }
    )  # fmt: skip
    result = run_experiment(experiment, tmp_path / "run", measure_costs=False)
    section = result.results["promises"]
    assert section["text"].startswith("An ordinary advertiser account broke")
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Do today&#39;s platforms keep their promises?" in html
    assert "LinkedIn Matched Audiences" in html and "Who can re-identify" in html
    md = (tmp_path / "run" / "report.md").read_text()
    row = next(
        line for line in md.splitlines() if "**LinkedIn Matched Audiences (contact list)**" in line
    )
    assert row.startswith("| ") and "| Yes: broken |" in row
