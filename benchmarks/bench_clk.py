"""CLK encoding and Dice matching: matchsim vs clkhash (same schema, same bits).

    pytest benchmarks/bench_clk.py -s
    MATCHSIM_BENCH_CLK_RECORDS=1_000_000 pytest benchmarks/bench_clk.py -s

Records are synthetic Dutch people (first name, last name, date of birth) from
``matchsim.generate``; clkhash encodes fewer of them (it is much slower) and the table
prints records/s. Matching times all-pairs Dice of ``MATCH`` × ``10·MATCH`` filters.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from matchsim import clk
from matchsim.clk.encode import format_field
from matchsim.generate import PopulationParams, population

RECORDS = int(os.environ.get("MATCHSIM_BENCH_CLK_RECORDS", "200_000").replace("_", ""))
PEER_RECORDS = int(os.environ.get("MATCHSIM_BENCH_CLK_PEER_RECORDS", "20_000").replace("_", ""))
MATCH = int(os.environ.get("MATCHSIM_BENCH_CLK_MATCH", "4_000").replace("_", ""))
SCHEMA = clk.ClkSchema(
    fields=(clk.ClkField("first_name"), clk.ClkField("last_name"), clk.ClkField("dob", k=10)),
    length=1024,
    layout="record",
)
RATES: dict[str, float] = {}


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clk") / "pop"
    population(PopulationParams(platform_users=RECORDS, customers=MATCH, seed=5), out)
    return out


def _report() -> None:
    if "matchsim" in RATES:
        print("\nCLK encoding, records/s (same run):")
        for name, rate in sorted(RATES.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<10} {rate:>12,.0f}   matchsim is {RATES['matchsim'] / rate:,.1f}x")


def test_encode_matchsim(benchmark: pytest.FixtureRequest, people: Path) -> None:
    table = pq.read_table(people / "platform.parquet", columns=["first_name", "last_name", "dob"])
    clk.encode(table.slice(0, 1000), SCHEMA, b"bench")  # compile
    started = time.perf_counter()
    benchmark.pedantic(  # type: ignore[attr-defined]
        lambda: clk.encode(table, SCHEMA, b"bench"), rounds=1, iterations=1
    )
    RATES["matchsim"] = table.num_rows / (time.perf_counter() - started)
    _report()


def test_encode_clkhash(benchmark: pytest.FixtureRequest, people: Path) -> None:
    pytest.importorskip("clkhash", reason="clkhash not installed (optional peer)")
    from clkhash import clk as cclk
    from clkhash import schema as cschema

    feature = {"format": {"type": "string", "encoding": "utf-8"}}

    def hashing(k: int) -> dict[str, object]:
        return {
            "comparison": {"type": "ngram", "n": 2},
            "strategy": {"bitsPerToken": k},
            "hash": {"type": "blakeHash"},
        }

    spec = {
        "version": 3,
        "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256", "keySize": 64}},
        "features": [
            {"identifier": f.name, **feature, "hashing": hashing(f.k)} for f in SCHEMA.fields
        ],
    }
    schema = cschema.from_json_dict(spec)
    table = pq.read_table(people / "platform.parquet", columns=["first_name", "last_name", "dob"])
    rows = [
        [str(v or "") for v in r]
        for r in zip(
            *(
                format_field(c, table.column(c)).to_pylist()
                for c in ("first_name", "last_name", "dob")
            ),
            strict=True,
        )
    ][:PEER_RECORDS]
    started = time.perf_counter()
    benchmark.pedantic(  # type: ignore[attr-defined]
        lambda: cclk.generate_clks(rows, schema, "bench", validate=False, max_workers=1),
        rounds=1,
        iterations=1,
    )
    RATES["clkhash"] = len(rows) / (time.perf_counter() - started)
    _report()


def test_match(benchmark: pytest.FixtureRequest, people: Path) -> None:
    cust = pq.read_table(people / "customers.parquet", columns=["first_name", "last_name", "dob"])
    plat = pq.read_table(people / "platform.parquet", columns=["first_name", "last_name", "dob"])
    a = clk.encode(cust, SCHEMA, b"bench")
    b = clk.encode(plat.slice(0, 10 * MATCH), SCHEMA, b"bench")
    clk.match(clk.Clks(a.words[:10], SCHEMA), clk.Clks(b.words[:10], SCHEMA))  # compile
    started = time.perf_counter()
    benchmark.pedantic(lambda: clk.match(a, b), rounds=1, iterations=1)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    print(f"\nDice all-pairs: {len(a) * len(b) / seconds:,.0f} pairs/s ({len(a)} x {len(b)})")
