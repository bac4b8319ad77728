"""A broken experiment file, reported in a fresh process: ``matchsim run bad.toml``.

    pytest benchmarks/bench_validate.py -s
    MATCHSIM_BENCH_VALIDATE_ROUNDS=20 pytest benchmarks/bench_validate.py -s

Each round starts a new Python process (nothing imported, nothing cached in memory), so
the figure is what a user waits for after a typo: interpreter start, the CLI, the one
validator and every section's parser, and the one ``Error:`` line with every problem.
Peers in the same run: ``python -c pass`` (the interpreter alone) and
``python -c "import matchsim"`` (the package root); the table prints each one's
median and the ratio to the validation run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROUNDS = int(os.environ.get("MATCHSIM_BENCH_VALIDATE_ROUNDS", "7"))
ROOT = Path(__file__).resolve().parent.parent
MEDIANS: dict[str, float] = {}

# one problem in every table and optional section
BROKEN = """
version = 1
seed = "x"
[population]
customers = -5
[[schemes]]
name = "argon2id"
memroy = 5
[[attacks]]
number_type = "mobiel"
[pixel]
days = 0
[oracle]
pool = "many"
[psi]
receiver = "nobody"
[clk.schema]
length = 100
[promises]
pool = 3
"""


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("validate") / "bad.toml"
    path.write_text(BROKEN)
    yield path
    if MEDIANS:
        base = MEDIANS.get("matchsim run bad.toml")
        print(f"\nfresh process, median of {ROUNDS} (shared machine unless stated)")
        for name, seconds in MEDIANS.items():
            ratio = f"   {seconds / base:5.2f} of validation" if base else ""
            print(f"  {name:<32} {seconds:7.3f} s{ratio}")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _time(benchmark: pytest.FixtureRequest, name: str, argv: list[str], code: int) -> None:
    times: list[float] = []

    def once() -> None:
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=_env(), check=False)
        times.append(time.perf_counter() - started)
        assert done.returncode == code, done.stderr

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1)  # type: ignore[attr-defined]
    MEDIANS[name] = statistics.median(times)


def test_python_startup(benchmark: pytest.FixtureRequest, bad: Path) -> None:
    _time(benchmark, "python -c pass", [sys.executable, "-c", "pass"], 0)


def test_import_matchsim(benchmark: pytest.FixtureRequest, bad: Path) -> None:
    _time(benchmark, 'python -c "import matchsim"', [sys.executable, "-c", "import matchsim"], 0)


def test_validate_broken_experiment(benchmark: pytest.FixtureRequest, bad: Path) -> None:
    argv = [sys.executable, "-m", "matchsim", "run", str(bad)]
    _time(benchmark, "matchsim run bad.toml", argv, 1)
