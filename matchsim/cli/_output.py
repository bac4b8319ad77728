"""How every verb writes: the two consoles, plain lines, JSON and the progress bar."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err_console = Console(stderr=True)
out_console = Console()


def say(*lines: str, soft_wrap: bool = True) -> None:
    """Print plain text to stdout: no markup, no highlighting; long lines unwrapped
    unless ``soft_wrap`` is False (then rich wraps them to the console's width)."""
    for line in lines:
        out_console.print(line, soft_wrap=soft_wrap, highlight=False, markup=False)


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


def show(report: object, lines: list[str], as_json: bool) -> None:
    """A verb's outcome: ``report`` as JSON with ``--json``, else ``lines`` as text."""
    if as_json:
        print_json(report)
    else:
        say(*lines)
