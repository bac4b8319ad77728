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


# -- H-pop stages: risk, membership, KeySet claims (issue 15, second round) ------------
#
# Each beside the path it replaced, on a population generated here (``N`` platform users,
# ``N // 10`` customers, the NL locale, seed 7), outputs compared:
#
# * the risk section of ``nl-health-insurer`` (its three QI sets against the platform):
#   both files read once and linked codes (``risk.linked``) against each set reading its
#   columns and grouping customers + platform jointly (the previous path, forced here);
# * membership's distinct user ids: one sort against ``np.unique`` (numpy 2's hash path);
# * KeySet claims of 10 x N/10 random keys: the prefetching kernel against the same loop
#   without prefetch.
#
# Full size: MATCHSIM_BENCH_N=10_000_000 (the experiment's 10 M users and 1 M customers).

QI_SETS = (
    ("postcode:4", "dob"),
    ("postcode", "dob", "gender"),
    ("first_name", "last_name", "dob:year"),
)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from matchsim.generate import PopulationParams
    from matchsim.generate import population as generate

    out = tmp_path_factory.mktemp("pop") / "population"
    params = PopulationParams(platform_users=N, customers=max(N // 10, 1), country="NL", seed=7)
    return generate(params, out)


def _risk_joint(customers: Any, platform: Any) -> dict[str, Any]:
    from matchsim.risk import assess, linked, risk_section

    with (
        patch.object(assess, "_shared_tables", lambda *a: None),
        patch.object(linked.LinkedCodes, "classes", lambda self, fields: None),
    ):
        return risk_section(customers, platform=platform, qi_sets=QI_SETS, country="NL")


def test_risk_joint_grouping(benchmark: Any, population: Any) -> None:
    benchmark.pedantic(_risk_joint, args=(population.customers, population.platform), rounds=1)
    _ratio(benchmark, "risk joint", "risk linked")


def test_risk_linked_codes(benchmark: Any, population: Any) -> None:
    from matchsim.risk import risk_section

    out = benchmark.pedantic(
        risk_section,
        args=(population.customers,),
        kwargs={"platform": population.platform, "qi_sets": QI_SETS, "country": "NL"},
        rounds=3,
    )
    assert out == _risk_joint(population.customers, population.platform)
    _ratio(benchmark, "risk linked", "risk joint")


@pytest.fixture(scope="module")
def matched_uids() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 10 * N, max(N // 10, 1) * 6 // 10)


def test_unique_numpy(benchmark: Any, matched_uids: np.ndarray) -> None:
    benchmark.pedantic(np.unique, args=(matched_uids,), rounds=3)
    _ratio(benchmark, "np.unique", "sorted_unique")


def test_unique_by_sort(benchmark: Any, matched_uids: np.ndarray) -> None:
    from matchsim.arrays import sorted_unique

    out = benchmark.pedantic(sorted_unique, args=(matched_uids,), rounds=3)
    assert np.array_equal(out, np.unique(matched_uids))
    _ratio(benchmark, "sorted_unique", "np.unique")


def _claims(kernel: Any, keys: list[np.ndarray]) -> np.ndarray:
    table = np.zeros(1 << max(16, (4 * N - 1).bit_length()), dtype=np.uint64)
    active = np.ones(keys[0].shape[0], dtype=np.bool_)
    out = []
    for k in keys:
        taken = np.zeros(k.shape[0], dtype=np.bool_)
        kernel(table, k, active, taken)
        out.append(taken)
    return np.concatenate(out)


@pytest.fixture(scope="module")
def claim_keys() -> list[np.ndarray]:
    rng = np.random.default_rng(6)
    keys = [rng.integers(1, 1 << 63, N // 10, dtype=np.uint64) for _ in range(10)]
    keys[7][: N // 100] = keys[3][: N // 100]  # some taken
    return keys


def _plain_claim() -> Any:
    """The claim loop as it was (no prefetch), compiled here."""
    import numba

    from matchsim.kernels.mix import splitmix64

    @numba.njit(nogil=True)
    def claim(table: np.ndarray, keys: np.ndarray, active: np.ndarray, taken: np.ndarray) -> int:
        mask = np.uint64(table.shape[0] - 1)
        added = 0
        for i in range(keys.shape[0]):
            if not active[i]:
                continue
            k = keys[i]
            if k == np.uint64(0):
                k = np.uint64(1)
            slot = splitmix64(k) & mask
            while True:
                cur = table[slot]
                if cur == np.uint64(0):
                    table[slot] = k
                    added += 1
                    taken[i] = False
                    break
                if cur == k:
                    taken[i] = True
                    break
                slot = (slot + np.uint64(1)) & mask
        return added

    return claim


def test_claim_plain(benchmark: Any, claim_keys: list[np.ndarray]) -> None:
    kernel = _plain_claim()
    _claims(kernel, [k[:4] for k in claim_keys[:1]])  # compile outside the timing
    benchmark.pedantic(_claims, args=(kernel, claim_keys), rounds=3)
    _ratio(benchmark, "claim plain", "claim prefetch")


def test_claim_prefetch(benchmark: Any, claim_keys: list[np.ndarray]) -> None:
    from matchsim.generate.unique import _claim

    out = benchmark.pedantic(_claims, args=(_claim, claim_keys), rounds=3)
    assert np.array_equal(out, _claims(_plain_claim(), claim_keys))
    _ratio(benchmark, "claim prefetch", "claim plain")


# -- H-sched: a whole run on one core against both (issue 15, third round) --------------
#
# ``run_experiment`` of nl-health-insurer scaled to ``MATCHSIM_BENCH_RUN_USERS`` platform
# users (default 200,000; customers a tenth), serial (``overlap=False``) against the
# hashing and joins in a worker process (``overlap=True``, matchsim.experiment.overlap),
# the same results asserted. Full size: MATCHSIM_BENCH_RUN_USERS=10_000_000 (5.5 GB + the
# worker; run it alone).

RUN_USERS = int(os.environ.get("MATCHSIM_BENCH_RUN_USERS", "200000"))


def _run_nl(out: Any, overlap: bool) -> dict[str, Any]:
    import tomllib
    from pathlib import Path

    from matchsim.experiment import parse_experiment, run_experiment, strip_timings

    toml = Path(__file__).resolve().parent.parent / "experiments" / "nl-health-insurer.toml"
    tree = tomllib.loads(toml.read_text())
    tree["population"].update(platform_users=RUN_USERS, customers=max(RUN_USERS // 10, 1))
    result = run_experiment(parse_experiment(tree), out, force=True, measure_costs=False,
                            overlap=overlap)  # fmt: skip
    stripped: dict[str, Any] = strip_timings(result.results)
    return stripped


@pytest.fixture(scope="module")
def serial_results() -> dict[str, Any]:
    return {}


def test_run_serial(benchmark: Any, tmp_path: Any, serial_results: dict[str, Any]) -> None:
    out = benchmark.pedantic(_run_nl, args=(tmp_path / "serial", False), rounds=1)
    serial_results["serial"] = out
    _ratio(benchmark, "run serial", "run overlapped")


def test_run_overlapped(benchmark: Any, tmp_path: Any, serial_results: dict[str, Any]) -> None:
    out = benchmark.pedantic(_run_nl, args=(tmp_path / "side", True), rounds=1)
    if "serial" in serial_results:
        assert out == serial_results["serial"]
    _ratio(benchmark, "run overlapped", "run serial")
