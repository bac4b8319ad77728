"""Membership attacks through an audience-size or clean-room count, target by target.

Each tactic is the advertiser's side only: it holds its own customer e-mails (its padding
list and decoys), the targets' e-mail addresses, and an
:class:`~matchsim.oracle.api.AudienceSizeAPI` handle; it decides "member" or "not" (or
gives up: ``None``). Scoring against ground truth is the caller's (evaluation) job.

* :func:`padding` — Venkatadri et al. (IEEE S&P 2018): pad with the attacker's own
  decoys until the audience sits one below a reporting boundary (the floor, a rounding or
  a range edge), add the target, see whether the estimate moves. Under a floor ``F``
  without noise the boundary is reached with exactly ``F − 1`` matched decoys.
* :func:`differencing` — two audiences that differ by the target alone: ``est(B ∪ {x}) −
  est(B)``; with noise, each side averaged over as many answers as the published noise
  needs (:func:`~matchsim.oracle.dp.answers_for_accuracy`), paid across budget periods.
* :func:`split_differencing` — against a *difference check* (refuse answers that differ
  from an earlier one by fewer than ``floor`` people): ``est(B ∪ D ∪ {x}) − est(B) −
  est(D)`` with two disjoint halves of the attacker's list, every pair of queries far
  apart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from matchsim.join.identity import hash_identifiers
from matchsim.oracle.api import AudienceSizeAPI
from matchsim.oracle.attack import GaveUp, Prober
from matchsim.oracle.dp import answers_for_accuracy


@dataclass
class TacticResult:
    """What one tactic decided per target, and what it cost the attacker."""

    tactic: str
    guesses: list[bool | None]
    queries: int = 0
    refused: int = 0
    uploads: int = 0
    uploaded_records: int = 0
    days: int = 0
    answers_per_test: int = 1
    decoys: list[int] = field(default_factory=list)
    reason: str = ""
    waves: int = 2
    """Rounds of uploads that must be processed one after another (time = waves x
    the platform's processing time)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "tactic": self.tactic,
            "queries": self.queries,
            "refused": self.refused,
            "uploads": self.uploads,
            "uploaded_records": self.uploaded_records,
            "days": self.days,
            "answers_per_test": self.answers_per_test,
            "decided": sum(g is not None for g in self.guesses),
            "waves": self.waves,
            "reason": self.reason,
        }


def _finish(result: TacticResult, api: AudienceSizeAPI) -> TacticResult:
    u = api.usage
    result.queries, result.refused, result.uploads = u.queries, u.refused, u.uploads
    result.uploaded_records, result.days = u.uploaded_records, u.day
    return result


def _hash(api: AudienceSizeAPI, emails: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    return hash_identifiers(
        pa.array(list(emails), pa.string()), "email", api.region, api.profile, api.scheme
    )


def _answers(api: AudienceSizeAPI, audiences: Sequence[int], n: int, max_days: int) -> float:
    """Mean ordinal of ``n`` answers, waiting out empty budgets (GaveUp past max_days)."""
    got: list[np.ndarray] = []
    need = n
    while need > 0:
        keys = api.estimate_many(audiences, need)
        if keys.size and np.isnan(keys).all():
            raise GaveUp("no estimate for customer-list audiences")
        got.append(keys)
        need -= keys.size
        if need > 0 and api.wait_for_refresh() > max_days:
            raise GaveUp("out of time")
    return float(np.concatenate(got).mean())


def padding(
    api: AudienceSizeAPI, pool: Sequence[str], targets: Sequence[str], *, max_days: int = 365
) -> TacticResult:
    """Venkatadri padding against the empty audience: a target is on the platform when
    adding it to decoys one below a boundary moves the estimate."""
    prober = Prober(api, list(pool), max_days=max_days, repeats=1)
    out = TacticResult("padding", [])
    tdata, tvalid = _hash(api, targets)
    for i in range(len(targets)):
        try:
            t = api.upload("email", tdata[i : i + 1], tvalid[i : i + 1])
            k, before = prober._boundary([])
            out.decoys.append(k)
            after = prober.ask([*prober.pad(k), t])
            out.guesses.append(after != before)
        except GaveUp as stop:
            out.guesses.append(None)
            out.reason = stop.reason
    out.waves = len(prober._pads) + 1  # the binary search uploads pads one at a time
    return _finish(out, api)


def differencing(
    api: AudienceSizeAPI,
    pool: Sequence[str],
    targets: Sequence[str],
    *,
    accuracy: float = 0.99,
    max_days: int = 365,
) -> TacticResult:
    """``est(B ∪ {x}) − est(B)`` with ``B`` the attacker's whole list, each side averaged
    over as many answers as the published noise requires for ``accuracy``."""
    m = int(min(answers_for_accuracy(api.policy, accuracy, sides=2), 10**7))
    out = TacticResult("differencing" if m == 1 else "averaging", [], answers_per_test=m)
    data, valid = _hash(api, pool)
    base = api.upload("email", data, valid)
    try:
        without = _answers(api, [base], m, max_days)
    except GaveUp as stop:
        out.guesses = [None] * len(targets)
        out.reason = stop.reason
        return _finish(out, api)
    tdata, tvalid = _hash(api, targets)
    for i in range(len(targets)):
        try:
            t = api.upload("email", tdata[i : i + 1], tvalid[i : i + 1])
            with_x = _answers(api, [base, t], m, max_days)
            out.guesses.append(None if without < 0 and with_x < 0 else with_x - without > 0.5)
        except GaveUp as stop:
            out.guesses.append(None)
            out.reason = stop.reason
    if without < 0:
        out.reason = "the attacker's whole list stays below the floor"
    return _finish(out, api)


def split_differencing(
    api: AudienceSizeAPI, pool: Sequence[str], targets: Sequence[str], *, max_days: int = 365
) -> TacticResult:
    """``est(B ∪ D_i ∪ {x_i}) − est(B) − est(D_i)`` against a difference check.

    ``B`` is half the attacker's list; the other half is cut into blocks of about
    ``floor`` matched accounts each (sized from the match rate ``est(B)`` revealed), and
    target ``i`` gets its own pair of blocks ``D_i``. Any two answers then differ by at
    least a block or the base, so the check lets them through; exact counts do the rest.
    """
    out = TacticResult("split differencing", [])
    half = len(pool) // 2
    db, vb = _hash(api, pool[:half])
    b = api.upload("email", db, vb)
    try:
        sb = _answers(api, [b], 1, max_days)
    except GaveUp as stop:
        out.guesses, out.reason = [None] * len(targets), stop.reason
        return _finish(out, api)
    if sb < 0:
        out.guesses, out.reason = [None] * len(targets), "half of the list is below the floor"
        return _finish(out, api)
    rate = max(sb / max(half, 1), 1e-3)
    size = max(1, math.ceil(max(api.policy.floor, 1) / rate))
    rest = list(pool[half:])
    blocks = []
    for j in range(len(rest) // size):
        dd, vd = _hash(api, rest[j * size : (j + 1) * size])
        blocks.append(api.upload("email", dd, vd))
    pairs = [(i, j) for i in range(len(blocks)) for j in range(i + 1, len(blocks))]
    dx_all, vx_all = _hash(api, targets)
    for n in range(len(targets)):
        if n >= len(pairs):
            out.guesses.append(None)
            out.reason = "decoy list exhausted: one pair of blocks per target"
            continue
        d = [blocks[k] for k in pairs[n]]
        t = api.upload("email", dx_all[n : n + 1], vx_all[n : n + 1])
        try:
            sd = _answers(api, d, 1, max_days)
            total = _answers(api, [b, *d, t], 1, max_days)
        except GaveUp as stop:
            out.guesses.append(None)
            out.reason = stop.reason
            continue
        out.guesses.append(None if total < 0 or sd < 0 else total - sb - sd > 0.5)
    out.waves = 2
    return _finish(out, api)


def score(guesses: Sequence[bool | None], truth: Sequence[bool]) -> dict[str, Any]:
    """Evaluation: success share (undecided counts as failure), TPR, FPR, advantage."""
    t = np.asarray(truth, dtype=bool)
    g = np.array([bool(x) for x in guesses], dtype=bool)
    decided = np.array([x is not None for x in guesses], dtype=bool)
    right = decided & (g == t)
    tpr = float(g[t].mean()) if t.any() else math.nan
    fpr = float(g[~t].mean()) if (~t).any() else math.nan
    return {
        "targets": int(t.size),
        "decided": int(decided.sum()),
        "success": float(right.mean()) if t.size else 0.0,
        "members_learned": float((right & t).sum() / max(1, t.sum())),
        "tpr": tpr,
        "fpr": fpr,
        "advantage": tpr - fpr,
    }
