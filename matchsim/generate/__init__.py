"""Stage 1: synthetic platform users, an advertiser's customer file, and the ground truth.

``population(params, out)`` is the library call behind ``matchsim generate``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from matchsim.generate.params import Corruption, PopulationParams
from matchsim.locale.paths import available_countries

if TYPE_CHECKING:
    from matchsim.generate.build import (
        CUSTOMERS_FILE,
        MANIFEST_FILE,
        PLATFORM_FILE,
        TRUTH_FILE,
        Population,
        population,
    )
    from matchsim.locale.tables import Locale, load_locale

# The generator (numba, Arrow) loads when first asked for: validating an experiment reads
# only the parameters.
_LAZY = {
    **dict.fromkeys(
        ("CUSTOMERS_FILE", "MANIFEST_FILE", "PLATFORM_FILE", "TRUTH_FILE", "Population",
         "population"),
        "matchsim.generate.build",
    ),
    "Locale": "matchsim.locale.tables",
    "load_locale": "matchsim.locale.tables",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CUSTOMERS_FILE",
    "MANIFEST_FILE",
    "PLATFORM_FILE",
    "TRUTH_FILE",
    "Corruption",
    "Locale",
    "Population",
    "PopulationParams",
    "available_countries",
    "load_locale",
    "population",
]
