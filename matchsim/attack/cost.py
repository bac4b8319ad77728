"""What it costs to exhaust a keyspace under every scheme of the catalogue.

Rates are either **measured** on this machine (the fused numba kernels for fast hashes,
``cryptography`` for the slow KDFs, timed for a fraction of a second and extrapolated)
or **reference** figures (hashcat ``-b`` on single GPUs, REFERENCE.md §3). A KDF is
never brute-forced here: a few evaluations give the rate.

Schemes whose secret the attacker lacks are priced as *not reversible by enumeration*,
with the reason: an HMAC with an unknown key, or a per-record salt (each record needs
its own enumeration, and an unknown salt cannot be enumerated at all).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

# hashcat -b, single device (REFERENCE.md §3), hashes per second.
REFERENCE_GPUS: dict[str, dict[str, float]] = {
    "RTX 4090 (hashcat 6.2.6)": {
        "md5": 164.1e9,
        "sha1": 50.6e9,
        "sha256": 21.98e9,
        "hmac-sha256": 9.39e9,
        "pbkdf2-sha256@999": 8.87e6,
        "scrypt@16384": 7126.0,
    },
    "H100 PCIe (hashcat 6.2.6)": {
        "md5": 87.5e9,
        "sha1": 28.1e9,
        "sha256": 12.2e9,
        "hmac-sha256": 5.36e9,
        "pbkdf2-sha256@999": 4.88e6,
        "scrypt@16384": 8456.0,
    },
    "A100 40 GB (hashcat 6.1.1)": {
        "md5": 64.9e9,
        "sha1": 22.0e9,
        "sha256": 9.41e9,
        "hmac-sha256": 3.87e9,
        "pbkdf2-sha256@999": 3.61e6,
    },
}
REFERENCE_CPU = {"2-core EPYC VM, hashcat 6.2.6 on PoCL": {"sha256": 18.1e6}}

CATALOGUE = (
    "md5",
    "sha1",
    "sha256",
    "sha512",
    "pepper-sha256",
    "hmac-sha256",
    "salted-sha256",
    "pbkdf2-sha256",
    "scrypt",
    "argon2id",
    "truncated-sha256",
    "uid2",
)

DEFAULT_PARAMS: dict[str, dict[str, int]] = {
    "pbkdf2-sha256": {"iterations": 600_000},
    "scrypt": {"n": 16384, "r": 8, "p": 1},
    "argon2id": {"iterations": 3, "memory": 65536, "lanes": 4},  # memory in KiB
}


@dataclass
class SchemePrice:
    """Time to exhaust one keyspace under one scheme."""

    scheme: str
    reversible: bool
    reason: str = ""
    measured_rate: float | None = None  # H/s on this machine
    measured_how: str = ""
    reference: dict[str, float] = field(default_factory=dict)  # device -> H/s

    def seconds(self, size: int) -> dict[str, float]:
        out: dict[str, float] = {}
        if not self.reversible:
            return out
        if self.measured_rate:
            out["this machine (measured)"] = size / self.measured_rate
        for device, rate in self.reference.items():
            out[f"{device} (reference)"] = size / rate
        return out

    def to_dict(self, size: int) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "reversible": self.reversible,
            "reason": self.reason,
            "measured_rate": self.measured_rate,
            "measured_how": self.measured_how,
            "reference_rates": self.reference,
            "seconds_to_exhaust": self.seconds(size),
        }


def _timed(fn: Callable[[], int], budget: float) -> float:
    """Calls of ``fn`` (each returns candidates done) for ``budget`` s; candidates/s."""
    done = fn()  # warm-up (compilation, caches)
    done = 0
    t0 = time.perf_counter()
    while True:
        done += fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= budget:
            return done / elapsed


def measure_fast(algorithm: str, candidates: int = 1 << 22, hmac: bool = False) -> float:
    """Candidates/s of the fused mask kernel over NL mobile numbers (one shape)."""
    from matchsim.attack.engine import Knowledge, _Plan, scan_mask_range
    from matchsim.attack.keyspace import phone_keyspace
    from matchsim.attack.targets import parse_digests

    mask = phone_keyspace("NL", lengths=(9,)).masks[0]
    width = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}[algorithm]
    targets = parse_digests(pa.array(["f" * width]))
    knowledge = Knowledge(algorithm, hmac_key=b"measure" if hmac else None)
    plan = _Plan.make(knowledge)
    stop = min(mask.size, candidates if plan.algo is not None else candidates >> 6)

    def run() -> int:
        scan_mask_range(mask, 0, stop, plan, targets)
        return stop

    return _timed(run, 0.5)


def measure_kdf(scheme: str, params: dict[str, int] | None = None) -> float:
    """Evaluations/s of the KDF scheme ``scheme`` with ``params`` (its own parameter
    names), timed over a few derivations by the scheme itself, never a brute force."""
    from matchsim.schemes import get_scheme
    from matchsim.schemes.kdf import SlowKDF

    given: dict[str, Any] = {**DEFAULT_PARAMS.get(scheme, {}), **(params or {})}
    kdf = get_scheme(scheme, **given)
    if not isinstance(kdf, SlowKDF):
        raise ValueError(f"{scheme} is not a KDF scheme")
    derive = kdf.derive_one

    def run() -> int:
        derive(b"31612345678")
        return 1

    return _timed(run, 0.3)


def _reference(key: str, scale: float = 1.0) -> dict[str, float]:
    return {dev: rates[key] * scale for dev, rates in REFERENCE_GPUS.items() if key in rates}


KERNEL = "fused numba mask kernel, all cores"
"""How the fast-hash rates are measured (the ``measured_how`` of their prices)."""


class Rates:
    """The hash rates a price catalogue draws on: measured here (on demand, once each)
    or given, by rate name; and the reference GPU rates."""

    def __init__(self, measure: bool, measured: dict[str, float] | None = None) -> None:
        self.measure = measure
        self.rates = dict(measured or {})

    def rate(self, name: str, fn: Callable[[], float]) -> float | None:
        """Rate ``name``: given, else measured by ``fn`` if measuring, else None."""
        if name not in self.rates and self.measure:
            self.rates[name] = fn()
        return self.rates.get(name)

    def known(self, name: str) -> float | None:
        """Rate ``name`` if given or measured already (never measures)."""
        return self.rates.get(name)

    @staticmethod
    def reference(key: str, scale: float = 1.0) -> dict[str, float]:
        return _reference(key, scale)


def price_catalogue(
    measure: bool = True,
    params: dict[str, dict[str, int]] | None = None,
    measured: dict[str, float] | None = None,
) -> list[SchemePrice]:
    """A :class:`SchemePrice` for every scheme of the catalogue, each priced by its
    scheme class (:meth:`matchsim.schemes.Scheme.price`).

    Args:
        measure: time the kernels and KDFs on this machine (about 5 s in all).
        params: KDF parameters (the schemes' own names) overriding :data:`DEFAULT_PARAMS`.
        measured: rates already measured (e.g. the attack's own), by scheme name.
    """
    from matchsim.schemes import SCHEMES

    rates = Rates(measure, measured)
    given = params or {}
    return [
        SCHEMES[name].price(rates, {**DEFAULT_PARAMS.get(name, {}), **given.get(name, {})})
        for name in CATALOGUE
    ]


def humanize_seconds(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "never"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.3g} s"
