"""The shared typer app, its helpers, and the single error boundary.

A :class:`~matchsim.errors.MatchsimError` becomes ``Error: <one line>`` on stderr and exit
code 1; a usage mistake exits 2 with click's usage text; nothing prints a traceback.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from matchsim import __version__

try:  # typer >= 0.25 vendors click
    from typer._click.exceptions import ClickException as _UsageProblem
except ImportError:  # pragma: no cover - typer with click as a dependency
    from click import ClickException as _UsageProblem  # type: ignore[assignment]
from matchsim.errors import ConfigError, MatchsimError

app = typer.Typer(
    name="matchsim",
    help="Show, with numbers, why a hashed customer list is not anonymous.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

err_console = Console(stderr=True)
out_console = Console()


HmacKeyEnv = Annotated[
    str | None, typer.Option("--hmac-key-env", help="Env variable holding a known HMAC key.")
]
HmacKeyFile = Annotated[
    Path | None, typer.Option("--hmac-key-file", help="File holding a known HMAC key.")
]
"""The attacker's known HMAC key, declared once for every verb that takes it."""


def parse_int(option: str, text: str, minimum: int = 0) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise ConfigError(f"{option} must be an integer, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{option} must be >= {minimum}, got {value}")
    return value


def parse_share(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{option} must be a number between 0 and 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"{option} must be between 0 and 1, got {text}")
    return value


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Any]:
    """A rich progress bar on stderr; yields a ``progress(stage, done, total)`` callback."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Show, with numbers, why a hashed customer list is not anonymous."""
    if version:
        out_console.print(f"matchsim {__version__}")
        raise typer.Exit(0)


def load_commands() -> None:
    """Import every ``matchsim.cli.cmd_*`` module; each registers its commands on ``app``."""
    import matchsim.cli as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"matchsim.cli.{info.name}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the app inside the error boundary and exit with its code.

    Ctrl-C and SIGTERM unwind the command (every partial output is removed on the way)
    and exit 130 / 143 with one line. Nothing prints a traceback; an unexpected exception
    is one ``Error:`` line too (set ``MATCHSIM_DEBUG=1`` to see the traceback).
    """
    import os

    from matchsim.io import Interrupted, shown, signals_raise

    code = 0
    try:
        with signals_raise():
            load_commands()
            command = typer.main.get_command(app)
            command.main(
                args=list(argv) if argv is not None else None,
                prog_name="matchsim",
                standalone_mode=False,
            )
    except MatchsimError as exc:
        err_console.file.write(f"Error: {shown(exc.one_line(), limit=2000)}\n")
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except _UsageProblem as exc:
        exc.show()
        code = exc.exit_code
    except Interrupted as exc:
        err_console.file.write(f"Error: interrupted ({exc.name}); nothing half-written is left\n")
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err_console.file.write("Error: interrupted (Ctrl-C); nothing half-written is left\n")
        code = 130
    except OSError as exc:
        where = f"{shown(exc.filename)}: " if exc.filename else ""
        err_console.file.write(f"Error: {where}{exc.strerror or shown(exc)}\n")
        code = 1
    except MemoryError:
        err_console.file.write("Error: out of memory; try a smaller input or --chunk-size\n")
        code = 1
    except Exception as exc:
        if os.environ.get("MATCHSIM_DEBUG"):
            raise
        err_console.file.write(
            f"Error: unexpected {type(exc).__name__}: {shown(' '.join(str(exc).split()))} "
            "(a matchsim bug: please report it; MATCHSIM_DEBUG=1 shows where)\n"
        )
        code = 70
    sys.exit(code)
