"""UID2 raw-ID derivation with a first-level salt and 2^20 rotating salt buckets.

Follows the open-source operator (REFERENCE.md §2)::

    identity_hash = SHA256(normalised e-mail or E.164 phone)
    first_level   = SHA256(b64(identity_hash) || FIRST_LEVEL_SALT)
    bucket        = (fl[0] << 12) | (fl[1] << 4) | (fl[2] & 0x0F)
    raw_uid2      = SHA256(b64(first_level) || bucket_salt[bucket])

The secret given to the scheme is the deployment's first-level salt. Bucket salts are
simulated: each bucket's salt is derived from the secret, the bucket and its *version*,
and a bucket moves to its next version once every ``rotation_days`` on its own day
(``phase``), so about 1/365 of the buckets rotate each day and a raw UID2 changes about
once a year. The operator keeps the previous salt resolvable for ``grace_days`` (90).

Threat model:
    Secret: the first-level salt and the bucket salts stay inside the operator; the
    advertiser and the publisher only send ``b64(SHA256(identifier))`` - a plain,
    enumerable hash - and receive raw UID2s.
    Platform/buyer learns: a raw UID2 per identity, stable until its bucket rotates, so
    the same person is linkable across every participant for about a year.
    Outsider learns: from the raw UID2 alone, nothing without the operator's salts; but
    the ``identity_hash`` sent to the operator is plain SHA-256 and falls to enumeration.
    Anyone who retains the identity hash (or the first-level hash) re-links a person
    across every rotation - rotation only stops linking by the raw ID itself
    (:func:`linkability` measures both).
    Cost per guess (operator salts known): three SHA-256; the identity hash alone: one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa

from matchsim.errors import ConfigError
from matchsim.kernels import concat, hash_strings
from matchsim.schemes._base import Scheme, encode_text, fixed_width_binary
from matchsim.schemes._registry import register
from matchsim.schemes.keyed import hmac_sha256
from matchsim.secrets import Secret

if TYPE_CHECKING:
    from matchsim.attack.cost import Rates, SchemePrice

BUCKET_BITS = 20
ROTATION_DAYS = 365
GRACE_DAYS = 90


def b64_digests(data: np.ndarray) -> pa.Array:
    """Base64 text of each digest row (the operator concatenates text, not bytes)."""
    return encode_text(data, np.ones(len(data), dtype=bool), "base64")


def bucket_of(first_level: np.ndarray, bits: int = BUCKET_BITS) -> np.ndarray:
    """Salt bucket of each first-level hash: 20 bits from its first 2.5 bytes."""
    fl = first_level.astype(np.int64)
    bucket = (fl[:, 0] << 12) | (fl[:, 1] << 4) | (fl[:, 2] & 0x0F)
    return bucket >> (BUCKET_BITS - bits) if bits < BUCKET_BITS else bucket


@dataclass(frozen=True)
class SaltSchedule:
    """The simulated bucket salts: derived from the secret, rotated on a yearly cycle."""

    secret: bytes
    buckets: int = 2**BUCKET_BITS
    rotation_days: int = ROTATION_DAYS

    def phase(self, bucket: np.ndarray) -> np.ndarray:
        """Day offset (0..rotation_days-1) on which each bucket rotates."""
        msg = np.zeros((len(bucket), 8), dtype=np.uint8)
        msg[:, :4] = np.frombuffer(b"phas", dtype=np.uint8)
        msg[:, 4:] = bucket.astype(">u4").view(np.uint8).reshape(-1, 4)
        h = hmac_sha256(self.secret, fixed_width_binary(msg))
        word = h[:, :4].copy().view(">u4").reshape(-1).astype(np.int64)
        return word % self.rotation_days

    def version(self, bucket: np.ndarray, day: int) -> np.ndarray:
        """How many times each bucket's salt has rotated by ``day`` (day 0: none)."""
        return (day + self.phase(bucket)) // self.rotation_days

    def salts(self, bucket: np.ndarray, version: np.ndarray) -> pa.Array:
        """Salt text of each (bucket, version): Base64 of an HMAC under the secret."""
        msg = np.zeros((len(bucket), 8), dtype=np.uint8)
        msg[:, :4] = bucket.astype(">u4").view(np.uint8).reshape(-1, 4)
        msg[:, 4:] = version.astype(">u4").view(np.uint8).reshape(-1, 4)
        return b64_digests(hmac_sha256(self.secret, fixed_width_binary(msg)))


@register
class UID2(Scheme):
    name = "uid2"
    kind = "operator"
    own_encoding = "base64"
    # Raw UID2s look like Base64 SHA-256: an attacker tries that and, without the
    # operator's bucket salts, recovers nothing.
    looks_like = "sha256"
    needs_secret = True
    secret_word = "operator's bucket salts"
    defaults: ClassVar[Mapping[str, Any]] = {
        "day": 0,
        "bucket_bits": BUCKET_BITS,
        "rotation_days": ROTATION_DAYS,
    }
    threat = (
        "operator-salted raw ID: the input identity hash is plain SHA-256; raw UID2s link "
        "a person across buyers for ~1 year; retained hashes re-link across rotations"
    )

    def __init__(self, *, secret: Secret | None = None, encoding: str = "base64", **params: object):
        super().__init__(secret=secret, encoding=encoding, **params)
        bits, day, period = (
            self.params["bucket_bits"],
            self.params["day"],
            self.params["rotation_days"],
        )
        if not isinstance(bits, int) or not 1 <= bits <= BUCKET_BITS:
            raise ConfigError(f"scheme uid2: bucket_bits must be 1..{BUCKET_BITS}, got {bits!r}")
        if not isinstance(day, int) or day < 0:
            raise ConfigError(f"scheme uid2: day must be an integer >= 0, got {day!r}")
        if not isinstance(period, int) or period < 1:
            raise ConfigError(f"scheme uid2: rotation_days must be >= 1, got {period!r}")
        assert secret is not None
        self.schedule = SaltSchedule(secret.value, 2**bits, period)

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        from matchsim.attack.cost import SchemePrice

        return SchemePrice(
            cls.name,
            False,
            "raw UID2 needs the operator's secret salts (not reversible by enumeration); the "
            "client-side identity hash is plain SHA-256 and prices as sha256",
        )

    @property
    def digest_size(self) -> int:
        return 32

    def first_level(self, values: pa.Array) -> np.ndarray:
        """First-level hashes: rotation-invariant, secret to the operator."""
        assert self.secret is not None
        identity = hash_strings(values, "sha256")
        return hash_strings(concat(None, b64_digests(identity), self.secret.value), "sha256")

    def raw_ids(self, first_level: np.ndarray, day: int) -> np.ndarray:
        """Raw UID2s on ``day`` for the given first-level hashes."""
        bucket = bucket_of(first_level, self.params["bucket_bits"])
        distinct, inverse = np.unique(bucket, return_inverse=True)
        salts = self.schedule.salts(distinct, self.schedule.version(distinct, day))
        salt_rows = salts.take(pa.array(inverse))
        return hash_strings(concat(None, b64_digests(first_level), salt_rows), "sha256")

    def _digest(self, values: pa.Array) -> np.ndarray:
        return self.raw_ids(self.first_level(values), self.params["day"])


@dataclass(frozen=True)
class Linkability:
    """Per day: shares of identities still linkable to day 0, measured on real digests.

    Attributes:
        days: the simulated days.
        same_raw_id: raw UID2 unchanged since day 0 (linkable by the ID itself).
        resolvable: day-0 raw UID2 still resolvable (unchanged, or rotated within the
            grace period).
        relinked_by_first_level: linked by a party that retained the first-level (or
            identity) hash and re-derives today's ID - always all of them.
        rotated_buckets_per_day: measured share of buckets that rotated on each day.
    """

    days: tuple[int, ...]
    same_raw_id: tuple[float, ...]
    resolvable: tuple[float, ...]
    relinked_by_first_level: tuple[float, ...]
    rotated_buckets_per_day: float


def linkability(
    scheme: UID2, values: pa.Array, days: Sequence[int], *, grace_days: int = GRACE_DAYS
) -> Linkability:
    """Measure how many identities stay linkable across salt rotation.

    Derives each identity's raw UID2 on day 0 and on each of ``days`` and compares them;
    a retained first-level hash is joined back to day 0 by re-deriving (as the operator,
    or anyone holding the first-level mapping, can).
    """
    fl = scheme.first_level(values)
    base = scheme.raw_ids(fl, 0)
    n = max(1, len(values))
    same, resolvable, relinked = [], [], []
    bucket = bucket_of(fl, scheme.params["bucket_bits"])
    keys = np.ascontiguousarray(fl).view(np.dtype((np.void, 32))).reshape(-1)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    for day in days:
        today = scheme.raw_ids(fl, day)
        unchanged = (today == base).all(axis=1)
        same.append(float(unchanged.sum()) / n)
        # The day-0 ID resolves while no rotation happened, or the first one happened
        # within the last ``grace_days``.
        first_rotation_day = _first_rotation_day(scheme.schedule, bucket)
        in_grace = ~unchanged & (day - first_rotation_day < grace_days)
        in_grace &= scheme.schedule.version(bucket, day) == 1
        resolvable.append(float((unchanged | in_grace).sum()) / n)
        # Re-link: a party that kept (first-level hash -> day-0 ID) joins today's
        # (first-level hash -> today's ID) rows to it on the retained key.
        found = order[np.clip(np.searchsorted(sorted_keys, keys), 0, len(keys) - 1)]
        relinked_ok = (keys[found] == keys) & (base[found] == base).all(axis=1)
        relinked.append(float(relinked_ok.sum()) / n)
    all_buckets = np.arange(scheme.schedule.buckets)
    rotated = scheme.schedule.version(all_buckets, 1) > scheme.schedule.version(all_buckets, 0)
    return Linkability(
        tuple(days), tuple(same), tuple(resolvable), tuple(relinked), float(rotated.mean())
    )


def _first_rotation_day(schedule: SaltSchedule, bucket: np.ndarray) -> np.ndarray:
    phase = schedule.phase(bucket)
    return np.where(phase == 0, schedule.rotation_days, schedule.rotation_days - phase)
