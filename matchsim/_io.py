"""Atomic output folders: write into a hidden sibling, rename into place at the end.

A run that is interrupted leaves no folder that a later run could mistake for a complete
one: the partial sibling is removed, and ``out`` appears only when everything is written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from matchsim.errors import OutputError


def prepare_out(out: Path, force: bool) -> Path:
    """Check ``out`` and return a fresh temporary sibling folder to write into.

    Raises:
        OutputError: ``out`` is a file, not empty (without ``force``), or not writable.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(
            f"--out {out} already exists and is not empty (use --force to replace it)"
        )
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {parent}: {exc.strerror}") from exc
    if not os.access(parent, os.W_OK):
        raise OutputError(f"--out {out}: {parent} is not writable")
    tmp = parent / f".{out.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot write into {parent}: {exc.strerror}") from exc
    return tmp


def finish_out(tmp: Path, out: Path) -> None:
    """Move the completed temporary folder to ``out`` (replacing an old one)."""
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
