"""The attack stage of a run: one attack on one scheme's upload, then its scoring.

The attacker holds the upload (and, where the experiment says so, the secret); the
evaluation afterwards reads what the advertiser hashed (:class:`HashedValues`), which the
attack never sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from matchsim.experiment.config import AttackSpec, SchemeSpec
from matchsim.io import read_parquet
from matchsim.secrets import Secret

ProgressFn = Callable[[str, int, int], None]


class HashedValues:
    """The customers' fields as a profile normalised them for hashing, read once per run.

    Every scheme of an experiment hashes the same normalised values, so scoring the
    attacks on each scheme reads and normalises each field only once.
    """

    def __init__(self, customers: Path, region: str) -> None:
        self.customers = customers
        self.region = region
        self._values: dict[tuple[str, str], pa.Array] = {}

    def get(self, field: str, profile: Any) -> pa.Array:
        from matchsim.normalise import INPUT_COLUMNS

        key = (field, profile.name)
        if key not in self._values:
            column = read_parquet(self.customers, [INPUT_COLUMNS[field]]).column(0)
            self._values[key] = profile.normalise(field, column, self.region).values
        return self._values[key]


def score(result: Any, hashed: HashedValues, field: str, profile: Any) -> dict[str, float]:
    """Evaluation only: the attack's precision and recall against the values it hid.

    The truth of upload row ``i`` is customer row ``i``'s value as the advertiser's profile
    normalised it (what was hashed). This runs after the attack, which never saw it.
    """
    truth = hashed.get(field, profile).take(pa.array(result.targets.rows))
    scored: dict[str, float] = result.score(truth)
    return scored


def attack(
    spec: AttackSpec,
    scheme_spec: SchemeSpec,
    scheme: Any,
    secret: Secret | None,
    upload: Path,
    profile: Any,
    region: str,
    progress: ProgressFn | None,
    hashed: HashedValues,
    recovered: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One attack on one upload, by an attacker holding the upload (and maybe the key).

    ``recovered`` collects what the phone and e-mail attacks reversed, per field, and is
    handed to a later ``reidentify`` attack on the same upload, which reuses it instead of
    enumerating those columns again."""
    job = _Job(scheme.attacker_view(spec.knows_secret and secret is not None), upload, profile,
               region, progress, hashed, recovered)  # fmt: skip
    return _reidentify(spec, job) if spec.kind == "reidentify" else _enumerate(spec, job)


@dataclass(frozen=True)
class _Job:
    """What one attack works with: the attacker's view of the scheme, the upload, and
    (for scoring afterwards) the values the advertiser hashed."""

    view: Any
    upload: Path
    profile: Any
    region: str
    progress: ProgressFn | None
    hashed: HashedValues
    recovered: dict[str, Any] | None


def _reidentify(spec: AttackSpec, job: _Job) -> dict[str, Any]:
    from matchsim.attack import Knowledge
    from matchsim.attack.reidentify import experiment_attack
    from matchsim.schemes import NotEnumerable

    view = job.view
    keyed = isinstance(view, Knowledge) and (view.hmac_key or view.pepper)
    why_not = view.reason if isinstance(view, NotEnumerable) else None
    return experiment_attack(spec, view if keyed else None, job.upload, job.profile, job.region,
                             job.hashed.customers.parent, job.progress, job.recovered,
                             not_enumerable=why_not)  # fmt: skip


def _enumerate(spec: AttackSpec, job: _Job) -> dict[str, Any]:
    """A phone or e-mail attack: enumerate the keyspace against the upload's digests."""
    from matchsim.attack import load_targets, reverse
    from matchsim.attack.request import keyspace_for, phone_style_for
    from matchsim.attack.targets import NothingToAttack
    from matchsim.schemes import NotEnumerable

    view, profile = job.view, job.profile
    field = "phone" if spec.kind == "phone" else "email"
    out: dict[str, Any] = {"kind": spec.kind, "knows_secret": spec.knows_secret}
    if field not in profile.fields:
        return {**out, "feasible": False, "reason": f"{profile.name} takes no {field}"}
    if isinstance(view, NotEnumerable):
        return {**out, "feasible": False, "reason": view.reason}
    try:
        # the whole upload, kept: the run attacks it again (e-mail, re-identification)
        targets = load_targets(job.upload, profile.fields[field].column, keep_table=True)
    except NothingToAttack as exc:  # the scheme's output holds no digest to enumerate
        return {**out, "feasible": False, "reason": f"digests not enumerable: {exc.reason}"}
    if targets.n_distinct == 0:
        return {**out, "feasible": False, "reason": "no digests in the upload"}
    # Past this point the attack can work: an error in it is an error of the run, not
    # a "feasible: false" row (fail closed).
    # The attacker knows which numbers people carry (NL: 06, not 097 M2M ranges): the
    # same keyspace `matchsim attack` enumerates (matchsim.attack.request).
    keyspace = keyspace_for(
        spec.kind,
        region=job.region,
        number_type=spec.number_type,
        style=phone_style_for(profile.name) if spec.kind == "phone" else "digits",
        max_guesses=spec.guesses,
    )
    result = reverse(targets, keyspace, view, progress=job.progress)
    if job.recovered is not None:
        from matchsim.attack.reidentify import Recovered

        job.recovered[field] = Recovered.of(result, f"this run's {spec.kind} attack")
    return {**out, "feasible": True, "algorithm": view.describe(),
            **_figures(result), **score(result, job.hashed, field, profile)}  # fmt: skip


def _figures(result: Any) -> dict[str, Any]:
    """An enumeration's figures for ``results.json`` (``attacks[]`` in docs/results.md)."""
    seconds = result.seconds
    curve = result.guesswork()
    tried = max(result.candidates_tried, 1)
    return {
        "keyspace": result.keyspace,
        "keyspace_size": result.keyspace_size,
        "attempted": result.hashes_in,
        "distinct": result.distinct,
        "recovered": result.recovered_rows,
        "recovered_distinct": result.recovered_distinct,
        "share": result.share,
        "candidates": result.candidates_tried,
        "seconds": round(seconds, 3),
        "hashes_per_second": round(result.hashes_per_second),
        "curve": [[g, s] for g, s in curve],
        "time_curve": [[round(g * seconds / tried, 6), s] for g, s in curve],
    }
