"""A country's data: name, place and e-mail tables (:mod:`.tables`) and its telephone
number plan (:mod:`.numberplan`). Generation samples from it; normalisation, the attack's
keyspaces and the risk estimators read the same plan, so every stage agrees on what a
valid number of a country is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matchsim._lazy import attributes
from matchsim.locale.paths import available_countries, data_dir

if TYPE_CHECKING:
    from matchsim.locale.numberplan import NumberPlan, number_plan
    from matchsim.locale.tables import Locale, load_locale

# The number plan (phonenumbers) and the tables (numba) load when first asked for, so
# that validating an experiment does not pay for them.
_LAZY = {
    "NumberPlan": "matchsim.locale.numberplan",
    "number_plan": "matchsim.locale.numberplan",
    "Locale": "matchsim.locale.tables",
    "load_locale": "matchsim.locale.tables",
}


__getattr__ = attributes(__name__, _LAZY)

__all__ = ["Locale", "NumberPlan", "available_countries", "data_dir", "load_locale", "number_plan"]
