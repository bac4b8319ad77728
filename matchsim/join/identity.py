"""The platform's own index of its users' hashed identifiers: digest -> account.

Both the audience-size API (:mod:`matchsim.oracle.api`) and the pixel's linking
(:mod:`matchsim.pixel.link`) resolve hashed identifiers through it. The platform
normalises its users' e-mail addresses (``email`` and ``email2``) and phone numbers with
its documented profile and hashes them with its documented scheme, exactly as it asks
advertisers to do; a lookup is a vectorised probe on the first 64-bit word of each digest
followed by a full-digest check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from matchsim.errors import InputError

FIELDS = ("email", "phone")


def hash_identifiers(
    values: pa.Array | pa.ChunkedArray, field: str, region: str, profile: str, scheme: str
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise ``values`` as ``field`` under ``profile`` and hash them with ``scheme``.

    Returns:
        ``(digests (n, D) uint8, valid (n,) bool)``; invalid where missing or rejected.
    """
    from matchsim.normalise import get_profile
    from matchsim.schemes import get_scheme

    normalised = get_profile(profile).normalise(field, values, region)
    digests = get_scheme(scheme).encode(normalised.values)
    return digests.data, digests.valid


def _words(data: np.ndarray) -> np.ndarray:
    """``(n, D)`` uint8 digests (D a multiple of 8) as ``(n, D/8)`` uint64 words."""
    return np.ascontiguousarray(data).view(np.uint64)


@dataclass(frozen=True)
class _Key:
    words: np.ndarray  # (n, W) uint64 sorted by the first word
    uids: np.ndarray  # (n,) int64

    def lookup(self, data: np.ndarray, valid: np.ndarray) -> np.ndarray:
        if self.words.shape[0] == 0 or data.shape[0] == 0:
            return np.full(data.shape[0], -1, dtype=np.int64)
        if data.shape[1] != self.words.shape[1] * 8:
            return np.full(data.shape[0], -1, dtype=np.int64)  # other digest width: no match
        probe = _words(data)
        at = np.searchsorted(self.words[:, 0], probe[:, 0])
        at = np.minimum(at, self.words.shape[0] - 1)
        hit = valid & (self.words[at] == probe).all(axis=1)
        return np.where(hit, self.uids[at], -1)


class IdentityIndex:
    """Hashed e-mail and phone digests of every account, and the accounts' phones.

    Attributes:
        n_users: accounts on the platform.
        profile, scheme, region: the documented normalisation and hashing.
    """

    def __init__(
        self,
        uids: np.ndarray,
        emails: pa.Array,
        emails2: pa.Array,
        phones: pa.Array,
        *,
        region: str,
        profile: str = "meta",
        scheme: str = "sha256",
    ) -> None:
        self.region, self.profile, self.scheme = region, profile, scheme
        self.n_users = len(uids)
        uids = np.asarray(uids, dtype=np.int64)
        keys: dict[str, _Key] = {}
        all_uids = np.concatenate([uids, uids])
        data, valid = hash_identifiers(
            pa.concat_arrays([_plain(emails), _plain(emails2)]), "email", region, profile, scheme
        )
        keys["email"] = _sorted_key(data[valid], all_uids[valid])
        normalised = _normalised_phones(phones, region, profile)
        digests = _scheme(scheme).encode(normalised)
        data, valid = digests.data, digests.valid
        keys["phone"] = _sorted_key(data[valid], uids[valid])
        self._keys = keys
        # The accounts' phones as normalised digit strings, kept for range uploads (below).
        have = normalised.is_valid().to_numpy(zero_copy_only=False)
        digits = normalised.filter(pa.array(have))
        self._phone_digits = digits
        self._phone_uids = uids[have]
        self._phone_sorted: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def from_population(
        cls, population_dir: str | Path, *, profile: str = "meta", scheme: str = "sha256"
    ) -> IdentityIndex:
        """Build the index from ``platform.parquet`` of a generated population."""
        from matchsim.generate import PLATFORM_FILE

        path = Path(population_dir) / PLATFORM_FILE
        if not path.exists():
            raise InputError(path, "no platform table here; run `matchsim generate` first")
        table = pq.read_table(path, columns=["uid", "email", "email2", "phone", "country"])
        countries = pc.unique(table["country"].combine_chunks().cast(pa.string())).to_pylist()
        region = str(countries[0]) if countries else "NL"
        return cls(
            table["uid"].to_numpy(),
            table["email"].combine_chunks(),
            table["email2"].combine_chunks(),
            table["phone"].combine_chunks(),
            region=region,
            profile=profile,
            scheme=scheme,
        )

    def lookup(self, field: str, data: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """The account of each digest (``-1`` where none); ``field`` is email or phone."""
        return self._keys[field].lookup(data, valid)

    def phone_range(self, prefix: str, length: int) -> np.ndarray:
        """Accounts whose normalised phone has ``length`` digits and starts with ``prefix``.

        This is what matching the hashed upload of *every* number with that prefix
        returns, for a deterministic unkeyed scheme: a digest is in the index exactly when
        its plaintext is an account's phone (up to SHA-256 collisions). The API uses it
        for candidate ranges too large to hash per query; ``tests/test_oracle.py`` checks
        it against the digest path on ranges small enough to hash.
        """
        if length not in self._phone_sorted:
            lengths = pc.utf8_length(self._phone_digits).to_numpy(zero_copy_only=False)
            keep = lengths == length
            values = np.asarray(
                pc.cast(self._phone_digits.filter(pa.array(keep)), pa.int64()), dtype=np.int64
            )
            order = np.argsort(values, kind="stable")
            self._phone_sorted[length] = (values[order], self._phone_uids[keep][order])
        values, uids = self._phone_sorted[length]
        scale = 10 ** (length - len(prefix))
        lo = int(prefix) * scale
        a, b = np.searchsorted(values, [lo, lo + scale])
        return uids[a:b]


def _scheme(name: str) -> Any:
    from matchsim.schemes import get_scheme

    return get_scheme(name)


def _plain(values: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    return values.cast(pa.string())


def _normalised_phones(phones: pa.Array, region: str, profile: str) -> pa.Array:
    from matchsim.normalise import get_profile

    return get_profile(profile).normalise("phone", _plain(phones), region).values


def _sorted_key(data: np.ndarray, uids: np.ndarray) -> _Key:
    words = _words(data) if data.shape[0] else np.zeros((0, max(1, data.shape[1] // 8)), np.uint64)
    order = np.argsort(words[:, 0], kind="stable") if words.shape[0] else np.zeros(0, np.int64)
    return _Key(np.ascontiguousarray(words[order]), np.asarray(uids, dtype=np.int64)[order])
