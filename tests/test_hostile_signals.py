"""Ctrl-C and SIGTERM (issue 13): exit 130 / 143 with one ``Error:`` line, no traceback,
and nothing at the final output name (an older output there stays as it was).

Each case runs matchsim in a real process, pauses it in the middle of writing (a hook
writes a marker file and sleeps), sends the signal from outside, and looks at what is
left. No timing guesses: the signal arrives exactly while the output is half-written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from matchsim.generate import Population, PopulationParams, population
from matchsim.upload.write import hash_file

REPO = Path(__file__).resolve().parents[1]

# Pause inside the command, after part of the output is written: module.attr is wrapped
# so that the first call runs, then announces itself through the marker file and sleeps.
HOOK = """
import importlib, sys, time
from pathlib import Path
module_name, attr, marker = sys.argv[1:4]
module = importlib.import_module(module_name)
original = getattr(module, attr)
def paused(*args, **kwargs):
    result = original(*args, **kwargs)
    Path(marker).write_text("paused")
    time.sleep(60)
    return result
setattr(module, attr, paused)
from matchsim.cli import main
main(sys.argv[4:])
"""


@pytest.fixture(scope="module")
def pop(tmp_path_factory: pytest.TempPathFactory) -> Population:
    params = PopulationParams(platform_users=300, customers=40, seed=5, chunk_size=1000)
    return population(params, tmp_path_factory.mktemp("signals") / "pop")


def interrupt(
    tmp: Path, signum: int, module: str, attr: str, args: list[object]
) -> subprocess.CompletedProcess[str]:
    marker = tmp / "paused.marker"
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOOK, module, attr, str(marker), *map(str, args)],
        cwd=tmp,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate(timeout=5) if proc.poll() is None else proc.communicate()
            proc.kill()
            pytest.fail(f"never reached the pause: rc={proc.returncode} {out} {err}")
        time.sleep(0.05)
    marker.unlink()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def assert_interrupted(result: subprocess.CompletedProcess[str], signum: int) -> None:
    assert result.returncode == 128 + signum, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: interrupted"), result.stderr


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_hash_interrupted_leaves_old_upload_and_summary_alone(tmp_path: Path, signum: int) -> None:
    src = tmp_path / "crm.csv"
    src.write_text("email,phone\na@b.nl,0612345678\n")
    # The old upload is one matchsim wrote (--force replaces only those), from other data.
    old_src = tmp_path / "old-crm.csv"
    old_src.write_text("email,phone\nold@b.nl,0687654321\n")
    hash_file(old_src, profile="meta", region="NL", out=tmp_path / "up.csv")
    old = {n: (tmp_path / n).read_text() for n in ("up.csv", "up.rejects.csv", "up.summary.json")}
    result = interrupt(
        tmp_path,
        signum,
        "matchsim.upload.write",
        "_hash_batch",
        ["hash", src, "--region", "NL", "--out", "up.csv", "--force"],
    )
    assert_interrupted(result, signum)
    for name, text in old.items():
        assert (tmp_path / name).read_text() == text  # no new upload beside an old summary
    assert leftovers(tmp_path) == []
    assert src.read_text() == "email,phone\na@b.nl,0612345678\n"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_generate_interrupted_writes_no_folder(tmp_path: Path, signum: int) -> None:
    result = interrupt(
        tmp_path,
        signum,
        "matchsim.generate.build",
        "_generate",
        ["generate", "--platform-users", "200", "--customers", "20", "--out", "pop"],
    )
    assert_interrupted(result, signum)
    assert not (tmp_path / "pop").exists()
    assert leftovers(tmp_path) == []


def test_join_interrupted_keeps_the_previous_result(tmp_path: Path, pop: Population) -> None:
    from matchsim.join.run import join_files
    from matchsim.upload.write import hash_file

    upload = tmp_path / "upload.csv"
    hash_file(pop.customers, profile="meta", region="NL", out=upload)
    join_files(pop.out, upload, out=tmp_path / "j")
    before = {p.name: p.read_bytes() for p in (tmp_path / "j").iterdir()}
    result = interrupt(
        tmp_path,
        signal.SIGTERM,
        "matchsim.join.run",
        "peak_rss_bytes",  # called after the join, before anything is written
        ["join", "--platform", pop.out, "--upload", upload, "--out", "j", "--force"],
    )
    assert_interrupted(result, signal.SIGTERM)
    assert {p.name: p.read_bytes() for p in (tmp_path / "j").iterdir()} == before
    assert leftovers(tmp_path) == []
