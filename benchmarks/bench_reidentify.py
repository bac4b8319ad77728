"""Re-identify a whole Meta upload: every field hashed, reversed, linked to a register.

Target (issue 17): a 1 M-row Meta upload with all fields hashed (SHA-256 of e-mail,
phone, first and last name, date of birth, gender, city, state, postcode, country; the
MADID travels in clear as Meta takes it) is fully processed - every field reversed,
linked to a 1 M-row register - in <= 30 s on the 2-core machine.

Run at full size::

    MATCHSIM_BENCH_REID_ROWS=1_000_000 pytest benchmarks/bench_reidentify.py -s --benchmark-only

(default 100,000 rows, for a shared machine). The population (customers = rows, platform
users = rows) and the upload are built once, outside the timing; the timed call reads
the upload and register files, reverses every field (e-mails: 1 M guesses in likelihood
order, ``MATCHSIM_BENCH_REID_EMAIL``), links, and runs the what-ifs.

Peer, in the same run and on the same low-entropy fields (names, date of birth, gender,
postcode, city, state, country): the naive attacker - a Python dict of
``hashlib.sha256(candidate)`` for every candidate of the same keyspaces, ``Series.map``
per column, and a pandas ``merge`` with the register on the reversed fields. Both get
the keyspaces built (outside the timing) and read the same files; the ratio printed is
peer / matchsim on that shared workload.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchsim.attack.keyspace import WordKeyspace
from matchsim.attack.reidentify import draw_register, reidentify
from matchsim.generate import PopulationParams, population
from matchsim.normalise import get_profile
from matchsim.upload.write import hash_file

ROWS = int(os.environ.get("MATCHSIM_BENCH_REID_ROWS", "100000").replace("_", ""))
EMAIL_GUESSES = int(os.environ.get("MATCHSIM_BENCH_REID_EMAIL", "1000000").replace("_", ""))
LOW = ("first_name", "last_name", "dob", "gender", "postcode", "city", "state", "country")
_TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pa.Table]:
    """(upload.parquet, register.parquet, register table) for ROWS customers."""
    root = tmp_path_factory.mktemp("reid")
    params = PopulationParams(
        platform_users=ROWS, customers=ROWS, country="NL", overlap=0.6, seed=17
    )
    pop = population(params, root / "pop")
    upload = root / "upload.parquet"
    hash_file(pop.customers, profile="meta", scheme="sha256", region="NL", out=upload)
    table, _ = draw_register(pop.out, coverage=1.0, seed=17)
    table = table.slice(0, ROWS)  # a random sample: the draw is in a seeded random order
    register = root / "register.parquet"
    pq.write_table(table, register)
    return upload, register, table


def test_reidentify_full(benchmark, world: tuple[Path, Path, pa.Table]) -> None:  # type: ignore[no-untyped-def]
    upload, register, _ = world

    def run() -> dict[str, object]:
        return reidentify(
            upload, "meta", "NL", register=register, email_guesses=EMAIL_GUESSES
        ).summary()

    summary = benchmark.pedantic(run, rounds=1, iterations=1)
    seconds = benchmark.stats.stats.max
    link = summary["link"]  # type: ignore[index]
    fields = summary["fields"]  # type: ignore[index]
    print(
        f"\nreidentify {ROWS:,} rows x {ROWS:,} register: {seconds:.1f} s "
        f"(target <= 30 s at 1 M); phases {summary['seconds']}"
    )
    for f, r in fields.items():  # type: ignore[attr-defined]
        print(f"  {f:<11} {100 * r['share']:5.1f} % in {r['seconds']:.2f} s")
    print(
        f"  re-identified {link['reidentified']:,}, ambiguous {link['ambiguous']:,}, "
        f"not found {link['not_found']:,}"
    )
    assert link["reidentified"] > 0.3 * ROWS


@pytest.fixture(scope="module")
def candidates() -> dict[str, list[str]]:
    """The low-entropy keyspaces, built once for both contestants (outside the timing:
    matchsim keeps them per process, the peer gets the same lists)."""
    from matchsim.attack.reidentify import _keyspace

    profile = get_profile("meta")
    out = {}
    for f in LOW:
        space = _keyspace(f, profile, "NL", None, EMAIL_GUESSES)
        assert isinstance(space, WordKeyspace)
        out[f] = pa.concat_arrays(list(space.batches())).to_pylist()
    return out


def test_low_entropy_matchsim(benchmark, world: tuple[Path, Path, pa.Table], candidates) -> None:  # type: ignore[no-untyped-def]
    upload, register, _ = world

    def run() -> int:
        result = reidentify(upload, "meta", "NL", register=register, fields=list(LOW),
                            what_ifs=False)  # fmt: skip
        return int(result.summary()["link"]["reidentified"])

    found = benchmark.pedantic(run, rounds=1, iterations=1)
    _TIMES["matchsim"] = benchmark.stats.stats.max
    _TIMES["matchsim_found"] = found


def _naive(upload: Path, table: pa.Table, candidates: dict[str, list[str]]) -> int:
    """The naive attacker: hashlib dictionaries per field, pandas map and merge."""
    profile = get_profile("meta")
    frame = pq.read_table(upload).to_pandas()
    plain = pd.DataFrame(index=frame.index)
    for f in LOW:
        words = candidates[f]
        lookup = {hashlib.sha256(w.encode()).hexdigest(): w for w in words}
        plain[f] = frame[profile.fields[f].column].map(lookup)
    reg = pd.DataFrame(
        {
            f: profile.normalise(
                f, table.column("region" if f == "state" else f), "NL"
            ).values.to_pandas()
            for f in LOW
        }
    )
    reg["id"] = table.column("id").to_pandas()
    complete = plain.dropna()
    counts = reg.groupby(list(LOW), dropna=True).size().rename("k").reset_index()
    merged = complete.merge(counts, on=list(LOW), how="left")
    return int((merged["k"] == 1).sum())


def test_low_entropy_naive_peer(benchmark, world: tuple[Path, Path, pa.Table], candidates) -> None:  # type: ignore[no-untyped-def]
    upload, _, table = world
    t0 = time.perf_counter()
    found = benchmark.pedantic(_naive, args=(upload, table, candidates), rounds=1, iterations=1)
    peer = time.perf_counter() - t0
    if "matchsim" in _TIMES:
        print(
            f"\nlow-entropy fields, {ROWS:,} rows: matchsim {_TIMES['matchsim']:.1f} s "
            f"({_TIMES['matchsim_found']:,} re-identified), naive hashlib + pandas "
            f"{peer:.1f} s ({found:,} complete rows with one match): "
            f"{peer / _TIMES['matchsim']:.1f}x"
        )
    assert found > 0
    assert np.isfinite(peer)
