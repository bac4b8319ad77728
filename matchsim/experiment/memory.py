"""Keep freed memory for reuse during a run, instead of handing it back to the kernel.

A run allocates and frees the same large arrays over and over (a 1 M-row chunk's
digests, candidate blocks, Arrow buffers of each row group). By default both allocators
return freed memory to the kernel: glibc ``munmap``s every block above its mmap threshold
and trims the heap top; Arrow's mimalloc purges freed pages after 10 ms. The next array
then faults every page in again and the kernel zeroes it. On a VM with free page
reporting (``dmesg``: "Free page reporting enabled") each such fault is also a fault on
the host: measured ~15-35 us per 4 KiB page, which was most of ``matchsim run``'s system
time (nl-health-insurer at 1 M users: 8.5 s system, ~380 k minor faults).

:func:`reusing_memory` (what :func:`matchsim.experiment.run_experiment` runs inside):

* Arrow allocates from jemalloc with purging off (``jemalloc_set_decay_ms(-1)``);
  the previous default pool is restored afterwards (buffers remember their pool);
* glibc keeps blocks up to 32 MiB in its heap and never trims it
  (``mallopt(M_MMAP_THRESHOLD, 32 MiB)``, ``mallopt(M_TRIM_THRESHOLD, ...)``); larger blocks
  are still mapped and unmapped, so a freed 10 M-row array does not pin the heap.

The worker process of an overlapped run does the same at its start.

``MATCHSIM_KEEP_MEMORY=0`` turns all of it off (peak RSS is a little higher with it on:
freed memory is kept for the next array instead of being returned).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Callable, Iterator

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest (HEAP_MAX / 2 on 64-bit)
_TRIM_THRESHOLD = 2**31 - 1  # mallopt takes an int: 2 GiB of free heap top kept at most
_ARROW_DECAY_MS = 1000


def enabled() -> bool:
    return os.environ.get("MATCHSIM_KEEP_MEMORY", "1").strip() != "0"


@contextlib.contextmanager
def reusing_memory() -> Iterator[None]:
    """While inside, freed memory stays in this process for the next allocation."""
    if not enabled():
        yield
        return
    _glibc_keep()
    restore = _arrow_keep()
    try:
        yield
    finally:
        restore()


def _glibc_keep() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None)
        # fixed thresholds (setting one turns off glibc's dynamic adjustment); not undone:
        # a later allocation behaves the same either way, only where it comes from differs
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)


def _arrow_keep() -> Callable[[], None]:
    import pyarrow as pa

    previous = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(-1)
    except (NotImplementedError, pa.ArrowNotImplementedError, AttributeError):
        return lambda: None
    pa.set_memory_pool(pool)

    def restore() -> None:
        pa.set_memory_pool(previous)
        pa.jemalloc_set_decay_ms(_ARROW_DECAY_MS)  # what Arrow configures jemalloc with

    return restore


__all__ = ["enabled", "reusing_memory"]
