"""Stage 1: synthetic platform users, an advertiser's customer file, and the ground truth.

``population(params, out)`` is the library call behind ``matchsim generate``.
"""

from matchsim.generate.build import (
    CUSTOMERS_FILE,
    MANIFEST_FILE,
    PLATFORM_FILE,
    TRUTH_FILE,
    Population,
    PopulationParams,
    population,
)
from matchsim.generate.corrupt import Corruption
from matchsim.locale.tables import Locale, available_countries, load_locale

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
