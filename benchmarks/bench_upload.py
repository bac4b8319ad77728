"""Reading an upload: matchsim's one-scan reader beside Arrow's and DuckDB's CSV readers.

The file is a Meta-profile upload as ``matchsim hash`` writes it (10 quoted SHA-256 hex
columns and MADID in clear), from a population made by ``matchsim generate``, in a
temporary folder. Peers, same file, same run:

* ``arrow``: ``pyarrow.csv.read_csv`` (all columns as text; parsing only, no hex decoding);
* ``duckdb``: DuckDB ``read_csv`` (all varchar) and ``unhex`` of the ten digest columns;
* ``scan``: :func:`matchsim.join.upload_fast.read_fast` (parse and hex-decode every cell,
  refusals counted, MADID as text);
* ``read_upload``: all of it as ``matchsim join`` runs it (plus MADID normalised, the
  match keys and the duplicate rows).

::

    .venv/bin/pytest benchmarks/bench_upload.py -s                      # 1 M rows
    MATCHSIM_BENCH_UPLOAD_ROWS=200000 .venv/bin/pytest benchmarks/bench_upload.py -s
    MATCHSIM_BENCH_UPLOAD_FILE=/tmp/upload.csv .venv/bin/pytest benchmarks/bench_upload.py -s

The ratios to Arrow and DuckDB are printed by ``test_ratios``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

_HEX = ("EMAIL", "PHONE", "FN", "LN", "DOB", "GEN", "CT", "ST", "ZIP", "COUNTRY")
_TIMES: dict[str, float] = {}


def make_upload(folder: Path, rows: int) -> str:
    """``matchsim generate`` (as many platform users as customers) then ``matchsim hash``."""
    from matchsim.generate import PopulationParams, population
    from matchsim.upload.write import hash_file

    pop = folder / "pop"
    population(PopulationParams(platform_users=rows, customers=rows, seed=7), pop, force=True)
    out = folder / "upload.csv"
    hash_file(pop / "customers.parquet", profile="meta", scheme="sha256", region="NL", out=out)
    return str(out)


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> str:
    given = os.environ.get("MATCHSIM_BENCH_UPLOAD_FILE")
    if given:
        return given
    rows = int(os.environ.get("MATCHSIM_BENCH_UPLOAD_ROWS", "1000000"))
    path = make_upload(tmp_path_factory.mktemp("upload"), rows)
    read_scan(path)  # compile
    return path


def read_arrow(path: str) -> int:
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, newline="") as fh:
        header = next(csv.reader(fh))
    types = {c: pa.string() for c in header}
    options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    table = pacsv.read_csv(path, convert_options=options)
    return int(table.num_rows)


def read_duckdb(path: str) -> int:
    import duckdb

    decoded = " + ".join(f"count(unhex({c}))" for c in _HEX)
    sql = f"SELECT {decoded} + count(MADID) FROM read_csv(?, all_varchar = true)"
    return int((duckdb.connect().execute(sql, [path]).fetchone() or (0,))[0])


def read_scan(path: str) -> int:
    from matchsim.io import open_table
    from matchsim.join.upload import map_upload_columns
    from matchsim.join.upload_fast import read_fast
    from matchsim.normalise import get_profile
    from matchsim.schemes import get_scheme

    profile = get_profile("meta")
    source = open_table(path)
    columns = map_upload_columns(source.path, source.header, profile)
    got = read_fast(source, columns, [], profile, get_scheme("sha256"))
    assert got is not None, "the fast path gave up on a file matchsim hash wrote"
    return int(sum(d.valid.sum() for d in got.digests.values()))


def read_matchsim(path: str) -> int:
    from matchsim.join.upload import read_upload
    from matchsim.normalise import get_profile
    from matchsim.schemes import get_scheme

    keys, _ = read_upload(path, get_profile("meta"), get_scheme("sha256"), "NL")
    return sum(len(k) for k in keys.keys.values())


def _timed(benchmark: Any, name: str, fn: Any, path: str) -> Any:
    got = benchmark.pedantic(fn, args=(path,), rounds=3, warmup_rounds=1)
    _TIMES[name] = benchmark.stats.stats.min
    return got


def test_arrow(benchmark: Any, upload: str) -> None:
    assert _timed(benchmark, "arrow read_csv", read_arrow, upload) > 0


def test_duckdb(benchmark: Any, upload: str) -> None:
    assert _timed(benchmark, "duckdb read_csv+unhex", read_duckdb, upload) > 0


def test_scan(benchmark: Any, upload: str) -> None:
    assert _timed(benchmark, "matchsim scan", read_scan, upload) > 0


def test_read_upload(benchmark: Any, upload: str) -> None:
    assert _timed(benchmark, "matchsim read_upload", read_matchsim, upload) > 0


def test_ratios() -> None:
    """Prints each reader's best time and its ratio to Arrow and DuckDB (run with ``-s``)."""
    if "arrow read_csv" not in _TIMES or "duckdb read_csv+unhex" not in _TIMES:
        pytest.skip("run with the reader benchmarks")
    arrow, duck = _TIMES["arrow read_csv"], _TIMES["duckdb read_csv+unhex"]
    for name, t in _TIMES.items():
        print(f"\n{name:24s} {t:6.3f} s  x{t / arrow:5.2f} Arrow  x{t / duck:5.2f} DuckDB", end="")
    print()
