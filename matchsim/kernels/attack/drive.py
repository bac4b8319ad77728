"""The ahead-of-time scan and message hasher spread over threads, without numba.

``numba.pycc`` compiles ``prange`` as a plain loop, so the compiled kernels of
:mod:`matchsim.kernels.aot` are serial functions that release the GIL; the functions here
cut a call into work items, exactly as the JIT kernels' ``prange`` splits them (the same
survivors in the same order), and run them on Python threads.

The JIT kernels could be run the same way, serial: a cold compile of the MD5 scan took
17.2 CPU-seconds against 30.4 with ``parallel=True`` (numba outlines the ``prange`` body
into a gufunc and compiles it a second time). They stay parallel because they scan
faster that way (:mod:`matchsim.kernels.attack.mask` has the figures).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

PARALLEL_MIN = 1 << 16
"""Candidates (or rows, x lanes) below which a call runs its work items on this thread."""


def threads() -> int:
    """Threads the kernels use: numba's count where numba is loaded (it may have been
    set, e.g. on a Dask worker), else what numba's would be (``NUMBA_NUM_THREADS``, or
    the CPUs this process may run on)."""
    numba = sys.modules.get("numba")
    if numba is not None:
        return int(numba.get_num_threads())
    env = os.environ.get("NUMBA_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run(work: Callable[[int], None], n: int, parallel: bool) -> None:
    """``work(i)`` for ``i`` in ``range(n)``, on :func:`threads` threads if ``parallel``."""
    k = min(threads(), n) if parallel else 1
    if k <= 1:
        for i in range(n):
            work(i)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(k) as pool:
        for _ in pool.map(work, range(n)):
            pass


def scan(fn: Any, template: Any, var_offset: Any, var_choices: Any, var_counts: Any,
         n_inner: Any, init_state: Any, outer_state: Any, start: Any, stop: Any,
         n_tasks: Any, bm1: Any, bm2: Any, bits_mask: Any, hits: Any,
         hit_counts: Any) -> None:  # fmt: skip
    """The scan (:mod:`.mask`'s "Scan arguments") through the serial kernel ``fn``: task
    ``t`` of ``n_tasks`` is an even share of the outer indices ``[start, stop)`` touches
    (whole outer indices, so each task decodes its own), one call of ``fn`` each, its
    survivors in ``hits[t]`` and their count in ``hit_counts[t]``."""
    mask = np.uint64(bits_mask)

    def call(lo: np.int64, hi: np.int64, t: int) -> None:
        fn(template, var_offset, var_choices, var_counts, n_inner, init_state, outer_state,
           lo, hi, 1, bm1, bm2, mask, hits[t : t + 1], hit_counts[t : t + 1])  # fmt: skip

    _tasks(call, var_offset, var_counts, n_inner, start, stop, n_tasks, hit_counts)


def scan_md5_reversed(fn: Any, template: Any, var_offset: Any, var_choices: Any,
                      var_counts: Any, n_inner: Any, init_state: Any, start: Any, stop: Any,
                      n_tasks: Any, word2: Any, table: Any, hits: Any,
                      hit_counts: Any) -> None:  # fmt: skip
    """The MD5 scan against a few targets (:func:`.mask._make_scan_md5_reversed`'s
    arguments) through the serial kernel ``fn``, split as :func:`scan` splits."""

    def call(lo: np.int64, hi: np.int64, t: int) -> None:
        fn(template, var_offset, var_choices, var_counts, n_inner, init_state, lo, hi, 1,
           word2, table, hits[t : t + 1], hit_counts[t : t + 1])  # fmt: skip

    _tasks(call, var_offset, var_counts, n_inner, start, stop, n_tasks, hit_counts)


def _tasks(call: Callable[[np.int64, np.int64, int], None], var_offset: Any, var_counts: Any,
           n_inner: Any, start: Any, stop: Any, n_tasks: Any, hit_counts: Any) -> None:  # fmt: skip
    """``call(lo, hi, t)`` for task ``t`` of ``n_tasks``: the indices of its even share
    of the outer indices ``[start, stop)`` touches, as the JIT kernels' ``prange`` has
    them (a task with none gets a zero count)."""
    start, stop, n_tasks, n_inner = int(start), int(stop), int(n_tasks), int(n_inner)
    n_outer = var_offset.shape[0] - n_inner
    P = 1
    for v in range(n_outer, var_offset.shape[0]):
        P *= int(var_counts[v])
    o_start = start // P
    o_total = (stop + P - 1) // P - o_start

    def task(t: int) -> None:
        lo = max(start, (o_start + o_total * t // n_tasks) * P)
        hi = min(stop, (o_start + o_total * (t + 1) // n_tasks) * P)
        if lo >= hi:
            hit_counts[t] = 0
            return
        call(np.int64(lo), np.int64(hi), t)

    run(task, n_tasks, stop - start >= PARALLEL_MIN)


def hash_rows(fn: Any, lanes: int, data: Any, starts: Any, lengths: Any, extra_bytes: Any,
              init_state: Any, outer_state: Any, out_words: Any) -> None:  # fmt: skip
    """The message hasher through the serial kernel ``fn`` of ``lanes`` lanes, rows split
    over threads in whole lane groups (each row's digest depends on that row alone)."""
    n = starts.shape[0]
    extra = int(extra_bytes)
    k = threads() if n * lanes >= PARALLEL_MIN else 1
    step = -(-n // (k * 4 * lanes)) * lanes if k > 1 else max(n, 1)

    def piece(i: int) -> None:
        lo, hi = i * step, min(n, (i + 1) * step)
        fn(data, starts[lo:hi], lengths[lo:hi], extra, init_state, outer_state, out_words[lo:hi])

    run(piece, -(-n // step), k > 1)
