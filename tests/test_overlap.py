"""``run_experiment`` with the hashing and joins in a worker process (``overlap=True``):
the same results as the serial run, errors from the worker end the run the same way, and
nothing is left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from matchsim.errors import InputError, MatchsimError
from matchsim.experiment import overlap as side_by_side
from matchsim.experiment import parse_experiment, run_experiment, strip_timings
from tests.test_pipeline import small


def _tree() -> dict[str, Any]:
    tree = small("overlap")
    tree["population"] = {"platform_users": 4_000, "customers": 500, "country": "NL",
                          "overlap": 0.6}  # fmt: skip
    tree["attacks"] = [
        {"kind": "phone"},
        {"kind": "email", "guesses": 20_000},
        {"kind": "reidentify", "coverage": 0.95, "guesses": 20_000},
    ]
    return tree


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    root = tmp_path_factory.mktemp("overlap")
    serial = run_experiment(parse_experiment(_tree()), root / "serial", measure_costs=False,
                            overlap=False)  # fmt: skip
    side = run_experiment(parse_experiment(_tree()), root / "side", measure_costs=False,
                          overlap=True)  # fmt: skip
    return serial, side


def _without_key_figures(results: dict[str, Any]) -> dict[str, Any]:
    """strip_timings, less what depends on the HMAC key drawn fresh for each run."""
    out: dict[str, Any] = strip_timings(results)
    return out


def test_same_results_with_and_without_overlap(both: tuple[Any, Any]) -> None:
    serial, side = both
    assert _without_key_figures(serial.results) == _without_key_figures(side.results)
    a = json.loads((serial.out / "results.json").read_text())
    b = json.loads((side.out / "results.json").read_text())
    assert strip_timings(a) == strip_timings(b)
    # the worker's files are where the serial run writes them, byte for byte (sha256 and
    # salted: the HMAC upload differs by its per-run key)
    for name in ("uploads/00-sha256.csv", "joins/00-sha256/keys.csv"):
        assert (serial.out / name).read_bytes() == (side.out / name).read_bytes()


def test_every_stage_timed_where_it_ran(both: tuple[Any, Any]) -> None:
    serial, side = both
    assert set(serial.manifest["timings"]) == set(side.manifest["timings"])
    assert set(side.manifest["resources"]) == set(side.manifest["timings"])
    for row in side.manifest["resources"].values():
        assert row["user_seconds"] >= 0 and row["peak_rss_mb"] > 0
    assert side.manifest["timings"]["join sha256"] > 0  # measured in the worker
    assert side.manifest["resources"]["join sha256"]["process"] == "worker"
    assert side.manifest["timings"]["attack email sha256"] > 0  # measured here
    assert side.manifest["resources"]["attack email sha256"]["process"] == "main"
    assert {row["process"] for row in serial.manifest["resources"].values()} == {"main"}


def test_same_results_reusing_a_population(both: tuple[Any, Any], tmp_path: Path) -> None:
    serial, _ = both
    tree = _tree()
    tree["population"] = {"path": str(serial.out / "population")}
    os.environ["MATCHSIM_INDEX_DIR"] = str(tmp_path / "index")
    try:
        side = run_experiment(parse_experiment(tree), tmp_path / "side", measure_costs=False,
                              overlap=True)  # fmt: skip
    finally:
        del os.environ["MATCHSIM_INDEX_DIR"]
    a, b = strip_timings(serial.results), strip_timings(side.results)
    a.pop("population"), b.pop("population")
    assert a == b


def test_joins_taken_by_this_process_give_the_same_results(
    both: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every join after the first claimed here before the worker reaches it (what a run
    whose attacks finish before the worker's joins does): this process runs them, the
    worker skips them, and the results are the serial run's."""

    class Eager(side_by_side.Worker):
        def __init__(self, progress: Any, schemes: int = 0) -> None:
            super().__init__(progress, schemes)
            assert schemes == 3
            assert [self.take_join(i) for i in (1, 2)] == [True, True]

    monkeypatch.setattr(side_by_side, "Worker", Eager)
    serial, _ = both
    side = run_experiment(parse_experiment(_tree()), tmp_path / "side", measure_costs=False,
                          overlap=True)  # fmt: skip
    assert strip_timings(serial.results) == strip_timings(side.results)
    assert set(serial.manifest["timings"]) == set(side.manifest["timings"])
    ran = {k: v["process"] for k, v in side.manifest["resources"].items() if "join" in k}
    assert ran == {"join sha256": "worker", "join hmac-sha256": "main",
                   "join salted-sha256": "main"}  # fmt: skip
    for name in ("uploads/00-sha256.csv", "joins/02-salted-sha256/keys.csv"):
        assert (serial.out / name).read_bytes() == (side.out / name).read_bytes()


def test_each_join_is_claimed_once() -> None:
    import multiprocessing as mp

    claims = side_by_side.Claims(mp.get_context("spawn"), 3)
    worker, parent = side_by_side.Claims.WORKER, side_by_side.Claims.PARENT
    assert claims.claim(0, worker) and claims.claim(0, worker)  # asked again: still its own
    assert not claims.claim(0, parent)
    assert claims.claim(2, parent) and not claims.claim(2, worker)
    assert claims.claim(1, worker) and not claims.claim(1, parent)
    assert claims.claim(5, worker) and not claims.claim(5, parent)  # beyond the count


def test_wanted() -> None:
    experiment = parse_experiment(_tree())
    assert side_by_side.wanted(experiment, None, True)
    assert not side_by_side.wanted(experiment, None, False)
    assert not side_by_side.wanted(experiment, lambda step, payload: None, True)  # narrator
    assert not side_by_side.wanted(experiment, None, None)  # 4,000 users: one core
    big = _tree()
    big["population"]["platform_users"] = side_by_side.MIN_PLATFORM_USERS
    assert side_by_side.wanted(parse_experiment(big), None, None) == ((os.cpu_count() or 1) >= 2)
    none = _tree()
    none["schemes"] = []
    none["attacks"] = []
    assert not side_by_side.wanted(parse_experiment(none), None, True)


def test_worker_error_ends_the_run(tmp_path: Path) -> None:
    """The worker's error is raised here as the same class with the same message, and the
    run folder does not appear."""
    tree = _tree()
    tree["population"] = {"path": str(tmp_path / "pop")}
    tree["risk"] = {"qi": []}  # risk reads the platform file too (here): only the worker may fail
    out = tmp_path / "pop"
    run_experiment(parse_experiment(_tree()), tmp_path / "first", measure_costs=False,
                   overlap=False)  # fmt: skip
    (tmp_path / "first" / "population").rename(out)
    # a platform file the join cannot read: the worker fails in its first join
    (out / "platform.parquet").write_bytes(b"not parquet")
    os.environ["MATCHSIM_INDEX_DIR"] = str(tmp_path / "index")
    try:
        with pytest.raises(MatchsimError) as serial:
            run_experiment(parse_experiment(tree), tmp_path / "a", measure_costs=False,
                           overlap=False)  # fmt: skip
        with pytest.raises(MatchsimError) as side:
            run_experiment(parse_experiment(tree), tmp_path / "b", measure_costs=False,
                           overlap=True)  # fmt: skip
    finally:
        del os.environ["MATCHSIM_INDEX_DIR"]
    assert type(side.value) is type(serial.value)
    assert side.value.one_line() == serial.value.one_line()
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_errors_cross_the_pipe_intact() -> None:
    """InputError's constructor takes (path, reason): rebuilt with its message and fields."""
    for exc in (InputError("up.csv", "bad hex", row=3, column="em"), OSError(2, "gone", "f"),
                MatchsimError("plain"), ValueError("v")):  # fmt: skip
        again = side_by_side._rebuild(side_by_side._portable(exc))
        assert type(again) is type(exc) and str(again) == str(exc)
    again = side_by_side._rebuild(side_by_side._portable(InputError("up.csv", "x", row=3)))
    assert isinstance(again, InputError) and again.row == 3 and again.path == "up.csv"


def _marked(marker: str) -> list[int]:
    """Our processes whose environment holds ``marker`` (the run and its worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _worker_catches_sigint(marker: str) -> bool:
    """The worker is past its start-up: it has its own SIGINT handler (``SigCgt`` bit 2)."""
    for pid in _marked(marker):
        try:
            if b"spawn_main" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        return bool(int(caught.split()[1], 16) & 0x2)
    return False


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("target", ["group", "worker"])
def test_ctrl_c_leaves_no_process_and_no_folder(tmp_path: Path, target: str) -> None:
    """Ctrl-C (SIGINT to the terminal's process group, or to the worker alone) while the
    worker joins and this process attacks: exit 130, one line, no run folder, no partial
    folder, no process."""
    import signal
    import subprocess
    import sys
    import time
    import uuid

    marker = f"MATCHSIM_TEST_MARK={uuid.uuid4().hex}"
    toml = tmp_path / "x.toml"
    toml.write_text(
        'version = 1\nname = "ctrl-c"\nseed = 3\n[population]\nplatform_users = 200_000\n'
        'customers = 20_000\ncountry = "NL"\noverlap = 0.6\n[advertiser]\nname = "A"\n'
        'label = "a"\nprofile = "meta"\n[platform]\nprofile = "meta"\n'
        '[[schemes]]\nname = "sha256"\n[[schemes]]\nname = "hmac-sha256"\n'
        '[[attacks]]\nkind = "email"\nguesses = 5_000_000\n'
    )
    out = tmp_path / "run"
    env = {**os.environ, "MATCHSIM_OVERLAP": "1", marker.split("=")[0]: marker.split("=")[1]}
    proc = subprocess.Popen(
        [sys.executable, "-m", "matchsim", "run", str(toml), "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in tmp_path.iterdir() if "partial" in p.name]
        if target == "worker" and partial and _worker_catches_sigint(marker.split("=")[1]):
            break  # the worker waits for its plan while the population is generated
        if partial and (partial[0] / "uploads" / "00-sha256.csv").exists():
            break  # the worker joins while this process attacks
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    assert len(_marked(marker.split("=")[1])) >= 2  # the run and its worker
    time.sleep(0.2)
    if target == "group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        (worker,) = [p for p in _marked(marker.split("=")[1])
                     if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]  # fmt: skip
        os.kill(worker, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.decode().startswith("Error: interrupted") and err.decode().count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.toml"]
    for _ in range(50):  # the worker may take a moment to be reaped
        if not _marked(marker.split("=")[1]):
            break
        time.sleep(0.1)
    assert _marked(marker.split("=")[1]) == []


def test_the_plan_never_shows_a_secret() -> None:
    from pathlib import Path

    from matchsim.experiment.overlap import Plan

    key = b"do-not-print-this-key-0123456789"
    plan = Plan(None, Path("f"), Path("p"), "NL", [(key, "key-file"), None])  # type: ignore[arg-type]
    assert key.decode() not in repr(plan) and "do-not-print" not in str(plan)
