"""Same experiments, same results: run the shipped experiments at a reduced size with
whatever matchsim is on PYTHONPATH and write ``strip_timings(results.json)`` per
experiment, so two trees (before and after a refactor) can be compared byte for byte.

    PYTHONPATH=OLD_TREE python benchmarks/results_equivalence.py /tmp/before [NAME ...]
    PYTHONPATH=NEW_TREE python benchmarks/results_equivalence.py /tmp/after [NAME ...]
    python benchmarks/results_equivalence.py --compare /tmp/before /tmp/after

NAME is ``demo`` or a shipped experiment's stem (``us-retailer`` is skipped: it enumerates
the whole US number plan). Populations are capped at 20,000 users and 2,000 customers.
The ``clk`` section's key is drawn from the run's seed (since 2026-12-01; before, a fresh
key per run made ``schemes-compared`` differ in its CLK figures between any two runs, so a
tree from before that differs there from one after).
"""

from __future__ import annotations

import copy
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def shrink(tree: dict[str, Any]) -> dict[str, Any]:
    pop = tree.get("population", {})
    if "platform_users" in pop:
        pop["platform_users"] = min(pop["platform_users"], 20_000)
        pop["customers"] = min(pop["customers"], 2_000)
    for a in tree.get("attacks", []):
        if "guesses" in a or a.get("kind") in ("email", "reidentify"):
            a["guesses"] = min(a.get("guesses", 50_000), 50_000)
    if "pixel" in tree:
        tree["pixel"]["visitors"] = 1_000
    if "oracle" in tree:
        tree["oracle"].update(victims=3, website_victims=3, differencing_targets=20, pool=600,
                              differencing_repeats=[1, 16])  # fmt: skip
    if "promises" in tree:
        tree["promises"].update(pool=600, targets=10, dp_trials=500, pair_list=100, pair_rounds=3)
    return tree


def cases() -> dict[str, dict[str, Any]]:
    from matchsim.cli.cmd_demo import DEMO_EXPERIMENT

    out = {"demo": copy.deepcopy(DEMO_EXPERIMENT)}
    for f in sorted(EXPERIMENTS.glob("*.toml")):
        if f.stem != "us-retailer":
            out[f.stem] = shrink(tomllib.loads(f.read_text()))
    return out


def run(out_dir: Path, only: list[str]) -> None:
    from matchsim.experiment import parse_experiment, run_experiment, strip_timings

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, tree in cases().items():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        source = EXPERIMENTS / f"{name}.toml" if name != "demo" else None
        experiment = parse_experiment(tree, source=source)
        result = run_experiment(experiment, out_dir / "runs" / name, force=True,
                                measure_costs=name == "schemes-compared")  # fmt: skip
        text = json.dumps(strip_timings(result.results), indent=1, sort_keys=True)
        (out_dir / f"{name}.json").write_text(text)
        stages = {"keys": sorted(result.manifest), "timings": sorted(result.manifest["timings"])}
        (out_dir / f"{name}.manifest.json").write_text(json.dumps(stages, indent=1))
        print(f"{name}: {time.perf_counter() - t0:.1f} s", flush=True)


def compare(before: Path, after: Path) -> int:
    differ = 0
    for path in sorted(before.glob("*.json")):
        other = after / path.name
        same = other.is_file() and other.read_bytes() == path.read_bytes()
        differ += not same
        print(f"{'same' if same else 'DIFFERS'}  {path.name}")
    return 1 if differ else 0


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    run(Path(sys.argv[1]), sys.argv[2:])
