"""The stages :func:`matchsim.experiment.run.run_experiment` calls in order, each small:
the population, the schemes (with the cost model), and the optional sections."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from matchsim.errors import ConfigError
from matchsim.experiment.config import Experiment
from matchsim.experiment.context import ProgressFn, RunContext, Stages, StepFn
from matchsim.experiment.results import Results

if TYPE_CHECKING:
    from matchsim.experiment.overlap import Worker


def population(
    experiment: Experiment,
    folder: Path,
    stages: Stages,
    progress: ProgressFn | None,
    on_step: StepFn | None,
) -> tuple[RunContext, dict[str, Any]]:
    """Generate the population into the run folder (or take the reused one)."""
    from matchsim.generate import population as generate
    from matchsim.io import population_manifest

    with stages.stage("population"):
        if experiment.population_path is not None:
            pop_dir = experiment.population_path
        else:
            assert experiment.population is not None
            pop_dir = folder / "population"
            generate(experiment.population, pop_dir, progress=progress)
    manifest = population_manifest(pop_dir)
    region = experiment.region or manifest["parameters"]["country"]
    ctx = RunContext(experiment, folder, pop_dir, region, stages, progress)
    if on_step is not None:
        ctx.step = on_step
    ctx.step("population", {"path": pop_dir, "manifest": manifest})
    return ctx, manifest


def scheme_rows(ctx: RunContext, results: Results, measure_costs: bool) -> Any:
    """Every scheme hashed, joined and attacked, into ``results.schemes``.

    Returns the first deterministic scheme's join (what membership is read from), or None.
    """
    from matchsim.experiment.attacks import HashedValues
    from matchsim.experiment.schemes import run_scheme

    experiment = ctx.experiment
    prices = _prices(ctx, measure_costs)
    first_join: Any = None
    hashed = HashedValues(ctx.customers, ctx.region)
    for i, spec in enumerate(experiment.schemes):
        entry, join = run_scheme(ctx, spec, i, prices, hashed)
        results.schemes.append(entry)
        ctx.step("scheme", entry.to_dict())
        if first_join is None and entry.deterministic:
            first_join = join
    return first_join


def _prices(ctx: RunContext, measure_costs: bool) -> dict[str, Any] | None:
    from matchsim.experiment.costs import price_catalogue

    experiment = ctx.experiment
    if experiment.schemes and any(a.kind == "phone" for a in experiment.attacks):
        with ctx.stages.stage("cost model"):
            return price_catalogue(experiment, measure_costs)
    return None


def overlapped_rows(
    ctx: RunContext, results: Results, measure_costs: bool, worker: Worker
) -> None:  # fmt: skip
    """:func:`scheme_rows`, membership and risk, with the hashing and joins in ``worker``
    (:mod:`matchsim.experiment.overlap`) and the attacks and risk here, side by side.

    The same rows, in the same order, as the serial path."""
    from matchsim.experiment import assess
    from matchsim.experiment.attacks import HashedValues
    from matchsim.experiment.overlap import Plan, join_and_membership, membership_scheme
    from matchsim.experiment.schemes import attack_all, prepare, scheme_entry, scheme_secret

    experiment = ctx.experiment
    prices = _prices(ctx, measure_costs)  # timed before the worker starts hashing
    prepared = [prepare(ctx, spec, i, scheme_secret(spec))
                for i, spec in enumerate(experiment.schemes)]  # fmt: skip
    held = [None if p.secret is None else (p.secret.value, p.secret.source) for p in prepared]
    worker.start_plan(Plan(experiment, ctx.folder, ctx.pop_dir, ctx.region, held))
    if experiment.qi_sets:  # needs only the population: while the first upload is written
        with ctx.stages.stage("risk"):
            results.risk = assess.risk(experiment, ctx.customers, ctx.pop_dir, ctx.region)
    hashed = HashedValues(ctx.customers, ctx.region)
    outcomes = []
    for i, p in enumerate(prepared):
        worker.hashed(i)
        outcomes.append(attack_all(ctx, p, prices, hashed))
    del hashed
    # the joins the worker has not started yet, run here (last first: the worker takes
    # them first to last)
    first = membership_scheme(prepared)
    reports: dict[int, dict[str, Any]] = {}
    membership = None
    for i in range(len(prepared) - 1, 0, -1):
        if worker.take_join(i):
            here = _own_bars(ctx, prepared[i].spec.name)  # the worker's join has the plain ones
            join, got = join_and_membership(here, prepared[i], i == first)
            reports[i] = join.report
            membership = got if got is not None else membership
            del join
    for i, (p, outcome) in enumerate(zip(prepared, outcomes, strict=True)):
        report = reports[i] if i in reports else worker.joined(i)
        entry = scheme_entry(ctx, p, worker.hashed(i), report)
        outcome.apply(entry)
        results.schemes.append(entry)
    from_worker, stages = worker.finish()
    ctx.stages.merge(stages)
    membership = membership if membership is not None else from_worker
    if membership is not None:
        results.membership = membership


def _own_bars(ctx: RunContext, scheme: str) -> RunContext:
    """``ctx`` whose progress stages are named after ``scheme`` too (``platform chunks
    (hmac-sha256)``): a join run here while the worker runs another keeps its own bars."""
    import dataclasses

    progress = ctx.progress
    if progress is None:
        return ctx

    def named(stage: str, done: int, total: int) -> None:
        progress(f"{stage} ({scheme})", done, total)

    return dataclasses.replace(ctx, progress=named)


def sections(ctx: RunContext, results: Results) -> None:
    """Each optional section the experiment has, in registration order."""
    from matchsim.experiment.fields import Fields
    from matchsim.experiment.sections import registry

    experiment = ctx.experiment
    for key, section in registry().items():
        if key not in experiment.sections:
            continue
        config = experiment.section_configs.get(key)
        if config is None:  # an Experiment built by hand: its table is read now
            fields = Fields(experiment.sections[key], f"[{key}]")
            config = section.parse(fields, experiment.source)
            ConfigError.collect(fields.finish())
        with ctx.stages.stage(key):
            result = section.run(config, experiment, ctx.pop_dir)
        results.sections[key] = result
        row = section.scheme_row(result)
        if row is not None:
            results.schemes.append(row)
