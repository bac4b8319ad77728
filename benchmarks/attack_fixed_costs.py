"""A fresh process's fixed costs before the attack's first candidate, each measured
separately: imports, the keyspace, reading the digests file, the bitmaps, loading the
scan and verification kernels. Prints one JSON line, with the ahead-of-time modules the
process loaded (``aot``), whether it imported numba, and if it did, numba's cache hits
and misses of the two kernels.

    python benchmarks/attack_fixed_costs.py HASHES.txt
    python benchmarks/attack_fixed_costs.py UPLOAD.csv PHONE
    python benchmarks/attack_fixed_costs.py --floor

A second argument names the digest column of a CSV of several (an upload in a
platform's layout, such as ``matchsim run``'s ``uploads/*.csv``); "read digests" is
then reading that file and decoding that column.

The kernels come from :mod:`matchsim.kernels.aot` where ``matchsim build-kernels`` has
built them (then numba is not imported at all), else from numba's on-disk cache (run it
twice: the first run in a fresh tree fills that cache). ``--floor`` measures what no
kernel layout can remove, the same way: importing NumPy, loading one compiled module
(where built), and for the JIT path importing numba and the first call of a trivial
function loaded from numba's cache (with the BLAS probe deferred as the attack kernels
defer it, :mod:`matchsim.kernels.attack._numba_start`).
"""

from __future__ import annotations

import json
import sys
import time

marks: list[tuple[str, float, float]] = [("start", time.perf_counter(), time.process_time())]


def mark(name: str) -> None:
    marks.append((name, time.perf_counter(), time.process_time()))


def main(path: str, column: str | None = None) -> None:
    import numpy as np

    from matchsim.attack import engine, load_targets, phone_keyspace
    from matchsim.kernels import aot

    mark("imports")
    ks = phone_keyspace("NL", lengths=(9,))
    mark("keyspace")
    targets = load_targets(path, column)
    mark("read digests")
    plan = engine._Plan.make(engine.Knowledge(targets.algorithm))
    filt = engine._Filter.make(targets, plan.algo)
    mark("bitmaps")
    layout = engine._mask_layout(ks.masks[0], plan)
    engine._scan_cpu(layout, plan, filt, targets.n_distinct, 0, 1024)
    mark("scan kernel")
    targets.lookup(plan.digest_rows(ks.masks[0].decode(np.arange(16))))
    mark("verify kernel")
    report: dict[str, object] = {
        name: {"wall": round(t - marks[i][1], 4), "cpu": round(c - marks[i][2], 4)}
        for i, (name, t, c) in enumerate(marks[1:])
    }
    report["total"] = {
        "wall": round(marks[-1][1] - marks[0][1], 4),
        "cpu": round(marks[-1][2] - marks[0][2], 4),
    }
    report["aot"] = sorted(aot.used())
    report["numba"] = "numba" in sys.modules
    if report["numba"]:
        from matchsim.kernels.attack import mask as K

        scan, rows = K.SCANNERS[plan.algo], K.ROW_HASHERS[plan.algo]
        report["cache"] = {
            "scan": {"hits": sum(scan.stats.cache_hits.values()),
                     "misses": sum(scan.stats.cache_misses.values())},
            "verify": {"hits": sum(rows.stats.cache_hits.values()),
                       "misses": sum(rows.stats.cache_misses.values())},
        }  # fmt: skip
    report["digests"] = targets.n_distinct
    print(json.dumps(report))


def floor() -> None:
    import numpy as np

    mark("numpy")
    from matchsim.kernels import aot

    built = aot.load("sha256") is not None
    mark("compiled module")
    import numba

    from matchsim.kernels.attack._numba_start import defer_blas_check

    defer_blas_check()
    mark("numba")

    @numba.njit(cache=True)
    def total(a):  # type: ignore[no-untyped-def]
        return a.sum()

    total(np.arange(4))
    mark("first cached call")
    report: dict[str, object] = {
        name: {"wall": round(t - marks[i][1], 4), "cpu": round(c - marks[i][2], 4)}
        for i, (name, t, c) in enumerate(marks[1:])
    }
    report["total"] = {"wall": round(marks[-1][1] - marks[0][1], 4)}
    report["cache"] = {"hits": sum(total.stats.cache_hits.values())}
    report["aot"] = built
    print(json.dumps(report))


if __name__ == "__main__":
    if sys.argv[1] == "--floor":
        floor()
    else:
        main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
