"""Does a noisy count keep its differential-privacy promise? Membership advantage, measured.

A platform that answers audience-size (or clean-room) counts with ε-DP noise promises
that no attacker, whatever it already knows, tells "the target is in the data" from "is
not" much better than a coin: for any test, TPR ≤ e^ε · FPR + δ and
(1 − FPR) ≤ e^ε · (1 − TPR) + δ, so the *membership advantage* TPR − FPR is at most

    (e^ε − 1 + 2δ) / (e^ε + 1)        (= tanh(ε/2) for pure ε-DP; Kairouz et al. 2015)

where ε and δ are what the attacker's answers cost in total (basic composition: answers
× per-answer ε). :func:`membership_check` measures the advantage of a worst-case attacker
over many seeded, vectorised trials and compares it with that bound.

Threat model of the check: the attacker knows the true size ``base`` of its audience
without the target (the DP adversary may know everything but the target's bit) and asks
for the size of ``base ∪ {target}`` ``answers`` times; it sees only the reported ordinal
(:meth:`~matchsim.oracle.policy.Policy.keys`: noise, floor, rounding, ranges applied) and
decides with three tests (mean, median, Laplace log-likelihood ratio). The harness draws
memberships, and scores guesses after the attacker has decided.

Sampling error: the empirical advantage of one test is a function of ``n_in + n_out``
independent trials; changing one moves it by at most 1/n_in or 1/n_out, so by McDiarmid
(Hoeffding) P(adv̂ − adv ≥ t) ≤ exp(−2t² / (1/n_in + 1/n_out)). With ``alpha`` split
over the tests (Bonferroni) the check allows

    margin = sqrt(ln(tests / alpha) · (1/n_in + 1/n_out) / 2)

above the bound: a correct mechanism fails the check with probability at most ``alpha``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from matchsim.oracle.policy import PERIODS, Policy

TESTS = ("mean", "median", "laplace_llr")


def advantage_bound(epsilon: float, delta: float = 0.0) -> float:
    """The largest TPR − FPR any test reaches against an (ε, δ)-DP mechanism."""
    if math.isinf(epsilon):
        return 1.0
    return min(1.0, (math.expm1(epsilon) + 2.0 * delta) / (math.exp(epsilon) + 1.0))


def sampling_margin(n_in: int, n_out: int, alpha: float, tests: int = 1) -> float:
    """One-sided Hoeffding/McDiarmid margin on an empirical advantage (see module doc)."""
    return math.sqrt(math.log(tests / alpha) * (1.0 / n_in + 1.0 / n_out) / 2.0)


def spent(policy: Policy, answers: int) -> tuple[float, float]:
    """(ε, δ) that ``answers`` answers about one target cost under basic composition."""
    if policy.noise == "none":
        return math.inf, 0.0
    delta = policy.delta * answers if policy.noise == "gaussian" else 0.0
    return policy.epsilon * answers, min(1.0, delta)


def days_for(policy: Policy, answers: int) -> float:
    """Days on the platform's clock before ``answers`` answers are paid for (0: same day)."""
    qpp = policy.queries_per_period
    if math.isinf(qpp):
        return 0.0
    if qpp < 1:
        return math.inf
    return float((math.ceil(answers / qpp) - 1) * PERIODS[policy.period])


def decide(keys: np.ndarray, base: int, policy: Policy) -> dict[str, np.ndarray]:
    """The attacker's guesses (True: member) per test, from its answers only.

    Args:
        keys: ``(trials, answers)`` reported ordinals of ``base ∪ {target}``.
        base: the attacker's audience size without the target (known to it).
        policy: the published reporting rules (the attacker reads the documentation).
    """
    cut = base + 0.5
    scale = 1.0 / policy.epsilon if policy.noise != "none" else 1.0
    y = np.where(keys < 0, float(policy.floor) - 1.0, keys)  # "below floor": just under it
    llr = (np.abs(y - base) - np.abs(y - base - 1.0)).sum(axis=1) / scale
    return {
        "mean": y.mean(axis=1) > cut,
        "median": np.median(y, axis=1) > cut,
        "laplace_llr": llr > 0,
    }


@dataclass(frozen=True)
class DPCheck:
    """One fidelity check: measured advantage against the ε bound."""

    policy: Policy
    answers: int
    trials: int
    noise_scale: float
    epsilon: float
    delta: float
    tpr: float
    fpr: float
    advantage: float
    best_test: str
    bound: float
    margin: float
    alpha: float
    days: float

    @property
    def passed(self) -> bool:
        """The advantage stays within the bound plus its sampling margin."""
        return self.advantage <= self.bound + self.margin

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_dict(),
            "answers": self.answers,
            "trials": self.trials,
            "noise_scale": self.noise_scale,
            "epsilon_spent": None if math.isinf(self.epsilon) else self.epsilon,
            "delta_spent": self.delta,
            "tpr": self.tpr,
            "fpr": self.fpr,
            "advantage": self.advantage,
            "best_test": self.best_test,
            "bound": self.bound,
            "margin": self.margin,
            "alpha": self.alpha,
            "passed": self.passed,
            "days": None if math.isinf(self.days) else self.days,
        }


def membership_check(
    policy: Policy,
    answers: int,
    trials: int,
    seed: int,
    *,
    base: int = 1000,
    noise_scale: float = 1.0,
    alpha: float = 1e-6,
) -> DPCheck:
    """Measure the best attacker test's advantage over ``trials`` seeded trials.

    Half the trials have the target in the data (true size ``base + 1``), half not.
    ``noise_scale`` below 1 simulates a broken mechanism that adds less noise than the
    published ε promises (the check must then fail).
    """
    if answers < 1 or trials < 2:
        raise ValueError("need answers >= 1 and trials >= 2")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    member = rng.permutation(np.arange(trials) % 2 == 0)  # evaluation only
    counts = np.broadcast_to((base + member.astype(np.int64))[:, None], (trials, answers))
    keys = policy.keys(counts, rng, noise_scale=noise_scale)
    if np.isnan(keys).all():  # no answers at all: the attacker can only guess
        guesses = {"no answer": np.zeros(trials, dtype=bool)}
    else:
        guesses = decide(keys, base, policy)
    n_in, n_out = int(member.sum()), int((~member).sum())
    best = ("", -2.0, 0.0, 0.0)
    for name, g in guesses.items():
        tpr = float(g[member].mean())
        fpr = float(g[~member].mean())
        if tpr - fpr > best[1]:
            best = (name, tpr - fpr, tpr, fpr)
    eps, delta = spent(policy, answers)
    return DPCheck(
        policy=policy,
        answers=answers,
        trials=trials,
        noise_scale=noise_scale,
        epsilon=eps,
        delta=delta,
        tpr=best[2],
        fpr=best[3],
        advantage=best[1],
        best_test=best[0],
        bound=advantage_bound(eps, delta),
        margin=sampling_margin(n_in, n_out, alpha, len(guesses)),
        alpha=alpha,
        days=days_for(policy, answers),
    )


def answers_for_accuracy(policy: Policy, accuracy: float = 0.95, *, sides: int = 1) -> float:
    """Answers an averaging attacker needs per side for ``accuracy``: a mean of m answers
    errs when its noise exceeds 1/2, so m = sides · (z · sd / 0.5)², z the normal
    quantile; ``sides=2`` when the base size is itself an average (differencing), 1 when
    the attacker knows it (inf without an answer at all)."""
    from statistics import NormalDist

    if not policy.customer_lists:
        return math.inf
    sd = policy.noise_sd
    if sd == 0:
        return 1.0
    z = NormalDist().inv_cdf(accuracy)
    return float(max(1, math.ceil(sides * (z * sd / 0.5) ** 2)))
