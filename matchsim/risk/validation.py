"""Validation of the population-uniqueness estimators on a fully generated population.

The estimators of :mod:`matchsim.risk.uniqueness` guess how many people of a population
are unique on a quasi-identifier from a sample's class-size histogram. Here the *whole*
population is a table (``matchsim generate``'s platform.parquet: every person the
generator drew), so its uniques are counted exactly, not estimated. Samples are then drawn
from it and every estimator is scored against that count:

- **sampling**: a simple random sample of exactly ``n = round(pi N)`` people without
  replacement (``numpy``'s ``choice``), grouped by the class of each person drawn; the
  estimators see ``n`` and the true ``N``. (:func:`sample_histogram` is the Bernoulli
  variant, per class, for populations given only as class sizes.)
- **error**: estimated share unique minus true share unique, in percentage points; a
  failed fit (NaN) or a declined estimate is counted as such, not as an error.

:func:`validate` returns every (QI, fraction, seed, estimator) row;
:func:`summarise` the mean / largest error per cell; :func:`plot` draws error against
sampling fraction, one panel per QI, one line per estimator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from matchsim.risk.classes import (
    EquivalenceClasses,
    equivalence_classes,
    parse_qi,
    read_columns,
)
from matchsim.risk.uniqueness import (
    estimate_uniques,
    pitman,
    poisson_gamma,
    population_uniqueness,
    snb,
    zayatz,
)
from matchsim.rng import Stream, stream

Estimator = Callable[[np.ndarray, float], float]
"""``(sample histogram, N) -> estimated population uniques`` (NaN: no estimate)."""


def _dankar(h: np.ndarray, n_pop: float) -> float:
    return population_uniqueness(h, n_pop).dankar


def _rule(h: np.ndarray, n_pop: float) -> float:
    decision = estimate_uniques(h, n_pop)
    return math.nan if decision.uniques is None else decision.uniques


ESTIMATORS: dict[str, Estimator] = {
    "pitman": pitman,
    "zayatz": zayatz,
    "snb": snb,
    "dankar": _dankar,
    "poisson-gamma": poisson_gamma,
    "matchsim": _rule,
}
"""The estimators scored by default: the three models, ARX's Dankar rule, the person-weighted
Poisson-gamma model, and the rule
``matchsim risk`` uses (:func:`~matchsim.risk.uniqueness.estimate_uniques`), which may
decline (NaN here)."""


def _rule_interval(h: np.ndarray, n_pop: float) -> tuple[float, float] | None:
    decision = estimate_uniques(h, n_pop)
    return decision.interval if decision.supported else None


INTERVALS: dict[str, Callable[[np.ndarray, float], tuple[float, float] | None]] = {
    "matchsim": _rule_interval,
}
"""Estimators that also give an interval (shares): its coverage of the exact count is scored."""

FRACTIONS: tuple[float, ...] = (0.001, 0.01, 0.05, 0.1, 0.5)
QI_SETS: tuple[str, ...] = (
    "postcode:4,dob,gender",
    "postcode:3,dob,gender",
    "postcode:2,dob,gender",
    "postcode:4,dob:month,gender",
    "postcode:4,dob:year,gender",
)
"""Default QIs: from mostly unique to mostly not, on NL and US populations alike."""


def population_classes(population: str | Path | pa.Table, qi: str) -> EquivalenceClasses:
    """The population's equivalence classes on ``qi`` (exact)."""
    fields = parse_qi(qi)
    if isinstance(population, pa.Table):
        table = population
    else:
        table = read_columns(population, [f.column for f in fields])
    return equivalence_classes(table, qi)


def class_sizes(population: str | Path | pa.Table, qi: str) -> np.ndarray:
    """Sizes of the population's equivalence classes on ``qi`` (exact; int64)."""
    return population_classes(population, qi).sizes


def simple_random_sample(
    classes: EquivalenceClasses, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Class-size histogram of ``n`` people drawn without replacement."""
    people = rng.choice(classes.records, size=n, replace=False)
    counts = np.bincount(classes.row_class[people])
    return np.bincount(counts[counts > 0])


def sample_histogram(sizes: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Class-size histogram of a Bernoulli(``fraction``) sample of the population's people."""
    kept = rng.binomial(sizes, fraction)
    return np.bincount(kept[kept > 0])


@dataclass(frozen=True)
class Trial:
    """One estimator on one sample."""

    qi: str
    fraction: float  # the sampling fraction asked for
    seed: int
    estimator: str
    records: int  # n, the realised sample size
    sample_unique_share: float
    true_share: float
    estimated_share: float | None  # None: failed or declined
    covered: bool | None = None  # the exact share inside the estimator's interval

    @property
    def error_pp(self) -> float | None:
        if self.estimated_share is None:
            return None
        return 100.0 * (self.estimated_share - self.true_share)

    def to_dict(self) -> dict[str, Any]:
        return {
            "qi": self.qi,
            "fraction": self.fraction,
            "seed": self.seed,
            "estimator": self.estimator,
            "records": self.records,
            "sample_unique_share": self.sample_unique_share,
            "true_share": self.true_share,
            "estimated_share": self.estimated_share,
            "error_pp": self.error_pp,
            "covered": self.covered,
        }


def validate(
    population: str | Path | pa.Table,
    qi_sets: Sequence[str] = QI_SETS,
    fractions: Sequence[float] = FRACTIONS,
    seeds: Sequence[int] = (1, 2, 3),
    estimators: Mapping[str, Estimator] | None = None,
) -> list[Trial]:
    """Score ``estimators`` on samples of a fully enumerated population (see module doc)."""
    chosen = dict(ESTIMATORS if estimators is None else estimators)
    trials: list[Trial] = []
    for qi in qi_sets:
        classes = population_classes(population, qi)
        n_pop = float(classes.records)
        true_share = float((classes.sizes == 1).sum()) / n_pop
        for fraction in fractions:
            for seed in seeds:
                rng = stream(seed, Stream.RISK_VALIDATION, round(fraction * 1e6))
                h = simple_random_sample(classes, round(fraction * n_pop), rng)
                n = int(np.dot(np.arange(h.size), h))
                if n == 0:
                    continue
                share1 = float(h[1]) / n if h.size > 1 else 0.0
                for name, fn in chosen.items():
                    with np.errstate(all="ignore"):
                        value = float(fn(h, n_pop))
                    est = value / n_pop if math.isfinite(value) else None
                    covered = None
                    if name in INTERVALS and est is not None:
                        interval = INTERVALS[name](h, n_pop)
                        if interval is not None:
                            covered = interval[0] <= true_share <= interval[1]
                    trials.append(
                        Trial(qi, fraction, seed, name, n, share1, true_share, est, covered)
                    )
    return trials


def summarise(trials: Sequence[Trial]) -> list[dict[str, Any]]:
    """Per (QI, fraction, estimator): true share, mean and largest |error| (pp), failures."""
    cells: dict[tuple[str, float, str], list[Trial]] = {}
    for t in trials:
        cells.setdefault((t.qi, t.fraction, t.estimator), []).append(t)
    rows = []
    for (qi, fraction, name), group in cells.items():
        errors = [e for e in (t.error_pp for t in group) if e is not None]
        rows.append(
            {
                "qi": qi,
                "fraction": fraction,
                "estimator": name,
                "true_share": group[0].true_share,
                "sample_unique_share": float(np.mean([t.sample_unique_share for t in group])),
                "samples": len(group),
                "no_estimate": len(group) - len(errors),
                "mean_error_pp": float(np.mean(errors)) if errors else None,
                "max_abs_error_pp": float(np.max(np.abs(errors))) if errors else None,
                "covered": sum(1 for t in group if t.covered),
                "with_interval": sum(1 for t in group if t.covered is not None),
            }
        )
    return rows


def markdown_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The summary as a Markdown table (one row per QI and fraction, estimators across)."""
    names = list(dict.fromkeys(r["estimator"] for r in rows))
    keys = list(dict.fromkeys((r["qi"], r["fraction"]) for r in rows))
    by = {(r["qi"], r["fraction"], r["estimator"]): r for r in rows}
    head = "| QI | fraction | true unique | sample unique | " + " | ".join(names) + " |"
    lines = [head, "|" + "---|" * (4 + len(names))]
    for qi, fraction in keys:
        first = by[(qi, fraction, names[0])]
        cells = []
        for name in names:
            r = by.get((qi, fraction, name))
            if r is None or r["mean_error_pp"] is None:
                cells.append("—")
                continue
            text = f"{r['mean_error_pp']:+.1f} (≤{r['max_abs_error_pp']:.1f})"
            if r["no_estimate"]:
                text += f" [{r['no_estimate']}/{r['samples']} none]"
            if r["with_interval"]:
                text += f" {{{r['covered']}/{r['with_interval']} covered}}"
            cells.append(text)
        lines.append(
            f"| {qi} | {fraction:g} | {100 * first['true_share']:.1f} % "
            f"| {100 * first['sample_unique_share']:.1f} % | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def plot(trials: Sequence[Trial], out: str | Path, title: str = "") -> Path:
    """Error (pp) against sampling fraction, one panel per QI, one line per estimator.

    Lines join the mean error per fraction; the shaded band spans the smallest to the
    largest error over the seeds. Writes ``out`` (PNG or SVG by its suffix).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    qis = list(dict.fromkeys(t.qi for t in trials))
    names = list(dict.fromkeys(t.estimator for t in trials))
    cols = min(3, len(qis))
    rows = math.ceil(len(qis) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, qi in zip(axes.ravel(), qis, strict=False):
        true_share = next(t.true_share for t in trials if t.qi == qi)
        for name in names:
            pts: dict[float, list[float]] = {}
            for t in trials:
                if t.qi == qi and t.estimator == name and t.error_pp is not None:
                    pts.setdefault(t.fraction, []).append(t.error_pp)
            if not pts:
                continue
            xs = sorted(pts)
            mean = [float(np.mean(pts[x])) for x in xs]
            line = ax.plot(xs, mean, marker="o", label=name)[0]
            ax.fill_between(
                xs,
                [min(pts[x]) for x in xs],
                [max(pts[x]) for x in xs],
                color=line.get_color(),
                alpha=0.15,
            )
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=3.0, linscale=1.5)
        ticks = [-100, -30, -10, -3, 0, 3, 10, 30, 100]
        ax.set_yticks(ticks, [f"{t:+d}" if t else "0" for t in ticks])
        ax.set_ylim(-100, 100)
        ax.axhspan(-3, 3, color="grey", alpha=0.08, lw=0)
        ax.set_title(f"{qi} (true {100 * true_share:.1f} % unique)", fontsize=9)
        ax.set_xlabel("sampling fraction")
        ax.set_ylabel("error (percentage points)")
    for ax in axes.ravel()[len(qis) :]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def failures(trials: Sequence[Trial], tolerance_pp: float) -> dict[str, int]:
    """Per estimator: how many of its estimates missed the exact count by more than
    ``tolerance_pp`` points (declined or failed fits are not estimates, not failures)."""
    out: dict[str, int] = {}
    for t in trials:
        out.setdefault(t.estimator, 0)
        if t.error_pp is not None and abs(t.error_pp) > tolerance_pp:
            out[t.estimator] += 1
    return out
