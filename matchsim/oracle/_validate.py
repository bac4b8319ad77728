"""Moved: the one validator is :mod:`matchsim.experiment.fields` (kept for its importers)."""

from matchsim.experiment.fields import Fields, raise_problems

__all__ = ["Fields", "raise_problems"]
