"""What every stage of a run shares: where the population is, the run folder, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matchsim.experiment.config import Experiment

ProgressFn = Callable[[str, int, int], None]
StepFn = Callable[[str, dict[str, Any]], None]


class Stages:
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


def _no_step(name: str, payload: dict[str, Any]) -> None:
    return None


@dataclass
class RunContext:
    """One run's fixed facts, handed to each stage.

    Attributes:
        folder: the run folder being written (its temporary name until it is finished).
        pop_dir: the population folder (inside ``folder``, or a reused one).
        region: the country whose rules normalise phone numbers.
        step: ``step(name, payload)`` after each step, for a narrator.
    """

    experiment: Experiment
    folder: Path
    pop_dir: Path
    region: str
    stages: Stages
    progress: ProgressFn | None = None
    step: StepFn = field(default=_no_step)

    @property
    def customers(self) -> Path:
        return self.pop_dir / "customers.parquet"
