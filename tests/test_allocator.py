"""Arrow's mimalloc purging is turned off for ``matchsim run`` before pyarrow loads
(:mod:`matchsim._allocator`, :mod:`matchsim.experiment.memory`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import os, sys
from matchsim.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("PURGE=" + os.environ.get("MIMALLOC_PURGE_DELAY", "unset"), flush=True)
"""


def _purge_setting(args: list[str], **env: str) -> str:
    base = {k: v for k, v in os.environ.items()
            if k not in ("MIMALLOC_PURGE_DELAY", "MATCHSIM_KEEP_MEMORY")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True, text=True, env={**base, **env}, check=False,
    )  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("PURGE=")]
    assert lines, done.stdout + done.stderr
    return lines[-1].removeprefix("PURGE=")


def test_run_turns_purging_off_before_pyarrow_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = str(tmp_path / "missing.toml")  # the run fails at once; the setting is made
    assert _purge_setting(["run", missing]) == "-1"


def test_other_verbs_and_opt_outs_leave_it_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = str(tmp_path / "missing.toml")
    assert _purge_setting(["join", "--help"]) == "unset"
    assert _purge_setting(["run", missing], MATCHSIM_KEEP_MEMORY="0") == "unset"
    assert _purge_setting(["run", missing], MIMALLOC_PURGE_DELAY="10") == "10"


def test_too_late_once_pyarrow_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow  # noqa: F401 - loaded, as in this test process

    from matchsim._allocator import keep_arrow_memory

    monkeypatch.delenv("MIMALLOC_PURGE_DELAY", raising=False)
    monkeypatch.delenv("MATCHSIM_KEEP_MEMORY", raising=False)
    assert keep_arrow_memory() is False
    assert "MIMALLOC_PURGE_DELAY" not in os.environ
