"""The two per-row costs ``matchsim run`` lost in issue 15, each beside the path it replaced
(pytest-benchmark; not part of the test run).

Run: ``.venv/bin/pytest benchmarks/bench_run_costs.py --benchmark-only -p no:cacheprovider``
Size: ``MATCHSIM_BENCH_N`` values (default 200,000; ``nl-health-insurer`` parses 1,000,000
customer phones per profile and HMACs 10,000,000 platform users per key).

* customer phones as the NL locale writes them (``06-12345678``, ``+31 (0)6 …``,
  ``0031 6 …``): ``phones.to_e164`` (bulk home-region parse) against the same call with
  the bulk path switched off (``phonenumbers`` per distinct value, uncached);
* HMAC-SHA256 from the key's pad states (``schemes.keyed.hmac_sha256``) against building
  ``ipad || value`` and ``opad || inner`` strings and hashing them (the previous code).

The ratio is in each benchmark's ``extra_info``; both sides give identical output (asserted).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any
from unittest.mock import patch

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from matchsim.kernels import concat, hash_strings
from matchsim.normalise import phones
from matchsim.schemes._base import fixed_width_binary
from matchsim.schemes.keyed import hmac_sha256

N = int(os.environ.get("MATCHSIM_BENCH_N", "200000"))
_TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def nl_phones() -> pa.Array:
    """``N`` NL mobile numbers in the locale's written formats."""
    rng = np.random.default_rng(3)
    sub = pc.cast(pa.array(rng.integers(10**7, 10**8, N)), pa.string())
    s = sub.to_pylist()
    forms = ["06-{}", "06 {} {} {} {}", "06{}", "+31 (0)6 {}", "0031 6 {}", "+31 6 {}"]
    out = []
    for i, x in enumerate(s):
        f = forms[i % len(forms)]
        out.append(f.format(x[:2], x[2:4], x[4:6], x[6:]) if f.count("{}") == 4 else f.format(x))
    return pa.array(out)


def _no_bulk(text: pa.Array, region: str) -> tuple[pa.Array, np.ndarray]:
    return pa.nulls(len(text), pa.string()), np.zeros(len(text), dtype=bool)


def _phonenumbers_only(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    phones.parse_one.cache_clear()
    with patch.object(phones, "parse_home", _no_bulk):
        return phones.to_e164(values, "NL")


def _ratio(benchmark: Any, mine: str, peer: str) -> None:
    _TIMES[mine] = benchmark.stats.stats.min
    if peer in _TIMES and mine in _TIMES:
        benchmark.extra_info[f"{peer}/{mine}"] = _TIMES[peer] / _TIMES[mine]


def test_phones_phonenumbers_per_value(benchmark: Any, nl_phones: pa.Array) -> None:
    benchmark.pedantic(_phonenumbers_only, args=(nl_phones,), rounds=1)
    _ratio(benchmark, "phonenumbers", "bulk")


def test_phones_bulk_home_region(benchmark: Any, nl_phones: pa.Array) -> None:
    out, why = benchmark.pedantic(phones.to_e164, args=(nl_phones, "NL"), rounds=3)
    ref, ref_why = _phonenumbers_only(nl_phones)
    assert out.equals(ref) and why.equals(ref_why)
    _ratio(benchmark, "bulk", "phonenumbers")


def _hmac_by_strings(key: bytes, values: pa.Array) -> np.ndarray:
    key = key.ljust(64, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)
    inner = hash_strings(concat(ipad, values, None), "sha256")
    return hash_strings(concat(opad, fixed_width_binary(inner), None), "sha256")


@pytest.fixture(scope="module")
def emails() -> pa.Array:
    ids = pc.cast(pa.array(np.arange(N, dtype=np.int64) + 10**9), pa.string())
    return pc.binary_join_element_wise("u", ids, "@example.nl", "")


KEY = hashlib.sha256(b"bench").digest()


def test_hmac_strings(benchmark: Any, emails: pa.Array) -> None:
    benchmark.pedantic(_hmac_by_strings, args=(KEY, emails), rounds=3)
    _ratio(benchmark, "hmac strings", "hmac pad states")


def test_hmac_pad_states(benchmark: Any, emails: pa.Array) -> None:
    out = benchmark.pedantic(hmac_sha256, args=(KEY, emails), rounds=3)
    assert (out == _hmac_by_strings(KEY, emails)).all()
    _ratio(benchmark, "hmac pad states", "hmac strings")
