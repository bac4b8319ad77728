"""What every stage of a run shares: where the population is, the run folder, the clock."""

from __future__ import annotations

import resource
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
    """Wall-clock seconds per stage, for the manifest, and what each stage cost its process.

    ``resources[stage]`` holds the stage's user and system CPU seconds, minor page faults
    and the process's peak RSS afterwards (``getrusage`` of the process that ran it, all
    its threads; a stage that overlaps another in the same process shares the counters),
    and which process ran it (``process``: ``main``, or ``worker`` in an overlapped run).
    """

    def __init__(self, process: str = "main") -> None:
        self.process = process
        self.seconds: dict[str, float] = {}
        self.resources: dict[str, dict[str, Any]] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t0, 3)
            self._account(name, r0, resource.getrusage(resource.RUSAGE_SELF))

    def _account(self, name: str, r0: resource.struct_rusage, r1: resource.struct_rusage) -> None:
        was = self.resources.get(name, {})
        self.resources[name] = {
            "user_seconds": round(was.get("user_seconds", 0.0) + r1.ru_utime - r0.ru_utime, 3),
            "system_seconds": round(was.get("system_seconds", 0.0) + r1.ru_stime - r0.ru_stime, 3),
            "minor_faults": was.get("minor_faults", 0) + r1.ru_minflt - r0.ru_minflt,
            "peak_rss_mb": round(r1.ru_maxrss / 1024),
            "process": self.process,
        }

    def merge(self, other: Stages) -> None:
        """Take ``other``'s stages (measured in another process) into this record."""
        self.seconds.update(other.seconds)
        self.resources.update(other.resources)


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
