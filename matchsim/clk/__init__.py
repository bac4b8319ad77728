"""Bloom-filter encodings (CLKs) for fuzzy privacy-preserving record linkage, and the
attack on them.

``link(pop, ClkSchema(...), secret) -> LinkResult`` encodes both parties' records and
matches them by Dice similarity; ``attack(pop, schema, secret) -> AttackResult`` runs a
frequency/atom attack on the advertiser's encodings. Lower-level: :func:`encode`
(clkhash-compatible ``blakeHash`` bits), :func:`match`, :func:`frequency_attack`.
"""

from matchsim.clk.attack import AttackParams, frequency_attack, public_first_names
from matchsim.clk.encode import Clks, encode
from matchsim.clk.link import match
from matchsim.clk.run import AttackResult, LinkResult, attack, link
from matchsim.clk.schema import ClkField, ClkSchema, LinkParams

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
