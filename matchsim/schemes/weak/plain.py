"""Plain unsalted digests: md5, sha1, sha256, sha512 (WEAK).

Threat model:
    Secret: none. Advertiser and platform join because both compute the same public
    function of the normalised identifier.
    Platform learns: every uploaded identifier it also holds (that is the purpose), and
    can test any other candidate for free.
    Outsider who obtains the file learns: every identifier in an enumerable space (all
    10^8 Dutch mobile numbers, e-mails built from name lists) by hashing candidates; a
    dictionary or rainbow table built once serves every such file.
    Cost per guess: one hash; measured on this machine by ``benchmarks/bench_schemes.py``
    (about 10^-7 s per core here); an RTX 4090 does 2.2·10^10 SHA-256/s (REFERENCE.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from matchsim.kernels import DIGEST_SIZES, hash_strings
from matchsim.schemes._base import NotEnumerable, Scheme
from matchsim.schemes._registry import register

if TYPE_CHECKING:
    from matchsim.attack.cost import Rates, SchemePrice
    from matchsim.attack.engine import Knowledge


class PlainHash(Scheme):
    weak = True
    algorithm: ClassVar[str]
    threat = (
        "WEAK: no secret; anyone can hash candidates, so phone numbers and guessable "
        "e-mails fall to enumeration at GPU hash speed"
    )

    @property
    def digest_size(self) -> int:
        return DIGEST_SIZES[self.algorithm]

    def _digest(self, values: pa.Array) -> np.ndarray:
        return hash_strings(values, self.algorithm)

    def attacker_view(self, knows_secret: bool) -> Knowledge | NotEnumerable:
        from matchsim.attack.engine import Knowledge

        return Knowledge(algorithm=self.algorithm)

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        from matchsim.attack.cost import KERNEL, SchemePrice, measure_fast

        measured = rates.rate(cls.name, lambda: measure_fast(cls.algorithm))
        return SchemePrice(cls.name, True, "", measured, KERNEL, rates.reference(cls.algorithm))


@register
class MD5(PlainHash):
    name = "md5"
    algorithm = "md5"


@register
class SHA1(PlainHash):
    name = "sha1"
    algorithm = "sha1"


@register
class SHA256(PlainHash):
    name = "sha256"
    algorithm = "sha256"
    reference = True


@register
class SHA512(PlainHash):
    name = "sha512"
    algorithm = "sha512"

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        from matchsim.attack.cost import SchemePrice, measure_fast

        return SchemePrice(
            cls.name,
            True,
            "no fused kernel yet: measured on the hashlib path",
            rates.rate(cls.name, lambda: measure_fast("sha512")),
            "hashlib, one core",
            {},
        )
