"""The digest join against its peers, side by side in one run.

(b) In memory, on random 32-byte digests (below). (a) File to file: ``matchsim join`` of a
generated population and its hashed upload, every key of the Meta profile, file in to
``join.json`` out, beside DuckDB running :data:`DUCKDB_SQL` (the same keys with the same
normalisation as far as SQL can express it) on the same files in the same run::

    .venv/bin/pytest benchmarks/bench_join.py -k files -s        # 200 k x 20 k (CI size)
    MATCHSIM_BENCH_FILES=10m .venv/bin/pytest benchmarks/bench_join.py -k files -s
    .venv/bin/python benchmarks/bench_join.py --files --platform 10_000_000 --upload 1_000_000
    .venv/bin/python benchmarks/bench_join.py --files --engine dask --platform 2_000_000 \
        --upload 200_000                                 # LocalCluster, 1 then 2 workers

The matchsim side runs three ways: ``cold`` (no platform index: normalise and hash all
users, as before the index existed), ``indexed`` (the index already built by an earlier
join: what a second advertiser pays) and DuckDB; the ratios to DuckDB are printed.

    .venv/bin/pytest benchmarks/bench_join.py                    # 10 M x 1 M (CI size)
    MATCHSIM_BENCH_JOIN=100m .venv/bin/pytest benchmarks/bench_join.py   # 100 M x 10 M
    MATCHSIM_BENCH_JOIN=100m .venv/bin/pytest benchmarks/bench_join.py -k interleaved -s

Each peer joins the same in-memory data (platform: digest + uid; upload: digest + row),
made before timing, and its result is checked to equal the ``local`` engine's exactly;
``local`` is timed with its evaluation (distinct rows and users, per-key counts), the
peers only to their pairs. ``-k interleaved`` runs local and DuckDB in turns (the same
load for both on a shared machine) and prints the ratio of the best wall times and of the
best CPU times (all threads of the process: less sensitive to other load than wall).
Half of the upload rows are platform digests, half are not. For peak memory of one
engine alone, run this file as a script in a fresh process::

    .venv/bin/python benchmarks/bench_join.py --engine local --platform 100_000_000 \
        --upload 10_000_000

Dask scaling (``--generated``: each platform chunk is generated from a seed on the worker
that joins it, as a file-backed platform would be read there; the local engine can run
the same workload for comparison)::

    .venv/bin/python benchmarks/bench_join.py --engine dask --workers 1 --generated
    .venv/bin/python benchmarks/bench_join.py --engine dask --workers 2 --generated
    .venv/bin/python benchmarks/bench_join.py --engine local --generated
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import uuid
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from matchsim.join import InMemoryPlatform, KeyDigests, UploadKeys, get_engine

SCALES = {"10m": (10_000_000, 1_000_000), "100m": (100_000_000, 10_000_000)}
FILE_SCALES = {
    "200k": (200_000, 20_000),
    "2m": (2_000_000, 200_000),
    "10m": (10_000_000, 1_000_000),
}

DUCKDB_SQL = r"""
WITH p AS (SELECT * FROM read_parquet(?)),
u AS (SELECT row_number() OVER () - 1 AS r, * FROM read_csv(?, all_varchar = true)),
pk AS (
    SELECT 'email' AS k, sha256(lower(trim(email))) AS d, uid FROM p WHERE email IS NOT NULL
    UNION ALL
    SELECT 'email', sha256(lower(trim(email2))), uid FROM p WHERE email2 IS NOT NULL
    UNION ALL
    SELECT 'phone', sha256(regexp_replace(phone, '[^0-9]', '', 'g')), uid
        FROM p WHERE phone IS NOT NULL
    UNION ALL
    SELECT 'madid', lower(trim(madid)), uid FROM p WHERE madid IS NOT NULL
    UNION ALL
    SELECT 'combo',
        sha256(trim(regexp_replace(lower(first_name::VARCHAR), '[[:punct:]]', '', 'g')))
        || sha256(trim(regexp_replace(lower(last_name::VARCHAR), '[[:punct:]]', '', 'g')))
        || sha256(lower(replace(postcode, ' ', '')))
        || sha256(strftime(dob, '%Y%m%d')), uid
        FROM p WHERE first_name IS NOT NULL AND last_name IS NOT NULL
            AND postcode IS NOT NULL AND dob IS NOT NULL
),
uk AS (
    SELECT 'email' AS k, EMAIL AS d, r FROM u WHERE EMAIL IS NOT NULL
    UNION ALL SELECT 'phone', PHONE, r FROM u WHERE PHONE IS NOT NULL
    UNION ALL SELECT 'madid', lower(trim(MADID)), r FROM u WHERE MADID IS NOT NULL
    UNION ALL SELECT 'combo', FN || LN || ZIP || DOB, r FROM u
        WHERE FN IS NOT NULL AND LN IS NOT NULL AND ZIP IS NOT NULL AND DOB IS NOT NULL
),
pairs AS (SELECT DISTINCT uk.r, pk.uid FROM uk JOIN pk ON uk.k = pk.k AND uk.d = pk.d)
SELECT count(DISTINCT r) AS matched_rows, count(DISTINCT uid) AS matched_users FROM pairs
"""
"""DuckDB's side of the file-to-file join: Meta's keys from the platform Parquet and the
upload CSV. Its normalisation is what SQL expresses simply (lower/trim e-mail; digits of an
E.164 phone; punctuation-free lower-case names); matchsim's own rules go further (accents,
phone parsing, validation), so the two match counts are close, not equal."""


def make_data(n_platform: int, n_upload: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(platform, upload)`` digests as ``(n, 4)`` uint64 words (32 bytes a row)."""
    rng = np.random.default_rng(seed)
    platform = rng.integers(0, 2**64, size=(n_platform, 4), dtype=np.uint64)
    upload = rng.integers(0, 2**64, size=(n_upload, 4), dtype=np.uint64)
    half = n_upload // 2
    upload[:half] = platform[rng.choice(n_platform, half, replace=False)]
    return platform, upload


def local_inputs(platform: np.ndarray, upload: np.ndarray) -> tuple[UploadKeys, InMemoryPlatform]:
    """The engine's inputs (digests and ids), made before timing as :func:`_arrow` is for
    the peers: every peer is timed from in-memory columns to its pairs."""
    up = UploadKeys(len(upload), {"email": KeyDigests(upload, np.arange(len(upload)), 32)})
    plat = InMemoryPlatform(
        {"email": KeyDigests(platform, np.arange(len(platform)), 32)}, len(platform)
    )
    return up, plat


def run_local(
    inputs: tuple[UploadKeys, InMemoryPlatform], engine: str = "local", **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The engine's join, evaluation included (distinct rows, users, per-key counts)."""
    with get_engine(engine, **options) as eng:
        result = eng.match(*inputs)
    return result.pairs["email"]


def _arrow(words: np.ndarray, ids: str) -> pa.Table:
    n = len(words)
    digest = pa.FixedSizeBinaryArray.from_buffers(pa.binary(32), n, [None, pa.py_buffer(words)])
    return pa.table({"d": digest, ids: pa.array(np.arange(n, dtype=np.int64))})


def run_duckdb(platform: pa.Table, upload: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    import duckdb

    con = duckdb.connect()
    con.register("p", platform)
    con.register("u", upload)
    # con.sql (a relation), not con.execute: DuckDB's own advice, no extra copy of the rows.
    out = con.sql("SELECT u.row, p.uid FROM u JOIN p ON u.d = p.d").to_arrow_table()
    return out["row"].to_numpy(), out["uid"].to_numpy()


def run_polars(platform: pa.Table, upload: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    import polars as pl

    p = pl.from_arrow(platform).with_columns(pl.col("d").cast(pl.Binary))
    u = pl.from_arrow(upload).with_columns(pl.col("d").cast(pl.Binary))
    assert isinstance(p, pl.DataFrame) and isinstance(u, pl.DataFrame)
    out = u.join(p, on="d", how="inner")
    return out["row"].to_numpy(), out["uid"].to_numpy()


def _sorted(pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    rows, users = (np.asarray(a, np.int64) for a in pairs)
    return np.sort(rows * (1 << 32) + users)


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    n_platform, n_upload = SCALES[os.environ.get("MATCHSIM_BENCH_JOIN", "10m")]
    platform, upload = make_data(n_platform, n_upload)
    inputs = local_inputs(platform, upload)
    expected = _sorted(run_local(inputs))  # also compiles the kernels
    return {"platform": platform, "upload": upload, "inputs": inputs, "expected": expected}


def test_local(benchmark: Any, data: dict[str, Any]) -> None:
    got = benchmark.pedantic(run_local, args=(data["inputs"],), rounds=3)
    assert np.array_equal(_sorted(got), data["expected"])


def test_duckdb(benchmark: Any, data: dict[str, Any]) -> None:
    p, u = _arrow(data["platform"], "uid"), _arrow(data["upload"], "row")
    got = benchmark.pedantic(run_duckdb, args=(p, u), rounds=3)
    assert np.array_equal(_sorted(got), data["expected"])


def test_polars(benchmark: Any, data: dict[str, Any]) -> None:
    p, u = _arrow(data["platform"], "uid"), _arrow(data["upload"], "row")
    got = benchmark.pedantic(run_polars, args=(p, u), rounds=2)
    assert np.array_equal(_sorted(got), data["expected"])


def test_local_duckdb_interleaved(data: dict[str, Any]) -> None:
    """local and DuckDB taking turns, 5 rounds each, so that both see the same load (a
    shared machine); prints the best of each and their ratio (run with ``-s``)."""
    p, u = _arrow(data["platform"], "uid"), _arrow(data["upload"], "row")
    times: dict[str, list[float]] = {"local": [], "duckdb": []}
    cpu: dict[str, list[float]] = {"local": [], "duckdb": []}
    for _ in range(5):
        for name in times:
            started, cpu_started = time.perf_counter(), time.process_time()
            got = run_local(data["inputs"]) if name == "local" else run_duckdb(p, u)
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
            assert np.array_equal(_sorted(got), data["expected"])
    local, duck = min(times["local"]), min(times["duckdb"])
    local_cpu, duck_cpu = min(cpu["local"]), min(cpu["duckdb"])
    n_platform, n_upload = len(data["platform"]), len(data["upload"])
    print(
        f"\nin memory {n_platform:,} x {n_upload:,}: local {local:.3f} s, DuckDB {duck:.3f} s:"
        f" ratio {local / duck:.3f} (best of 5 each, interleaved); CPU seconds (all threads)"
        f" local {local_cpu:.3f}, DuckDB {duck_cpu:.3f}: ratio {local_cpu / duck_cpu:.3f}"
    )


def duckdb_files(platform: str, upload: str) -> dict[str, int]:
    """Run :data:`DUCKDB_SQL` on the two files; matched rows and users."""
    import duckdb

    con = duckdb.connect()
    rows, users = con.execute(DUCKDB_SQL, [platform, upload]).fetchone() or (0, 0)
    return {"matched_rows": int(rows), "matched_users": int(users)}


def matchsim_files(
    pop: str, upload: str, out: str, index: bool, engine: str = "local", workers: int = 2
) -> dict[str, Any]:
    """``matchsim join`` as the CLI runs it (evaluation included), through the library."""
    from matchsim.join.run import join_files

    options = {"n_workers": workers} if engine == "dask" else {}
    report = join_files(
        pop, upload, out=out, force=True, index=index, engine=engine, engine_options=options
    ).report
    return {k: report[k] for k in ("matched_rows", "matched_users", "join_seconds")}


def make_files(folder: str, n_platform: int, n_upload: int) -> tuple[str, str]:
    """A seeded population and its Meta/SHA-256 upload (reused when already there)."""
    from pathlib import Path

    from matchsim.generate import PopulationParams, population
    from matchsim.upload.write import hash_file

    pop = Path(folder) / f"pop-{n_platform}-{n_upload}"
    upload = Path(folder) / f"upload-{n_platform}-{n_upload}.csv"
    if not (pop / "manifest.json").exists():
        params = PopulationParams(platform_users=n_platform, customers=n_upload, seed=7)
        population(params, pop, force=True)
    if not upload.exists():
        hash_file(pop / "customers.parquet", profile="meta", scheme="sha256", region="NL",
                  out=upload)  # fmt: skip
    return str(pop), str(upload)


_FILE_TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    n_platform, n_upload = FILE_SCALES[os.environ.get("MATCHSIM_BENCH_FILES", "200k")]
    folder = tmp_path_factory.mktemp("files")
    os.environ.setdefault("MATCHSIM_INDEX_DIR", str(folder / "index"))
    pop, upload = make_files(str(folder), n_platform, n_upload)
    matchsim_files(pop, upload, str(folder / "warmup"), index=True)  # compile; build index
    return {"pop": pop, "upload": upload, "out": str(folder / "out")}


def _timed(benchmark: Any, name: str, fn: Any, *args: Any, rounds: int = 2) -> Any:
    got = benchmark.pedantic(fn, args=args, rounds=rounds)
    _FILE_TIMES[name] = benchmark.stats.stats.min
    return got


def test_files_duckdb(benchmark: Any, files: dict[str, Any]) -> None:
    got = _timed(benchmark, "duckdb", duckdb_files, f"{files['pop']}/platform.parquet",
                 files["upload"])  # fmt: skip
    assert got["matched_rows"] > 0


def test_files_matchsim_indexed(benchmark: Any, files: dict[str, Any]) -> None:
    got = _timed(benchmark, "indexed", matchsim_files, files["pop"], files["upload"],
                 files["out"], True)  # fmt: skip
    assert got["matched_rows"] > 0


def test_files_matchsim_cold(benchmark: Any, files: dict[str, Any]) -> None:
    got = _timed(benchmark, "cold", matchsim_files, files["pop"], files["upload"],
                 files["out"], False, rounds=1)  # fmt: skip
    assert got["matched_rows"] > 0


def test_files_ratio(files: dict[str, Any]) -> None:
    """Prints matchsim / DuckDB for the runs above (run with ``-s``)."""
    if "duckdb" not in _FILE_TIMES:
        pytest.skip("run with the file benchmarks")
    for name in ("indexed", "cold"):
        if name in _FILE_TIMES:
            mine, duck = _FILE_TIMES[name], _FILE_TIMES["duckdb"]
            print(
                f"\nfile to file: matchsim {name} {mine:.2f} s, DuckDB {duck:.2f} s: "
                f"ratio {mine / duck:.2f}"
            )


# (c) Reading an upload: a Meta-layout CSV (10 hex SHA-256 columns and MADID in clear) in,
# decoded digests out, beside DuckDB reading the same file and unhex-ing the same columns.
#
#     .venv/bin/pytest benchmarks/bench_join.py -k upload -s          # 1 M rows
#     MATCHSIM_BENCH_UPLOAD=200k .venv/bin/pytest benchmarks/bench_join.py -k upload -s

UPLOAD_SCALES = {"200k": 200_000, "1m": 1_000_000, "10m": 10_000_000}
_HEX_COLUMNS = ("EMAIL", "PHONE", "FN", "LN", "DOB", "GEN", "CT", "ST", "ZIP", "COUNTRY")


def make_upload(path: str, n: int, seed: int = 3) -> str:
    """A Meta-layout upload of ``n`` rows: random SHA-256 hex (5 % empty) and UUIDs."""
    import pyarrow.csv as pacsv

    from matchsim.schemes._base import encode_text

    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for name in _HEX_COLUMNS:
        digests = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
        columns[name] = encode_text(digests, rng.random(n) > 0.05, "hex")
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    columns["MADID"] = pa.array([str(uuid.UUID(bytes=r.tobytes())) for r in raw])
    pacsv.write_csv(pa.table(columns), path)
    return path


def read_matchsim(path: str) -> int:
    """``read_upload`` as ``matchsim join`` runs it: every refusal counted, keys built."""
    from matchsim.join.upload import read_upload
    from matchsim.normalise import get_profile
    from matchsim.schemes import get_scheme

    keys, _ = read_upload(path, get_profile("meta"), get_scheme("sha256"), "NL")
    return sum(len(k) for k in keys.keys.values())


def read_duckdb(path: str) -> int:
    """DuckDB reads the CSV and decodes the same ten hex columns (``unhex``)."""
    import duckdb

    decoded = " + ".join(f"count(unhex({c}))" for c in _HEX_COLUMNS)
    sql = f"SELECT {decoded} + count(lower(MADID)) FROM read_csv(?, all_varchar = true)"
    return int((duckdb.connect().execute(sql, [path]).fetchone() or (0,))[0])


@pytest.fixture(scope="module")
def upload_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    n = UPLOAD_SCALES[os.environ.get("MATCHSIM_BENCH_UPLOAD", "1m")]
    path = make_upload(str(tmp_path_factory.mktemp("upload") / "upload.csv"), n)
    read_matchsim(path)  # compile the decoder
    return path


def test_upload_matchsim(benchmark: Any, upload_file: str) -> None:
    assert _timed(benchmark, "upload matchsim", read_matchsim, upload_file, rounds=3) > 0


def test_upload_duckdb(benchmark: Any, upload_file: str) -> None:
    assert _timed(benchmark, "upload duckdb", read_duckdb, upload_file, rounds=3) > 0


def test_upload_ratio(upload_file: str) -> None:
    """Prints matchsim / DuckDB for reading the upload (run with ``-s``)."""
    if "upload duckdb" not in _FILE_TIMES or "upload matchsim" not in _FILE_TIMES:
        pytest.skip("run with the upload benchmarks")
    mine, duck = _FILE_TIMES["upload matchsim"], _FILE_TIMES["upload duckdb"]
    print(f"\nupload read: matchsim {mine:.2f} s, DuckDB {duck:.2f} s: ratio {mine / duck:.2f}")


def files_main(args: argparse.Namespace) -> None:
    import tempfile

    folder = os.environ.get("MATCHSIM_BENCH_DIR") or tempfile.mkdtemp(prefix="bench-join-")
    pop, upload = make_files(folder, args.platform, args.upload)
    out = f"{folder}/out"
    if args.engine == "dask":  # file to file on a LocalCluster, 1 then 2 workers
        matchsim_files(pop, upload, out, index=True)  # build the index first
        for workers in (1, 2):
            started = time.perf_counter()
            got = matchsim_files(pop, upload, out, True, "dask", workers)
            print(
                f"dask, {workers} worker(s), {args.platform:,} x {args.upload:,}: "
                f"{time.perf_counter() - started:.2f} s, matched rows {got['matched_rows']:,}"
            )
        return
    times: dict[str, list[float]] = {"indexed": [], "duckdb": [], "cold": []}
    counts: dict[str, Any] = {}
    matchsim_files(pop, upload, out, index=True)  # compile kernels, build the index
    for _ in range(args.rounds):
        for name in ("duckdb", "indexed"):
            started = time.perf_counter()
            if name == "duckdb":
                counts[name] = duckdb_files(f"{pop}/platform.parquet", upload)
            else:
                counts[name] = matchsim_files(pop, upload, out, index=True)
            times[name].append(time.perf_counter() - started)
    started = time.perf_counter()
    counts["cold"] = matchsim_files(pop, upload, out, index=False)
    times["cold"].append(time.perf_counter() - started)
    duck = min(times["duckdb"])
    for name, runs in times.items():
        print(
            f"{name:8s} {args.platform:,} x {args.upload:,}: best {min(runs):.2f} s "
            f"(x{min(runs) / duck:.2f} DuckDB); matched rows {counts[name]['matched_rows']:,}, "
            f"users {counts[name]['matched_users']:,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="local", choices=["local", "dask", "duckdb", "polars"])
    parser.add_argument("--platform", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--upload", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generated", action="store_true", help="platform chunks from a seed")
    parser.add_argument("--files", action="store_true", help="file to file, beside DuckDB SQL")
    args = parser.parse_args()
    if args.files:
        files_main(args)
        return
    if args.generated:
        generated(args)
        return
    platform, upload = make_data(args.platform, args.upload)
    inputs = local_inputs(platform, upload)
    input_bytes = platform.nbytes + upload.nbytes + 8 * (len(platform) + len(upload))
    options = {"n_workers": args.workers} if args.engine == "dask" else {}
    runs = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        if args.engine in ("local", "dask"):
            pairs = run_local(inputs, args.engine, **options)
        else:
            p, u = _arrow(platform, "uid"), _arrow(upload, "row")
            started = time.perf_counter()
            pairs = (run_duckdb if args.engine == "duckdb" else run_polars)(p, u)
        runs.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"{args.engine}: {args.platform:,} x {args.upload:,}: best {min(runs):.2f} s "
        f"(runs {', '.join(f'{r:.2f}' for r in runs)}); {len(pairs[0]):,} pairs; "
        f"peak RSS {peak / 2**30:.2f} GiB = {peak / input_bytes:.2f} x input "
        f"({input_bytes / 2**30:.2f} GiB)"
    )


def generated(args: argparse.Namespace) -> None:
    from matchsim.join.synthetic import RandomPlatform, random_upload

    platform = RandomPlatform(args.platform, chunk_rows=1 << 20)
    upload = random_upload(platform, args.upload)
    options = {"n_workers": args.workers} if args.engine == "dask" else {}
    with get_engine(args.engine, **options) as eng:
        runs = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            result = eng.match(upload, platform)
            runs.append(time.perf_counter() - started)
    label = f"{args.engine} ({args.workers} workers)" if args.engine == "dask" else args.engine
    print(
        f"{label}, generated platform: {args.platform:,} x {args.upload:,}: best "
        f"{min(runs):.2f} s (runs {', '.join(f'{r:.2f}' for r in runs)}); "
        f"{len(result.matched_users):,} users matched"
    )


if __name__ == "__main__":
    main()
