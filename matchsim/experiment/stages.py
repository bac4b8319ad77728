"""The stages :func:`matchsim.experiment.run.run_experiment` calls in order, each small:
the population, the schemes (with the cost model), and the optional sections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matchsim.errors import ConfigError
from matchsim.experiment.config import Experiment
from matchsim.experiment.context import ProgressFn, RunContext, Stages, StepFn
from matchsim.experiment.results import Results


def population(
    experiment: Experiment,
    folder: Path,
    stages: Stages,
    progress: ProgressFn | None,
    on_step: StepFn | None,
) -> tuple[RunContext, dict[str, Any]]:
    """Generate the population into the run folder (or take the reused one)."""
    from matchsim.generate import population as generate

    with stages.stage("population"):
        if experiment.population_path is not None:
            pop_dir = experiment.population_path
        else:
            assert experiment.population is not None
            pop_dir = folder / "population"
            generate(experiment.population, pop_dir, progress=progress)
    manifest: dict[str, Any] = json.loads((pop_dir / "manifest.json").read_text())
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
    from matchsim.experiment.costs import price_catalogue
    from matchsim.experiment.schemes import run_scheme

    experiment = ctx.experiment
    prices = None
    if experiment.schemes and any(a.kind == "phone" for a in experiment.attacks):
        with ctx.stages.stage("cost model"):
            prices = price_catalogue(experiment, measure_costs)
    first_join: Any = None
    hashed = HashedValues(ctx.customers, ctx.region)
    for i, spec in enumerate(experiment.schemes):
        entry, join = run_scheme(ctx, spec, i, prices, hashed)
        results.schemes.append(entry)
        ctx.step("scheme", entry.to_dict())
        if first_join is None and entry.deterministic:
            first_join = join
    return first_join


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
