"""Stage 4: the platform's custom-audience join.

The platform indexes its users' identifiers under a profile and scheme, joins an
advertiser's hashed upload to them on every key both hold, and learns which of its users
are the advertiser's customers. ``get_engine(name).match(upload, platform)`` is the
digest-level join; evaluation against ground truth lives apart, in
:mod:`matchsim.join.evaluate`, and runs only after a join.
"""

from matchsim.join.engine import Engine, engine_names, get_engine, register_engine
from matchsim.join.keys import (
    MATCH_KEYS,
    InMemoryPlatform,
    KeyDigests,
    PlatformSource,
    UploadKeys,
)
from matchsim.join.result import KeyReport, MatchResult

__all__ = [
    "MATCH_KEYS",
    "Engine",
    "InMemoryPlatform",
    "KeyDigests",
    "KeyReport",
    "MatchResult",
    "PlatformSource",
    "UploadKeys",
    "engine_names",
    "get_engine",
    "register_engine",
]
