"""Slow key-derivation functions with a *shared* salt: pbkdf2-sha256, scrypt, argon2id.

Matching needs determinism, so advertiser and platform use the same salt (from the
shared secret if one is given, else the public ``salt`` parameter). The only protection
is cost per guess: each candidate costs ``iterations`` HMACs (PBKDF2), ``N·r`` memory-
hard mixing (scrypt) or ``memory`` KiB x ``iterations`` passes (Argon2id).

Threat model:
    Secret: none required (a public shared salt only defeats tables precomputed before
    the salt was chosen); with a secret salt it is also keyed like HMAC.
    Platform learns: every uploaded identifier it holds, after paying the KDF once per
    own user - and it can still test any candidate, at the KDF's cost.
    Outsider learns: what it can afford. A phone-number space of 10^8 at 50 ms per guess
    is about 58 CPU-days - slow, not impossible; GPU rates are in REFERENCE.md §3.
    Cost per guess: the KDF itself, measured per machine by
    ``benchmarks/bench_schemes.py``; the honest advertiser pays it once per record too.

The KDFs come from ``cryptography``; values are deduplicated first and derived one at a
time (the cost *is* the point), on a thread pool - the KDFs release the GIL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from matchsim.errors import ConfigError
from matchsim.schemes._base import NotEnumerable, Scheme
from matchsim.schemes._registry import register
from matchsim.secrets import Secret

if TYPE_CHECKING:
    from matchsim.attack.cost import Rates, SchemePrice

DEFAULT_SALT = "matchsim-shared-salt"
LENGTH = 32


def _positive_int(scheme: str, name: str, value: object, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"scheme {scheme}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def pbkdf2_sha256(password: bytes, salt: bytes, iterations: int, length: int = LENGTH) -> bytes:
    return PBKDF2HMAC(hashes.SHA256(), length, salt, iterations).derive(password)


def scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, length: int = LENGTH) -> bytes:
    return Scrypt(salt, length, n, r, p).derive(password)


def argon2id(
    password: bytes,
    salt: bytes,
    memory: int,
    iterations: int,
    lanes: int = 1,
    length: int = LENGTH,
    secret: bytes | None = None,
    ad: bytes | None = None,
) -> bytes:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    kdf = Argon2id(
        salt=salt,
        length=length,
        iterations=iterations,
        lanes=lanes,
        memory_cost=memory,
        ad=ad,
        secret=secret,
    )
    return kdf.derive(password)


def argon2_available() -> bool:
    """Argon2id arrived in cryptography 44; older installs lack it."""
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: F401
    except ImportError:
        return False
    return True


class SlowKDF(Scheme):
    """Base of the KDF schemes: dedupe, derive each distinct value once, scatter back."""

    kind = "kdf"

    threads: ClassVar[int] = max(1, min(8, os.cpu_count() or 1))

    def __init__(self, *, secret: Secret | None = None, encoding: str = "hex", **params: object):
        super().__init__(secret=secret, encoding=encoding, **params)
        salt = self.params.get("salt", DEFAULT_SALT)
        if not isinstance(salt, str) or len(salt.encode()) < 8:
            raise ConfigError(f"scheme {self.name}: salt must be a string of >= 8 bytes")
        # A shared secret, when given, is the salt: the KDF is then keyed as well as slow.
        self.salt = secret.value if secret is not None else salt.encode()
        self._check()

    def _check(self) -> None:
        raise NotImplementedError

    def attacker_view(self, knows_secret: bool) -> NotEnumerable:
        return NotEnumerable(
            "not run: every guess costs one KDF evaluation; the cost column gives the time "
            "to exhaust the keyspace at that cost"
        )

    def _derive_fn(self) -> Callable[[bytes], bytes]:
        raise NotImplementedError

    @classmethod
    def _priced(
        cls, rates: Rates, params: Mapping[str, Any], note: str, reference: dict[str, float]
    ) -> SchemePrice:
        from matchsim.attack.cost import SchemePrice, measure_kdf

        measured = rates.rate(cls.name, lambda: measure_kdf(cls.name, dict(params)))
        return SchemePrice(cls.name, True, note, measured, "cryptography, one core", reference)

    def derive_one(self, value: bytes) -> bytes:
        """One derivation (the cost of one guess)."""
        return self._derive_fn()(value)

    @property
    def digest_size(self) -> int:
        return LENGTH

    def _digest(self, values: pa.Array) -> np.ndarray:
        distinct = pc.unique(values)
        index = pc.index_in(values, value_set=distinct).to_numpy(zero_copy_only=False)
        derive = self._derive_fn()
        items = [v.encode() if isinstance(v, str) else v for v in distinct.to_pylist()]
        if len(items) > 1 and self.threads > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                keys = list(pool.map(derive, items))
        else:
            keys = [derive(v) for v in items]
        table = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), LENGTH)
        return table[index]


@register
class PBKDF2SHA256(SlowKDF):
    name = "pbkdf2-sha256"
    defaults: ClassVar[Mapping[str, Any]] = {"iterations": 100_000, "salt": DEFAULT_SALT}
    threat = (
        "slow KDF with shared salt: cost per guess = iterations x 2 SHA-256; matching "
        "still works, enumeration of small spaces is slowed, not stopped"
    )

    def _check(self) -> None:
        _positive_int(self.name, "iterations", self.params["iterations"])

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        pb = params["iterations"]
        note = f"{pb:,} iterations; reference rates scaled from hashcat's 999"
        return cls._priced(rates, params, note, rates.reference("pbkdf2-sha256@999", 999 / pb))

    def _derive_fn(self) -> Callable[[bytes], bytes]:
        salt, iterations = self.salt, self.params["iterations"]
        return lambda v: pbkdf2_sha256(v, salt, iterations)


@register
class ScryptScheme(SlowKDF):
    name = "scrypt"
    defaults: ClassVar[Mapping[str, Any]] = {"n": 2**14, "r": 8, "p": 1, "salt": DEFAULT_SALT}
    threat = (
        "memory-hard KDF (N, r, p) with shared salt: GPUs lose most of their advantage; "
        "still enumerable for small spaces at the measured cost"
    )

    def _check(self) -> None:
        n = _positive_int(self.name, "n", self.params["n"], 2)
        if n & (n - 1):
            raise ConfigError(f"scheme {self.name}: n must be a power of two, got {n}")
        _positive_int(self.name, "r", self.params["r"])
        _positive_int(self.name, "p", self.params["p"])

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        n, r, p = params["n"], params["r"], params["p"]
        reference = rates.reference("scrypt@16384") if n == 16384 and r == 8 else {}
        return cls._priced(rates, params, f"N={n}, r={r}, p={p}", reference)

    def _derive_fn(self) -> Callable[[bytes], bytes]:
        salt, n, r, p = self.salt, self.params["n"], self.params["r"], self.params["p"]
        return lambda v: scrypt(v, salt, n, r, p)


@register
class Argon2idScheme(SlowKDF):
    name = "argon2id"
    defaults: ClassVar[Mapping[str, Any]] = {
        "memory": 19 * 1024,
        "iterations": 2,
        "lanes": 1,
        "salt": DEFAULT_SALT,
    }
    threat = (
        "memory-hard Argon2id (memory KiB, iterations) with shared salt: the strongest "
        "cost per guess here; the platform pays it too for every user it joins"
    )

    def _check(self) -> None:
        if not argon2_available():
            import cryptography

            raise ConfigError(
                f"scheme argon2id needs cryptography >= 44 (installed: {cryptography.__version__})"
            )
        lanes = _positive_int(self.name, "lanes", self.params["lanes"])
        _positive_int(self.name, "memory", self.params["memory"], 8 * lanes)
        _positive_int(self.name, "iterations", self.params["iterations"])

    @classmethod
    def price(cls, rates: Rates, params: Mapping[str, Any]) -> SchemePrice:
        t, m, p = params["iterations"], params["memory"], params["lanes"]
        note = f"t={t}, m={m} KiB, p={p}; no reference GPU rate"
        return cls._priced(rates, params, note, {})

    def _derive_fn(self) -> Callable[[bytes], bytes]:
        salt = self.salt
        memory, iterations, lanes = (
            self.params["memory"],
            self.params["iterations"],
            self.params["lanes"],
        )
        return lambda v: argon2id(v, salt, memory, iterations, lanes)
