"""An experiment, end to end: the file validated whole, then its stages in order.

- :mod:`~matchsim.experiment.config`: TOML -> :class:`Experiment`, every problem at once
  (through the one validator, :mod:`~matchsim.experiment.fields`);
- :mod:`~matchsim.experiment.sections`: the protocol and registry of optional sections
  (:mod:`~matchsim.experiment.scenarios` holds pixel, oracle, psi, clk, promises);
- :mod:`~matchsim.experiment.run`: the orchestrator, ``run_experiment``; the stages it
  calls are :mod:`~matchsim.experiment.stages`, :mod:`~matchsim.experiment.schemes`,
  :mod:`~matchsim.experiment.attacks`, :mod:`~matchsim.experiment.costs` and
  :mod:`~matchsim.experiment.assess`; each returns a typed result
  (:mod:`~matchsim.experiment.results`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matchsim._lazy import attributes
from matchsim.experiment.config import (
    Advertiser,
    AttackSpec,
    Experiment,
    SchemeSpec,
    load_experiment,
    parse_experiment,
    slugify,
)

if TYPE_CHECKING:
    from matchsim.experiment.run import (
        RunResult,
        default_out,
        read_results,
        run_experiment,
        strip_timings,
    )

# The orchestrator and its stages (Arrow, numba, the report) load when first asked for:
# validating an experiment file does not need them.
_RUN = ("RunResult", "default_out", "read_results", "run_experiment", "strip_timings")


__getattr__ = attributes(__name__, dict.fromkeys(_RUN, "matchsim.experiment.run"))

__all__ = [
    "Advertiser",
    "AttackSpec",
    "Experiment",
    "RunResult",
    "SchemeSpec",
    "default_out",
    "load_experiment",
    "parse_experiment",
    "read_results",
    "run_experiment",
    "slugify",
    "strip_timings",
]
