"""The re-identification linkage's counting kernel (``kernels.attack.link.key_counts``)
at the size of ``nl-health-insurer``'s linkages: 1 M upload rows against a register of
10 M, on synthetic key words (no population to build), best of three per share of
register rows that carry an upload key:

    PYTHONPATH=TREE python benchmarks/link_key_counts.py

Run it from two trees alternately to compare them (each tree's kernel is compiled into
its own numba cache on the first run). The words are drawn from a fixed seed, so both
trees count the same keys; a checksum of the counts is printed with the times.
"""

from __future__ import annotations

import time

import numpy as np

from matchsim.kernels.attack.link import key_counts


def main() -> None:
    rng = np.random.default_rng(7)
    n_up, n_reg = 1_000_000, 10_000_000
    words = rng.integers(1, 2**63, size=n_up, dtype=np.uint64)  # distinct keys, in effect
    up_h = words[rng.integers(0, n_up, size=n_up)]  # upload rows, keys repeating
    up_ok = np.ones(n_up, dtype=np.bool_)
    reg_ok = np.ones(n_reg, dtype=np.bool_)
    key_counts(up_h[:10], up_ok[:10], up_h[:10], up_ok[:10])  # compile or load
    for share in (0.1, 0.4, 0.7):
        carried = rng.random(n_reg) < share
        reg_h = rng.integers(1, 2**63, size=n_reg, dtype=np.uint64)
        reg_h[carried] = words[rng.integers(0, n_up, size=int(carried.sum()))]
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            out = key_counts(up_h, up_ok, reg_h, reg_ok)
            best = min(best, time.perf_counter() - started)
        check = int(out[2].sum()) ^ int(out[3].sum())
        print(f"register rows carrying an upload key {share:.0%}: best {best:.3f} s "
              f"({len(out[4]):,} pairs; checksum {check})")  # fmt: skip


if __name__ == "__main__":
    main()
