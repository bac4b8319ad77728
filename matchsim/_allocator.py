"""Allocator settings that must be made before pyarrow loads (a module that imports
nothing heavy, so the CLI's entry point can call it first); the why and the
measurements are in :mod:`matchsim.experiment.memory`."""

from __future__ import annotations

import os
import sys

ARENA_EAGER_COMMIT = "MIMALLOC_ARENA_EAGER_COMMIT"


def enabled() -> bool:
    """Whether matchsim keeps freed memory for reuse (``MATCHSIM_KEEP_MEMORY=0``: no)."""
    return os.environ.get("MATCHSIM_KEEP_MEMORY", "1").strip() != "0"


def keep_arrow_memory() -> bool:
    """Turn Arrow's mimalloc purging off for this process, if pyarrow is not loaded yet
    and ``MIMALLOC_PURGE_DELAY`` is not set; whether it is off now (by this or by the
    environment)."""
    if not enabled():
        return False
    if "pyarrow" not in sys.modules:
        os.environ.setdefault("MIMALLOC_PURGE_DELAY", "-1")
    return os.environ.get("MIMALLOC_PURGE_DELAY") == "-1"


def arrow_small_pages() -> None:
    """Keep Arrow's mimalloc from advising its arena ``MADV_HUGEPAGE`` in this process
    (``MIMALLOC_ARENA_EAGER_COMMIT=0``), if pyarrow is not loaded yet and the variable is
    not set: on a machine whose kernel compacts memory for transparent huge pages on
    demand (``defrag`` ``madvise``), each first touch of that arena waits for it.
    Measured in :mod:`matchsim.experiment.memory`."""
    if enabled() and "pyarrow" not in sys.modules:
        os.environ.setdefault(ARENA_EAGER_COMMIT, "0")
