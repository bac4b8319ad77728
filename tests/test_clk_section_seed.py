"""The ``[clk]`` section of an experiment repeats from its seed: its key is drawn from the
run's seed (stream ``CLK_KEY``), not from the operating system, so two runs agree."""

from __future__ import annotations

from typing import Any

from matchsim.experiment.config import parse_experiment
from matchsim.experiment.scenarios import ClkSection
from matchsim.generate import Population

TIMINGS = {"seconds", "elapsed_seconds", "timings", "us_per_element"}


def _figures(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _figures(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_figures(v) for v in value]
    return value


def _run(seed: int, pop: Population) -> Any:
    experiment = parse_experiment({"version": 1, "seed": seed, "clk": {"schema": {}}})
    section = ClkSection()
    config = experiment.section_configs["clk"]
    return _figures(section.run(config, experiment, pop.out).summary)


def test_clk_figures_repeat_from_the_seed(nl_population: Population) -> None:
    first = _run(5, nl_population)
    assert first["linkage"] and first["attack"]
    assert _run(5, nl_population) == first
