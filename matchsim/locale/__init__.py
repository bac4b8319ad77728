"""A country's data: name, place and e-mail tables (:mod:`.tables`) and its telephone
number plan (:mod:`.numberplan`). Generation samples from it; normalisation, the attack's
keyspaces and the risk estimators read the same plan, so every stage agrees on what a
valid number of a country is.
"""

from matchsim.locale.numberplan import NumberPlan, number_plan
from matchsim.locale.tables import Locale, available_countries, data_dir, load_locale

__all__ = ["Locale", "NumberPlan", "available_countries", "data_dir", "load_locale", "number_plan"]
