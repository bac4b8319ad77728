"""``matchsim generate`` on the command line: output, exit codes, exact error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def test_generate_writes_a_population(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(
        "generate",
        "--platform-users",
        "2_000",
        "--customers",
        "300",
        "--country",
        "us",
        "--overlap",
        "0.5",
        "--seed",
        "9",
        "--out",
        tmp_path / "pop",
        "--json",
    )
    assert code == 0, err
    manifest = json.loads(out)
    assert manifest["counts"] == {
        "platform_users": 2000,
        "customers": 300,
        "customers_on_platform": 150,
        "customers_not_on_platform": 150,
    }
    assert manifest["parameters"]["country"] == "US"
    assert json.loads((tmp_path / "pop" / "manifest.json").read_text())["seed"] == 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--overlap", "1.5"], "Error: --overlap must be between 0 and 1, got 1.5\n"),
        (["--platform-users", "-5"], "Error: --platform-users must be >= 1, got -5\n"),
        (["--customers", "-1"], "Error: --customers must be >= 0, got -1\n"),
        (["--seed", "seven"], "Error: --seed must be an integer, got 'seven'\n"),
        (["--country", "XX"], "Error: unknown country 'XX'; available: NL, US\n"),
        (
            ["--overlap", "2", "--seed", "x"],
            "Error: --overlap must be between 0 and 1, got 2; --seed must be an integer, got 'x'\n",
        ),
        (
            ["--platform-users", "10", "--customers", "100", "--overlap", "0.5"],
            "Error: overlap 0.5 of 100 customers needs 50 platform users, but there are only 10\n",
        ),
    ],
)
def test_bad_parameters(run_cli, tmp_path: Path, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("generate", "--out", tmp_path / "pop", *args)
    assert (code, out, err) == (1, "", message)
    assert list(tmp_path.iterdir()) == []


def test_out_is_a_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "file.txt"
    target.write_text("x")
    code, _, err = run_cli("generate", "--out", target)
    assert (code, err) == (1, f"Error: --out {target} exists and is not a folder\n")


def test_out_under_a_file_is_not_writable(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, _, err = run_cli("generate", "--out", blocker / "pop")
    assert code == 1
    assert err.startswith(f"Error: cannot create {blocker}: ") and err.count("\n") == 1


def test_out_not_empty_needs_force(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "pop"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    code, _, err = run_cli("generate", "--platform-users", "500", "--customers", "10", "--out", out)
    assert (code, err) == (
        1,
        f"Error: --out {out} already exists and is not empty (use --force to replace it)\n",
    )
    assert (out / "old.txt").exists()
    # --force replaces only a folder matchsim wrote (issue 13): this one is not.
    code, _, err = run_cli(
        "generate", "--platform-users", "500", "--customers", "10", "--out", out, "--force"
    )
    assert code == 1 and "not a folder matchsim wrote" in err and err.count("\n") == 1
    assert (out / "old.txt").read_text() == "keep me"
    (out / "manifest.json").write_text('{"matchsim_version": "0"}')
    code, _, err = run_cli(
        "generate", "--platform-users", "500", "--customers", "10", "--out", out, "--force"
    )
    assert code == 0, err
    assert not (out / "old.txt").exists() and (out / "platform.parquet").exists()


def test_usage_error_exits_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("generate", "--no-such-option")
    assert code == 2
    assert "No such option" in err and "--no-such-option" in err


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "matchsim",
            "generate",
            "--seed",
            "1.5",
            "--out",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == "Error: --seed must be an integer, got '1.5'\n"
    assert "Traceback" not in done.stderr


def test_every_command_has_help(run_cli) -> None:  # type: ignore[no-untyped-def]
    from matchsim.cli import app, load_commands

    load_commands()
    for command in app.registered_commands:
        assert command.callback is not None and command.callback.__doc__, command.name
