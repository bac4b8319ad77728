"""After the joins: what the platform learns about membership, and the customer file's
re-identification risk per quasi-identifier set."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from matchsim.experiment.config import Experiment
from matchsim.experiment.results import MembershipResult, RiskRow, SkippedRisk
from matchsim.rng import Stream, stream


def membership(experiment: Experiment, join: Any, platform_users: int) -> MembershipResult:
    """What the platform learns per advertiser: which users are its customers.

    Each advertiser's customers are a seeded share of the customer file (several
    advertisers may share a customer); its matched users are those the deterministic
    join matched from its rows.
    """
    from matchsim.arrays import sorted_unique
    from matchsim.risk import Upload
    from matchsim.risk import membership as accumulate

    pairs = join.result.pairs
    rows = np.concatenate([r for r, _ in pairs.values()]) if pairs else np.zeros(0, np.int64)
    users = np.concatenate([u for _, u in pairs.values()]) if pairs else np.zeros(0, np.int64)
    rng = stream(experiment.seed, Stream.ADVERTISERS)
    uploads, sizes = [], []
    for advertiser in experiment.advertisers:
        mine = rng.random(join.result.n_rows) < advertiser.share
        uids = sorted_unique(users[mine[rows]]) if rows.size else np.zeros(0, np.int64)
        uploads.append(
            Upload(advertiser.name, uids, sensitive=advertiser.sensitive, category=advertiser.label)
        )
        sizes.append(int(uids.size))
    report = accumulate(uploads, platform_users).to_dict()
    return MembershipResult(
        advertisers=[
            {"name": a.name, "label": a.label, "sensitive": a.sensitive, "users": n}
            for a, n in zip(experiment.advertisers, sizes, strict=True)
        ],
        sensitive_users=report["users_with_sensitive_attribute"],
        sensitive_labels=sorted({a.label for a in experiment.advertisers if a.sensitive}),
        details=report,
    )


def risk(
    experiment: Experiment, customers: Path, pop_dir: Path, region: str
) -> list[RiskRow | SkippedRisk]:
    """One row per quasi-identifier set: classes, ARX risks, the population estimate."""
    from matchsim.risk import risk_section

    section = risk_section(
        customers,
        platform=pop_dir / "platform.parquet",
        qi_sets=experiment.qi_sets,
        country=region,
    )
    return [_risk_row(q) for q in section["quasi_identifiers"]]


def _risk_row(q: dict[str, Any]) -> RiskRow | SkippedRisk:
    if "skipped" in q:
        return SkippedRisk(qi=q["qi"], skipped=q["skipped"])
    est = q.get("population_estimate") or {}
    return RiskRow(
        qi=q["qi"],
        records=q["records"],
        classes=q["classes"],
        k=q["k_anonymity"],
        unique_records=q["unique_records"],
        unique_share=q["share_unique"],
        prosecutor_average=q["prosecutor"]["average"],
        journalist_average=q["journalist"]["average"],
        marketer=q["marketer"]["average"],
        # the validated estimate, or None where the sample cannot support one
        population_unique_share=est.get("share_unique"),
        population_model=est.get("model") if est.get("supported") else None,
        population_interval=est.get("interval"),
        population_declined=(q.get("population_unique") or {}).get("declined"),
        expected_unique_share=(q.get("expected") or {}).get("share_unique"),
        keyspace=q.get("keyspace"),
        class_size_histogram=_histogram(q.get("records_by_class_size") or {}),
    )


def _histogram(by_size: dict[str, int]) -> list[list[int]]:
    """``{"1": 5, "2-3": 7}`` -> ``[[1, 5], [2, 7]]``: each bucket at its lower bound."""
    pairs = []
    for k, v in by_size.items():
        digits = re.match(r"\d+", k)
        if digits:
            pairs.append([int(digits.group(0)), int(v)])
    return sorted(pairs)
