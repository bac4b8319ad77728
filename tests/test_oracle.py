"""The size-estimate oracle: reporting rules, the phone attack, and differencing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchsim.errors import ConfigError
from matchsim.generate import Population, load_locale
from matchsim.oracle import (
    AudienceSizeAPI,
    IdentityIndex,
    OracleConfig,
    Policy,
    allowed_digits,
    count_with_prefix,
    difference,
    infer_phone,
)

RNG = np.random.default_rng(0)


def test_2017_rounding_and_floor() -> None:
    p = Policy(granularity=10, floor=20)
    assert p.report(19, RNG).status == "below_floor"
    assert p.report(20, RNG).low == 20
    assert p.report(24, RNG).low == 20
    assert p.report(25, RNG).low == 30  # the boundary the attack pads to
    assert p.report(25, RNG).key == 30 and p.report(3, RNG).key == -1


def test_ranges_and_no_estimates() -> None:
    p = Policy(granularity=1, floor=1000, ranges=2.0)
    assert p.report(999, RNG).status == "below_floor"
    assert (p.report(1000, RNG).low, p.report(1000, RNG).high) == (1000, 2000)
    assert (p.report(4100, RNG).low, p.report(4100, RNG).high) == (4000, 8000)
    assert Policy(customer_lists=False).report(500, RNG).key is None


def test_noise_budget_counts_queries() -> None:
    p = Policy(granularity=1, floor=0, noise="laplace", epsilon=0.5, budget=5.0)
    assert p.queries_per_period == 10
    assert p.noise_sd == pytest.approx(2 * np.sqrt(2))


@pytest.fixture(scope="module")
def index(nl_population: Population) -> IdentityIndex:
    return IdentityIndex.from_population(nl_population.out)


@pytest.fixture(scope="module")
def pool(nl_population: Population) -> list[str]:
    emails = pq.read_table(nl_population.customers, columns=["email"])["email"].to_pylist()
    return [e for e in emails if e is not None][:600]


@pytest.fixture(scope="module")
def victims(nl_population: Population, pool: list[str]) -> list[tuple[str, str]]:
    """(e-mail, national mobile number) of accounts that hold both, not in the pool."""
    t = pq.read_table(nl_population.platform, columns=["email", "phone"]).to_pylist()
    taken = set(pool)
    out = [
        (r["email"], r["phone"][3:])
        for r in t
        if r["email"] and r["phone"] and r["phone"].startswith("+316") and r["email"] not in taken
    ]
    return out[:40:13]  # three victims


def test_range_upload_equals_hashed_upload(index: IdentityIndex) -> None:
    """The range shortcut returns the accounts the hashed candidate list matches."""
    plan = load_locale("NL").mobile_plan
    for prefix in ("6123", "64106", "6555"):
        hashed = AudienceSizeAPI(index, Policy(granularity=1, floor=0), materialise_limit=10**5)
        ranged = AudienceSizeAPI(index, Policy(granularity=1, floor=0), materialise_limit=0)
        a, b = hashed.upload_phone_prefix(plan, prefix), ranged.upload_phone_prefix(plan, prefix)
        assert hashed.usage.hashed_records == count_with_prefix(plan, prefix)
        assert ranged.usage.hashed_records == 0
        assert hashed.estimate([a]) == ranged.estimate([b])
    assert allowed_digits(plan, "6") == ["1", "2", "3", "4", "5", "8"]


def test_phone_inferred_under_2017_rules(
    index: IdentityIndex, pool: list[str], victims: list[tuple[str, str]]
) -> None:
    plan = load_locale("NL").mobile_plan
    for email, phone in victims:
        api = AudienceSizeAPI(index, Policy("2017", granularity=10, floor=20), seed=1)
        out = infer_phone(api, email, pool, plan)
        assert out.status == "done"
        assert out.guess == phone
        # Digit by digit: ~8 positions x ~5 tests x ~10 queries - hundreds, not 10^8.
        assert 100 <= out.queries <= 2000


@pytest.mark.parametrize(
    ("policy", "status"),
    [
        (Policy("none", customer_lists=False), "no estimate for customer-list audiences"),
        (
            Policy("ranges", granularity=1, floor=1000, ranges=2.0),
            "padding pool too small to reach a reporting boundary",
        ),
        (
            Policy("threshold", granularity=1, floor=1000),
            "padding pool too small to reach a reporting boundary",
        ),
        (
            Policy("laplace", granularity=1, floor=0, noise="laplace", epsilon=0.5, budget=5.0),
            "out of time",
        ),
    ],
)
def test_phone_attack_fails_under_mitigations(
    index: IdentityIndex,
    pool: list[str],
    victims: list[tuple[str, str]],
    policy: Policy,
    status: str,
) -> None:
    plan = load_locale("NL").mobile_plan
    email, _ = victims[0]
    api = AudienceSizeAPI(index, policy, seed=2)
    out = infer_phone(api, email, pool, plan, max_days=20)
    assert out.guess is None
    assert out.status == status
    if policy.noise != "none":
        # 10 queries a day for 20 days; the full attack would need far more.
        assert out.queries <= 10 * 21
        assert out.projected_queries > 100 * out.queries


def _advantage(
    index: IdentityIndex,
    pool: list[str],
    policy: Policy,
    repeats: int,
    members: list[str],
    outsiders: list[str],
) -> float:
    from matchsim.oracle import hash_identifiers

    api = AudienceSizeAPI(index, policy, seed=3)
    data, valid = hash_identifiers(pa.array(pool), "email", "NL", "meta", "sha256")
    base = api.upload("email", data, valid)
    tpr = np.mean([difference(api, base, e, repeats)[0] is True for e in members])
    fpr = np.mean([difference(api, base, e, repeats)[0] is True for e in outsiders])
    return float(tpr - fpr)


def test_differencing_leaks_membership_unless_noised(
    index: IdentityIndex, pool: list[str], victims: list[tuple[str, str]]
) -> None:
    members = [e for e, _ in victims]
    outsiders = ["nobody.here.1@example.org", "nobody.here.2@example.org", "x9@example.net"]
    exact = Policy(granularity=1, floor=0)
    assert _advantage(index, pool, exact, 1, members, outsiders) == 1.0
    above = Policy(granularity=1, floor=100)  # the pool's ~360 accounts clear the threshold
    assert _advantage(index, pool, above, 1, members, outsiders) == 1.0
    out_of_reach = Policy(granularity=1, floor=100_000)
    assert _advantage(index, pool, out_of_reach, 1, members, outsiders) == 0.0


def test_averaging_defeats_noise_only_at_a_price(
    index: IdentityIndex, pool: list[str], victims: list[tuple[str, str]]
) -> None:
    members = [e for e, _ in victims]
    outsiders = ["nobody.here.1@example.org", "nobody.here.2@example.org", "x9@example.net"]
    noisy = Policy(granularity=1, floor=0, noise="laplace", epsilon=2.0, budget=20.0)
    api = AudienceSizeAPI(index, noisy, seed=9)
    assert _advantage(index, pool, noisy, 200, members, outsiders) == 1.0
    # 6 targets x 2 uploads x 200 answers at 10 queries a day: the clock shows the price.
    from matchsim.oracle import hash_identifiers

    data, valid = hash_identifiers(pa.array(pool), "email", "NL", "meta", "sha256")
    base = api.upload("email", data, valid)
    _, day = difference(api, base, members[0], 200)
    assert day >= 39


def test_oracle_run_end_to_end(nl_population: Population) -> None:
    from matchsim.oracle import run

    config = OracleConfig.from_dict(
        {
            "victims": 1,
            "pool": 400,
            "max_days": 5,
            "website_victims": 2,
            "differencing_targets": 20,
            "differencing_repeats": [1],
            "policies": [{"name": "2017"}, {"name": "off", "customer_lists": False}],
            "differencing_policies": [{"name": "exact", "granularity": 1, "floor": 0}],
        }
    )
    result = run(config, nl_population.out, seed=1).to_dict()
    phone = {r["policy"]["name"]: r for r in result["phone"]}
    assert phone["2017"]["success_rate"] == 1.0
    assert phone["off"]["success_rate"] == 0.0
    web = {r["policy"]["name"]: r for r in result["website"]}
    assert web["2017"]["success_rate"] == 1.0
    assert result["differencing"][0]["advantage"] == 1.0
    import json

    json.dumps(result)  # JSON-ready


def test_config_reports_every_problem() -> None:
    with pytest.raises(ConfigError) as exc:
        OracleConfig.from_dict(
            {"victims": -1, "colour": 1, "policies": [{"noise": "x", "ranges": 0.5}]}
        )
    assert exc.value.problems == [
        "oracle.victims: must be >= 0, got -1",
        "oracle: unknown key 'colour' (known keys: differencing_policies, differencing_repeats, "
        "differencing_targets, materialise_limit, max_days, policies, pool, profile, scheme, "
        "victims, website_share, website_victims)",
        "oracle.policies[0].noise: must be one of none, laplace, gaussian, got 'x'",
        "oracle.policies[0].ranges: the ratio between range edges must be > 1, got 0.5",
    ]


def test_figures_render() -> None:
    pytest.importorskip("matplotlib")
    from matchsim.oracle.figures import differencing, phone_attack

    row = {
        "policy": {"name": "2017"},
        "success_rate": 1.0,
        "queries": {"mean": 500.0},
        "projected_queries": {"mean": 500.0},
    }
    other = {**row, "policy": {"name": "mitigated"}, "success_rate": 0.25,
             "queries": {"mean": 40.0}, "projected_queries": {"mean": 9000.0}}  # fmt: skip
    fig = phone_attack({"phone": [row, other]})
    # The bars are the results' numbers, per policy: share inferred, queries made/needed.
    success, queries = fig.axes
    assert [p.get_width() for p in success.patches] == [1.0, 0.25]
    assert [t.get_text() for t in success.get_yticklabels()] == ["2017", "mitigated"]
    assert [p.get_width() for p in queries.patches] == [500.0, 9000.0, 500.0, 40.0]
    d = {"policy": {"name": "exact"}, "repeats": 1, "advantage": 1.0}
    d2 = {"policy": {"name": "exact"}, "repeats": 8, "advantage": 0.5}
    (ax,) = differencing({"differencing": [d, d2]}).axes
    assert [p.get_width() for p in ax.patches] == [1.0, 0.5]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "1 answer(s) averaged", "8 answer(s) averaged"
    ]  # fmt: skip
