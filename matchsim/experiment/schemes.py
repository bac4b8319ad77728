"""The scheme stage of a run: per scheme, the advertiser hashes, the platform joins, the
outsider attacks; out comes one :class:`~matchsim.experiment.results.SchemeResult`.

The advertiser hashes its customer file under its profile (``hash_file``), the platform
hashes its own users under its profile with the same scheme and secret and joins
(``join_files``), and an outsider who holds only the upload runs the experiment's
attacks (:mod:`matchsim.experiment.attacks`). Ground truth is read only by evaluation.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matchsim.experiment.attacks import HashedValues, attack
from matchsim.experiment.config import SchemeSpec
from matchsim.experiment.context import RunContext
from matchsim.experiment.costs import cost_for
from matchsim.experiment.results import SchemeResult
from matchsim.report.sentences import platform_learns
from matchsim.secrets import Secret, load_secret


def secret_for(spec: SchemeSpec, needs_secret: bool) -> Secret | None:
    """The scheme's shared secret: from the named file/variable, else fresh for this run."""
    if not needs_secret:
        return None
    if spec.key_env or spec.key_file:
        return load_secret(file=spec.key_file, env=spec.key_env, what=f"{spec.name} key")
    return Secret(os.urandom(32), "generated for this run")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "scheme"


@dataclass
class _Prepared:
    """A scheme made ready for one run: its class, secret, parameters, upload path."""

    spec: SchemeSpec
    cls: Any
    scheme: Any
    secret: Secret | None
    params: dict[str, Any]
    profile: Any
    slug: str
    upload: Path


def scheme_secret(spec: SchemeSpec) -> Secret | None:
    """The secret a scheme of this run uses (None for a scheme without one)."""
    from matchsim.schemes import SCHEMES

    return secret_for(spec, bool(getattr(SCHEMES[spec.name], "needs_secret", False)))


def prepare(ctx: RunContext, spec: SchemeSpec, index: int, secret: Secret | None) -> _Prepared:
    """Scheme ``index`` of the run made ready, under ``secret`` (:func:`scheme_secret`)."""
    from matchsim.normalise import get_profile
    from matchsim.schemes import SCHEMES, get_scheme

    profile = get_profile(ctx.experiment.advertisers[0].profile)
    cls = SCHEMES[spec.name]
    # The upload is written in the advertiser's profile's encoding unless the experiment
    # says otherwise (UID2 has its own); the platform parses it with the same parameters.
    params = cls.upload_params(spec.params, profile.encoding)
    slug = f"{index:02d}-{_slug(spec.label or spec.name)}"
    upload = ctx.folder / "uploads" / f"{slug}.csv"
    upload.parent.mkdir(exist_ok=True)
    scheme = get_scheme(spec.name, secret=secret, **params)
    return _Prepared(spec, cls, scheme, secret, params, profile, slug, upload)


def run_scheme(
    ctx: RunContext, spec: SchemeSpec, index: int, prices: dict[str, Any] | None,
    hashed: HashedValues,
) -> tuple[SchemeResult, Any]:  # fmt: skip
    """Hash, join and attack under one scheme; the result row and the join (for membership)."""
    p = prepare(ctx, spec, index, scheme_secret(spec))
    summary, join = hash_and_join(ctx, p)
    entry = scheme_entry(ctx, p, summary.as_dict(), join.report)
    attack_all(ctx, p, prices, hashed).apply(entry)
    return entry, join


def hash_and_join(ctx: RunContext, p: _Prepared) -> tuple[Any, Any]:
    """The advertiser's upload, then the platform's join of it: (hash summary, join)."""
    summary = hash_upload(ctx, p)
    join = join_upload(ctx, p)
    ctx.step("hash", {"scheme": p.spec, "upload": p.upload, "summary": summary.as_dict()})
    ctx.step("join", {"scheme": p.spec, "report": join.report})
    return summary, join


def hash_upload(ctx: RunContext, p: _Prepared) -> Any:
    """The advertiser hashes its customer file under the scheme; the upload's summary."""
    from matchsim.upload.write import hash_file

    with ctx.stages.stage(f"hash {p.spec.name}"):
        return hash_file(
            ctx.customers, profile=p.profile, scheme=p.scheme, region=ctx.region, out=p.upload
        )


def join_upload(ctx: RunContext, p: _Prepared) -> Any:
    """The platform joins the scheme's upload (written by :func:`hash_upload`)."""
    from matchsim.join.run import join_files

    experiment = ctx.experiment
    with ctx.stages.stage(f"join {p.spec.name}"):
        return join_files(
            ctx.pop_dir,
            p.upload,
            profile=experiment.platform_profile,
            scheme=p.spec.name,
            scheme_params=p.params,
            secret=p.secret,
            out=ctx.folder / "joins" / p.slug,
            engine=experiment.engine,
            engine_options={"scheduler": experiment.scheduler} if experiment.scheduler else {},
            truth=ctx.pop_dir / "truth.parquet",
            force=True,
            progress=ctx.progress,
            # a population made for this run alone: share its normalised platform across
            # the schemes, but write no digest index that no later join would read
            index=True if experiment.population_path is not None else "normalised",
        )


_JOIN_KEYS = {
    "match_rate": "match_rate", "uploaded_rows": "rows", "accepted_rows": "accepted_rows",
    "matched_rows": "matched_rows", "matched_users": "matched_users", "per_key": "per_key",
    "rejected": "rejected", "evaluation": "evaluation", "join_seconds": "join_seconds",
}  # fmt: skip


def scheme_entry(
    ctx: RunContext, p: _Prepared, summary: dict[str, Any], report: dict[str, Any]
) -> SchemeResult:
    """The scheme's ``schemes[]`` row from its hash summary and join report (no attacks)."""
    folder = ctx.folder
    return SchemeResult(
        name=p.spec.name,
        label=p.spec.title,
        params=dict(p.spec.params),
        threat=getattr(p.cls, "threat", ""),
        weak=bool(getattr(p.cls, "weak", False)),
        deterministic=bool(getattr(p.scheme, "deterministic", True)),
        needs_secret=bool(getattr(p.cls, "needs_secret", False)),
        secret_source=None if p.secret is None else p.secret.source,
        upload={
            "path": str(p.upload.relative_to(folder)),
            "rows": summary.get("rows_in"),
            # paths inside the run folder are given relative to it (the folder moves)
            "summary": {k: v for k, v in summary.items() if k not in ("input", "out", "rejects")},
        },
        join={
            "path": str((folder / "joins" / p.slug).relative_to(folder)),
            **{key: report.get(source) for key, source in _JOIN_KEYS.items()},
        },
        learns=platform_learns(report),
    )


@dataclass
class AttackOutcome:
    """What a scheme's attacks add to its row (:meth:`apply` writes it there)."""

    attacks: list[dict[str, Any]] = field(default_factory=list)
    shares: dict[str, Any] = field(default_factory=dict)
    reverse_seconds: float | None = None
    cost: dict[str, Any] | None = None

    def apply(self, entry: SchemeResult) -> None:
        entry.attacks.extend(self.attacks)
        for kind, share in self.shares.items():
            setattr(entry, f"{kind}_share", share)
        entry.reverse_seconds = self.reverse_seconds
        entry.cost = self.cost


def attack_all(
    ctx: RunContext, p: _Prepared, prices: dict[str, Any] | None, hashed: HashedValues,
) -> AttackOutcome:  # fmt: skip
    """Every attack of the experiment on this scheme's upload (needs only the upload)."""
    out = AttackOutcome()
    recovered: dict[str, Any] = {}  # field -> what this upload's phone/email attack reversed
    for spec in ctx.experiment.attacks:
        ctx.step("attack start", {"scheme": p.spec, "attack": spec})
        with ctx.stages.stage(f"attack {spec.kind} {p.spec.name}"):
            result = attack(spec, p.spec, p.scheme, p.secret, p.upload, p.profile, ctx.region,
                            ctx.progress, hashed, recovered)  # fmt: skip
        out.attacks.append(result)
        ctx.step("attack", {"scheme": p.spec, "attack": spec, "result": result})
        if result.get("share") is not None:
            out.shares[spec.kind] = result["share"]
        if spec.kind == "phone":
            out.reverse_seconds = result.get("seconds") if result.get("recovered") else None
            if prices is not None:
                out.cost = cost_for(p.spec.name, result, prices)
    return out
