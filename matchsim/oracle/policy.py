"""How the platform reports an audience size: the obfuscation rules, as data.

A :class:`Policy` turns the true number of distinct matched accounts into what the
advertiser sees. The 2017-style rules (Facebook, as Venkatadri et al. measured them) are
rounding to a granularity with a reporting floor; the mitigations are no estimates for
customer lists, ranges instead of values, minimum audience thresholds (clean rooms use
anything from 2 to 100,000 distinct identities: set ``floor``), and noise on the count
(Laplace or Gaussian, sensitivity 1) paid for from a privacy budget that is refreshed
every day or month.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from matchsim.oracle._validate import Fields

Status = Literal["ok", "below_floor", "unavailable", "budget_exhausted"]
NOISES = ("none", "laplace", "gaussian")
PERIODS = {"day": 1, "week": 7, "month": 30}


@dataclass(frozen=True)
class Estimate:
    """One answer of the audience-size API.

    Attributes:
        status: ``ok``; ``below_floor`` (only "fewer than ``high``" is shown);
            ``unavailable`` (no estimates for this kind of audience); ``budget_exhausted``
            (no answer until the budget is refreshed).
        low, high: the reported value (``low == high``) or range ``[low, high)``.
    """

    status: Status
    low: float | None = None
    high: float | None = None

    @property
    def key(self) -> float | None:
        """An ordinal an attacker can compare: below the floor is -1, no answer is None."""
        if self.status == "ok":
            return self.low
        if self.status == "below_floor":
            return -1.0
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Policy:
    """The platform's reporting rules for audience-size estimates.

    Attributes:
        name: label in results.
        customer_lists: give estimates for customer-list audiences at all (False: the
            Dec 2017 fix).
        granularity: round the (noisy) count to the nearest multiple of this (1: exact).
        floor: counts below this are shown only as "below ``floor``" (a reporting floor,
            or a clean room's minimum audience threshold).
        ranges: ratio between consecutive range edges starting at ``floor`` (0: report a
            value, not a range); e.g. 2 gives [1000, 2000), [2000, 4000), ...
        noise: ``none``, ``laplace`` or ``gaussian`` noise on the count (sensitivity 1).
        epsilon: privacy cost of one query (sets the noise scale).
        delta: the Gaussian mechanism's delta.
        budget: epsilon available per period (``inf``: unlimited queries).
        period: ``day``, ``week`` or ``month``: how often the budget is refreshed.
        difference_check: refuse (report as below the floor) an answer whose set of
            accounts differs from an earlier answered one by 1 to ``floor - 1`` accounts
            (Ads Data Hub's "difference checks", as matchsim models them).
    """

    name: str = "2017"
    customer_lists: bool = True
    granularity: int = 10
    floor: int = 20
    ranges: float = 0.0
    noise: str = "none"
    epsilon: float = 1.0
    delta: float = 1e-6
    budget: float = math.inf
    period: str = "day"
    difference_check: bool = False

    @classmethod
    def from_dict(cls, d: Any, where: str = "policy") -> tuple[Policy, list[str]]:
        """The policy described by ``d`` and every problem found (``location: message``)."""
        f = Fields(d, where)
        p = cls(
            name=f.string("name", cls.name),
            customer_lists=f.boolean("customer_lists", True),
            granularity=f.integer("granularity", cls.granularity, 1),
            floor=f.integer("floor", cls.floor, 0),
            ranges=f.number("ranges", 0.0, 0.0),
            noise=f.string("noise", "none", NOISES),
            epsilon=f.number("epsilon", 1.0, positive=True),
            delta=f.number("delta", 1e-6, 0.0, 1.0),
            budget=f.number("budget", math.inf, positive=True),
            period=f.string("period", "day", tuple(PERIODS)),
            difference_check=f.boolean("difference_check", False),
        )
        if p.ranges and p.ranges <= 1:
            f.problem("ranges", f"the ratio between range edges must be > 1, got {p.ranges}")
        if p.ranges and p.floor < 1:
            f.problem("floor", "ranges need a floor >= 1 (the lowest range edge)")
        if p.noise == "gaussian" and not 0 < p.delta < 1:
            f.problem("delta", "the Gaussian mechanism needs 0 < delta < 1")
        return p, f.finish()

    @property
    def noise_sd(self) -> float:
        """Standard deviation of the noise on one count (0 without noise)."""
        if self.noise == "laplace":
            return math.sqrt(2.0) / self.epsilon
        if self.noise == "gaussian":
            return math.sqrt(2.0 * math.log(1.25 / self.delta)) / self.epsilon
        return 0.0

    @property
    def queries_per_period(self) -> float:
        """How many queries the budget allows per period (inf without a budget)."""
        if math.isinf(self.budget) or self.noise == "none":
            return math.inf
        return math.floor(self.budget / self.epsilon + 1e-9)

    def report(self, count: int, rng: np.random.Generator) -> Estimate:
        """What the advertiser sees for ``count`` distinct matched accounts."""
        if not self.customer_lists:
            return Estimate("unavailable")
        value = float(count)
        if self.noise == "laplace":
            value += rng.laplace(0.0, 1.0 / self.epsilon)
        elif self.noise == "gaussian":
            value += rng.normal(0.0, self.noise_sd)
        if value < self.floor:
            return Estimate("below_floor", None, float(self.floor))
        if self.ranges:
            j = math.floor(math.log(value / self.floor) / math.log(self.ranges) + 1e-12)
            low = self.floor * self.ranges**j
            return Estimate("ok", float(round(low)), float(round(low * self.ranges)))
        rounded = float(self.granularity * math.floor(value / self.granularity + 0.5))
        return Estimate("ok", rounded, rounded)

    def keys(
        self, counts: np.ndarray, rng: np.random.Generator, *, noise_scale: float = 1.0
    ) -> np.ndarray:
        """:meth:`report`'s ordinal (:attr:`Estimate.key`) for many counts at once.

        ``counts`` may have any shape; each element gets its own noise draw. Below the
        floor is ``-1``; without customer-list estimates every key is NaN. ``noise_scale``
        multiplies the published noise scale: 1 is the policy as documented, anything
        else is a deliberately *mis*-implemented mechanism (fidelity tests only).
        """
        values = np.asarray(counts, dtype=np.float64)
        if not self.customer_lists:
            return np.full(values.shape, np.nan)
        if self.noise == "laplace":
            values = values + rng.laplace(0.0, noise_scale / self.epsilon, values.shape)
        elif self.noise == "gaussian":
            values = values + rng.normal(0.0, noise_scale * self.noise_sd, values.shape)
        below = values < self.floor
        if self.ranges:
            safe = np.where(below, float(max(self.floor, 1)), values)
            j = np.floor(np.log(safe / self.floor) / math.log(self.ranges) + 1e-12)
            out = np.round(self.floor * self.ranges**j)
        else:
            out = self.granularity * np.floor(values / self.granularity + 0.5)
        return np.where(below, -1.0, out)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["budget"] = None if math.isinf(self.budget) else self.budget
        d["noise_sd"] = self.noise_sd
        qpp = self.queries_per_period
        d["queries_per_period"] = None if math.isinf(qpp) else qpp
        return d
