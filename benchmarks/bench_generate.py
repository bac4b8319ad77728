"""Population generation speed: matchsim vs Mimesis and Faker, in the same run.

    pytest benchmarks/bench_generate.py -s                 # 2 M users (default)
    MATCHSIM_BENCH_USERS=100_000_000 pytest benchmarks/bench_generate.py -s -k population

The peers generate the same six PII fields per record (first name, last name, e-mail,
phone, postcode, date of birth) for Dutch people; they are timed on fewer records because
they are orders of magnitude slower, and the table prints records/s for each and the
ratio. matchsim's figure is the whole ``population()`` call: generation, uniqueness of
every e-mail and phone, customers and ground truth, and Parquet writing.
"""

from __future__ import annotations

import os
import resource
import shutil
import time
from pathlib import Path

import pytest

from matchsim.generate import PopulationParams, population

USERS = int(os.environ.get("MATCHSIM_BENCH_USERS", "2_000_000").replace("_", ""))
PEER_RECORDS = int(os.environ.get("MATCHSIM_BENCH_PEER_RECORDS", "20_000").replace("_", ""))
RATES: dict[str, float] = {}


def _report() -> None:
    if "matchsim" not in RATES:
        return
    print("\nrecords/s on this machine (same run):")
    for name, rate in sorted(RATES.items(), key=lambda kv: -kv[1]):
        ratio = RATES["matchsim"] / rate
        print(f"  {name:<10} {rate:>14,.0f}   matchsim is {ratio:,.1f}x")


def test_population(benchmark: pytest.FixtureRequest, tmp_path: Path) -> None:
    params = PopulationParams(
        platform_users=USERS, customers=USERS // 10, country="NL", overlap=0.6, seed=7
    )
    # Warm numba's cache outside the timing.
    population(PopulationParams(platform_users=20_000, customers=1_000), tmp_path / "warm")

    def run() -> None:
        out = tmp_path / "pop"
        shutil.rmtree(out, ignore_errors=True)
        population(params, out)

    started = time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    RATES["matchsim"] = USERS / seconds
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"\nmatchsim: {USERS:,} platform users + {USERS // 10:,} customers in {seconds:.1f} s "
        f"({USERS / seconds:,.0f} users/s), peak RSS {peak_gb:.1f} GB"
    )


def test_mimesis(benchmark: pytest.FixtureRequest) -> None:
    mimesis = pytest.importorskip("mimesis")
    from mimesis.locales import Locale

    person = mimesis.Person(Locale.NL, seed=1)
    address = mimesis.Address(Locale.NL, seed=1)
    dt = mimesis.Datetime(Locale.NL, seed=1)

    def run() -> None:
        for _ in range(PEER_RECORDS):
            person.first_name(), person.last_name(), person.email(), person.phone_number()
            address.postal_code(), dt.date(1930, 2008)

    started = time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)  # type: ignore[attr-defined]
    RATES["mimesis"] = PEER_RECORDS / (time.perf_counter() - started)


def test_faker(benchmark: pytest.FixtureRequest) -> None:
    faker = pytest.importorskip("faker")
    fake = faker.Faker("nl_NL")
    fake.seed_instance(1)

    def run() -> None:
        for _ in range(PEER_RECORDS):
            fake.first_name(), fake.last_name(), fake.email(), fake.phone_number()
            fake.postcode(), fake.date_of_birth(minimum_age=18, maximum_age=100)

    started = time.perf_counter()
    benchmark.pedantic(run, rounds=1, iterations=1)  # type: ignore[attr-defined]
    RATES["faker"] = PEER_RECORDS / (time.perf_counter() - started)
    _report()
