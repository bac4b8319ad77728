"""The shared typer app and the single error boundary.

A :class:`~matchsim.errors.MatchsimError` becomes ``Error: <one line>`` on stderr and exit
code 1; a usage mistake exits 2 with click's usage text; nothing prints a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from matchsim import __version__
from matchsim._allocator import arrow_small_pages, keep_arrow_memory
from matchsim.cli._output import err_console, out_console

try:  # typer >= 0.25 vendors click
    from typer._click.exceptions import ClickException as _UsageProblem
except ImportError:  # pragma: no cover - typer with click as a dependency
    from click import ClickException as _UsageProblem  # type: ignore[assignment]
from matchsim.errors import MatchsimError

app = typer.Typer(
    name="matchsim",
    help="Show, with numbers, why a hashed customer list is not anonymous.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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

    args = list(argv) if argv is not None else sys.argv[1:]
    arrow_small_pages()  # before anything loads pyarrow (matchsim.experiment.memory)
    if next((a for a in args if not a.startswith("-")), None) == "run":
        keep_arrow_memory()

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
