"""Moved to :mod:`matchsim.experiment.run` (the orchestrator); kept for importers."""

from matchsim.experiment.attacks import HashedValues as _HashedValues
from matchsim.experiment.attacks import attack as _attack
from matchsim.experiment.run import (
    TIMING_KEYS,
    RunResult,
    default_out,
    read_results,
    run_experiment,
    strip_timings,
)
from matchsim.experiment.schemes import secret_for as _secret

__all__ = [
    "TIMING_KEYS",
    "RunResult",
    "_HashedValues",
    "_attack",
    "_secret",
    "default_out",
    "read_results",
    "run_experiment",
    "strip_timings",
]
