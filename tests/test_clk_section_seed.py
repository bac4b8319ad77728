"""The ``[clk]`` section of an experiment repeats from its seed: its key is drawn from the
run's seed (stream ``CLK_KEY``), not from the operating system, so two runs agree."""

from __future__ import annotations

from typing import Any

from matchsim.experiment.config import parse_experiment
from matchsim.experiment.run import strip_timings
from matchsim.experiment.scenarios import ClkSection
from matchsim.generate import Population


def _run(seed: int, pop: Population) -> Any:
    experiment = parse_experiment({"version": 1, "seed": seed, "clk": {"schema": {}}})
    section = ClkSection()
    config = experiment.section_configs["clk"]
    return strip_timings(section.run(config, experiment, pop.out).summary)


def test_clk_figures_repeat_from_the_seed(nl_population: Population) -> None:
    first = _run(5, nl_population)
    assert first["linkage"] and first["attack"]
    assert _run(5, nl_population) == first
