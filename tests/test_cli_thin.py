"""The command line stays thin: every module of ``matchsim/cli`` parses, calls one library
function and renders, so none grows past 150 lines and no function past 80; options that
several verbs share are declared once, in ``cli/_options.py``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import matchsim.cli

CLI = Path(matchsim.cli.__file__).parent
MODULES = sorted(CLI.glob("*.py"))
MAX_FILE_LINES = 150
MAX_FUNCTION_LINES = 80


def test_the_cli_package_is_found() -> None:
    assert {p.name for p in MODULES} >= {"_app.py", "_options.py", "cmd_attack.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_cli_module_is_long(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_FILE_LINES, f"{path.name} has {lines} lines (at most {MAX_FILE_LINES})"


def _long_functions(source: str, limit: int) -> list[str]:
    tree = ast.parse(source)
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines, from line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > limit
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_cli_function_is_long(path: Path) -> None:
    assert _long_functions(path.read_text(encoding="utf-8"), MAX_FUNCTION_LINES) == []


def test_the_function_check_can_fail() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(90))
    assert _long_functions(f"def f() -> None:\n{body}\n", MAX_FUNCTION_LINES) == [
        "f (91 lines, from line 1)"
    ]
    assert _long_functions("def g() -> None:\n    pass\n", MAX_FUNCTION_LINES) == []


SHARED = ("--json", "--force", "--param", "--hmac-key-file", "--hmac-key-env")
SHARED_FACTORIES = ("--profile", "--scheme", "--region", "--key-file", "--key-env", "--out")


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.name != "_options.py"], ids=lambda p: p.name
)
def test_shared_options_are_declared_once(path: Path) -> None:
    # A verb takes a shared option through cli/_options (an alias or a factory that fixes
    # the flag's name); it never spells the flag in a typer.Option of its own.
    source = path.read_text(encoding="utf-8")
    declared = re.findall(r"typer\.Option\(\s*\"(--[a-z0-9-]+)", source)
    again = sorted(set(declared) & {*SHARED, *SHARED_FACTORIES})
    assert again == [], f"{path.name} declares {again} again; use cli/_options"


def test_every_verb_still_takes_the_shared_options() -> None:
    from typer.main import get_command

    from matchsim.cli import app, load_commands

    load_commands()
    verbs = get_command(app).commands  # type: ignore[attr-defined]
    flags = {name: {opt for p in cmd.params for opt in p.opts} for name, cmd in verbs.items()}
    assert {"--json", "--profile", "--region", "--hmac-key-file", "--out"} <= flags["attack"]
    assert {"--json", "--force", "--out", "--kind", "--lengths"} <= flags["attack-table"]
    assert {"--json", "--profile", "--scheme", "--param", "--key-file", "--out"} <= flags["hash"]
    assert {"--json", "--force", "--profile", "--scheme", "--param", "--key-env"} <= flags["join"]
    assert {"--json", "--force", "--hmac-key-env", "--region"} <= flags["reidentify"]
    assert {"--json", "--force", "--out"} <= flags["generate"] & flags["run"]


def test_registering_the_verbs_loads_no_attack_engine() -> None:
    # Why cmd_attack keeps a copy of KINDS for --help: `matchsim --help` and every
    # verb's parsing stay fast because the attack package (numba) loads only when run.
    import os
    import subprocess
    import sys

    code = (
        "import sys; from matchsim.cli import load_commands; load_commands(); "
        "print(sorted(m for m in ('numba', 'matchsim.attack') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(CLI.parents[1])}  # this tree's matchsim
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert done.stdout.strip() == "[]"
