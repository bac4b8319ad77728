"""Every shipped experiment (and the demo) at the browser test's small scale, timed.

The report browser test (``tests/test_report_browser.py``) runs each of them once in its
fixture, so their cost is a share of every CI run; this prints each one's wall and CPU
seconds and its slowest stages, to see which one a change made slower or faster.

    python benchmarks/small_experiments.py [NAME ...]
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import test_report_browser as browser  # noqa: E402  (the test's own scaled-down trees)

from matchsim.experiment import parse_experiment, run_experiment  # noqa: E402


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(names: list[str]) -> None:
    trees = [browser.demo_tree()] + [tomllib.loads(p.read_text()) for p in browser.EXPERIMENTS]
    with tempfile.TemporaryDirectory() as tmp:
        for tree in trees:
            name = str(tree["name"])
            if names and name not in names:
                continue
            folder = Path(tmp) / name
            wall, cpu = time.perf_counter(), _cpu()
            run_experiment(parse_experiment(browser.small(tree)), folder,
                           measure_costs=name == "demo")  # fmt: skip
            wall, cpu = time.perf_counter() - wall, _cpu() - cpu
            timings = json.loads((folder / "manifest.json").read_text())["timings"]
            slowest = sorted(timings.items(), key=lambda kv: -kv[1])[:3]
            stages = ", ".join(f"{k} {v:.1f}" for k, v in slowest)
            print(f"{name:24s} wall {wall:6.1f} s  CPU {cpu:6.1f} s  slowest: {stages}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
