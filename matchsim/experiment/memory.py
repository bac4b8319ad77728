"""Keep freed memory for reuse during a run, instead of handing it back to the kernel.

A run allocates and frees the same large arrays over and over (a 1 M-row chunk's
digests, candidate blocks, Arrow buffers of each row group). By default both allocators
return freed memory to the kernel: glibc ``munmap``s every block above its mmap threshold
and trims the heap top; Arrow's mimalloc purges freed pages after 10 ms. The next array
then faults every page in again and the kernel zeroes it. On a VM with free page
reporting (``dmesg``: "Free page reporting enabled") each such fault is also a fault on
the host: measured ~15-35 us per 4 KiB page, which was most of ``matchsim run``'s system
time (nl-health-insurer at 1 M users: 8.5 s system, ~380 k minor faults).

:func:`reusing_memory` (what :func:`matchsim.experiment.run_experiment` runs inside)
makes glibc keep every freed block in its heap for the next allocation and never trim it
(``mallopt(M_MMAP_MAX, 0)``: no block gets a mapping of its own; ``mallopt(M_TRIM_THRESHOLD,
2 GiB)``; ``M_MMAP_THRESHOLD`` 32 MiB, which counts where ``M_MMAP_MAX`` is overridden).
Before, blocks above 32 MiB were still mapped and unmapped: a 1 M-row chunk's
combination-key words (136 MB, in every chunk of every join), a 10 M-row column's codes.
Six such gathers in a row: 1.1-2.3 s system time and 13 k faults with their own
mappings, none from the heap. The whole nl-health-insurer run (10 M users, shared
machine, load 7-10): 867 k minor faults and 44.0 s system time before, 466-496 k and
37.9-41.2 s after; the main process's re-identification stage 169 k -> 4.5 k faults. The
price is a heap that keeps its high-water mark (peak RSS 4.22 -> 4.40-4.44 GB).

Arrow's mimalloc reads its options when pyarrow is loaded, so only a process started for
the run can turn its purging off: the worker of an overlapped run is started with
:func:`worker_environment` (``MIMALLOC_PURGE_DELAY=-1`` and the glibc settings), and
``matchsim run`` sets it for its own process before anything loads pyarrow
(:func:`matchsim._allocator.keep_arrow_memory`, called by the CLI's entry point; a
value already in the environment is left as it is). That main-process setting,
measured at 1 M platform users (overlapped run, warm cache, loaded machine,
``/usr/bin/time``): system time 12.3-12.6 s and ~300 k minor faults with the main
process purging, 9.5-10.1 s and ~225 k without; peak RSS 2.0 -> 2.2 GB.
(Measured at 1 M platform users, serial, shared machine: system time 8.2-9.4 s by
default; 5.1 s with mimalloc purging off; 5.4 s with the glibc settings; 3.3-3.5 s with
both; peak RSS 2.0 GB -> 2.4 GB. Switching Arrow to jemalloc without purging did not help:
more faults.)

Arrow's mimalloc also reserves a 1 GiB arena and advises it ``MADV_HUGEPAGE``
(``strace -e trace=madvise``). Where the kernel compacts memory for a transparent huge
page on demand (``/sys/kernel/mm/transparent_hugepage/defrag``: ``madvise``, this
project's VM), every first touch of that arena waits for it: reading a 10 M-user
population's register columns in a fresh process took 7.0-7.1 s wall (4.5-4.8 s system)
against 1.9-2.5 s (0.7-0.9 s) with ``MIMALLOC_ARENA_EAGER_COMMIT=0``, which commits the
arena as it is used and gives no such advice, and 2.0-2.2 s with the system allocator
(``python benchmarks/first_touch.py 2 --parquet POP/platform.parquet``). The CLI's entry
point sets it for every command (:func:`matchsim._allocator.arrow_small_pages`; a value
already in the environment is left as it is) and the worker inherits it. ``matchsim
reidentify UPLOAD --population POP`` on that population (the NL run's sha256 upload,
fresh processes, alternating, load 2-4): 66.8-69.0 s wall (28-35 s system) before,
55.3-57.6 s (15 s) after, the same JSON report.

``MATCHSIM_KEEP_MEMORY=0`` turns all of it off.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator

from matchsim._allocator import ARENA_EAGER_COMMIT, enabled

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest (HEAP_MAX / 2 on 64-bit)
_TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int: 2 GiB of free heap top kept at most


def worker_environment() -> dict[str, str]:
    """Environment for a process started for the run: the settings at its start-up."""
    if not enabled():
        return {}
    return {
        "MALLOC_MMAP_THRESHOLD_": str(_MMAP_THRESHOLD),
        "MALLOC_TRIM_THRESHOLD_": str(_TRIM_THRESHOLD),
        "MALLOC_MMAP_MAX_": "0",
        "MIMALLOC_PURGE_DELAY": "-1",
        ARENA_EAGER_COMMIT: os.environ.get(ARENA_EAGER_COMMIT, "0"),
    }


@contextlib.contextmanager
def reusing_memory() -> Iterator[None]:
    """While inside, glibc keeps freed blocks for the next allocation (not undone after:
    a later allocation behaves the same either way, only where it comes from differs)."""
    if enabled():
        _glibc_keep()
    yield


def _glibc_keep() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None)
        # fixed thresholds (setting one turns off glibc's dynamic adjustment)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
        libc.mallopt(_M_MMAP_MAX, 0)  # every block from the heap, kept for reuse


__all__ = ["enabled", "reusing_memory", "worker_environment"]
