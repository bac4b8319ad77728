"""Population uniqueness estimated from a sample: Pitman, Zayatz, SNB and Dankar's rule.

A customer file is a *sample* of ``n`` records from a population of ``N`` people. A record
unique in the sample need not be unique in the population; these estimators guess the
number of population uniques from the sample's class-size histogram alone (``f_i`` =
number of classes of size ``i``, ``u`` = number of classes, sampling fraction
``pi = n / N``), as ARX does (``RiskModelPopulationUniqueness``). Written from the papers
and checked against ARX's Java source (arx-deidentifier/arx, ``org.deidentifier.arx.risk``):

- **Pitman** (Pitman 1996, "Some developments of the Blackwell-MacQueen urn scheme";
  applied to disclosure risk by Hoshino 2001, "Applying Pitman's sampling formula to
  microdata disclosure risk assessment", J. Official Statistics 17(4)): the sample follows
  the Pitman (two-parameter Ewens) sampling formula with concentration ``theta`` and
  discount ``alpha``; maximum-likelihood estimates solve

  ``sum_{i=1}^{u-1} 1/(theta + i*alpha) = sum_{i=1}^{n-1} 1/(theta + i)`` and
  ``sum_{i=1}^{u-1} i/(theta + i*alpha) = sum_j f_j sum_{k=1}^{j-1} 1/(k - alpha)``,

  and the expected number of population uniques is
  ``Gamma(theta + 1) / Gamma(theta + alpha) * N**alpha``. The sums are evaluated in closed
  form with digamma/trigamma (e.g. ``sum_{i=1}^{u-1} 1/(theta+i*alpha) =
  (psi(theta/alpha + u) - psi(theta/alpha + 1)) / alpha``) and solved by Newton-Raphson
  from ARX's starting point.
- **Zayatz** (Zayatz 1991, "Estimation of the number of unique population elements using a
  sample", US Census Bureau SRD report): with ``h(i) = P(X = 1)`` for ``X ~
  Hypergeometric(N, i, n)``, the probability that a sample unique is a population unique
  is ``P = (f_1/u) h(1) / sum_i (f_i/u) h(i)`` and the estimate is ``f_1 * P / pi``.
- **SNB** (Chen & Keller-McNulty 1998, "Estimation of identification disclosure risk in
  microdata", J. Official Statistics 14(1)): population class sizes are 1 + a negative
  binomial (shape ``alpha``, probability ``beta``), the sample is a Bernoulli(``pi``)
  thinning, and ``alpha, beta`` solve ``E[f_1] = f_1``, ``E[f_2] = f_2`` with ``d = (1 -
  pi)(1 - beta)``:

  ``E[f_1] = K pi (beta/(1-d))**alpha * (1 + alpha d/(1-d))``,
  ``E[f_2] = K alpha pi**2 (1-beta) beta**alpha (2 - (1-alpha) d) / (2 (1-d)**(alpha+2))``;

  the number of non-empty population classes ``K`` is Shlosser's estimator in the form of
  Haas, Naughton, Seshadri & Stokes (VLDB 1995, ``D_Sh3``), and the estimate is
  ``K beta**alpha``. (Derived here from the probability generating function; ARX's object
  function multiplies by ``(1-d)**(alpha+2)`` where the derivation divides, and its
  Shlosser denominator subtracts 1 per histogram bucket instead of ``(1-pi)**i f_i``; we
  follow the papers. Tests check both equations against an exact convolution.)
- **Dankar's decision rule** (Dankar, El Emam, Neisa & Roffey 2012, "Estimating the
  re-identification risk of clinical data sets", BMC Med. Inform. Decis. Mak. 12:66), as
  in ARX: no sample uniques -> 0; ``pi <= 0.1`` -> Pitman if it converges, else Zayatz;
  ``pi > 0.1`` -> the smaller of Zayatz and SNB (Zayatz if SNB fails).
- **Poisson-gamma** (:func:`poisson_gamma`): a person-weighted mixed-Poisson model of
  class-mates, fitted to the sample's uniques and pairs in closed form; and
  :func:`estimate_uniques`, the rule ``matchsim risk`` uses: Poisson-gamma with a bootstrap
  interval inside the range where :mod:`matchsim.risk.validation` measured it on generated
  populations, a declined estimate (with the reason) outside it.

Validated on whole generated populations (benchmarks/bench_risk_validation.py), the first
four overstate the unique share by 30-98 points at sampling fractions up to 10 % (they
see nearly every sampled record unique and extrapolate that), and Pitman finds no fit on
most samples; they are still computed for comparison with ARX, not shown as the answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from matchsim.rng import Stream, stream

_SHIFT_TO = 10.0


def _shift_up(
    x: np.ndarray | float, term: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Raise every x below ``_SHIFT_TO`` by steps of 1, summing ``term(x)`` over the steps
    (the recurrences psi(x) = psi(x + 1) - 1/x and psi'(x) = psi'(x + 1) + 1/x^2)."""
    x = np.array(x, dtype=np.float64)
    if x.ndim == 0:  # the fit's scalars: the same IEEE steps without numpy's per-call cost
        v, acc = float(x), 0.0
        try:
            # Python floats: the same IEEE division and product as np.float64's, ~10x less
            # overhead per step (the Pitman fit takes ~10^5 of them)
            while v < _SHIFT_TO:
                acc += term(v)  # type: ignore[arg-type,assignment]
                v += 1.0
        except ZeroDivisionError:  # x == 0 or v * v underflowed: numpy's inf, as before
            v, acc = float(x), 0.0
            while v < _SHIFT_TO:
                acc += float(term(np.float64(v)))  # type: ignore[arg-type]
                v += 1.0
        return np.array(v), np.array(acc)
    out = np.zeros_like(x)
    while True:
        small = x < _SHIFT_TO
        if not small.any():
            return x, out
        out[small] += term(x[small])
        x[small] += 1.0


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _shift_rows(x: np.ndarray, square: bool) -> np.ndarray:
    """:func:`_shift_up`'s array path, element by element in place (``x`` raised, the
    sums returned): each element takes the same IEEE steps in the same order (no fast-math,
    so no reassociation; ``error_model="numpy"``: 1/0 is inf, as in numpy)."""
    out = np.zeros_like(x)
    for e in range(x.shape[0]):
        v = x[e]
        acc = 0.0
        while v < _SHIFT_TO:
            acc += 1.0 / (v * v) if square else -1.0 / v
            v += 1.0
        x[e] = v
        out[e] = acc
    return out


def _shift(x: np.ndarray | float, square: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_shift_up` with the digamma (``-1/v``) or trigamma (``1/v^2``) term, bit for
    bit, without numpy's per-step cost on arrays (the Pitman fit shifts ~10^4 of them)."""
    x = np.array(x, dtype=np.float64)
    if x.ndim == 0:
        return _shift_up(x, _trigamma_term if square else _digamma_term)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = _shift_rows(flat, square)
    return flat.reshape(x.shape), out.reshape(x.shape)


def _digamma_term(v: np.ndarray) -> np.ndarray:
    return -1.0 / v


def _trigamma_term(v: np.ndarray) -> np.ndarray:
    return 1.0 / (v * v)


def digamma(x: np.ndarray | float) -> np.ndarray:
    """psi(x) for x > 0: recurrence up to 6, then the asymptotic series (error < 1e-12)."""
    x, out = _shift(x, False)
    inv2 = 1.0 / (x * x)
    series = inv2 * (
        1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (5 / 660))))
    )
    return out + np.log(x) - 0.5 / x - series


def trigamma(x: np.ndarray | float) -> np.ndarray:
    """psi'(x) for x > 0: recurrence up to 6, then the asymptotic series."""
    x, out = _shift(x, True)
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv * (
        1.0
        + inv * 0.5
        + inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * 5 / 66))))
    )
    return out + series


def _histogram_pairs(histogram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class sizes i, number of classes f_i) for the non-empty buckets."""
    h = np.asarray(histogram, dtype=np.int64)
    sizes = np.nonzero(h)[0]
    sizes = sizes[sizes > 0]
    return sizes.astype(np.float64), h[sizes].astype(np.float64)


# -- Pitman ---------------------------------------------------------------------------


def pitman_scores(
    theta: float, alpha: float, histogram: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Score vector and Hessian of Pitman's log-likelihood, in closed form."""
    i, fi = _histogram_pairs(histogram)
    u = float(fi.sum())
    n = float((i * fi).sum())
    r = theta / alpha
    s1 = float(digamma(r + u) - digamma(r + 1.0)) / alpha  # sum 1/(t+ia)
    q1 = float(trigamma(r + 1.0) - trigamma(r + u)) / alpha**2  # sum 1/(t+ia)^2
    s2 = ((u - 1.0) - theta * s1) / alpha  # sum i/(t+ia)
    q2 = (s1 - theta * q1) / alpha  # sum i/(t+ia)^2
    q3 = (s2 - theta * q2) / alpha  # sum i^2/(t+ia)^2
    big = i > 1
    ib, fb = i[big], fi[big]
    h1 = float((fb * (digamma(ib - alpha) - digamma(1.0 - alpha))).sum())
    h2 = float((fb * (trigamma(1.0 - alpha) - trigamma(ib - alpha))).sum())
    t1 = float(digamma(theta + n) - digamma(theta + 1.0))
    t2 = float(trigamma(theta + 1.0) - trigamma(theta + n))
    score = np.array([s1 - t1, s2 - h1])
    hessian = np.array([[t2 - q1, -q2], [-q2, -q3 - h2]])
    return score, hessian


def _bisect(fn: Any, lo: float, hi: float, iters: int = 100) -> float | None:
    """A root of ``fn`` in [lo, hi] by bisection (``fn(lo)`` and ``fn(hi)`` of opposite sign)."""
    f_lo, f_hi = fn(lo), fn(hi)
    if not (math.isfinite(f_lo) and math.isfinite(f_hi)) or f_lo * f_hi > 0:
        return None
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        f_mid = fn(mid)
        if f_mid == 0 or hi - lo < 1e-13 * max(1.0, abs(mid)):
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def pitman_fit(histogram: np.ndarray) -> tuple[float, float] | None:
    """Maximum-likelihood ``(theta, alpha)`` of Pitman's model, or None if there is none.

    Solved on the profile: for each ``alpha`` the theta-equation has one root in
    ``log theta`` (found by bisection), and the alpha-equation is then solved along that
    profile by bisection on ``alpha`` in (0, 1). Bisection, unlike the plain 2-D Newton
    iteration ARX uses, cannot be thrown out of the domain by the score's scale, which
    spans orders of magnitude of theta.
    """
    with np.errstate(all="ignore"):

        def theta_of(alpha: float) -> float | None:
            root = _bisect(
                lambda lt: float(pitman_scores(math.exp(lt), alpha, histogram)[0][0]),
                -30.0,
                40.0,
            )
            return None if root is None else math.exp(root)

        def alpha_score(alpha: float) -> float:
            theta = theta_of(alpha)
            if theta is None:
                return math.nan
            return float(pitman_scores(theta, alpha, histogram)[0][1])

        lo, hi = 1e-6, 1.0 - 1e-6
        grid = np.linspace(lo, hi, 11)
        values = [alpha_score(float(a)) for a in grid]
        for a, b, fa, fb in zip(grid[:-1], grid[1:], values[:-1], values[1:], strict=True):
            if math.isfinite(fa) and math.isfinite(fb) and fa * fb <= 0:
                alpha = _bisect(alpha_score, float(a), float(b), iters=60)
                if alpha is None:
                    return None
                theta = theta_of(alpha)
                return None if theta is None else (theta, alpha)
    return None


def pitman(histogram: np.ndarray, population: float) -> float:
    """Estimated population uniques under Pitman's model (NaN if the fit fails)."""
    fit = pitman_fit(histogram)
    if fit is None:
        return math.nan
    theta, alpha = fit
    value = math.exp(math.lgamma(theta + 1.0) - math.lgamma(theta + alpha)) * population**alpha
    return value if 0.0 <= value <= population else math.nan


# -- Zayatz ---------------------------------------------------------------------------


def _log_comb(a: float, b: float) -> float:
    return math.lgamma(a + 1.0) - math.lgamma(b + 1.0) - math.lgamma(a - b + 1.0)


def hypergeom_one(population: float, successes: float, draws: float) -> float:
    """P(X = 1) for X ~ Hypergeometric(population, successes, draws)."""
    if population - successes < draws - 1:
        return 0.0
    return math.exp(
        math.log(successes)
        + _log_comb(population - successes, draws - 1.0)
        - _log_comb(population, draws)
    )


def zayatz(histogram: np.ndarray, population: float) -> float:
    """Estimated population uniques under Zayatz's model."""
    i, fi = _histogram_pairs(histogram)
    u = float(fi.sum())
    n = float((i * fi).sum())
    c1 = float(fi[i == 1].sum())
    if c1 == 0:
        return 0.0
    weights = np.array([hypergeom_one(population, s, n) for s in i.tolist()])
    denom = float((fi / u * weights).sum())
    p_unique = (c1 / u) * hypergeom_one(population, 1.0, n) / denom
    return c1 * p_unique / (n / population)


# -- SNB ------------------------------------------------------------------------------


def shlosser(histogram: np.ndarray, fraction: float) -> float:
    """Shlosser's estimate of the number of non-empty population classes (Haas D_Sh3)."""
    i, fi = _histogram_pairs(histogram)
    q = fraction
    u = float(fi.sum())
    c1 = float(fi[i == 1].sum())
    a = float((i * q * q * (1.0 - q * q) ** (i - 1.0) * fi).sum())
    # ((1+q)^i - 1)(1-q)^i, written so that neither factor overflows
    b = float((((1.0 - q * q) ** i - (1.0 - q) ** i) * fi).sum())
    c = float(((1.0 - q) ** i * fi).sum())
    d = float((i * q * (1.0 - q) ** (i - 1.0) * fi).sum())
    if b == 0.0 or d == 0.0:
        return u
    return u + c1 * (a / b) * (c / d) ** 2


def snb_expected(k: float, fraction: float, alpha: float, beta: float) -> tuple[float, float]:
    """Expected numbers of sample classes of size 1 and 2 under the SNB model."""
    f = fraction
    d = (1.0 - f) * (1.0 - beta)
    e1 = k * f * (beta / (1.0 - d)) ** alpha * (1.0 + alpha * d / (1.0 - d))
    e2 = (
        k
        * alpha
        * f
        * f
        * (1.0 - beta)
        * beta**alpha
        * (2.0 - (1.0 - alpha) * d)
        / (2.0 * (1.0 - d) ** (alpha + 2.0))
    )
    return e1, e2


def snb_fit(histogram: np.ndarray, fraction: float) -> tuple[float, float, float] | None:
    """``(K, alpha, beta)`` of the SNB model, or None if the equations have no solution."""
    i, fi = _histogram_pairs(histogram)
    c1 = float(fi[i == 1].sum())
    c2 = float(fi[i == 2].sum())
    if c1 == 0 or c2 == 0:
        return None
    k = shlosser(histogram, fraction)
    target = np.log([c1, c2])

    def residual(z: np.ndarray) -> np.ndarray:
        if np.max(np.abs(z)) > 600:
            return np.array([np.inf, np.inf])
        alpha = math.exp(z[0])
        beta = 1.0 / (1.0 + math.exp(-z[1]))
        with np.errstate(all="ignore"):
            try:
                e = snb_expected(k, fraction, alpha, beta)
            except (OverflowError, ZeroDivisionError):
                return np.array([np.inf, np.inf])
        if min(e) <= 0 or not all(map(math.isfinite, e)):
            return np.array([np.inf, np.inf])
        return np.log(e) - target

    for a0 in (1.0, 0.1, 5.0, 0.01, 50.0):
        for b0 in (0.5, 0.1, 0.9, 0.01, 0.99):
            z = np.array([math.log(a0), math.log(b0 / (1.0 - b0))])
            r = residual(z)
            for _ in range(100):
                if not np.all(np.isfinite(r)):
                    break
                if np.max(np.abs(r)) < 1e-10:
                    alpha = math.exp(z[0])
                    beta = 1.0 / (1.0 + math.exp(-z[1]))
                    return k, alpha, beta
                jac = np.empty((2, 2))
                for col in range(2):
                    dz = np.zeros(2)
                    dz[col] = 1e-6
                    jac[:, col] = (residual(z + dz) - r) / 1e-6
                try:
                    step = np.linalg.solve(jac, r)
                except np.linalg.LinAlgError:
                    break
                scale = 1.0
                while scale > 1e-6:
                    r_new = residual(z - scale * step)
                    if np.all(np.isfinite(r_new)) and np.max(np.abs(r_new)) < np.max(np.abs(r)):
                        break
                    scale /= 2.0
                else:
                    break
                z, r = z - scale * step, r_new
    return None


def snb(histogram: np.ndarray, population: float) -> float:
    """Estimated population uniques under the SNB model (NaN if it fails)."""
    n = float(np.dot(np.arange(len(histogram)), histogram))
    fit = snb_fit(histogram, n / population)
    if fit is None:
        return math.nan
    k, alpha, beta = fit
    value = k * beta**alpha
    return value if 0.0 <= value <= population else math.nan


# -- Dankar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PopulationUniqueness:
    """Estimated population uniques (people, not shares) by each model; NaN = failed."""

    population: float
    sampling_fraction: float
    pitman: float
    zayatz: float
    snb: float
    dankar: float
    dankar_model: str

    def to_dict(self) -> dict[str, Any]:
        def share(v: float) -> float | None:
            return None if math.isnan(v) else v / self.population

        return {
            "population": self.population,
            "sampling_fraction": self.sampling_fraction,
            "uniques": {
                m: (None if math.isnan(v) else v)
                for m, v in (
                    ("pitman", self.pitman),
                    ("zayatz", self.zayatz),
                    ("snb", self.snb),
                    ("dankar", self.dankar),
                )
            },
            "share_unique": {
                "pitman": share(self.pitman),
                "zayatz": share(self.zayatz),
                "snb": share(self.snb),
                "dankar": share(self.dankar),
            },
            "dankar_model": self.dankar_model,
        }


def population_uniqueness(histogram: np.ndarray, population: float) -> PopulationUniqueness:
    """All three estimators and Dankar et al.'s choice among them.

    Args:
        histogram: ``h[i]`` = number of sample classes of size ``i``.
        population: ``N``, the size of the population the sample was drawn from (>= n).
    """
    h = np.asarray(histogram, dtype=np.int64)
    n = float(np.dot(np.arange(len(h)), h))
    fraction = n / population
    if len(h) < 2 or h[1] == 0:
        return PopulationUniqueness(population, fraction, 0.0, 0.0, 0.0, 0.0, "none")
    z = zayatz(h, population)
    p = pitman(h, population)
    s = snb(h, population)
    if fraction <= 0.1:
        d, model = (p, "pitman") if math.isfinite(p) and p > 0 else (z, "zayatz")
    elif math.isfinite(s) and 0 < s <= z:
        d, model = s, "snb"
    else:
        d, model = z, "zayatz"
    return PopulationUniqueness(population, fraction, p, z, s, d, model)


# -- Poisson-gamma (person-weighted) --------------------------------------------------


def _pg_solve(ratio: float) -> float:
    """x > 0 with x / ((1 + x) log(1 + x)) = ratio (0 < ratio < 1), by bisection on log x."""

    def g(lx: float) -> float:
        x = math.exp(lx)
        return x / ((1.0 + x) * math.log1p(x)) - ratio

    root = _bisect(g, -40.0, 60.0)
    return math.nan if root is None else math.exp(root)


def poisson_gamma_share(f1: float, f2: float, n: float, fraction: float) -> float:
    """Population-unique share from the sample's uniques and pairs (see :func:`poisson_gamma`)."""
    if n <= 0 or f1 <= 0:
        return math.nan if n <= 0 else 0.0
    s1 = f1 / n
    if s1 >= 1.0:
        return math.nan  # no pair: the sample says nothing about class sizes
    r = 2.0 * f2 / f1
    ratio = r / -math.log(s1)
    if ratio >= 1.0:  # no over-dispersion: every person's class has the same rate
        return math.exp(math.log(s1) / fraction)
    x = _pg_solve(ratio)
    if not math.isfinite(x):
        return math.nan
    a = -math.log(s1) / math.log1p(x)
    return math.exp(-a * math.log1p(x / fraction))


def poisson_gamma(histogram: np.ndarray, population: float) -> float:
    """Estimated population uniques under a person-weighted Poisson-gamma model.

    Each person's class-mates in the population are Poisson(``lambda``) with ``lambda``
    varying over people as a gamma(``a``, ``b``) - the mixed-Poisson picture of people
    falling independently into (area, date of birth, sex) cells of unequal rates. A
    Bernoulli(``pi``) sample thins the rate to ``pi lambda``, so the sample-unique share is
    ``f_1/n = (1 + b pi)^-a`` and the share of records in sample pairs
    ``2 f_2/n = a b pi (1 + b pi)^(-a-1)``; the two equations give ``(a, b)`` in closed
    form up to one monotone root, and the population-unique share is ``(1 + b)^-a``.
    Without over-dispersion (``a -> inf``) this is ``(f_1/n)^(1/pi)``.
    """
    h = np.asarray(histogram, dtype=np.int64)
    n = float(np.dot(np.arange(h.size), h))
    f1 = float(h[1]) if h.size > 1 else 0.0
    f2 = float(h[2]) if h.size > 2 else 0.0
    share = poisson_gamma_share(f1, f2, n, n / population)
    return share * population if math.isfinite(share) else math.nan


def _pg_share_vec(
    f1: np.ndarray, f2: np.ndarray, n: np.ndarray, fraction: np.ndarray
) -> np.ndarray:
    """:func:`poisson_gamma_share` over arrays (bootstrap replicates), bisection in numpy."""
    f1, f2, n, fraction = (np.asarray(v, dtype=np.float64) for v in (f1, f2, n, fraction))
    with np.errstate(all="ignore"):
        s1 = f1 / n
        ratio = (2.0 * f2 / f1) / -np.log(s1)
        lo = np.full(s1.shape, -40.0)
        hi = np.full(s1.shape, 60.0)
        target = np.clip(ratio, 1e-300, 1.0)
        for _ in range(90):
            mid = 0.5 * (lo + hi)
            x = np.exp(mid)
            above = x / ((1.0 + x) * np.log1p(x)) > target  # g falls with x
            lo = np.where(above, mid, lo)
            hi = np.where(above, hi, mid)
        x = np.exp(0.5 * (lo + hi))
        a = -np.log(s1) / np.log1p(x)
        share = np.exp(-a * np.log1p(x / fraction))
        share = np.where(ratio >= 1.0, np.exp(np.log(s1) / fraction), share)
        share = np.where(f2 <= 0, np.nan, share)  # no pairs: no root, as in the scalar fit
        share = np.where(f1 <= 0, 0.0, share)
        share = np.where((s1 >= 1.0) | (n <= 0), np.nan, share)
    return share


MIN_FRACTION = 0.05
"""Smallest sampling fraction ``n / N`` at which ``risk`` reports an estimate: below it the
validation measured Poisson-gamma errors up to 27 points (at 1-2 %), some with narrow
bootstrap intervals (the fit can lock onto the no-over-dispersion branch); at and above
it at most 4.6."""
MODEL_MARGIN = 0.05
"""Added to each side of the bootstrap interval: the largest Poisson-gamma error the
validation measured at sampling fractions >= ``MIN_FRACTION`` (4.6 points), rounded up."""
MIN_PAIRS = 30
"""Fewest sample classes of size 2 the Poisson-gamma fit needs."""
MAX_INTERVAL_PP = 10.0
"""Widest 95 % bootstrap interval (percentage points, before the model margin) ``risk``
still reports as an estimate."""
BOOTSTRAP_REPLICATES = 400


@dataclass(frozen=True)
class UniquesEstimate:
    """The population-unique share ``risk`` reports, or why it declines to.

    ``share`` is the Poisson-gamma point estimate (None when the model has no solution),
    ``interval`` its 95 % bootstrap interval; ``supported`` is False when the sample is
    outside the validated range (``reason`` says which limit), and then the share must not
    be shown as the population's.
    """

    population: float
    records: int
    sampling_fraction: float
    sample_unique_share: float
    sample_pairs: int
    share: float | None
    interval: tuple[float, float] | None
    supported: bool
    reason: str | None

    model = "poisson-gamma"
    interval_method = (
        f"95 % percentile bootstrap ({BOOTSTRAP_REPLICATES} resamples of the sample's "
        f"equivalence classes, refitted), widened by {100 * MODEL_MARGIN:g} points each side "
        "for model error (the largest error measured in the validation)"
    )

    @property
    def uniques(self) -> float | None:
        return None if self.share is None or not self.supported else self.share * self.population

    def to_dict(self) -> dict[str, Any]:
        return {
            "supported": self.supported,
            "reason": self.reason,
            "model": self.model,
            "share_unique": self.share if self.supported else None,
            "uniques": self.uniques,
            "interval": None
            if self.interval is None or not self.supported
            else list(self.interval),
            "interval_method": self.interval_method,
            "unsupported_share": None if self.supported else self.share,
            "population": self.population,
            "records": self.records,
            "sampling_fraction": self.sampling_fraction,
            "sample_unique_share": self.sample_unique_share,
            "sample_pairs": self.sample_pairs,
            "validity": {
                "min_sampling_fraction": MIN_FRACTION,
                "min_sample_pairs": MIN_PAIRS,
                "max_interval_pp": MAX_INTERVAL_PP,
            },
        }


def estimate_uniques(histogram: np.ndarray, population: float, *, seed: int = 0) -> UniquesEstimate:
    """The rule ``risk`` uses: Poisson-gamma inside its validated range, else decline.

    Validated on fully generated NL and US populations (``matchsim.risk.validation``,
    benchmarks/bench_risk_validation.py): Pitman, Zayatz and SNB overstate the unique share
    by up to 40-90 points below a sampling fraction of 0.5 on these populations (Pitman
    mostly finds no fit); Poisson-gamma stays within 4.6 points from a fraction of 5 %.
    It is reported when ``n / N >= MIN_FRACTION``, the sample has ``>= MIN_PAIRS`` classes
    of size 2 (or no uniques at all), and the 95 % bootstrap interval is at most
    ``MAX_INTERVAL_PP`` points wide; the interval shown is that bootstrap interval widened
    by ``MODEL_MARGIN`` each side. The bootstrap is deterministic (``seed``).
    """
    h = np.asarray(histogram, dtype=np.int64)
    sizes = np.arange(h.size, dtype=np.float64)
    n = float(np.dot(sizes, h))
    fraction = n / population if population > 0 else math.nan
    f1 = float(h[1]) if h.size > 1 else 0.0
    f2 = int(h[2]) if h.size > 2 else 0
    s1 = f1 / n if n else 0.0

    def result(
        share: float | None, interval: tuple[float, float] | None, reason: str | None
    ) -> UniquesEstimate:
        return UniquesEstimate(
            population, int(n), fraction, s1, f2, share, interval, reason is None, reason
        )

    if n == 0:
        return result(None, None, "the sample is empty")
    share = poisson_gamma_share(f1, float(f2), n, fraction)
    point = share if math.isfinite(share) else None
    if f1 == 0:
        # No sample unique: supported only from a sample large enough that a population
        # with a few per cent of uniques would have shown some (as many records as the
        # pairs the rule asks for elsewhere, twice over).
        if fraction < MIN_FRACTION:
            why: str | None = _small(fraction)
        elif n < 2 * MIN_PAIRS:
            why = f"the sample has only {int(n)} records, too few to show that nobody is unique"
        else:
            why = None
        return result(0.0, (0.0, MODEL_MARGIN), why)
    if fraction < MIN_FRACTION:
        return result(point, None, _small(fraction))
    if point is None or f2 == 0:
        return result(point, None, "the sample has no pairs, so class sizes cannot be fitted")
    interval = _bootstrap(h, population, seed)
    if f2 < MIN_PAIRS:
        return result(point, interval, f"only {f2} sample pairs (needs {MIN_PAIRS})")
    if interval is None or 100 * (interval[1] - interval[0]) > MAX_INTERVAL_PP:
        width = "undefined" if interval is None else f"{100 * (interval[1] - interval[0]):.0f}"
        return result(
            point,
            interval,
            f"the bootstrap interval is {width} points wide (limit {MAX_INTERVAL_PP:g})",
        )
    lo, hi = max(0.0, interval[0] - MODEL_MARGIN), min(1.0, interval[1] + MODEL_MARGIN)
    return result(point, (lo, hi), None)


def _small(fraction: float) -> str:
    return f"sampling fraction {fraction:.3%} is below the validated {MIN_FRACTION:.1%}"


def _bootstrap(h: np.ndarray, population: float, seed: int) -> tuple[float, float] | None:
    """95 % percentile interval of the Poisson-gamma share over class resamples."""
    sizes = np.nonzero(h)[0]
    sizes = sizes[sizes > 0]
    counts = h[sizes].astype(np.float64)
    u = int(counts.sum())
    rng = stream(seed, Stream.RISK_BOOTSTRAP)
    draws = rng.multinomial(u, counts / counts.sum(), size=BOOTSTRAP_REPLICATES).astype(np.float64)
    n = draws @ sizes.astype(np.float64)
    f1 = draws[:, sizes == 1].sum(axis=1)
    f2 = draws[:, sizes == 2].sum(axis=1)
    shares = _pg_share_vec(f1, f2, n, n / population)
    shares = shares[np.isfinite(shares)]
    if shares.size < 0.9 * BOOTSTRAP_REPLICATES:
        return None
    lo, hi = np.quantile(shares, [0.025, 0.975])
    return float(lo), float(hi)
