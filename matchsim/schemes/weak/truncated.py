"""Truncated SHA-256: keep only the first ``bits`` bits (WEAK).

Threat model:
    Secret: none. Both sides truncate the same public digest, so the join still works,
    but distinct identifiers collide once the population nears 2^(bits/2) (birthday
    bound); with few bits each digest is a bucket of k candidates (k-anonymity).
    Platform learns: a bucket per uploaded record; joined to its own users, a small
    bucket is still one person, and false matches appear.
    Outsider learns: for each digest, the bucket of candidates hashing to it - with a
    small identifier space (phones) often exactly one person, found at plain SHA-256
    speed.
    Cost per guess: one SHA-256 (as ``sha256``); truncation makes guessing no harder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from matchsim.errors import ConfigError
from matchsim.kernels import hash_strings
from matchsim.schemes._base import Scheme
from matchsim.schemes._registry import register
from matchsim.secrets import Secret

if TYPE_CHECKING:
    from matchsim.attack.cost import Rates, SchemePrice


@register
class TruncatedSHA256(Scheme):
    name = "truncated-sha256"
    weak = True
    defaults: ClassVar[Mapping[str, Any]] = {"bits": 32}
    looks_like = "sha256"  # cut short, but enumerated at SHA-256 speed all the same
    threat = (
        "WEAK: public SHA-256 cut to k bits; collisions create k-anonymous buckets but "
        "each bucket is enumerable at SHA-256 speed"
    )

    def __init__(self, *, secret: Secret | None = None, encoding: str = "hex", **params: object):
        super().__init__(secret=secret, encoding=encoding, **params)
        bits = self.params["bits"]
        if not isinstance(bits, int) or isinstance(bits, bool) or not 1 <= bits <= 256:
            raise ConfigError(f"scheme {self.name}: bits must be an integer 1..256, got {bits!r}")
        self.bits = bits

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        from matchsim.attack.cost import KERNEL, SchemePrice

        return SchemePrice(
            cls.name,
            True,
            "truncation costs the attacker nothing: same rate, a few more false positives",
            rates.known("sha256"),
            KERNEL,
            rates.reference("sha256"),
        )

    @property
    def digest_size(self) -> int:
        return (self.bits + 7) // 8

    def _digest(self, values: pa.Array) -> np.ndarray:
        out = hash_strings(values, "sha256")[:, : self.digest_size].copy()
        spare = 8 * self.digest_size - self.bits
        if spare:
            out[:, -1] &= np.uint8((0xFF << spare) & 0xFF)
        return out
