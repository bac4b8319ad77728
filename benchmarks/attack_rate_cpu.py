"""Raw scan rate in candidates per CPU-second (``time.process_time``), which contention
from other processes distorts far less than wall time: for comparing two versions of the
kernels on a shared machine, run alternately from each tree.

    PYTHONPATH=TREE python benchmarks/attack_rate_cpu.py md5 sha1 sha256 sha512

Each algorithm scans 2^23 NL mobile candidates (2^21 for SHA-512) for one target,
best of three after a warm-up; the rate of both cores together is about twice the
figure when nothing else runs. ``md5:bitmap`` is MD5 with its scan against a few
targets turned off (``MATCHSIM_MD5_REVERSE=0``: the bitmap scan), so both MD5 scans
can be compared in one process:

    NUMBA_NUM_THREADS=1 python benchmarks/attack_rate_cpu.py md5 md5:bitmap md5 md5:bitmap
"""

from __future__ import annotations

import os
import sys
import time

import pyarrow as pa

from matchsim.attack import Knowledge, parse_digests, phone_keyspace
from matchsim.attack.engine import _Plan, scan_mask_range

WIDTH = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}


def main(algorithms: list[str]) -> None:
    (mask,) = phone_keyspace("NL", lengths=(9,)).masks
    out = []
    for name in algorithms:
        algo, _, variant = name.partition(":")
        os.environ["MATCHSIM_MD5_REVERSE"] = "0" if variant == "bitmap" else "1"
        targets = parse_digests(pa.array(["0" * WIDTH[algo]]))
        plan = _Plan.make(Knowledge(algo))
        scan_mask_range(mask, 0, 1 << 16, plan, targets)
        n = 1 << 21 if algo == "sha512" else 1 << 23
        best = float("inf")
        for _ in range(3):
            t = time.process_time()
            scan_mask_range(mask, 0, n, plan, targets)
            best = min(best, time.process_time() - t)
        out.append(f"{name} {n / best / 1e6:.1f}")
    print("M candidates per CPU-second:", ", ".join(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(WIDTH))
