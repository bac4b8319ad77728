"""Stage 2: normalise identifiers the way each platform documents (or its SDK behaves).

``get_profile("meta").normalise("phone", values, region="NL")`` returns a
:class:`Normalised` column: values, a rejected mask and a reason per rejection. Profiles
are data (:mod:`matchsim.normalise.profiles`); field normalisers are small vectorised
functions (:mod:`matchsim.normalise.fields`, :mod:`matchsim.normalise.phones`).
"""

from matchsim.errors import ConfigError
from matchsim.normalise._profile import (
    ACCEPTED_NEVER_MATCHES,
    FIELDS,
    FieldRule,
    Normalised,
    Profile,
)
from matchsim.normalise.profiles import PROFILES

INPUT_COLUMNS: dict[str, str] = {f: f for f in FIELDS} | {"state": "region"}
"""Field -> column name in matchsim's own customers/platform tables."""


def get_profile(name: str) -> Profile:
    """The profile ``name``; ConfigError listing the known profiles otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise ConfigError(f"unknown profile {name!r}; known profiles: {known}") from None


__all__ = [
    "ACCEPTED_NEVER_MATCHES",
    "FIELDS",
    "INPUT_COLUMNS",
    "PROFILES",
    "FieldRule",
    "Normalised",
    "Profile",
    "get_profile",
]
