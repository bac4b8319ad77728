"""Scheme and kernel benchmarks (pytest-benchmark; not part of the test run).

Run: ``.venv/bin/pytest benchmarks/bench_schemes.py --benchmark-only -p no:cacheprovider``
Size: ``MATCHSIM_BENCH_N`` values (default 1,000,000; the issue's target size is
10,000,000). Each test times exactly the size it names.

``test_cost_per_guess`` measures every scheme's seconds per guess on this machine and
reports them in the benchmark's ``extra_info`` (keep them with ``--benchmark-json
FILE``); nothing is written into the source tree. ``matchsim run`` measures the KDFs it
prices itself (``attack.cost.measure_kdf``).
"""

from __future__ import annotations

import hashlib
import os
import platform
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from matchsim.kernels import _openssl, hash_strings
from matchsim.normalise import get_profile
from matchsim.schemes import SCHEMES, get_scheme, kdf
from matchsim.secrets import Secret

N = int(os.environ.get("MATCHSIM_BENCH_N", "1000000"))


@pytest.fixture(scope="module")
def emails() -> pa.Array:
    """``N`` distinct normalised e-mails of fixed width (24 bytes)."""
    ids = pc.cast(pa.array(np.arange(N, dtype=np.int64) + 10**9), pa.string())
    return pc.binary_join_element_wise("u", ids, "@example.nl", "")  # "u1000000000@example.nl"


@pytest.fixture(scope="module")
def e164_phones() -> pa.Array:
    rng = np.random.default_rng(1)
    subscriber = pc.cast(pa.array(rng.integers(10**7, 10**8, N)), pa.string())
    return pc.binary_join_element_wise("+316", subscriber, "")


@pytest.mark.parametrize("backend", ["openssl", "numba"])
def test_sha256_kernel(benchmark: Any, emails: pa.Array, backend: str) -> None:
    if backend == "openssl" and not _openssl.AVAILABLE:
        pytest.skip("libcrypto not found")
    hash_strings(emails.slice(0, 16), "sha256", backend=backend)  # compile / load cache
    benchmark.extra_info["values"] = N
    out = benchmark.pedantic(
        hash_strings, args=(emails, "sha256"), kwargs={"backend": backend}, rounds=3
    )
    benchmark.extra_info["values_per_s"] = N / benchmark.stats.stats.min
    assert out.shape == (N, 32)


def test_sha256_hashlib_loop(benchmark: Any, emails: pa.Array) -> None:
    """The baseline: one hashlib call per value (measured on 1/10 of N, reported per value)."""
    sample = [v.encode() for v in emails.slice(0, max(1, N // 10)).to_pylist()]

    def loop() -> list[bytes]:
        return [hashlib.sha256(v).digest() for v in sample]

    benchmark.pedantic(loop, rounds=3)
    benchmark.extra_info["values"] = len(sample)
    benchmark.extra_info["values_per_s"] = len(sample) / benchmark.stats.stats.min


def test_normalise_e164_phones(benchmark: Any, e164_phones: pa.Array) -> None:
    profile = get_profile("meta")
    benchmark.extra_info["values"] = N
    out = benchmark.pedantic(profile.normalise, args=("phone", e164_phones, "NL"), rounds=3)
    assert not out.rejected.any()


def _scheme(name: str) -> Any:
    secret = Secret(b"benchmark-key-0123456789abcdef") if SCHEMES[name].needs_secret else None
    return get_scheme(name, secret=secret)


def test_cost_per_guess(benchmark: Any) -> None:
    """Seconds per guess of every scheme at its default parameters."""
    costs = benchmark.pedantic(_measure_costs, rounds=1)
    benchmark.extra_info["machine"] = platform.processor() or platform.machine()
    benchmark.extra_info["cpus"] = os.cpu_count()
    benchmark.extra_info["schemes"] = costs
    assert all(c["seconds_per_guess"] > 0 for c in costs.values())


def _measure_costs() -> dict[str, Any]:
    costs: dict[str, Any] = {}
    sample = pa.array([f"candidate{i:07d}@example.nl" for i in range(1 << 18)])
    slow_sample = sample.slice(0, 8)
    for name in sorted(SCHEMES):
        if name == "argon2id" and not kdf.argon2_available():
            continue
        scheme = _scheme(name)
        slow = name in ("pbkdf2-sha256", "scrypt", "argon2id")
        seconds = scheme.measure_cost(slow_sample if slow else sample, min_seconds=0.5)
        costs[name] = {
            "seconds_per_guess": seconds,
            "guesses_per_second": 1 / seconds,
            "params": {k: str(v) for k, v in scheme.params.items()},
        }
    return costs
