"""The digest join against its peers, side by side in one run, on random 32-byte digests.

    .venv/bin/pytest benchmarks/bench_join.py                    # 10 M x 1 M (CI size)
    MATCHSIM_BENCH_JOIN=100m .venv/bin/pytest benchmarks/bench_join.py   # 100 M x 10 M

Each peer joins the same in-memory data (platform: digest + uid; upload: digest + row)
and its result is checked to equal the ``local`` engine's exactly. Half of the upload
rows are platform digests, half are not. For peak memory of one engine alone, run this
file as a script in a fresh process::

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
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from matchsim.join import InMemoryPlatform, KeyDigests, UploadKeys, get_engine

SCALES = {"10m": (10_000_000, 1_000_000), "100m": (100_000_000, 10_000_000)}


def make_data(n_platform: int, n_upload: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(platform, upload)`` digests as ``(n, 4)`` uint64 words (32 bytes a row)."""
    rng = np.random.default_rng(seed)
    platform = rng.integers(0, 2**64, size=(n_platform, 4), dtype=np.uint64)
    upload = rng.integers(0, 2**64, size=(n_upload, 4), dtype=np.uint64)
    half = n_upload // 2
    upload[:half] = platform[rng.choice(n_platform, half, replace=False)]
    return platform, upload


def run_local(
    platform: np.ndarray, upload: np.ndarray, engine: str = "local", **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    up = UploadKeys(len(upload), {"email": KeyDigests(upload, np.arange(len(upload)), 32)})
    plat = InMemoryPlatform(
        {"email": KeyDigests(platform, np.arange(len(platform)), 32)}, len(platform)
    )
    with get_engine(engine, **options) as eng:
        result = eng.match(up, plat)
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
    out = con.execute("SELECT u.row, p.uid FROM u JOIN p ON u.d = p.d").to_arrow_table()
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
    expected = _sorted(run_local(platform, upload))  # also compiles the kernels
    return {"platform": platform, "upload": upload, "expected": expected}


def test_local(benchmark: Any, data: dict[str, Any]) -> None:
    got = benchmark.pedantic(run_local, args=(data["platform"], data["upload"]), rounds=3)
    assert np.array_equal(_sorted(got), data["expected"])


def test_duckdb(benchmark: Any, data: dict[str, Any]) -> None:
    p, u = _arrow(data["platform"], "uid"), _arrow(data["upload"], "row")
    got = benchmark.pedantic(run_duckdb, args=(p, u), rounds=3)
    assert np.array_equal(_sorted(got), data["expected"])


def test_polars(benchmark: Any, data: dict[str, Any]) -> None:
    p, u = _arrow(data["platform"], "uid"), _arrow(data["upload"], "row")
    got = benchmark.pedantic(run_polars, args=(p, u), rounds=2)
    assert np.array_equal(_sorted(got), data["expected"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="local", choices=["local", "dask", "duckdb", "polars"])
    parser.add_argument("--platform", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    parser.add_argument("--upload", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--generated", action="store_true", help="platform chunks from a seed")
    args = parser.parse_args()
    if args.generated:
        generated(args)
        return
    platform, upload = make_data(args.platform, args.upload)
    input_bytes = platform.nbytes + upload.nbytes + 8 * (len(platform) + len(upload))
    options = {"n_workers": args.workers} if args.engine == "dask" else {}
    runs = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        if args.engine in ("local", "dask"):
            pairs = run_local(platform, upload, args.engine, **options)
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
