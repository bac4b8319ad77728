"""Stage 4: the platform's custom-audience join.

The platform indexes its users' identifiers under a profile and scheme, joins an
advertiser's hashed upload to them on every key both hold, and learns which of its users
are the advertiser's customers. ``get_engine(name).match(upload, platform)`` is the
digest-level join; evaluation against ground truth lives apart, in
:mod:`matchsim.join.evaluate`, and runs only after a join.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from matchsim._lazy import attributes

if TYPE_CHECKING:
    from matchsim.join.engine import Engine, engine_names, get_engine, register_engine
    from matchsim.join.keys import (
        MATCH_KEYS,
        InMemoryPlatform,
        KeyDigests,
        PlatformSource,
        UploadKeys,
    )
    from matchsim.join.result import KeyReport, MatchResult

# The engines and keys (numba kernels) load when first asked for, so that a stage that
# only names a submodule (``matchsim.join.identity``) does not pay for them.
_LAZY = {
    **dict.fromkeys(("Engine", "engine_names", "get_engine", "register_engine"), "engine"),
    **dict.fromkeys(
        ("MATCH_KEYS", "InMemoryPlatform", "KeyDigests", "PlatformSource", "UploadKeys"), "keys"
    ),
    **dict.fromkeys(("KeyReport", "MatchResult"), "result"),
}


__getattr__ = attributes(__name__, {k: f"matchsim.join.{v}" for k, v in _LAZY.items()})

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
