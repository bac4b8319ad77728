"""benchmarks/compare_commits.py: the verdict logic (no benchmark is run here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_commits.py"


@pytest.fixture(scope="module")
def cc() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_commits", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _sides(cc: ModuleType, old: dict[str, list[float]], new: dict[str, list[float]]) -> tuple:
    a = cc.Side("old", "aaa", Path("/nonexistent/old"), ids=set(old), mins=old)
    b = cc.Side("new", "bbb", Path("/nonexistent/new"), ids=set(new), mins=new)
    return a, b


def test_verdicts_compare_minima_beyond_threshold_and_noise(cc: ModuleType) -> None:
    old, new = _sides(
        cc,
        {"x.py::slow": [1.0, 1.02], "x.py::fast": [1.0, 1.01], "x.py::flat": [1.0, 1.0],
         "x.py::noisy": [1.0, 1.5], "x.py::gone": [1.0]},
        {"x.py::slow": [1.3, 1.25], "x.py::fast": [0.5, 0.52], "x.py::flat": [1.05, 1.04],
         "x.py::noisy": [1.3, 1.4], "x.py::new": [1.0]},
    )  # fmt: skip
    rows = {r["benchmark"]: r for r in cc._verdicts(old, new, 0.10)}
    assert rows["x.py::slow"]["verdict"] == "slower"
    assert rows["x.py::slow"]["ratio"] == pytest.approx(1.25)  # min over rounds: 1.25 / 1.0
    assert rows["x.py::fast"]["verdict"] == "faster"
    assert rows["x.py::flat"]["verdict"] == "same"
    # 30 % slower, but the old side alone spread by 50 %: not beyond the noise
    assert rows["x.py::noisy"]["noise"] == pytest.approx(0.5)
    assert rows["x.py::noisy"]["verdict"] == "same"
    assert rows["x.py::new"] == {"benchmark": "x.py::new", "verdict": "new"}
    assert rows["x.py::gone"] == {"benchmark": "x.py::gone", "verdict": "gone"}


def test_a_benchmark_measured_on_one_side_only_has_no_ratio(cc: ModuleType) -> None:
    old, new = _sides(cc, {"x.py::t": [1.0]}, {"x.py::t": []})
    (row,) = cc._verdicts(old, new, 0.10)
    assert row["verdict"].startswith("not measured")
    assert "ratio" not in row


def test_both_sides_get_the_same_size_and_their_own_tree(cc: ModuleType) -> None:
    old, new = _sides(cc, {}, {})
    args = cc._parse(["aaa", "bbb", "--size", "small"])
    env_old, env_new = cc._env(old, args), cc._env(new, args)
    assert env_old["PYTHONPATH"] == "/nonexistent/old"
    assert env_new["PYTHONPATH"] == "/nonexistent/new"
    sizes = {k: v for k, v in env_old.items() if k.startswith("MATCHSIM_BENCH")}
    assert sizes == {k: v for k, v in env_new.items() if k.startswith("MATCHSIM_BENCH")}
    assert sizes["MATCHSIM_BENCH_USERS"] == cc.SIZES["small"]["MATCHSIM_BENCH_USERS"]
