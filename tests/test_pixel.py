"""The tracking pixel: linked shares on hand-built visits, and on a generated population."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from matchsim.errors import ConfigError
from matchsim.generate import Population
from matchsim.oracle import IdentityIndex
from matchsim.pixel import (
    Behaviour,
    PixelConfig,
    Rules,
    World,
    link,
    measure,
    pixel_events,
    simulate,
    simulate_visits,
)

G, P, M = 0, 1, 2


@pytest.fixture(scope="module")
def tiny_index() -> IdentityIndex:
    """Two accounts: 100 (a@x.nl) and 101 (b@x.nl, +31612345678)."""
    return IdentityIndex(
        np.array([100, 101]),
        pa.array(["a@x.nl", "b@x.nl"]),
        pa.array([None, None], pa.string()),
        pa.array([None, "+31612345678"]),
        region="NL",
    )


@pytest.fixture(scope="module")
def tiny_world() -> World:
    """Four visitors, one browser and one session each:

    v0 account 100, logged in:      general, medical, medical
    v1 account 101, not logged in:  medical, general+form
    v2 no account:                  general+form, medical
    v3 no account:                  medical
    """
    return World(
        uid=np.array([100, 101, -1, -1]),
        email=pa.array(["a@x.nl", " B@X.nl", "c@x.nl", "d@x.nl"]),
        phone=pa.array([None, None, None, None], pa.string()),
        browser_visitor=np.arange(4),
        logged_in=np.array([True, False, False, False]),
        consent_u=np.array([0.1, 0.9, 0.3, 0.6]),
        session_browser=np.arange(4),
        session_start=np.zeros(4, np.int64),
        form_at=np.array([-1, 1, 0, -1]),
        pv_session=np.array([0, 0, 0, 1, 1, 2, 2, 3]),
        pv_order=np.array([0, 1, 2, 0, 1, 0, 1, 0]),
        pv_category=np.array([G, M, M, M, G, G, M, M]),
        pv_page=np.zeros(8, np.int64),
    )


def shares(world: World, index: IdentityIndex, rules: Rules) -> dict[str, float]:
    events = pixel_events(world, rules, index)
    return measure(world, events, link(events, index, world.browser_visitor.size))


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # 5 medical visits: v0 x2 (login cookie), v1 (its form's hashed e-mail matches
        # account 101, and links the earlier medical visit of that cookie too), v2 (form,
        # no account: shadow profile under the digest), v3 (cookie-only shadow).
        (Rules(), dict(observed=5, acc_cookie=2, acc_id=1, shadow_id=1, shadow_cookie=1)),
        # Pixel on general pages only: v1's general page names the medical page before it
        # as referrer; nothing else medical is seen.
        (
            Rules(placement=("general",)),
            dict(observed=1, via_ref=1, acc_cookie=0, acc_id=1, shadow_id=0, shadow_cookie=0),
        ),
        (
            Rules(placement=("general",), send_referrer=False),
            dict(observed=0, acc_cookie=0, acc_id=0, shadow_id=0, shadow_cookie=0),
        ),
        # Consent 0.5: browsers with draws 0.1 (v0) and 0.3 (v2) consent.
        (
            Rules(consent_rate=0.5),
            dict(observed=3, acc_cookie=2, acc_id=0, shadow_id=1, shadow_cookie=0),
        ),
        # A key the platform lacks: v1's digest no longer matches; it is still a stable key.
        (
            Rules(scheme="hmac-sha256"),
            dict(observed=5, acc_cookie=2, acc_id=0, shadow_id=2, shadow_cookie=1),
        ),
        (
            Rules(scheme="none"),
            dict(observed=5, acc_cookie=2, acc_id=0, shadow_id=0, shadow_cookie=3),
        ),
    ],
)
def test_linked_shares_on_hand_built_visits(
    tiny_world: World, tiny_index: IdentityIndex, rules: Rules, expected: dict[str, int]
) -> None:
    got = shares(tiny_world, tiny_index, rules)
    assert got["medical_visits"] == 5
    assert got["observed_share"] == pytest.approx(expected["observed"] / 5)
    assert got["via_referrer_share"] == pytest.approx(expected.get("via_ref", 0) / 5)
    assert got["account_cookie_share"] == pytest.approx(expected["acc_cookie"] / 5)
    assert got["account_identifier_share"] == pytest.approx(expected["acc_id"] / 5)
    assert got["account_share"] == pytest.approx((expected["acc_cookie"] + expected["acc_id"]) / 5)
    assert got["correct_account_share"] == got["account_share"]
    assert got["shadow_identifier_share"] == pytest.approx(expected["shadow_id"] / 5)
    assert got["shadow_cookie_share"] == pytest.approx(expected["shadow_cookie"] / 5)


def test_events_carry_digests_not_plaintext(tiny_world: World, tiny_index: IdentityIndex) -> None:
    events = pixel_events(tiny_world, Rules(), tiny_index)
    table = events.table(tiny_world)
    assert table.column_names == ["ts", "url", "referrer", "fp_cookie", "c_user", "em", "ph"]
    assert table.num_rows == 8
    text = " ".join(str(v) for v in table.to_pylist())
    assert "@x.nl" not in text
    assert "/vergoedingen/" in text
    # em only from the form page onward: v1's 2nd view, both of v2's.
    assert table["em"].is_valid().to_pylist() == [False] * 4 + [True, True, True, False]


@pytest.fixture(scope="module")
def nl_index(nl_population: Population) -> IdentityIndex:
    return IdentityIndex.from_population(nl_population.out)


def test_linked_share_matches_expectation_without_forms(
    nl_population: Population, nl_index: IdentityIndex
) -> None:
    """One browser each, no forms: a medical visit is linked exactly when the visitor
    has an account, the browser is logged in (l) and consents (c): E = c * l * a."""
    from matchsim.pixel import build_world

    logged, c = 0.6, 0.5
    behaviour = Behaviour(visitors=3000, browsers_mean=1.0, form_rate=0.0, logged_in_share=logged)
    world = build_world(nl_population.out, behaviour, np.random.default_rng(5))
    got = shares(world, nl_index, Rules(consent_rate=c))
    medical = world.pv_category == M
    a = float((world.uid[world.pv_visitor[medical]] >= 0).mean())  # visits by account holders
    assert a == pytest.approx(0.6, abs=0.05)
    assert got["account_share"] == pytest.approx(c * logged * a, abs=0.03)
    assert got["observed_share"] == pytest.approx(c, abs=0.04)
    assert got["account_identifier_share"] == 0.0
    assert got["correct_account_share"] == got["account_share"]


def test_simulate_is_deterministic_and_scenarios_order(nl_population: Population) -> None:
    config = PixelConfig.from_dict({"visitors": 800, "consent_rates": [0.3]})
    one = simulate(config, nl_population.out, seed=4).to_dict()
    two = simulate(config, nl_population.out, seed=4).to_dict()
    assert one == two
    rows = {r["rules"]["name"]: r for r in one["scenarios"]}
    assert list(rows) == [
        "baseline",
        "placement=general-only",
        "placement=no-medical",
        "consent=0.3",
        "scheme=hmac-sha256",
        "scheme=salted-sha256",
        "scheme=none",
    ]
    base = rows["baseline"]
    assert base["observed_share"] == 1.0
    # Advanced matching with the platform's own rules links more than the login cookie.
    assert base["account_share"] > rows["scheme=none"]["account_share"]
    assert rows["scheme=hmac-sha256"]["account_identifier_share"] == 0.0
    assert rows["scheme=hmac-sha256"]["shadow_identifier_share"] > 0.0
    assert rows["placement=general-only"]["observed_share"] < base["observed_share"]
    assert rows["consent=0.3"]["account_share"] < base["account_share"]


def test_simulate_visits_shapes() -> None:
    rng = np.random.default_rng(0)
    world = simulate_visits(
        np.array([1, -1, 2]),
        pa.array(["a@x", "b@x", "c@x"]),
        pa.array([None] * 3, pa.string()),
        Behaviour(visitors=3),
        rng,
    )
    assert world.pv_order[0] == 0
    assert (np.diff(world.pv_session) >= 0).all()
    assert not world.logged_in[world.browser_visitor == 1].any()  # no account, no cookie


def test_config_reports_every_problem() -> None:
    with pytest.raises(ConfigError) as exc:
        PixelConfig.from_dict(
            {"visitors": 0, "consent_rate": 2, "scheme": "md4", "colour": "red"}, "pixel"
        )
    problems = exc.value.problems
    assert "pixel.visitors: must be >= 1, got 0" in problems
    assert "pixel.consent_rate: must be between 0.0 and 1.0, got 2.0" in problems
    assert any(p.startswith("pixel.scheme: must be one of") for p in problems)
    assert any(p.startswith("pixel: unknown key 'colour' (known keys: ") for p in problems)


def test_figures_render(tiny_world: World, tiny_index: IdentityIndex) -> None:
    pytest.importorskip("matplotlib")
    from matchsim.pixel.figures import consent_curve, linked_shares

    rows = [
        {"rules": r.to_dict(), **shares(tiny_world, tiny_index, r)}
        for r in (Rules(), Rules("consent=0.5", consent_rate=0.5))
    ]
    (ax,) = linked_shares({"scenarios": rows}).axes
    # Four stacked parts per scenario, each bar as wide as its share, starting where the
    # previous part ended.
    parts = ("account_cookie_share", "account_identifier_share", "shadow_identifier_share",
             "shadow_cookie_share")  # fmt: skip
    bars = ax.patches
    assert len(bars) == len(parts) * len(rows)
    for k, key in enumerate(parts):
        for i, r in enumerate(rows):
            bar = bars[k * len(rows) + i]
            assert bar.get_width() == pytest.approx(float(r[key]))
            assert bar.get_x() == pytest.approx(sum(float(r[q]) for q in parts[:k]))
    (ax,) = consent_curve({"scenarios": rows}).axes
    account, observed = ax.get_lines()
    # Points in consent order: consent=0.5, then the baseline (everyone consents).
    assert list(account.get_xdata()) == [0.5, 1.0]
    assert list(account.get_ydata()) == [rows[1]["account_share"], rows[0]["account_share"]]
    assert list(observed.get_ydata()) == [rows[1]["observed_share"], rows[0]["observed_share"]]
