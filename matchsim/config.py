"""Moved to :mod:`matchsim.experiment.config` (the experiment stage); kept for importers."""

from matchsim.experiment.config import (
    ATTACK_KINDS,
    ENGINES,
    SCHEMA_VERSION,
    Advertiser,
    AttackSpec,
    Experiment,
    SchemeSpec,
    load_experiment,
    parse_experiment,
    slugify,
)

__all__ = [
    "ATTACK_KINDS",
    "ENGINES",
    "SCHEMA_VERSION",
    "Advertiser",
    "AttackSpec",
    "Experiment",
    "SchemeSpec",
    "load_experiment",
    "parse_experiment",
    "slugify",
]
