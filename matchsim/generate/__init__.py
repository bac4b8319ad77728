"""Stage 1: synthetic platform users, an advertiser's customer file, and the ground truth.

``population(params, out)`` is the library call behind ``matchsim generate``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matchsim._lazy import attributes
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


__getattr__ = attributes(__name__, _LAZY)

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
