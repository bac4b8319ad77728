"""``run_experiment``: generate -> hash -> join -> attack -> assess -> sections -> report.

The orchestrator only: each stage lives in its own module and returns a typed result
(:mod:`matchsim.experiment.results`); this module calls them in order, times them and
writes the run folder, atomically:

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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matchsim import __version__
from matchsim.errors import InputError
from matchsim.experiment.config import Experiment
from matchsim.experiment.context import ProgressFn, RunContext, Stages, StepFn
from matchsim.experiment.results import Results
from matchsim.io import finish_folder, prepare_folder

TIMING_KEYS = frozenset(
    {"seconds", "hashes_per_second", "elapsed_seconds", "time_curve", "timings", "reverse_seconds",
     "exhaust_here_seconds", "measured_rate", "devices", "join_seconds", "peak_rss_bytes",
     "with_key", "us_per_element"}
)  # fmt: skip
"""results.json keys whose values depend on the machine and the moment, not the seed."""


@dataclass(frozen=True)
class RunResult:
    out: Path
    results: dict[str, Any]
    manifest: dict[str, Any]


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
    overlap: bool | None = None,
) -> RunResult:
    """Run every stage of ``experiment`` into a run folder (atomically).

    Args:
        experiment: a validated experiment (:func:`matchsim.experiment.load_experiment`).
        out: the run folder; default ``runs/<name>-<UTC timestamp>``.
        force: replace ``out`` if it exists.
        progress: ``progress(stage, done, total)`` callback for progress bars.
        measure_costs: time the hash kernels and KDFs here for the cost table (a few
            seconds); otherwise only the reference GPU rates are used.
        on_step: ``on_step(step, payload)`` after each step (``population``, ``hash``,
            ``join``, ``attack``, ``scheme``), for a narrator such as ``matchsim demo``.
        overlap: hash and join in a second process while this one attacks (both cores;
            :mod:`matchsim.experiment.overlap`); default: for 1 M platform users or more
            (``MATCHSIM_OVERLAP=0``/``1`` overrides), never with ``on_step``. The results
            are the same either way.

    Raises:
        MatchsimError subclasses for every user-facing problem.
    """
    out_path = Path(out) if out is not None else default_out(experiment, runs_root)
    # The folder may never hold an input: the experiment, its population, a key file.
    keys = [s.key_file for s in experiment.schemes]
    inputs = [p for p in (experiment.source, experiment.population_path, *keys) if p is not None]
    if experiment.population_path is not None:
        _check_reused(experiment.population_path)
    tmp = prepare_folder(out_path, force, inputs)
    try:
        results, manifest = _run(experiment, tmp, progress, measure_costs, on_step, overlap)
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


def _check_reused(pop_dir: Path) -> None:
    """A reused population refused before any output exists: its manifest (the counts,
    country and seed a run reads), its three tables' footers (Parquet, person ids that
    are signed integers, row counts that agree with the manifest and with each other)
    and its person ids (each platform user and each customer once)."""
    import pyarrow.parquet as pq

    from matchsim.errors import InputError
    from matchsim.generate import CUSTOMERS_FILE, PLATFORM_FILE, TRUTH_FILE
    from matchsim.io import check_ids_once, parquet_names, population_manifest, shown

    counts = population_manifest(pop_dir)["counts"]
    rows = {}
    for name in (PLATFORM_FILE, CUSTOMERS_FILE, TRUTH_FILE):
        parquet_names(pop_dir / name)
        rows[name] = pq.ParquetFile(pop_dir / name).metadata.num_rows
    said = {PLATFORM_FILE: counts["platform_users"], CUSTOMERS_FILE: counts.get("customers"),
            TRUTH_FILE: counts.get("customers")}  # fmt: skip
    for name, n in said.items():
        if n is not None and rows[name] != n:
            raise InputError(
                shown(pop_dir / name), f"has {rows[name]:,} rows, but manifest.json counts "
                f"{n:,} {'platform users' if name == PLATFORM_FILE else 'customers'}",
            )  # fmt: skip
    check_ids_once(pop_dir / PLATFORM_FILE, "uid")
    check_ids_once(pop_dir / CUSTOMERS_FILE, "cid")
    check_ids_once(pop_dir / TRUTH_FILE, "cid")
    users = pq.read_table(pop_dir / TRUTH_FILE, columns=["uid"]).column("uid")
    on = len(users) - users.null_count  # customers who are platform users, by the truth
    for key, n in (("customers_on_platform", on), ("customers_not_on_platform", len(users) - on)):
        if key in counts and counts[key] != n:
            raise InputError(
                shown(pop_dir / "manifest.json"),
                f"counts.{key} is {counts[key]:,}, but truth.parquet has {n:,}",
            )


def _run(
    experiment: Experiment,
    folder: Path,
    progress: ProgressFn | None,
    measure_costs: bool,
    on_step: StepFn | None = None,
    overlap: bool | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from matchsim.experiment import overlap as side_by_side
    from matchsim.experiment.memory import reusing_memory

    with reusing_memory():  # freed arrays are reused, not faulted in again (memory.py)
        if not side_by_side.wanted(experiment, on_step, overlap):
            return _stages(experiment, folder, progress, measure_costs, on_step, None)
        # started first: its imports overlap the population
        schemes = len(experiment.schemes)
        with side_by_side.Worker(progress, schemes) as worker, worker.raising_errors():
            return _stages(experiment, folder, worker.progress, measure_costs, on_step, worker)


def _stages(
    experiment: Experiment,
    folder: Path,
    progress: ProgressFn | None,
    measure_costs: bool,
    on_step: StepFn | None,
    worker: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from matchsim.experiment import assess
    from matchsim.experiment.stages import overlapped_rows, population, scheme_rows, sections

    stages = Stages()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    ctx, pop_manifest = population(experiment, folder, stages, progress, on_step)
    results = _header(experiment, ctx, pop_manifest)
    if worker is not None:
        overlapped_rows(ctx, results, measure_costs, worker)
    else:
        first_join = scheme_rows(ctx, results, measure_costs)
        if first_join is not None:
            with stages.stage("membership"):
                users = pop_manifest["counts"]["platform_users"]
                results.membership = assess.membership(experiment, first_join, users)
        del first_join
        if experiment.qi_sets:
            with stages.stage("risk"):
                results.risk = assess.risk(experiment, ctx.customers, ctx.pop_dir, ctx.region)
    sections(ctx, results)
    out = results.to_dict()
    if results.schemes:
        from matchsim.psi.who import run_matrix

        out["who"] = run_matrix(out)  # who can re-identify whom, from the figures above
    return out, _manifest(experiment, started, stages)


def _header(experiment: Experiment, ctx: RunContext, pop_manifest: dict[str, Any]) -> Results:
    """The run's description: experiment, population, advertisers, platform."""
    return Results(
        matchsim_version=__version__,
        experiment={
            "name": experiment.name,
            "description": experiment.description,
            "seed": experiment.seed,
            "region": ctx.region,
        },
        population={
            "path": str(ctx.pop_dir) if experiment.population_path else "population",
            **pop_manifest["counts"],
            "country": pop_manifest["parameters"]["country"],
        },
        advertisers=[
            {
                "name": a.name,
                "label": a.label,
                "sensitive": a.sensitive,
                "profile": a.profile,
                "share": a.share,
            }
            for a in experiment.advertisers
        ],
        platform={"profile": experiment.platform_profile, "engine": experiment.engine},
    )


def _manifest(experiment: Experiment, started: str, stages: Stages) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    return {
        "kind": "run",
        "matchsim_version": __version__,
        "experiment": experiment.to_dict(),
        "source": str(experiment.source) if experiment.source else None,
        "seed": experiment.seed,
        "started": started,
        "timings": stages.seconds,
        "resources": stages.resources,
        "environment": {
            "python": _platform.python_version(),
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
            "machine": _platform.machine(),
            "cpus": os.cpu_count(),
            "platform": _platform.platform(),
        },
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
