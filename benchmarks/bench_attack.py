"""Re-identification speed: fused numba kernels vs hashcat on the same job.

Short by default (raw rates over 2^23 candidates; the NL job on 10 k hashes). The
issue's full job, 1 M unsalted SHA-256 NL mobile numbers, runs with
``MATCHSIM_BENCH_FULL=1``. hashcat (``apt-get install hashcat pocl-opencl-icd``) runs
on the same hashes in the same session when installed, and the ratio is printed.

    .venv/bin/pytest benchmarks/bench_attack.py -p no:cacheprovider -s
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from matchsim.attack import Knowledge, parse_digests, phone_keyspace, reverse
from matchsim.attack.engine import _Plan, scan_mask_range

FULL = os.environ.get("MATCHSIM_BENCH_FULL") == "1"
N_HASHES = 1_000_000 if FULL else 10_000


def _nl_numbers(n: int, seed: int = 1) -> list[str]:
    mask = phone_keyspace("NL", lengths=(9,)).masks[0]
    idx = np.random.default_rng(seed).integers(0, mask.size, n)
    rows = mask.decode(idx)
    return [bytes(r).decode() for r in rows]


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256", "sha512", "hmac-sha256"])
def test_raw_rate(benchmark, algo: str) -> None:  # type: ignore[no-untyped-def]
    mask = phone_keyspace("NL", lengths=(9,)).masks[0]
    name = "sha256" if algo == "hmac-sha256" else algo
    width = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}[name]
    targets = parse_digests(pa.array(["0" * width]))
    plan = _Plan.make(Knowledge(name, hmac_key=b"k" if algo == "hmac-sha256" else None))
    n = 1 << 23
    scan_mask_range(mask, 0, 1 << 16, plan, targets)  # compile / load cache
    benchmark.pedantic(scan_mask_range, args=(mask, 0, n, plan, targets), rounds=3)
    rate = n / benchmark.stats.stats.min
    benchmark.extra_info["MH/s"] = round(rate / 1e6, 2)
    line = f"\n{algo}: {rate / 1e6:.1f} MH/s (fused numba kernel, all cores)"
    mode = HASHCAT_MODES.get(algo)
    peer = hashcat_rate(mode) if mode else None
    if peer:
        benchmark.extra_info["hashcat MH/s"] = round(peer / 1e6, 2)
        line += f"; hashcat -b -m {mode}: {peer / 1e6:.1f} MH/s (ratio {rate / peer:.2f})"
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


def _hashcat(hashes: list[str]) -> tuple[float, set[str]] | None:
    exe = shutil.which("hashcat")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        h = Path(tmp) / "h.txt"
        out = Path(tmp) / "out.txt"
        h.write_text("\n".join(hashes) + "\n")
        mask = "316?d?d?d?d?d?d?d?d"
        cmd = [exe, "-m", "1400", "-a", "3", "--potfile-disable", "-o", str(out),
               "--outfile-format=2", "--quiet", "-w", "3", str(h), mask]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True, cwd=tmp)
        seconds = time.perf_counter() - t0
        found = set(out.read_text().split()) if out.exists() else set()
    return seconds, found


def test_nl_mobile_job(benchmark) -> None:  # type: ignore[no-untyped-def]
    numbers = _nl_numbers(N_HASHES)
    hashes = [hashlib.sha256(x.encode()).hexdigest() for x in numbers]
    keyspace = phone_keyspace("NL", lengths=(9,))

    def job() -> tuple[float, set[str]]:
        t0 = time.perf_counter()
        targets = parse_digests(pa.array(hashes))
        result = reverse(targets, keyspace, stop_when_done=False)
        got = set(pc_valid(result.plaintext))
        return time.perf_counter() - t0, got

    ours, got = benchmark.pedantic(job, rounds=1)
    assert got == set(numbers)
    line = f"\nNL job, {N_HASHES:,} SHA-256 hashes: matchsim {ours:.2f} s, {len(got):,} recovered"
    peer = _hashcat(hashes)
    if peer is not None:
        hc_seconds, hc_found = peer
        line += f"; hashcat {hc_seconds:.2f} s, {len(hc_found):,} recovered"
        line += f"; ratio {hc_seconds / ours:.1f}x; identical set: {hc_found == got}"
        benchmark.extra_info["hashcat_seconds"] = round(hc_seconds, 2)
    else:
        line += "; hashcat not installed"
    benchmark.extra_info["matchsim_seconds"] = round(ours, 2)
    print(line)


def pc_valid(values: pa.Array) -> list[str]:
    return [v for v in values.to_pylist() if v is not None]
