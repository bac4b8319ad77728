"""Bloom-filter encodings (CLKs) for fuzzy privacy-preserving record linkage, and the
attack on them.

``link(pop, ClkSchema(...), secret) -> LinkResult`` encodes both parties' records and
matches them by Dice similarity; ``attack(pop, schema, secret) -> AttackResult`` runs a
frequency/atom attack on the advertiser's encodings. Lower-level: :func:`encode`
(clkhash-compatible ``blakeHash`` bits), :func:`match`, :func:`frequency_attack`.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from matchsim.clk.schema import ClkField, ClkSchema, LinkParams

if TYPE_CHECKING:
    from matchsim.clk.attack import AttackParams, frequency_attack, public_first_names
    from matchsim.clk.encode import Clks, encode
    from matchsim.clk.link import match
    from matchsim.clk.run import AttackResult, LinkResult, attack, link

# The encoder and attack (numba) load when first asked for: reading a [clk] table needs
# only the schema.
_LAZY = {
    **dict.fromkeys(("AttackParams", "frequency_attack", "public_first_names"), "attack"),
    **dict.fromkeys(("Clks", "encode"), "encode"),
    "match": "link",
    **dict.fromkeys(("AttackResult", "LinkResult", "attack", "link"), "run"),
}


class _Package(types.ModuleType):
    """``clk.encode``, ``clk.link`` and ``clk.attack`` name both a submodule and the
    function it exports; the function wins (as when this file imported them eagerly),
    even after something imported the submodule itself."""

    def __getattribute__(self, name: str) -> Any:
        if name in _LAZY:
            return getattr(importlib.import_module(f"matchsim.clk.{_LAZY[name]}"), name)
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "AttackParams",
    "AttackResult",
    "ClkField",
    "ClkSchema",
    "Clks",
    "LinkParams",
    "LinkResult",
    "attack",
    "encode",
    "frequency_attack",
    "link",
    "match",
    "public_first_names",
]
