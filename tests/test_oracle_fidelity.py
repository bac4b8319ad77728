"""Fidelity of the platform-promise simulation (issue 18).

* Under an ε-DP policy the attacker's empirical membership advantage stays within
  (e^ε − 1)/(e^ε + 1) plus its Hoeffding margin; a mechanism with half the noise scale
  fails the same check.
* Under threshold-only policies differencing succeeds for ≥ 95 % of targets.
* Under a size floor without noise, padding succeeds with exactly floor − 1 matched decoys.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.generate import Population
from matchsim.oracle import AudienceSizeAPI, Policy
from matchsim.oracle.dp import advantage_bound, membership_check, sampling_margin
from matchsim.oracle.promises import Setting, setting
from matchsim.oracle.tactics import differencing, padding, score

TRIALS = 40_000


def _laplace(eps: float, floor: int = 0) -> Policy:
    return Policy(f"laplace-{eps}", granularity=1, floor=floor, noise="laplace", epsilon=eps)


def test_bound_and_margin_known_values() -> None:
    assert advantage_bound(1.0) == pytest.approx(math.tanh(0.5))
    assert advantage_bound(0.0) == 0.0
    assert advantage_bound(1.0, 0.01) == pytest.approx((math.e - 1 + 0.02) / (math.e + 1))
    # n_in = n_out = 20 000, alpha = 1e-6: sqrt(ln(1e6) * 1e-4 / 2)
    assert sampling_margin(20_000, 20_000, 1e-6) == pytest.approx(0.02628, abs=1e-4)


def test_vectorised_keys_match_scalar_report() -> None:
    rng = np.random.default_rng(0)
    counts = np.arange(0, 5000, 7)
    for p in (
        Policy(granularity=10, floor=20),
        Policy(granularity=1, floor=1000, ranges=2.0),
        Policy(granularity=1, floor=300),
    ):
        keys = p.keys(counts, rng)
        assert keys.tolist() == [p.report(int(c), rng).key for c in counts]


@pytest.mark.parametrize(
    ("policy", "answers"),
    [
        (_laplace(0.5), 1),
        (_laplace(1.0), 1),
        (_laplace(2.0), 1),
        (_laplace(0.25), 8),  # averaging within a budget: ε spent = 2
        (_laplace(1.0, floor=999), 1),  # a floor after the noise is post-processing
        (Policy("g", granularity=1, floor=0, noise="gaussian", epsilon=1.0, delta=1e-6), 4),
    ],
)
def test_dp_policy_keeps_its_advantage_bound(policy: Policy, answers: int) -> None:
    check = membership_check(policy, answers, TRIALS, seed=18)
    assert check.passed, check.to_dict()
    assert check.advantage > 0.05  # the attacker does learn something: not a vacuous pass


@pytest.mark.parametrize("eps", [0.5, 1.0, 2.0])
def test_halved_noise_scale_fails_the_same_check(eps: float) -> None:
    broken = membership_check(_laplace(eps), 1, TRIALS, seed=18, noise_scale=0.5)
    assert not broken.passed, broken.to_dict()
    assert broken.advantage > broken.bound + broken.margin


# --- threshold-only policies and floors, end to end on a seeded population ------------


@pytest.fixture(scope="module")
def nl_setting(nl_population: Population) -> Setting:
    return setting(nl_population.out, pool=2400, targets=120, seed=5)


@pytest.mark.parametrize("floor", [2, 100, 300, 1000])
def test_differencing_beats_threshold_only_policies(nl_setting: Setting, floor: int) -> None:
    s = nl_setting
    api = AudienceSizeAPI(s.index, Policy(f"threshold-{floor}", granularity=1, floor=floor))
    result = differencing(api, s.pool, s.targets)
    scored = score(result.guesses, s.truth)
    assert scored["success"] >= 0.95
    assert result.uploads == 1 + len(s.targets)


@pytest.mark.parametrize("floor", [20, 100, 300, 1000])
def test_padding_needs_exactly_the_decoys_the_floor_implies(
    nl_setting: Setting, floor: int
) -> None:
    s = nl_setting
    targets, truth = s.targets[:30], s.truth[:30]
    api = AudienceSizeAPI(s.index, Policy(f"floor-{floor}", granularity=1, floor=floor))
    result = padding(api, s.pool, targets)
    assert score(result.guesses, truth)["success"] == 1.0
    # Evaluation: the decoys the attacker settled on match floor - 1 accounts.
    assert {s.matched(s.pool[:k]) for k in result.decoys} == {floor - 1}


def test_padding_fails_when_the_floor_is_beyond_the_decoys(nl_setting: Setting) -> None:
    s = nl_setting
    api = AudienceSizeAPI(s.index, Policy("floor-10000", granularity=1, floor=10_000))
    result = padding(api, s.pool, s.targets[:3])
    assert result.guesses == [None, None, None]
    assert result.reason == "padding pool too small to reach a reporting boundary"


@given(
    floor=st.integers(0, 2000),
    granularity=st.integers(1, 50),
    ranges=st.sampled_from([0.0, 1.2, 2.0]),
    counts=st.lists(st.integers(0, 100_000), min_size=1, max_size=50),
)
@settings(max_examples=60, deadline=None)
def test_vectorised_keys_equal_scalar_reports(
    floor: int, granularity: int, ranges: float, counts: list[int]
) -> None:
    p = Policy("p", granularity=granularity, floor=max(floor, 1) if ranges else floor,
               ranges=ranges)  # fmt: skip
    rng = np.random.default_rng(0)
    keys = p.keys(np.array(counts), rng)
    assert keys.tolist() == [p.report(c, rng).key for c in counts]
