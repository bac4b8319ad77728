"""``run_experiment``: generate -> normalise/hash -> join -> attack -> risk -> report.

The runner plays the three parties on one population. For each scheme of the experiment
the advertiser hashes its customer file under its profile (``hash_file``), the platform
hashes its own users under its profile with the same scheme and secret and joins
(``join_files``), and an outsider who holds only the upload enumerates phone numbers and
e-mail guesses (``attack.reverse``). Ground truth is read only by the evaluation steps.
Everything lands in one run folder, written atomically:

    manifest.json   experiment, seed, versions, machine, timings per stage
    population/     platform.parquet, customers.parquet, truth.parquet (unless reused)
    uploads/        the advertiser's upload per scheme, with rejects and summary
    joins/          matched.parquet, keys.csv and join.json per scheme
    results.json    every number of the report (schema: docs/results.md)
    report.html     self-contained report; report.md the same in Markdown
"""

from __future__ import annotations

import json
import os
import platform as _platform
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matchsim import __version__
from matchsim.config import AttackSpec, Experiment, SchemeSpec
from matchsim.errors import InputError
from matchsim.generate import population
from matchsim.io import finish_folder, prepare_folder
from matchsim.report.validate import RESULTS_SCHEMA
from matchsim.rng import Stream, stream
from matchsim.secrets import Secret, load_secret

ProgressFn = Callable[[str, int, int], None]
StepFn = Callable[[str, dict[str, Any]], None]
TIMING_KEYS = frozenset(
    {"seconds", "hashes_per_second", "elapsed_seconds", "time_curve", "timings", "reverse_seconds",
     "exhaust_here_seconds", "measured_rate", "devices", "join_seconds", "peak_rss_bytes",
     "with_key"}
)  # fmt: skip
"""results.json keys whose values depend on the machine and the moment, not the seed."""


@dataclass(frozen=True)
class RunResult:
    out: Path
    results: dict[str, Any]
    manifest: dict[str, Any]


class _Stages:
    """Wall-clock seconds per stage, for the manifest."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t0, 3)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "scheme"


def default_out(experiment: Experiment, runs_root: str | Path = "runs") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(runs_root) / f"{experiment.slug}-{stamp}"


def run_experiment(
    experiment: Experiment,
    out: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    progress: ProgressFn | None = None,
    runs_root: str | Path = "runs",
    measure_costs: bool = True,
    on_step: StepFn | None = None,
) -> RunResult:
    """Run every stage of ``experiment`` into a run folder (atomically).

    Args:
        experiment: a validated experiment (:func:`matchsim.config.load_experiment`).
        out: the run folder; default ``runs/<name>-<UTC timestamp>``.
        force: replace ``out`` if it exists.
        progress: ``progress(stage, done, total)`` callback for progress bars.
        measure_costs: time the hash kernels and KDFs here for the cost table (a few
            seconds); otherwise only the reference GPU rates are used.
        on_step: ``on_step(step, payload)`` after each step (``population``, ``hash``,
            ``join``, ``attack``, ``scheme``), for a narrator such as ``matchsim demo``.

    Raises:
        MatchsimError subclasses for every user-facing problem.
    """
    out_path = Path(out) if out is not None else default_out(experiment, runs_root)
    # The folder may never hold an input: the experiment, its population, a key file.
    keys = [s.key_file for s in experiment.schemes]
    inputs = [p for p in (experiment.source, experiment.population_path, *keys) if p is not None]
    tmp = prepare_folder(out_path, force, inputs)
    try:
        results, manifest = _run(experiment, tmp, progress, measure_costs, on_step)
        (tmp / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        from matchsim.report import write_report

        write_report(json.loads((tmp / "results.json").read_text()), tmp, manifest=manifest)
        manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        finish_folder(tmp, out_path)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunResult(out_path, results, manifest)


def _run(
    experiment: Experiment,
    folder: Path,
    progress: ProgressFn | None,
    measure_costs: bool,
    on_step: StepFn | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    stages = _Stages()
    step = on_step or (lambda name, payload: None)
    started = datetime.now(UTC).isoformat(timespec="seconds")

    with stages.stage("population"):
        if experiment.population_path is not None:
            pop_dir = experiment.population_path
        else:
            assert experiment.population is not None
            pop_dir = folder / "population"
            population(experiment.population, pop_dir, progress=progress)
    pop_manifest = json.loads((pop_dir / "manifest.json").read_text())
    step("population", {"path": pop_dir, "manifest": pop_manifest})
    region = experiment.region or pop_manifest["parameters"]["country"]
    customers_path = pop_dir / "customers.parquet"

    results: dict[str, Any] = {
        "schema": RESULTS_SCHEMA,
        "matchsim_version": __version__,
        "experiment": {
            "name": experiment.name,
            "description": experiment.description,
            "seed": experiment.seed,
            "region": region,
        },
        "population": {
            "path": str(pop_dir) if experiment.population_path else "population",
            **pop_manifest["counts"],
            "country": pop_manifest["parameters"]["country"],
        },
        "advertisers": [
            {
                "name": a.name,
                "label": a.label,
                "sensitive": a.sensitive,
                "profile": a.profile,
                "share": a.share,
            }
            for a in experiment.advertisers
        ],
        "platform": {"profile": experiment.platform_profile, "engine": experiment.engine},
        "schemes": [],
    }

    prices = None
    if experiment.schemes and any(a.kind == "phone" for a in experiment.attacks):
        with stages.stage("cost model"):
            prices = _price_catalogue(experiment, measure_costs)

    first_join: Any = None
    hashed = _HashedValues(customers_path, region)
    for i, spec in enumerate(experiment.schemes):
        entry, join_run = _scheme_stage(
            experiment, spec, i, pop_dir, customers_path, region, folder, stages, progress, prices,
            step, hashed,
        )  # fmt: skip
        results["schemes"].append(entry)
        step("scheme", entry)
        if first_join is None and entry.get("deterministic"):
            first_join = join_run

    if first_join is not None:
        with stages.stage("membership"):
            results["membership"] = _membership(experiment, first_join, pop_manifest)

    if experiment.qi_sets:
        with stages.stage("risk"):
            results["risk"] = _risk(experiment, customers_path, pop_dir, region)

    for key, runner in _SECTIONS.items():
        if key in experiment.sections:
            with stages.stage(key):
                results[key] = runner(experiment, experiment.sections[key], pop_dir)
            row = _comparison_row(key, results[key])
            if row is not None:
                results["schemes"].append(row)

    if results["schemes"]:
        from matchsim.psi.who import run_matrix

        # who can re-identify whom, from the figures above (no new measurement)
        results["who"] = run_matrix(results)

    manifest = {
        "kind": "run",
        "matchsim_version": __version__,
        "experiment": experiment.to_dict(),
        "source": str(experiment.source) if experiment.source else None,
        "seed": experiment.seed,
        "started": started,
        "timings": stages.seconds,
        "environment": {
            "python": _platform.python_version(),
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
            "machine": _platform.machine(),
            "cpus": os.cpu_count(),
            "platform": _platform.platform(),
        },
    }
    return results, manifest


# --- schemes -----------------------------------------------------------------------


def _secret(spec: SchemeSpec, needs_secret: bool) -> Secret | None:
    """The scheme's shared secret: from the named file/variable, else fresh for this run."""
    if not needs_secret:
        return None
    if spec.key_env or spec.key_file:
        return load_secret(file=spec.key_file, env=spec.key_env, what=f"{spec.name} key")
    return Secret(os.urandom(32), "generated for this run")


def _scheme_stage(
    experiment: Experiment,
    spec: SchemeSpec,
    index: int,
    pop_dir: Path,
    customers_path: Path,
    region: str,
    folder: Path,
    stages: _Stages,
    progress: ProgressFn | None,
    prices: dict[str, Any] | None,
    step: StepFn,
    hashed: _HashedValues,
) -> tuple[dict[str, Any], Any]:
    from matchsim.join.run import join_files
    from matchsim.normalise import get_profile
    from matchsim.schemes import SCHEMES, get_scheme
    from matchsim.upload.write import hash_file

    advertiser = experiment.advertisers[0]
    adv_profile = get_profile(advertiser.profile)
    cls = SCHEMES[spec.name]
    secret = _secret(spec, bool(getattr(cls, "needs_secret", False)))
    # The upload is written in the advertiser's profile's encoding unless the experiment
    # says otherwise (UID2 has its own); the platform parses it with the same parameters.
    scheme_params = cls.upload_params(spec.params, adv_profile.encoding)
    scheme = get_scheme(spec.name, secret=secret, **scheme_params)
    slug = f"{index:02d}-{_slug(spec.label or spec.name)}"
    upload = folder / "uploads" / f"{slug}.csv"
    upload.parent.mkdir(exist_ok=True)

    with stages.stage(f"hash {spec.name}"):
        summary = hash_file(
            customers_path, profile=adv_profile, scheme=scheme, region=region, out=upload
        )
    with stages.stage(f"join {spec.name}"):
        engine_options = {"scheduler": experiment.scheduler} if experiment.scheduler else {}
        join = join_files(
            pop_dir,
            upload,
            profile=experiment.platform_profile,
            scheme=spec.name,
            scheme_params=scheme_params,
            secret=secret,
            out=folder / "joins" / slug,
            engine=experiment.engine,
            engine_options=engine_options,
            truth=pop_dir / "truth.parquet",
            force=True,
            progress=progress,
            # a population made for this run alone: share its normalised platform across
            # the schemes, but write no digest index that no later join would read
            index=True if experiment.population_path is not None else "normalised",
        )
    report = join.report
    step("hash", {"scheme": spec, "upload": upload, "summary": summary.as_dict()})
    step("join", {"scheme": spec, "report": report})
    entry: dict[str, Any] = {
        "name": spec.name,
        "label": spec.title,
        "params": {k: v for k, v in spec.params.items()},
        "threat": getattr(cls, "threat", ""),
        "weak": bool(getattr(cls, "weak", False)),
        "deterministic": bool(getattr(scheme, "deterministic", True)),
        "needs_secret": bool(getattr(cls, "needs_secret", False)),
        "secret_source": None if secret is None else secret.source,
        "upload": {
            "path": str(upload.relative_to(folder)),
            "rows": summary.as_dict().get("rows_in"),
            # paths inside the run folder are given relative to it (the folder moves)
            "summary": {
                k: v for k, v in summary.as_dict().items() if k not in ("input", "out", "rejects")
            },
        },
        "join": {
            "path": str((folder / "joins" / slug).relative_to(folder)),
            "match_rate": report.get("match_rate"),
            "uploaded_rows": report.get("rows"),
            "accepted_rows": report.get("accepted_rows"),
            "matched_rows": report.get("matched_rows"),
            "matched_users": report.get("matched_users"),
            "per_key": report.get("per_key"),
            "rejected": report.get("rejected"),
            "evaluation": report.get("evaluation"),
            "join_seconds": report.get("join_seconds"),
        },
        "learns": _learns(report),
        "attacks": [],
        "phone_share": None,
        "email_share": None,
        "reverse_seconds": None,
        "cost": None,
    }
    recovered: dict[str, Any] = {}  # field -> what this upload's phone/email attack reversed
    for attack in experiment.attacks:
        step("attack start", {"scheme": spec, "attack": attack})
        with stages.stage(f"attack {attack.kind} {spec.name}"):
            result = _attack(
                attack, spec, scheme, secret, upload, adv_profile, region, progress, hashed,
                recovered,
            )  # fmt: skip
        entry["attacks"].append(result)
        step("attack", {"scheme": spec, "attack": attack, "result": result})
        if result.get("share") is not None:
            entry[f"{attack.kind}_share"] = result["share"]
        if attack.kind == "phone":
            entry["reverse_seconds"] = result.get("seconds") if result.get("recovered") else None
            if prices is not None:
                entry["cost"] = _cost_for(spec.name, result, prices)
    return entry, join


def _learns(report: dict[str, Any]) -> str:
    """What the platform learned from this upload, in words, from the join's own counts."""
    users = int(report.get("matched_users") or 0)
    keys = [k for k, v in (report.get("per_key") or {}).items() if v.get("users_matched")]
    if users == 0:
        return "nothing: no upload row matched any of its users"
    return (
        f"that {users:,} of its users are the advertiser's customers (matched on {', '.join(keys)})"
    )


# --- attacks -----------------------------------------------------------------------


def _attack(
    spec: AttackSpec,
    scheme_spec: SchemeSpec,
    scheme: Any,
    secret: Secret | None,
    upload: Path,
    profile: Any,
    region: str,
    progress: ProgressFn | None,
    hashed: _HashedValues,
    recovered: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One attack on one upload, by an attacker holding the upload (and maybe the key).

    ``recovered`` collects what the phone and e-mail attacks reversed, per field, and is
    handed to a later ``reidentify`` attack on the same upload, which reuses it instead of
    enumerating those columns again."""
    from matchsim.attack import load_targets, reverse
    from matchsim.attack.request import keyspace_for, phone_style_for
    from matchsim.attack.targets import NothingToAttack
    from matchsim.schemes import NotEnumerable

    if spec.kind == "reidentify":
        from matchsim.attack import Knowledge
        from matchsim.attack.reidentify import experiment_attack

        held = scheme.attacker_view(spec.knows_secret and secret is not None)
        keyed = isinstance(held, Knowledge) and (held.hmac_key or held.pepper)
        why_not = held.reason if isinstance(held, NotEnumerable) else None
        return experiment_attack(spec, held if keyed else None, upload, profile, region,
                                 hashed.customers.parent, progress, recovered,
                                 not_enumerable=why_not)  # fmt: skip
    field = "phone" if spec.kind == "phone" else "email"
    out: dict[str, Any] = {"kind": spec.kind, "knows_secret": spec.knows_secret}
    if field not in profile.fields:
        return {**out, "feasible": False, "reason": f"{profile.name} takes no {field}"}
    column = profile.fields[field].column
    view = scheme.attacker_view(spec.knows_secret and secret is not None)
    if isinstance(view, NotEnumerable):
        return {**out, "feasible": False, "reason": view.reason}
    try:
        targets = load_targets(upload, column)
    except NothingToAttack as exc:  # the scheme's output holds no digest to enumerate
        return {**out, "feasible": False, "reason": f"digests not enumerable: {exc.reason}"}
    if targets.n_distinct == 0:
        return {**out, "feasible": False, "reason": "no digests in the upload"}
    knowledge = view
    # Past this point the attack can work: an error in it is an error of the run, not
    # a "feasible: false" row (fail closed).
    # The attacker knows which numbers people carry (NL: 06, not 097 M2M ranges): the
    # same keyspace `matchsim attack` enumerates (matchsim.attack.request).
    keyspace = keyspace_for(
        spec.kind,
        region=region,
        number_type=spec.number_type,
        style=phone_style_for(profile.name) if spec.kind == "phone" else "digits",
        max_guesses=spec.guesses,
    )
    result = reverse(targets, keyspace, knowledge, progress=progress)
    if recovered is not None:
        from matchsim.attack.reidentify import Recovered

        recovered[field] = Recovered.of(result, f"this run's {spec.kind} attack")
    seconds = result.seconds
    curve = result.guesswork()
    tried = max(result.candidates_tried, 1)
    return {
        **out,
        "feasible": True,
        "algorithm": knowledge.describe(),
        "keyspace": result.keyspace,
        "keyspace_size": result.keyspace_size,
        "attempted": result.hashes_in,
        "distinct": result.distinct,
        "recovered": result.recovered_rows,
        "recovered_distinct": result.recovered_distinct,
        "share": result.share,
        **_score(result, hashed, field, profile),
        "candidates": result.candidates_tried,
        "seconds": round(seconds, 3),
        "hashes_per_second": round(result.hashes_per_second),
        "curve": [[g, s] for g, s in curve],
        "time_curve": [[round(g * seconds / tried, 6), s] for g, s in curve],
    }


class _HashedValues:
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
            column = pq.read_table(self.customers, columns=[INPUT_COLUMNS[field]]).column(0)
            self._values[key] = profile.normalise(field, column, self.region).values
        return self._values[key]


def _score(result: Any, hashed: _HashedValues, field: str, profile: Any) -> dict[str, float]:
    """Evaluation only: the attack's precision and recall against the values it hid.

    The truth of upload row ``i`` is customer row ``i``'s value as the advertiser's profile
    normalised it (what was hashed). This runs after the attack, which never saw it.
    """
    truth = hashed.get(field, profile).take(pa.array(result.targets.rows))
    scored: dict[str, float] = result.score(truth)
    return scored


def _price_catalogue(experiment: Experiment, measure: bool) -> dict[str, Any]:
    """Prices of the experiment's schemes: reference GPU rates, and KDF rates timed here.

    Fast hashes are not timed separately: each phone attack's own rate is the figure
    for "here" (see :func:`_cost_for`). A KDF is timed over a few evaluations with the
    experiment's parameters, never brute-forced.
    """
    from matchsim.attack.cost import measure_kdf, price_catalogue
    from matchsim.schemes import SCHEMES

    params: dict[str, dict[str, int]] = {}
    measured: dict[str, float] = {}
    for spec in experiment.schemes:
        if SCHEMES[spec.name].kind != "kdf":
            continue
        numeric = {k: v for k, v in spec.params.items() if isinstance(v, int)}
        params[spec.name] = numeric
        if measure:
            measured[spec.name] = measure_kdf(spec.name, numeric)
    return {p.scheme: p for p in price_catalogue(measure=False, params=params, measured=measured)}


def _cost_for(name: str, attack: dict[str, Any], prices: dict[str, Any]) -> dict[str, Any]:
    """Seconds to exhaust the attack's keyspace under scheme ``name``, here and on GPUs."""
    price = prices.get(name)
    size = attack.get("keyspace_size")
    if price is not None and not price.reversible:
        return {"feasible": False, "reason": price.reason, "devices": {}}
    if price is None or not size:
        return {"feasible": False, "reason": "not priced", "devices": {}}
    devices = {"here": size / price.measured_rate} if price.measured_rate else {}
    if not devices and attack.get("recovered") and attack.get("hashes_per_second"):
        devices["here"] = size / attack["hashes_per_second"]  # this attack's own rate
    devices.update(
        {_device_name(k): v for k, v in price.seconds(int(size)).items() if "reference" in k}
    )
    if attack.get("knows_secret") is False and name in _KEYED:
        return {
            "feasible": False,
            "reason": "not enumerable without the key (the platform holds it)",
            "devices": {},
            "with_key": devices,
        }
    return {
        "feasible": True,
        "reason": price.reason or None,
        "keyspace_size": size,
        "devices": devices,
        "measured_rate": price.measured_rate or attack.get("hashes_per_second"),
    }


_KEYED = frozenset({"hmac-sha256", "pepper-sha256"})


def _device_name(label: str) -> str:
    if label.startswith("this machine"):
        return "here"
    return label.split(" (")[0]


# --- membership and risk ------------------------------------------------------------


def _membership(experiment: Experiment, join: Any, pop_manifest: dict[str, Any]) -> dict[str, Any]:
    """What the platform learns per advertiser: which users are its customers.

    Each advertiser's customers are a seeded share of the customer file (several
    advertisers may share a customer); its matched users are those the deterministic
    join matched from its rows.
    """
    from matchsim.risk import Upload, membership

    pairs = join.result.pairs
    rows = np.concatenate([r for r, _ in pairs.values()]) if pairs else np.zeros(0, np.int64)
    users = np.concatenate([u for _, u in pairs.values()]) if pairs else np.zeros(0, np.int64)
    n_rows = join.result.n_rows
    rng = stream(experiment.seed, Stream.ADVERTISERS)
    uploads = []
    entries = []
    for advertiser in experiment.advertisers:
        mine = rng.random(n_rows) < advertiser.share
        uids = np.unique(users[mine[rows]]) if rows.size else np.zeros(0, np.int64)
        uploads.append(
            Upload(
                advertiser=advertiser.name,
                uids=uids,
                sensitive=advertiser.sensitive,
                category=advertiser.label,
            )
        )
        entries.append(
            {"name": advertiser.name, "label": advertiser.label, "sensitive": advertiser.sensitive,
             "users": int(uids.size)}
        )  # fmt: skip
    report = membership(uploads, pop_manifest["counts"]["platform_users"]).to_dict()
    return {
        "advertisers": entries,
        "sensitive_users": report["users_with_sensitive_attribute"],
        "sensitive_labels": sorted({a.label for a in experiment.advertisers if a.sensitive}),
        "details": report,
    }


def _risk(
    experiment: Experiment, customers: Path, pop_dir: Path, region: str
) -> list[dict[str, Any]]:
    from matchsim.risk import risk_section

    section = risk_section(
        customers,
        platform=pop_dir / "platform.parquet",
        qi_sets=experiment.qi_sets,
        country=region,
    )
    out = []
    for q in section["quasi_identifiers"]:
        if "skipped" in q:
            out.append({"qi": q["qi"], "skipped": q["skipped"]})
            continue
        est = q.get("population_estimate") or {}
        by_size = q.get("records_by_class_size") or {}
        out.append(
            {
                "qi": q["qi"],
                "records": q["records"],
                "classes": q["classes"],
                "k": q["k_anonymity"],
                "unique_records": q["unique_records"],
                "unique_share": q["share_unique"],
                "prosecutor_average": q["prosecutor"]["average"],
                "journalist_average": q["journalist"]["average"],
                "marketer": q["marketer"]["average"],
                # the validated estimate, or None where the sample cannot support one
                "population_unique_share": est.get("share_unique"),
                "population_model": est.get("model") if est.get("supported") else None,
                "population_interval": est.get("interval"),
                "population_declined": (q.get("population_unique") or {}).get("declined"),
                "expected_unique_share": (q.get("expected") or {}).get("share_unique"),
                "keyspace": q.get("keyspace"),
                "class_size_histogram": _histogram(by_size),
            }
        )
    return out


def _histogram(by_size: dict[str, int]) -> list[list[int]]:
    pairs = []
    for k, v in by_size.items():
        digits = re.match(r"\d+", k)
        if digits:
            pairs.append([int(digits.group(0)), int(v)])
    return sorted(pairs)


# --- optional sections ---------------------------------------------------------------


def _pixel(experiment: Experiment, section: dict[str, Any], pop_dir: Path) -> dict[str, Any]:
    from matchsim.pixel import PixelConfig, simulate

    result = simulate(PixelConfig.from_dict(section), pop_dir, seed=experiment.seed).to_dict()
    base = result["scenarios"][0] if result.get("scenarios") else {}
    linked, shadow = _pct(base.get("account_share")), _pct(base.get("shadow_identifier_share"))
    text = (
        f"Baseline ({_name(base.get('rules'))}): {linked} of medical-page visits linked to an "
        f"identified account, {shadow} to a shadow profile keyed by a hashed identifier."
    )
    return {
        "text": text,
        "summary": {"medical visits": base.get("medical_visits")},
        "details": result,
    }


def _oracle(experiment: Experiment, section: dict[str, Any], pop_dir: Path) -> dict[str, Any]:
    from matchsim.oracle import OracleConfig, run

    result = run(OracleConfig.from_dict(section), pop_dir, seed=experiment.seed).to_dict()
    first = result["phone"][0] if result.get("phone") else {}
    text = (
        f"Under {_name(first.get('policy'))} the attacker inferred "
        f"{_pct(first.get('success_rate'))} of victims' phone numbers from an e-mail address."
    )
    return {"text": text, "summary": {}, "details": result}


def _psi(experiment: Experiment, section: dict[str, Any], pop_dir: Path) -> dict[str, Any]:
    from matchsim.psi import PsiParams, run_population

    params = dict(section)
    field_name = str(params.pop("field", "email"))
    profile = str(params.pop("profile", experiment.advertisers[0].profile))
    result = run_population(
        pop_dir, PsiParams.from_dict(params), field_name=field_name, profile=profile
    ).to_dict()
    return {"text": "", "summary": result, "details": result}


def _clk(experiment: Experiment, section: dict[str, Any], pop_dir: Path) -> dict[str, Any]:
    from matchsim import clk

    schema = clk.ClkSchema.from_dict(dict(section.get("schema", {})))
    secret = Secret(os.urandom(32), "generated for this run")
    linked = clk.link(pop_dir, schema, secret).to_dict()
    attacked = clk.attack(pop_dir, schema, secret).to_dict()
    return {"text": "", "summary": {"linkage": linked, "attack": attacked}, "details": {}}


def _promises(experiment: Experiment, section: dict[str, Any], pop_dir: Path) -> dict[str, Any]:
    from matchsim.oracle.promises import PromisesConfig, run, summary

    config = PromisesConfig.from_dict(section, source=experiment.source)
    result = run(config, pop_dir, seed=experiment.seed)
    text, tables = summary(result)
    verdicts = {r["product"]["name"]: r["verdict"] for r in result["products"]}
    verdicts["Who can re-identify"] = result["who_can_reidentify"]["domain_note"]
    return {"text": text, "summary": {"tables": tables, "verdicts": verdicts}, "details": result}


def _comparison_row(key: str, section: dict[str, Any]) -> dict[str, Any] | None:
    """The PSI and CLK alternatives as rows of the scheme comparison table."""
    if key == "psi":
        r = section["details"]
        return {
            "name": "psi-ecdh",
            "label": "ECDH private set intersection (X25519)",
            "kind": "psi",
            "threat": f"{r['reveal']} revealed to the {r['receiver']}; "
            f"{r['bytes_total']:,} bytes on the wire",
            "deterministic": False,
            "needs_secret": True,
            "join": {"match_rate": r["match_rate"]},
            "phone_share": None,
            "email_share": 0.0,
            "reverse_seconds": None,
            "cost": {"feasible": False, "reason": r["attacker_cost"], "devices": {}},
            "outsider_can": "no",  # no offline test of a guess (the who matrix)
            "learns": r["learns"]["platform"],
            "attacks": [],
        }
    if key == "clk":
        link, attack = section["summary"]["linkage"], section["summary"]["attack"]
        return {
            "name": "clk",
            "label": "Bloom-filter encodings (CLK) of names and date of birth",
            "kind": "clk",
            "threat": f"keyed q-gram filters, hardening: {link['hardening']}; fuzzy matching "
            f"recovers {100 * link['recall_on_name_typos']['clk']:.0f} % of name typos",
            "deterministic": True,
            "needs_secret": True,
            "join": {"match_rate": link["match_rate"]},
            "phone_share": None,
            "email_share": None,
            "reverse_seconds": None,
            "cost": {
                "feasible": False,
                "reason": "no enumeration needed: a frequency attack without the key "
                f"re-identified {100 * attack['reidentified']:.1f} % of first names",
                "devices": {},
            },
            "outsider_can": "partly",  # the frequency attack above (the who matrix)
            "learns": link["learns"]["platform"],
            "attacks": [],
        }
    return None


def _name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name", "?"))
    return str(value or "?")


def _pct(x: Any) -> str:
    return "—" if x is None else f"{100 * float(x):.1f} %"


_SECTIONS: dict[str, Callable[[Experiment, dict[str, Any], Path], dict[str, Any]]] = {
    "pixel": _pixel,
    "oracle": _oracle,
    "psi": _psi,
    "clk": _clk,
    "promises": _promises,
}


def strip_timings(value: Any) -> Any:
    """``results.json`` without the machine- and moment-dependent keys (for rerun checks)."""
    if isinstance(value, dict):
        return {k: strip_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [strip_timings(v) for v in value]
    return value


def read_results(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "results.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(run_dir, "no results.json here; is this a matchsim run folder?") from None
    return data


__all__ = ["RunResult", "default_out", "read_results", "run_experiment", "strip_timings"]
