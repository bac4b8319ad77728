"""Per-record random salt: salted-sha256 (unlinkable, so useless for matching).

Each value gets a fresh random 16-byte salt; the digest is ``salt || SHA-256(salt ||
value)`` (48 bytes), as in password storage.

Threat model:
    Secret: none shared - the salts are random per record and travel with the digest.
    Platform learns: nothing it can join on. Its own users' identifiers hashed with its
    own salts never equal the advertiser's digests, so the match rate is zero; that is
    the point this scheme makes (``deterministic = False``). It can still verify one
    known candidate against one record (salt is in the clear).
    Outsider learns: one record at a time by enumeration - a precomputed table no longer
    serves every file, but a phone number still falls after at most 10^8 hashes *per
    record*.
    Cost per guess: one SHA-256 per (candidate, record) pair.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from matchsim.kernels import _CHUNK, concat, hash_strings, string_buffers
from matchsim.schemes._base import (
    Digests,
    NotEnumerable,
    Scheme,
    as_strings,
    fixed_width_binary,
)
from matchsim.schemes._registry import register

if TYPE_CHECKING:
    from matchsim.attack.cost import Rates, SchemePrice

SALT_BYTES = 16


_REASON = (
    "a salt per record: each digest needs its own enumeration of the keyspace "
    "(records x keyspace hashes), and an unknown salt cannot be enumerated at all"
)


@register
class SaltedSHA256(Scheme):
    name = "salted-sha256"
    kind = "salted"
    deterministic = False
    defaults: ClassVar[Mapping[str, Any]] = {"seed": None}
    threat = (
        "random salt per record: no two encodings of a value match, so the join fails; "
        "each record still falls to enumeration on its own"
    )

    @property
    def digest_size(self) -> int:
        return SALT_BYTES + 32

    salt_bytes = SALT_BYTES
    """Each digest starts with its salt, drawn before hashing (the join's platform side
    hashes only the rows whose salt some upload digest carries; see
    :func:`matchsim.join.platform.normalised_digests`)."""

    def salts(self, n: int) -> np.ndarray:
        """The ``(n, SALT_BYTES)`` salts :meth:`_digest` gives ``n`` values, in order."""
        rng = np.random.default_rng(self.params["seed"])
        return rng.integers(0, 256, size=(n, SALT_BYTES), dtype=np.uint8)

    def _digest(self, values: pa.Array) -> np.ndarray:
        return self.digest_with(values, self.salts(len(values)))

    def digest_with(self, values: pa.Array, salts: np.ndarray) -> np.ndarray:
        """``salt || SHA-256(salt || value)`` of each value with the salt on its row."""
        from matchsim.kernels import _openssl  # numba: loaded when hashing, not at validation

        salts = np.ascontiguousarray(salts, dtype=np.uint8)
        if _openssl.AVAILABLE and len(values):
            data, starts, lengths = string_buffers(values)
            if len(data) == 0:
                data = np.zeros(1, np.uint8)
            out = np.empty((len(values), SALT_BYTES + 32), dtype=np.uint8)
            _openssl.salted_sha256_batch(data, starts, lengths, salts, out, _CHUNK)
            return out
        digests = hash_strings(concat(fixed_width_binary(salts), values, None), "sha256")
        return np.concatenate([salts, digests], axis=1)

    def verify(self, digests: Digests, candidates: pa.Array) -> np.ndarray:
        """Whether each record's digest is the salted hash of the candidate on its row."""
        salts = fixed_width_binary(digests.data[:, :SALT_BYTES])
        again = hash_strings(concat(salts, as_strings(candidates), None), "sha256")
        return digests.valid & (again == digests.data[:, SALT_BYTES:]).all(axis=1)

    def attacker_view(self, knows_secret: bool) -> NotEnumerable:
        return NotEnumerable(_REASON)

    @classmethod
    def outsider_limit(cls) -> NotEnumerable:
        return NotEnumerable(_REASON)

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        from matchsim.attack.cost import SchemePrice

        return SchemePrice(
            cls.name,
            False,
            "per-record salt: an unknown salt cannot be enumerated; a known salt means one "
            "full enumeration per record (keyspace x records), and no precomputed table",
        )
