"""Arrow's mimalloc purging is turned off for ``matchsim run``, and its arena's huge-page
advice for every command, before pyarrow loads (:mod:`matchsim._allocator`,
:mod:`matchsim.experiment.memory`)."""

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
for name in ("MIMALLOC_PURGE_DELAY", "MIMALLOC_ARENA_EAGER_COMMIT"):
    print(name + "=" + os.environ.get(name, "unset"), flush=True)
"""
_OURS = ("MIMALLOC_PURGE_DELAY", "MIMALLOC_ARENA_EAGER_COMMIT", "MATCHSIM_KEEP_MEMORY")


def _settings(args: list[str], **env: str) -> dict[str, str]:
    """The two mimalloc variables as the CLI's entry point left them."""
    base = {k: v for k, v in os.environ.items() if k not in _OURS}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True, text=True, env={**base, **env}, check=False,
    )  # fmt: skip
    got = dict(ln.split("=", 1) for ln in done.stdout.splitlines() if ln.startswith("MIMALLOC_"))
    assert len(got) == 2, done.stdout + done.stderr
    return got


def _purge_setting(args: list[str], **env: str) -> str:
    return _settings(args, **env)["MIMALLOC_PURGE_DELAY"]


def _arena_setting(args: list[str], **env: str) -> str:
    return _settings(args, **env)["MIMALLOC_ARENA_EAGER_COMMIT"]


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


def test_every_verb_turns_the_arena_hugepage_advice_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = str(tmp_path / "missing.toml")
    assert _arena_setting(["run", missing]) == "0"
    assert _arena_setting(["join", "--help"]) == "0"
    assert _arena_setting(["attack", str(tmp_path / "missing.csv")]) == "0"
    assert _arena_setting([]) == "0"
    # opted out, or set by the user: left alone
    assert _arena_setting(["join", "--help"], MATCHSIM_KEEP_MEMORY="0") == "unset"
    assert _arena_setting(["join", "--help"], MIMALLOC_ARENA_EAGER_COMMIT="1") == "1"


def test_the_worker_gets_the_arena_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from matchsim.experiment.memory import worker_environment

    monkeypatch.delenv("MATCHSIM_KEEP_MEMORY", raising=False)
    monkeypatch.delenv("MIMALLOC_ARENA_EAGER_COMMIT", raising=False)
    assert worker_environment()["MIMALLOC_ARENA_EAGER_COMMIT"] == "0"
    monkeypatch.setenv("MIMALLOC_ARENA_EAGER_COMMIT", "1")
    assert worker_environment()["MIMALLOC_ARENA_EAGER_COMMIT"] == "1"
    monkeypatch.setenv("MATCHSIM_KEEP_MEMORY", "0")
    assert worker_environment() == {}
