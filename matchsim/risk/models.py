"""Re-identification risk of a released file: k-anonymity and ARX's three attacker models.

All measures are functions of the equivalence-class sizes (El Emam, *Guide to the
De-Identification of Personal Health Information*, 2013, ch. "Measuring the Probability
of Re-identification"; ARX ``RiskModelSampleSummary``). For a record in a class of
``f_j`` records in the released sample and ``F_j`` in the population the attacker
identifies people from:

- **prosecutor** (the attacker knows the target is in the file): record risk
  ``1 / f_j``; highest ``1 / min_j f_j = 1 / k``; average ``(number of classes) / n``.
- **journalist** (the attacker does not know whether the target is in the file and matches
  against a population register): record risk ``1 / F_j``; highest ``1 / min_j F_j``;
  average ``max(J / sum_j F_j, (1/n) sum_j f_j / F_j)`` over the ``J`` sample classes
  (ARX's rule). Without a population table ``F_j = f_j`` and journalist = prosecutor.
- **marketer** (re-identify as many records as possible, not one target): expected share
  re-identified ``(1/n) sum_j f_j / F_j``; with ``F_j = f_j`` this is ``J / n``.

*Records at risk* is the share of records whose record risk exceeds a threshold (ARX's
``rA``). Here the population is the data set the attacker links with - for matchsim the
platform's users - and a sample class whose combination does not occur there at all has
no candidate to re-identify: its journalist risk is 0 and it is counted separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class RiskSummary:
    """Highest, average and records-at-risk of one attacker model."""

    highest: float
    average: float
    records_at_risk: float

    def to_dict(self) -> dict[str, float]:
        return {
            "highest": self.highest,
            "average": self.average,
            "records_at_risk": self.records_at_risk,
        }


@dataclass(frozen=True)
class SampleRisk:
    """The class-size statistics and the three attacker models for one QI."""

    records: int
    classes: int
    k: int
    unique_records: int
    threshold: float
    prosecutor: RiskSummary
    journalist: RiskSummary
    marketer: float
    not_in_population: int | None = None

    @property
    def share_unique(self) -> float:
        return self.unique_records / self.records

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "records": self.records,
            "classes": self.classes,
            "k_anonymity": self.k,
            "unique_records": self.unique_records,
            "share_unique": self.share_unique,
            "threshold": self.threshold,
            "prosecutor": self.prosecutor.to_dict(),
            "journalist": self.journalist.to_dict(),
            "marketer": {"average": self.marketer},
        }
        if self.not_in_population is not None:
            out["records_not_in_population"] = self.not_in_population
        return out


def sample_risk(
    sizes: np.ndarray,
    population_sizes: np.ndarray | None = None,
    threshold: float = 0.2,
) -> SampleRisk:
    """Prosecutor, journalist and marketer risk from class sizes.

    Args:
        sizes: ``f_j``, records per class in the released file (all > 0).
        population_sizes: ``F_j`` for the same classes in the attacker's population table
            (0 where the combination does not occur there), or ``None``.
        threshold: a record is *at risk* when its risk exceeds this.
    """
    f = np.asarray(sizes, dtype=np.int64)
    n = int(f.sum())
    classes = int(f.shape[0])
    pros = RiskSummary(
        highest=1.0 / int(f.min()),
        average=classes / n,
        records_at_risk=float(f[1.0 / f > threshold].sum()) / n,
    )
    if population_sizes is None:
        journalist, marketer, missing = pros, classes / n, None
    else:
        big_f = np.asarray(population_sizes, dtype=np.int64)
        seen = big_f > 0
        missing = int(f[~seen].sum())
        fs, big_fs = f[seen], big_f[seen].astype(np.float64)
        if fs.size:
            ratio = float((fs / big_fs).sum()) / n
            journalist = RiskSummary(
                highest=1.0 / float(big_fs.min()),
                average=max(fs.size / float(big_fs.sum()), ratio),
                records_at_risk=float(fs[1.0 / big_fs > threshold].sum()) / n,
            )
        else:
            ratio = 0.0
            journalist = RiskSummary(0.0, 0.0, 0.0)
        marketer = ratio
    return SampleRisk(
        records=n,
        classes=classes,
        k=int(f.min()),
        unique_records=int((f == 1).sum()),
        threshold=threshold,
        prosecutor=pros,
        journalist=journalist,
        marketer=marketer,
        not_in_population=missing,
    )


def size_distribution(sizes: np.ndarray, limit: int = 10) -> dict[str, int]:
    """Records by class size, ``{"1": .., "2": .., ..., f"{limit}+": ..}``."""
    f = np.asarray(sizes, dtype=np.int64)
    records = np.bincount(np.minimum(f, limit), weights=f, minlength=limit + 1)
    out = {str(i): int(records[i]) for i in range(1, limit)}
    out[f"{limit}+"] = int(records[limit])
    return out
