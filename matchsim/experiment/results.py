"""What each stage of a run returns: typed results, each with ``to_dict()`` for ``results.json``.

``Results.to_dict()`` is ``results.json`` (schema in ``docs/results.md``; a test checks
that every documented key is emitted and every emitted key documented). Attack rows and
the stages' own detail sections stay the dictionaries their stages produce
(``attack.reidentify``, ``risk.membership``, the optional sections' ``to_dict()``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _schema() -> str:
    # imported here: the report package loads matplotlib, which validation never needs
    from matchsim.report.validate import RESULTS_SCHEMA

    return RESULTS_SCHEMA


@dataclass
class SchemeResult:
    """One ``schemes[]`` entry: a scheme's upload, join, attacks and cost."""

    name: str
    label: str
    params: dict[str, Any]
    threat: str
    weak: bool
    deterministic: bool
    needs_secret: bool
    secret_source: str | None
    upload: dict[str, Any]
    join: dict[str, Any]
    learns: str
    attacks: list[dict[str, Any]] = field(default_factory=list)
    phone_share: float | None = None
    email_share: float | None = None
    reidentify_share: float | None = None  # emitted only when a reidentify attack has one
    reverse_seconds: float | None = None
    cost: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        if out["reidentify_share"] is None:
            del out["reidentify_share"]
        return out


@dataclass
class ComparisonRow:
    """A ``schemes[]`` row for an alternative that is not a hashing scheme (PSI, CLK)."""

    name: str
    label: str
    kind: str
    threat: str
    deterministic: bool
    needs_secret: bool
    join: dict[str, Any]
    phone_share: float | None
    email_share: float | None
    reverse_seconds: float | None
    cost: dict[str, Any]
    outsider_can: str  # what an outsider can do, for the who matrix
    learns: str
    attacks: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RiskRow:
    """One ``risk[]`` entry: a quasi-identifier set on the customer file."""

    qi: list[str]
    records: int
    classes: int
    k: int
    unique_records: int
    unique_share: float
    prosecutor_average: float
    journalist_average: float
    marketer: float
    population_unique_share: float | None
    population_model: str | None
    population_interval: list[float] | None
    population_declined: str | None
    expected_unique_share: float | None
    keyspace: dict[str, Any] | None
    class_size_histogram: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SkippedRisk:
    """A ``risk[]`` entry for a quasi-identifier set the file cannot be assessed on."""

    qi: list[str]
    skipped: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class MembershipResult:
    """``membership``: what the platform learns about who is whose customer."""

    advertisers: list[dict[str, Any]]
    sensitive_users: int
    sensitive_labels: list[str]
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SectionResult:
    """An optional section's result: the answer, a table, the stage's own ``to_dict()``."""

    text: str
    summary: dict[str, Any]
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Results:
    """Everything ``results.json`` holds, in the order the stages produce it."""

    experiment: dict[str, Any]
    population: dict[str, Any]
    advertisers: list[dict[str, Any]]
    platform: dict[str, Any]
    schemes: list[SchemeResult | ComparisonRow] = field(default_factory=list)
    membership: MembershipResult | None = None
    risk: list[RiskRow | SkippedRisk] | None = None
    sections: dict[str, SectionResult] = field(default_factory=dict)
    who: dict[str, Any] | None = None
    schema: str = field(default_factory=_schema)
    matchsim_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": self.schema,
            "matchsim_version": self.matchsim_version,
            "experiment": self.experiment,
            "population": self.population,
            "advertisers": self.advertisers,
            "platform": self.platform,
            "schemes": [s.to_dict() for s in self.schemes],
        }
        if self.membership is not None:
            out["membership"] = self.membership.to_dict()
        if self.risk is not None:
            out["risk"] = [r.to_dict() for r in self.risk]
        out.update({key: section.to_dict() for key, section in self.sections.items()})
        if self.who is not None:
            out["who"] = self.who
        return out


__all__ = [
    "ComparisonRow",
    "MembershipResult",
    "Results",
    "RiskRow",
    "SchemeResult",
    "SectionResult",
    "SkippedRisk",
]
