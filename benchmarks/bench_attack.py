"""Re-identification speed: fused numba kernels vs hashcat on the same job.

Short by default (raw rates: five rounds of about a second, each after ``hashcat -b``;
the NL job on 10 k hashes). The issue's full job, 1 M unsalted SHA-256 NL mobile
numbers, runs with
``MATCHSIM_BENCH_FULL=1`` (``MATCHSIM_BENCH_ROUNDS=3`` repeats it). hashcat
(``apt-get install hashcat pocl-opencl-icd``) runs on the same hashes in the same
session when installed: on the same keyspace (the ``--emit-hcmask`` file) and on the
naive 10^8 mask; both ratios are printed and the recovered sets must be identical.

    .venv/bin/pytest benchmarks/bench_attack.py -p no:cacheprovider -s
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from matchsim.attack import Knowledge, load_targets, parse_digests, phone_keyspace, reverse
from matchsim.attack.engine import _Plan, scan_mask_range
from matchsim.attack.hcmask import write_hcmask
from matchsim.attack.keyspace import Mask, MaskKeyspace

FULL = os.environ.get("MATCHSIM_BENCH_FULL") == "1"
N_HASHES = 1_000_000 if FULL else 10_000


def _nl_numbers(n: int, seed: int = 1) -> list[str]:
    mask = phone_keyspace("NL", lengths=(9,)).masks[0]
    idx = np.random.default_rng(seed).integers(0, mask.size, n)
    rows = mask.decode(idx)
    return [bytes(r).decode() for r in rows]


RAW_CANDIDATES = {"md5": 240_000_000, "sha1": 120_000_000, "sha256": 60_000_000,
                  "sha512": 1 << 24, "hmac-sha256": 1 << 25}  # fmt: skip
"""Candidates per timed round (the NL mobile mask, 6 x 10^7, scanned again where more):
about a second on 2 cores, a time like hashcat -b's own."""

RAW_ROUNDS = int(os.environ.get("MATCHSIM_BENCH_RAW_ROUNDS", "5"))


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256", "sha512", "hmac-sha256"])
def test_raw_rate(benchmark, algo: str) -> None:  # type: ignore[no-untyped-def]
    """Raw rate beside ``hashcat -b``, interleaved: before each of our timed rounds
    (untimed, pytest-benchmark's ``setup``) hashcat runs its own benchmark, so the two
    share the machine's good and bad moments; medians of each and of the round ratios
    are reported (one pair on a shared VM varies by half)."""
    mask = phone_keyspace("NL", lengths=(9,)).masks[0]
    name = "sha256" if algo == "hmac-sha256" else algo
    width = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}[name]
    targets = parse_digests(pa.array(["0" * width]))
    plan = _Plan.make(Knowledge(name, hmac_key=b"k" if algo == "hmac-sha256" else None))
    n = RAW_CANDIDATES[algo]

    def scan() -> None:
        for start in range(0, n, mask.size):
            scan_mask_range(mask, 0, min(mask.size, n - start), plan, targets)

    scan_mask_range(mask, 0, 1 << 16, plan, targets)  # compile / load cache
    mode = HASHCAT_MODES.get(algo)
    peers: list[float | None] = []  # one per round (None: hashcat gave no figure)

    def peer_round() -> None:
        peers.append(hashcat_rate(mode) if mode else None)

    benchmark.pedantic(scan, setup=peer_round, rounds=RAW_ROUNDS)
    ours = [n / t for t in benchmark.stats.stats.data]
    rate = float(np.median(ours))
    benchmark.extra_info["MH/s"] = round(rate / 1e6, 2)
    benchmark.extra_info["MH/s per round"] = [round(r / 1e6, 1) for r in ours]
    line = f"\n{algo}: {rate / 1e6:.1f} MH/s median of {len(ours)} rounds of {n:,} candidates"
    line += f" ({', '.join(f'{r / 1e6:.1f}' for r in ours)}; fused numba kernel, all cores)"
    pairs = [(o, p) for o, p in zip(ours, peers, strict=True) if p]
    if pairs:
        peer = float(np.median([p for _, p in pairs]))
        ratios = [o / p for o, p in pairs]
        benchmark.extra_info["hashcat MH/s"] = round(peer / 1e6, 2)
        benchmark.extra_info["hashcat MH/s per round"] = [round(p / 1e6, 1) for _, p in pairs]
        line += f"\n  hashcat -b -m {mode}, run before each round: median {peer / 1e6:.1f} MH/s"
        line += f" ({', '.join(f'{p / 1e6:.1f}' for _, p in pairs)})"
        line += f"\n  ratio per round {', '.join(f'{r:.2f}' for r in ratios)};"
        line += f" median {float(np.median(ratios)):.2f}"
    print(line)


HASHCAT_MODES = {"md5": "0", "sha1": "100", "sha256": "1400", "sha512": "1700"}


def hashcat_rate(mode: str) -> float | None:
    """hashcat's own benchmark (``-b -m MODE``) in hashes/s, or None if not installed."""
    exe = shutil.which("hashcat")
    if exe is None:
        return None
    done = subprocess.run(
        [exe, "-b", "-m", mode, "--machine-readable", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    # --machine-readable lines: device:mode:...:milliseconds:hashes per second
    rates = [float(m) for m in re.findall(r"^\d+:\d+:.*:(\d+)\s*$", done.stdout, flags=re.M)]
    return sum(rates) if rates else None


NAIVE_MASK = "316?d?d?d?d?d?d?d?d"
"""The mask a user would type for NL mobiles: 10^8 candidates."""


def _hashcat(hash_file: Path, tmp: Path, mask: str) -> tuple[float, set[str]] | None:
    """hashcat on the same file: seconds from start to its outfile written, and the set.

    ``mask`` is a mask or a ``.hcmask`` file."""
    exe = shutil.which("hashcat")
    if exe is None:
        return None
    out = tmp / "hashcat-out.txt"
    out.unlink(missing_ok=True)
    cmd = [exe, "-m", "1400", "-a", "3", "--potfile-disable", "-o", str(out),
           "--outfile-format=2", "--quiet", "-w", "3", "--session", "bench",
           str(hash_file), mask]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True, cwd=tmp)
    seconds = time.perf_counter() - t0
    found = set(out.read_text().split()) if out.exists() else set()
    return seconds, found


ROUNDS = int(os.environ.get("MATCHSIM_BENCH_ROUNDS", "1"))


def test_nl_mobile_job(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Both tools read the same file of hex digests and write the numbers they recover
    to a file; each is timed from start to its output written, in turns, ``ROUNDS``
    times (``MATCHSIM_BENCH_ROUNDS``), after one warm-up each (numba's cache, hashcat's
    kernel cache). hashcat runs twice per round: on the **same keyspace** as matchsim,
    the number plan's 6 x 10^7 (``--emit-hcmask``: ``123458,316?1?d?d?d?d?d?d?d``), and
    on the naive mask a user would type (``316?d?d?d?d?d?d?d?d``, 10^8). The recovered
    sets must be identical."""
    numbers = _nl_numbers(N_HASHES)
    hash_file = tmp_path / "hashes.txt"
    hash_file.write_text("".join(hashlib.sha256(x.encode()).hexdigest() + "\n" for x in numbers))
    keyspace = phone_keyspace("NL", lengths=(9,))
    hcmask = tmp_path / "nl-mobile.hcmask"
    write_hcmask(keyspace, hcmask)
    out = tmp_path / "matchsim-out.txt"

    have_hashcat = shutil.which("hashcat") is not None
    ours_all: list[float] = []
    same_all: list[float] = []
    naive_all: list[float] = []
    same_found: set[str] = set()
    naive_found: set[str] = set()

    def job() -> None:
        t0 = time.perf_counter()
        result = reverse(load_targets(hash_file), keyspace, stop_when_done=False)
        found = pc.drop_null(result.plaintext)
        pacsv.write_csv(
            pa.table({"phone": found}),
            out,
            pacsv.WriteOptions(include_header=False, quoting_style="none"),
        )
        ours_all.append(time.perf_counter() - t0)

    def between_rounds() -> None:
        """Untimed, before each measured round: check the last round's output, then
        hashcat's turn on the same keyspace and on the naive mask."""
        nonlocal same_found, naive_found
        assert set(out.read_text().split()) == set(numbers)
        if have_hashcat:
            same = _hashcat(hash_file, tmp_path, str(hcmask))
            naive = _hashcat(hash_file, tmp_path, NAIVE_MASK)
            assert same is not None and naive is not None
            same_all.append(same[0])
            naive_all.append(naive[0])
            same_found, naive_found = same[1], naive[1]

    job()  # warm-up: numba's cache
    if have_hashcat:
        warm = tmp_path / "warm.txt"
        warm.write_text(hashlib.sha256(b"3161").hexdigest() + "\n")
        _hashcat(warm, tmp_path, "316?d")
    ours_all.clear()
    # The measured rounds are matchsim's (pytest-benchmark's figure); hashcat runs in
    # turn with them, in the untimed setup.
    benchmark.pedantic(job, setup=between_rounds, rounds=ROUNDS)
    got = set(out.read_text().split())
    assert got == set(numbers)
    ours = min(ours_all)
    benchmark.extra_info["matchsim_seconds"] = [round(x, 2) for x in ours_all]
    line = (
        f"\nNL job, {N_HASHES:,} SHA-256 hashes (shared machine unless quiet): "
        f"matchsim {ours:.2f} s (runs: {', '.join(f'{x:.2f}' for x in ours_all)}), "
        f"{len(got):,} recovered"
    )
    if have_hashcat:
        same_s, naive_s = min(same_all), min(naive_all)
        line += (
            f"\n  hashcat, same keyspace ({hcmask.read_text().strip()}): {same_s:.2f} s "
            f"(runs: {', '.join(f'{x:.2f}' for x in same_all)}), {len(same_found):,} recovered;"
            f" ratio {same_s / ours:.1f}x; identical set: {same_found == got}"
            f"\n  hashcat, naive mask ({NAIVE_MASK}): {naive_s:.2f} s "
            f"(runs: {', '.join(f'{x:.2f}' for x in naive_all)}), {len(naive_found):,} "
            f"recovered; ratio {naive_s / ours:.1f}x; identical set: {naive_found == got}"
        )
        benchmark.extra_info["hashcat_same_keyspace_seconds"] = [round(x, 2) for x in same_all]
        benchmark.extra_info["hashcat_naive_mask_seconds"] = [round(x, 2) for x in naive_all]
        benchmark.extra_info["ratio_same_keyspace"] = round(same_s / ours, 2)
        benchmark.extra_info["ratio_naive_mask"] = round(naive_s / ours, 2)
        print(line)
        assert same_found == got, "hashcat (same keyspace) recovered a different set"
        assert naive_found == got, "hashcat (naive mask) recovered a different set"
    else:
        print(line + "; hashcat not installed")


def test_fixed_costs(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A fresh process's fixed costs, each measured separately (imports, reading the
    digests, the bitmaps, loading the kernels), by ``attack_fixed_costs.py`` in new
    interpreters, best of three (after one that warms the file cache). Target: 0.5 s in
    all for 1 M digests on a quiet machine. The SHA-256 kernels are first compiled ahead
    of time into this test's folder (:mod:`matchsim.kernels.aot`; reused while the
    kernels' fingerprint holds); fails if a run did not load them or imported numba."""
    import json
    import sys

    from matchsim.kernels import aot
    from matchsim.kernels.aot.build import build

    numbers = _nl_numbers(1_000_000 if FULL else 100_000)
    hash_file = tmp_path / "hashes.txt"
    hash_file.write_text("".join(hashlib.sha256(x.encode()).hexdigest() + "\n" for x in numbers))
    script = Path(__file__).with_name("attack_fixed_costs.py")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env[aot.ENV_DIR] = str(Path(__file__).with_name("results") / "aot")
    env.pop(aot.ENV_SWITCH, None)
    t0 = time.process_time()
    build(("sha256",), Path(env[aot.ENV_DIR]) / aot.fingerprint())
    built = time.process_time() - t0

    def once() -> dict[str, dict[str, float]]:
        done = subprocess.run(
            [sys.executable, str(script), str(hash_file)],
            capture_output=True, text=True, check=True, env=env,
        )  # fmt: skip
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    once()
    runs = [once() for _ in range(3)]
    benchmark.pedantic(lambda: None, rounds=1)
    for r in runs:
        assert (r["aot"], r["numba"]) == (["sha256"], False), r
    parts = [k for k in runs[0] if isinstance(runs[0][k], dict) and "wall" in runs[0][k]]
    best = {k: min(r[k]["wall"] for r in runs) for k in parts}
    cpu = {k: min(r[k]["cpu"] for r in runs) for k in parts}
    benchmark.extra_info["fixed_costs_wall"] = best
    benchmark.extra_info["fixed_costs_cpu"] = cpu
    lines = [
        f"\nfixed costs, fresh process, {runs[0]['digests']:,} digests (best of 3; wall / cpu s;"
        f" SHA-256 kernels compiled ahead of time: {built:.1f} s of CPU, 0 if built before):"
    ]
    lines += [f"  {k:<14} {best[k]:7.3f} / {cpu[k]:.3f}" for k in parts]
    print("\n".join(lines))


def test_dask_scale_out(benchmark) -> None:  # type: ignore[no-untyped-def]
    """The mask enumeration over a Dask LocalCluster of 1, then 2 single-threaded worker
    processes (one numba thread each), against one process with 1 and 2 numba threads,
    on the NL mobile keyspace (10^7 candidates by default, 6 x 10^7 with
    ``MATCHSIM_BENCH_FULL=1``), SHA-256. Reports the 1 -> 2 worker speed-up; the sets
    must equal the single process's."""
    import numba

    distributed = pytest.importorskip("distributed")
    (mask,) = phone_keyspace("NL", lengths=(9,)).masks
    if not FULL:
        mask = Mask((*mask.positions[:3], b"1", *mask.positions[4:]))
    keyspace = MaskKeyspace("NL mobile", (mask,))
    numbers = [bytes(r).decode() for r in mask.decode(np.arange(0, mask.size, 997))]
    targets = parse_digests(pa.array([hashlib.sha256(x.encode()).hexdigest() for x in numbers]))
    want = reverse(targets, keyspace, stop_when_done=False).plaintext.to_pylist()
    line = [f"\nDask scale-out, {keyspace.size:,} SHA-256 candidates (shared machine):"]
    seconds: dict[str, float] = {}
    threads = numba.get_num_threads()
    for n in (1, 2):
        numba.set_num_threads(min(n, threads))
        t0 = time.perf_counter()
        got = reverse(targets, keyspace, stop_when_done=False)
        seconds[f"local {n} thread(s)"] = time.perf_counter() - t0
        assert got.plaintext.to_pylist() == want
    numba.set_num_threads(threads)
    for n in (1, 2):
        with distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
            env={"NUMBA_NUM_THREADS": "1"},
        ) as cluster:  # fmt: skip
            reverse(targets, keyspace, scheduler=cluster.scheduler_address)  # warm workers
            t0 = time.perf_counter()
            got = reverse(targets, keyspace, scheduler=cluster.scheduler_address)
            seconds[f"dask {n} worker(s)"] = time.perf_counter() - t0
            assert got.plaintext.to_pylist() == want
    benchmark.pedantic(lambda: None, rounds=1)
    for k, v in seconds.items():
        line.append(f"  {k:<18} {v:6.2f} s  {keyspace.size / v / 1e6:7.1f} MH/s")
    speedup = seconds["dask 1 worker(s)"] / seconds["dask 2 worker(s)"]
    line.append(f"  1 -> 2 workers: {speedup:.2f}x")
    benchmark.extra_info["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    benchmark.extra_info["dask_1_to_2"] = round(speedup, 2)
    print("\n".join(line))
