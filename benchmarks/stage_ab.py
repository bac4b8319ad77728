"""The run's "population" and "risk" stages, two source trees side by side (ABBA).

    python benchmarks/stage_ab.py OLD_TREE NEW_TREE [--users 2_000_000] [--rounds 2]
        [--risk-pop DIR]

``OLD_TREE`` / ``NEW_TREE`` are folders holding a ``matchsim`` package (a worktree, or
``git archive REV matchsim | tar -x -C DIR``). Each measurement is its own process with
``PYTHONPATH`` set to one tree, in the order old, new, new, old, ... so load from other
users of the machine falls on both; each process warms numba's cache on a tiny
population first (untimed). Reported per stage and side: the minimum wall seconds and
CPU seconds (user + system, every thread of the process) over the rounds, and new / old.

- population: ``generate.population`` of ``--users`` platform users, a tenth of them
  customers (overlap 0.6, NL, seed 7), as ``matchsim run`` generates it;
- risk: ``risk.risk_section`` with nl-health-insurer's three QI sets on ``--risk-pop``
  (default: the population the new tree generated in the first round).

The generated tables of both sides are compared (``pyarrow.Table.equals``) and so are the
risk sections (JSON); a difference is reported and makes the exit status 1. Full size as
in the experiment: ``--users 10_000_000 --risk-pop /work/wt/_pop/nl10m``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import json, resource, sys, time, shutil
from pathlib import Path
stage, out, users, pop = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
from matchsim.generate import PopulationParams, population
warm = out + ".warm"
population(PopulationParams(platform_users=20_000, customers=2_000, seed=1), warm, force=True)
shutil.rmtree(warm)
def usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), r.ru_utime + r.ru_stime
if stage == "population":
    params = PopulationParams(
        platform_users=users, customers=users // 10, country="NL", overlap=0.6, seed=7
    )
    t0, c0 = usage()
    population(params, out)
    t1, c1 = usage()
    result = None
else:
    from matchsim.risk import risk_section
    qi = [["postcode:4", "dob"], ["postcode", "dob", "gender"],
          ["first_name", "last_name", "dob:year"]]
    p = Path(pop)
    t0, c0 = usage()
    result = risk_section(p / "customers.parquet", platform=p / "platform.parquet",
                          qi_sets=qi, country="NL")
    t1, c1 = usage()
print(json.dumps({"wall": t1 - t0, "cpu": c1 - c0,
                  "result": json.dumps(result, sort_keys=True, default=str)}))
"""


def _run(tree: Path, stage: str, out: Path, users: int, pop: Path | None) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, stage, str(out), str(users), str(pop or "")],
        env=env, cwd=tree, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _same_tables(a: Path, b: Path) -> bool:
    import pyarrow.parquet as pq

    names = ("platform.parquet", "customers.parquet", "truth.parquet")
    return all(pq.read_table(a / f).equals(pq.read_table(b / f)) for f in names)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--users", type=lambda s: int(s.replace("_", "")), default=2_000_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--risk-pop", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stage_ab-"))
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    best: dict[tuple[str, str], list[float]] = {}
    differ = False
    try:
        risk_pop = args.risk_pop
        for r in range(args.rounds):
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            for side in order:
                out = work / f"pop-{side}"
                shutil.rmtree(out, ignore_errors=True)
                got = _run(trees[side], "population", out, args.users, None)
                best.setdefault(("population", side), []).append(got["wall"])
                best.setdefault(("population cpu", side), []).append(got["cpu"])
            if r == 0:
                differ |= not _same_tables(work / "pop-old", work / "pop-new")
                if args.risk_pop is None:
                    risk_pop = work / "risk-pop"
                    shutil.rmtree(risk_pop, ignore_errors=True)
                    (work / "pop-new").rename(risk_pop)
            results = {}
            for side in order:
                got = _run(trees[side], "risk", work / "unused", args.users, risk_pop)
                best.setdefault(("risk", side), []).append(got["wall"])
                best.setdefault(("risk cpu", side), []).append(got["cpu"])
                results[side] = got["result"]
            differ |= results["old"] != results["new"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'stage':<16}{'old s':>9}{'new s':>9}{'new/old':>9}   (minimum of {args.rounds})")
    for stage in ("population", "population cpu", "risk", "risk cpu"):
        old, new = min(best[(stage, "old")]), min(best[(stage, "new")])
        print(f"{stage:<16}{old:>9.2f}{new:>9.2f}{new / old:>9.2f}")
    print("outputs:", "DIFFERENT" if differ else "identical (tables and risk sections)")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
