"""Did a change make any benchmark slower? Run the suite at two revisions, side by side.

Usage (from anywhere inside the repository)::

    .venv/bin/python benchmarks/compare_commits.py OLD NEW [-k EXPR] [--size small]
        [--files bench_x.py ...] [--repeats 3] [--threshold 0.10] [--json out.json]

Each revision is checked out into its own temporary git worktree (``git worktree add
--detach``; removed again at the end), and its benchmarks run from *its own* tree:
``cwd`` and ``PYTHONPATH`` point at that tree, so a revision from before a layout change
(modules moved) imports its own modules, not the working copy's. Uncommitted changes are
not part of either side: commit first, or compare against ``HEAD``.

Fair to both sides:

- the same size (``--size``: a preset of the ``MATCHSIM_BENCH_*`` size variables, the
  same for both) and the same interpreter (the one running this script);
- interleaved: every benchmark file runs old, new, new, old, ... (ABBA per repeat), one
  pytest process each, so load from other users of the machine falls on both;
- a discarded warm-up run per side and file first (numba compiles into a fresh tree's
  cache; that is not the code's speed);
- per benchmark the *minimum* over every round of every repeat (the least disturbed run)
  is compared; the noise is the larger relative spread of the per-repeat minima on
  either side, and a verdict needs a change beyond ``max(threshold, noise)``.

Output, per benchmark id (``file::test[param]``): old and new minimum, ratio new / old,
verdict ``slower``, ``faster`` or ``same``; benchmarks only in NEW are listed ``new``,
only in OLD ``gone`` (neither is run against nothing). ``--json`` writes the table.
Exit status 1 when any benchmark is slower (for CI), 0 otherwise.

Sizes: ``small`` (default) and ``medium`` shrink every benchmark that reads a size
variable; ``full`` sets none (each benchmark's documented default: long, needs the whole
machine). Files whose size cannot be reduced (``bench_join.py``: 10 M platform rows at
least; ``bench_risk.py``: 10 M rows; ``bench_gpu.py``: needs a GPU) are left out of the
default file list below ``full``; name them with ``--files`` to include them anyway.
Other variables in the caller's environment (``MATCHSIM_BENCH_FULL=1``,
``MATCHSIM_BENCH_JOIN=100m``) reach both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# One preset a size: the environment every benchmark process gets, on both sides.
SIZES: dict[str, dict[str, str]] = {
    "small": {
        "MATCHSIM_BENCH_USERS": "20000",
        "MATCHSIM_BENCH_PEER_RECORDS": "1000",
        "MATCHSIM_BENCH_CLK_RECORDS": "5000",
        "MATCHSIM_BENCH_CLK_PEER_RECORDS": "1000",
        "MATCHSIM_BENCH_CLK_MATCH": "500",
        "MATCHSIM_BENCH_PSI_ITEMS": "2000",
        "MATCHSIM_BENCH_REID_ROWS": "5000",
        "MATCHSIM_BENCH_REID_EMAIL": "20000",
        "MATCHSIM_BENCH_N": "20000",
        "MATCHSIM_VALIDATION_PEOPLE": "50000",
        "MATCHSIM_BENCH_ROUNDS": "1",
    },
    "medium": {
        "MATCHSIM_BENCH_USERS": "200000",
        "MATCHSIM_BENCH_PEER_RECORDS": "5000",
        "MATCHSIM_BENCH_CLK_RECORDS": "50000",
        "MATCHSIM_BENCH_CLK_PEER_RECORDS": "5000",
        "MATCHSIM_BENCH_CLK_MATCH": "2000",
        "MATCHSIM_BENCH_PSI_ITEMS": "20000",
        "MATCHSIM_BENCH_REID_ROWS": "50000",
        "MATCHSIM_BENCH_REID_EMAIL": "200000",
        "MATCHSIM_BENCH_N": "200000",
        "MATCHSIM_VALIDATION_PEOPLE": "500000",
        "MATCHSIM_BENCH_ROUNDS": "1",
    },
    "full": {},
}
# Files that read no size variable, or need hardware this machine may lack.
UNSIZED = ("bench_join.py", "bench_risk.py", "bench_gpu.py")


@dataclass
class Side:
    """One revision: its checkout and what its benchmark runs measured."""

    name: str
    rev: str
    tree: Path
    ids: set[str] = field(default_factory=set)
    # benchmark id -> minimum time (s) of each repeat
    mins: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    repo = Path(_git(Path.cwd(), "rev-parse", "--show-toplevel"))
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        old = Side("old", args.old, Path(tmp) / "old")
        new = Side("new", args.new, Path(tmp) / "new")
        try:
            for side in (old, new):
                _checkout(repo, side)
            files = _files(args, old, new)
            for side in (old, new):
                side.ids = _collect(side, files, args)
            _run_interleaved(old, new, files, args)
        finally:
            for side in (old, new):
                if side.tree.exists():
                    _git(repo, "worktree", "remove", "--force", str(side.tree))
            _git(repo, "worktree", "prune")
    rows = _verdicts(old, new, args.threshold)
    _print(rows, old, new, args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if any(r["verdict"] == "slower" for r in rows) else 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old", help="base revision (e.g. 25a31da)")
    p.add_argument("new", help="revision to judge (e.g. HEAD)")
    p.add_argument("-k", dest="expr", help="pytest -k expression: a subset of benchmarks")
    p.add_argument("--files", nargs="+", help="benchmark files (names in benchmarks/)")
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--repeats", type=int, default=3, help="ABBA repeats per file (>= 1)")
    p.add_argument("--warmup", type=int, default=1, help="discarded runs per side and file")
    p.add_argument("--threshold", type=float, default=0.10, help="least change that counts")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per pytest process")
    p.add_argument("--json", help="write the comparison table here")
    return p.parse_args(argv)


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _checkout(repo: Path, side: Side) -> None:
    side.rev = _git(repo, "rev-parse", "--short", f"{side.rev}^{{commit}}")
    _git(repo, "worktree", "add", "--detach", str(side.tree), side.rev)


def _files(args: argparse.Namespace, old: Side, new: Side) -> list[str]:
    """Benchmark files to run: ``--files``, or every bench_*.py of either side that the
    size can shrink."""
    if args.files:
        return [Path(f).name for f in args.files]
    names = {p.name for side in (old, new) for p in (side.tree / "benchmarks").glob("bench_*.py")}
    if args.size != "full":
        names -= set(UNSIZED)
    return sorted(names)


def _env(side: Side, args: argparse.Namespace) -> dict[str, str]:
    # The caller's environment (e.g. MATCHSIM_BENCH_FULL=1) applies to both sides; the
    # size preset is laid over it.
    env = dict(os.environ)
    env.update(SIZES[args.size])
    env["PYTHONPATH"] = str(side.tree)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _pytest(side: Side, file: str, args: argparse.Namespace, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", f"benchmarks/{file}", "-q", "-p", "no:cacheprovider"]
    if args.expr:
        cmd += ["-k", args.expr]
    return cmd + list(extra)


def _collect(side: Side, files: list[str], args: argparse.Namespace) -> set[str]:
    """The benchmark ids (``file::test[param]``) the side's tree holds."""
    present = [f for f in files if (side.tree / "benchmarks" / f).exists()]
    if not present:
        return set()
    # pytest's own view of the ids; a file that fails to import collects nothing
    ids: set[str] = set()
    for f in present:
        done = subprocess.run(
            _pytest(side, f, args, "--collect-only"),
            cwd=side.tree,
            env=_env(side, args),
            capture_output=True,
            text=True,
            timeout=args.timeout,
        )
        ids |= {
            line.split("benchmarks/", 1)[1]
            for line in done.stdout.splitlines()
            if line.startswith("benchmarks/") and "::" in line
        }
    _check_import_path(side, args)
    return ids


def _check_import_path(side: Side, args: argparse.Namespace) -> None:
    """Refuse to measure a side whose ``import matchsim`` is not its own tree."""
    where = subprocess.run(
        [sys.executable, "-c", "import matchsim; print(matchsim.__file__)"],
        cwd=side.tree,
        env=_env(side, args),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(side.tree.resolve()):
        raise SystemExit(f"{side.name} ({side.rev}) imports matchsim from {where}, not its tree")


def _run_interleaved(old: Side, new: Side, files: list[str], args: argparse.Namespace) -> None:
    for i, file in enumerate(files):
        sides = [s for s in (old, new) if any(x.startswith(f"{file}::") for x in s.ids)]
        if len(sides) < 2:
            continue  # only on one side: listed as new / gone, not measured
        for _ in range(args.warmup):
            for side in sides:
                _run(side, file, args, keep=False)
        for r in range(args.repeats):
            # ABBA: the side that ran first runs second next time
            for side in sides if (r + i) % 2 == 0 else sides[::-1]:
                _run(side, file, args, keep=True)


def _run(side: Side, file: str, args: argparse.Namespace, *, keep: bool) -> None:
    print(f"  {side.name} {side.rev} {file}{' (warm-up)' if not keep else ''}", file=sys.stderr)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        try:
            done = subprocess.run(
                _pytest(side, file, args, "--benchmark-only", f"--benchmark-json={out.name}"),
                cwd=side.tree,
                env=_env(side, args),
                capture_output=True,
                text=True,
                timeout=args.timeout,
            )
        except subprocess.TimeoutExpired:
            side.failures.append(f"{file}: timed out after {args.timeout:g} s")
            return
        if done.returncode not in (0, 5):  # 5: nothing selected
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            side.failures.append(f"{file}: pytest exit {done.returncode}: {' | '.join(tail)}")
        if not keep or not Path(out.name).stat().st_size:
            return
        report = json.loads(Path(out.name).read_text())
    for bench in report.get("benchmarks", []):
        bench_id = bench["fullname"].split("benchmarks/", 1)[-1]
        side.mins.setdefault(bench_id, []).append(float(bench["stats"]["min"]))


def _verdicts(old: Side, new: Side, threshold: float) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for bench_id in sorted(old.ids | new.ids):
        a, b = old.mins.get(bench_id), new.mins.get(bench_id)
        if bench_id not in old.ids:
            rows.append({"benchmark": bench_id, "verdict": "new"})
            continue
        if bench_id not in new.ids:
            rows.append({"benchmark": bench_id, "verdict": "gone"})
            continue
        if not a or not b:
            rows.append({"benchmark": bench_id, "verdict": "not measured (skipped or failed)"})
            continue
        ratio = min(b) / min(a)
        noise = max(_spread(a), _spread(b))
        limit = max(threshold, noise)
        verdict = "slower" if ratio > 1 + limit else "faster" if ratio < 1 / (1 + limit) else "same"
        rows.append(
            {
                "benchmark": bench_id,
                "old_s": min(a),
                "new_s": min(b),
                "ratio": ratio,
                "noise": noise,
                "verdict": verdict,
                "repeats": [len(a), len(b)],
            }
        )
    return rows


def _spread(mins: list[float]) -> float:
    """Relative spread of one side's per-repeat minima: max / min - 1."""
    return max(mins) / min(mins) - 1 if len(mins) > 1 else 0.0


def _print(rows: list[dict[str, object]], old: Side, new: Side, args: argparse.Namespace) -> None:
    print(
        f"old {old.rev} vs new {new.rev}; size {args.size}; {args.repeats} interleaved "
        f"repeat(s), minimum over rounds; threshold {args.threshold:.0%} or the noise"
    )
    width = max([len("benchmark")] + [len(str(r["benchmark"])) for r in rows])
    print(f"{'benchmark':<{width}}  {'old':>10}  {'new':>10}  {'ratio':>6}  {'noise':>6}  verdict")
    for r in rows:
        if "ratio" not in r:
            print(
                f"{r['benchmark']:<{width}}  {'':>10}  {'':>10}  {'':>6}  {'':>6}  {r['verdict']}"
            )
            continue
        print(
            f"{r['benchmark']:<{width}}  {_time(r['old_s']):>10}  {_time(r['new_s']):>10}  "
            f"{r['ratio']:>6.2f}  {r['noise']:>6.0%}  {r['verdict']}"
        )
    for side in (old, new):
        for failure in side.failures:
            print(f"{side.name} {side.rev}: {failure}")


def _time(seconds: object) -> str:
    s = float(seconds)  # type: ignore[arg-type]
    if s >= 1:
        return f"{s:.3f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


if __name__ == "__main__":
    raise SystemExit(main())
