"""Population-uniqueness estimators: closed forms against direct sums, recovery of known models."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matchsim.risk.uniqueness import (
    digamma,
    hypergeom_one,
    pitman_fit,
    pitman_scores,
    population_uniqueness,
    snb_expected,
    trigamma,
    zayatz,
)


def test_digamma_trigamma_against_recurrence_sums() -> None:
    # psi(n) = -gamma + sum_{k<n} 1/k ; psi'(n) = pi^2/6 - sum_{k<n} 1/k^2
    euler = 0.5772156649015329
    for n in (1, 2, 5, 12, 40):
        k = np.arange(1, n)
        assert digamma(float(n)) == pytest.approx(-euler + (1 / k).sum(), abs=1e-11)
        assert trigamma(float(n)) == pytest.approx(math.pi**2 / 6 - (1 / k**2).sum(), abs=1e-11)
    special = pytest.importorskip("scipy.special")
    x = np.array([1e-3, 0.37, 2.5, 7.0, 123.4, 1e6])
    np.testing.assert_allclose(digamma(x), special.digamma(x), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(trigamma(x), special.polygamma(1, x), rtol=1e-11)


def _pitman_scores_by_sums(theta: float, alpha: float, h: np.ndarray) -> np.ndarray:
    """ARX's iterative form of the score equations (a second implementation)."""
    u = int(h.sum())
    n = int(np.dot(np.arange(h.size), h))
    i = np.arange(1, u)
    o1 = (1 / (theta + i * alpha)).sum() - (1 / (theta + np.arange(1, n))).sum()
    o2 = (i / (theta + i * alpha)).sum()
    for size in np.nonzero(h)[0]:
        if size > 1:
            o2 -= h[size] * (1 / (np.arange(1, size) - alpha)).sum()
    return np.array([o1, o2])


def _crp_sizes(theta: float, alpha: float, n: int, seed: int) -> np.ndarray:
    """Class sizes from the two-parameter Chinese restaurant process (Pitman 1996)."""
    rng = np.random.default_rng(seed)
    sizes = np.zeros(n, dtype=np.float64)
    k = 0
    for m in range(n):
        if rng.random() * (theta + m) < theta + k * alpha:
            sizes[k] = 1
            k += 1
        else:
            w = sizes[:k] - alpha
            sizes[np.searchsorted(np.cumsum(w), rng.random() * w.sum())] += 1
    return sizes[:k].astype(np.int64)


def test_pitman_recovers_parameters_and_solves_the_score_equations() -> None:
    h = np.bincount(_crp_sizes(500.0, 0.6, 6000, seed=3))
    fit = pitman_fit(h)
    assert fit is not None
    theta, alpha = fit
    assert alpha == pytest.approx(0.6, abs=0.08)
    assert theta == pytest.approx(500.0, rel=0.6)
    np.testing.assert_allclose(_pitman_scores_by_sums(theta, alpha, h), 0.0, atol=1e-6)
    closed, _ = pitman_scores(theta + 1.0, alpha / 2, h)
    np.testing.assert_allclose(closed, _pitman_scores_by_sums(theta + 1.0, alpha / 2, h), rtol=1e-9)


def test_zayatz_by_hand() -> None:
    # sample: 3 uniques, 1 pair (n = 5, u = 4) from N = 20
    h = np.array([0, 3, 1])
    h1 = 5 / 20  # P(X=1), X ~ Hyp(20, 1, 5)
    h2 = 2 * math.comb(18, 4) / math.comb(20, 5)
    assert hypergeom_one(20, 2, 5) == pytest.approx(h2)
    p = (3 / 4) * h1 / ((3 / 4) * h1 + (1 / 4) * h2)
    assert zayatz(h, 20) == pytest.approx(3 * p / (5 / 20))


def test_snb_moment_equations_match_an_exact_convolution() -> None:
    k, frac, alpha, beta = 1000.0, 0.3, 1.7, 0.2
    m = np.arange(1, 400)
    # P(F = m) = C(m + alpha - 2, m - 1) beta^alpha (1 - beta)^(m - 1)
    log_pf = (
        np.array([math.lgamma(x + alpha - 1) - math.lgamma(alpha) - math.lgamma(x) for x in m])
        + alpha * math.log(beta)
        + (m - 1) * math.log(1 - beta)
    )
    pf = np.exp(log_pf)
    p1 = (pf * m * frac * (1 - frac) ** (m - 1)).sum()
    p2 = (pf * m * (m - 1) / 2 * frac**2 * (1 - frac) ** (m - 2)).sum()
    e1, e2 = snb_expected(k, frac, alpha, beta)
    assert e1 == pytest.approx(k * p1, rel=1e-9)
    assert e2 == pytest.approx(k * p2, rel=1e-9)


def _sample_histogram(pop_sizes: np.ndarray, frac: float, seed: int) -> np.ndarray:
    got = np.random.default_rng(seed).binomial(pop_sizes, frac)
    return np.bincount(got[got > 0])


def test_estimators_near_the_truth_and_dankar_rule() -> None:
    rng = np.random.default_rng(1)
    labels = rng.zipf(1.3, 1_000_000)  # heavy-tailed classes: Pitman's regime
    _, pop = np.unique(labels, return_counts=True)
    n_pop, true_uniques = int(pop.sum()), int((pop == 1).sum())
    small = population_uniqueness(_sample_histogram(pop, 0.05, 1), n_pop)
    assert small.dankar_model == "pitman" and small.dankar == small.pitman
    assert small.pitman == pytest.approx(true_uniques, rel=0.1)

    pop = 1 + rng.negative_binomial(0.8, 0.05, size=200_000)  # an SNB population
    n_pop, true_uniques = int(pop.sum()), int((pop == 1).sum())
    large = population_uniqueness(_sample_histogram(pop, 0.3, 2), n_pop)
    assert large.dankar_model in ("snb", "zayatz")
    assert large.dankar == min(large.snb, large.zayatz)
    assert large.snb == pytest.approx(true_uniques, rel=0.1)  # the model is right here
    # no Pitman fit on a population with finitely many classes -> Zayatz (ARX's fallback)
    fallback = population_uniqueness(_sample_histogram(pop, 0.05, 3), n_pop)
    assert math.isnan(fallback.pitman) and fallback.dankar_model == "zayatz"
    none = population_uniqueness(np.array([0, 0, 5]), 1000)
    assert none.dankar == 0 and none.dankar_model == "none"
