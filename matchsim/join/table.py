"""The upload side of one key as a probe-able table (see :mod:`matchsim.kernels.join`)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from matchsim.join.keys import KeyDigests
from matchsim.kernels.join import FILTER_BITS, MAX_ROWS, build_table, probe_range, radix_partition

_LOAD = 1.5  # slots per digest, at least: load factor <= 2/3


def table_bits(n: int) -> int:
    """log2 of the slot count for ``n`` digests."""
    return max(4, int(np.ceil(np.log2(max(1.0, n * _LOAD)))))


_REGION_BITS = 17  # slots per region: 2**17 * 8 bytes = 1 MB, a core's L2 cache
_TASK = 1 << 18  # platform rows per probe work item (8 MB of SHA-256 digests)
_POOL: dict[int, ThreadPoolExecutor] = {}
_POOL_LOCK = threading.Lock()


# A forked child has none of the parent's pool threads: it starts its own pools.
os.register_at_fork(after_in_child=_POOL.clear)


def _pool(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``threads`` probe threads (the probe kernel drops the GIL)."""
    with _POOL_LOCK:
        if threads not in _POOL:
            _POOL[threads] = ThreadPoolExecutor(threads, thread_name_prefix="matchsim-probe")
        return _POOL[threads]


def region_bits(bits: int) -> int:
    """log2 of the region count for a table of ``2**bits`` slots."""
    return max(0, bits - _REGION_BITS)


def _task_starts(n: int, threads: int) -> list[int]:
    """First rows of the probe work items of ``n`` rows: ``_TASK`` rows each, the last
    ``threads`` of them cut in eight, so that threads finish together (each chunk of the
    platform waits for its slowest item)."""
    tail = min(n, threads * _TASK)
    big = list(range(0, n - tail, _TASK))
    small = max(1, _TASK // 8)
    return big + list(range(n - tail, n, small))


def _aligned_zeros(n: int) -> np.ndarray:
    """``n`` zeroed uint64 starting on a 64-byte boundary (a bucket is one cache line)."""
    buf = np.zeros(n + 8, dtype=np.uint64)
    skip = (-buf.ctypes.data % 64) // 8
    return buf[skip : skip + n]


class DigestTable:
    """Distinct upload digests of one key, direct-addressed on their top bits.

    Duplicated digests (two upload rows with the same e-mail) are stored once; a probe
    hit expands to every upload row that holds the digest. The table is split into
    regions by the top bits (see :mod:`matchsim.kernels.join`); a region that would be
    overfull — only possible when digests are not uniform — makes the whole table one
    region, which is slower but exact.
    """

    def __init__(self, upload: KeyDigests) -> None:
        n = len(upload)
        if n > MAX_ROWS:
            raise ValueError(f"a digest table holds at most {MAX_ROWS:,} digests, got {n:,}")
        self.upload = upload
        self.bits = table_bits(n)
        self.pbits = region_bits(self.bits)
        part_keys, part_rows, starts = self._partition(upload.words, self.pbits)
        if n and int(np.diff(starts).max()) > 0.75 * (1 << (self.bits - self.pbits)):
            self.pbits = 0
            part_keys, part_rows, starts = self._partition(upload.words, 0)
        self.table = _aligned_zeros(1 << self.bits)
        self.bloom = np.zeros(1 << (self.bits + FILTER_BITS - 6), dtype=np.uint64)
        dup_rows = np.empty(n, dtype=np.int64)  # untouched beyond the duplicates found
        dup_of = np.empty(n, dtype=np.int64)
        dups = int(
            build_table(
                upload.words, part_keys, part_rows, starts, self.pbits, self.bits,
                self.table, self.bloom, dup_rows, dup_of,
            )
        )  # fmt: skip
        del part_keys, part_rows
        self.distinct = n - dups
        # Rows whose digest an earlier row already holds, grouped by that earlier row.
        order = np.argsort(dup_of[:dups], kind="stable")
        self._dup_rows = dup_rows[:dups][order]
        self._dup_of = dup_of[:dups][order]
        self._free: list[tuple[np.ndarray, ...]] = []  # output buffers of finished probes

    @staticmethod
    def _partition(words: np.ndarray, pbits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = words.shape[0]
        keys = np.empty(n, dtype=np.uint64)
        rows = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
        starts = np.empty((1 << pbits) + 1, dtype=np.int64)
        radix_partition(words, pbits, keys, rows, starts)
        return keys, rows, starts

    def first_rows(self) -> np.ndarray:
        """For each upload digest, the position of the first digest equal to it."""
        first = np.arange(len(self.upload), dtype=np.int64)
        first[self._dup_rows] = self._dup_of
        return first

    @property
    def nbytes(self) -> int:
        return int(self.table.nbytes + self.bloom.nbytes)

    def probe(self, platform: KeyDigests) -> tuple[np.ndarray, np.ndarray]:
        """Verified matches of ``platform`` digests: ``(upload ids, platform ids)``."""
        return self.finish(self.start(platform))

    def start(self, platform: KeyDigests) -> Pending:
        """Start probing ``platform`` on the probe threads; :meth:`finish` waits for it.
        A caller may start the next chunk first, so that the threads probe it while this
        thread collects the last one's matches."""
        n = len(platform) if len(self.upload) else 0
        if n and platform.words.shape[1] != self.upload.words.shape[1]:
            raise ValueError("digest widths differ between upload and platform")
        out = self._buffers(n)
        out_r, out_id, out_u = out
        rmask = (1 << (self.bits - self.pbits)) - 1

        def run(lo: int, hi: int) -> int:
            return int(
                probe_range(
                    platform.words, platform.ids, lo, hi, self.bits, rmask, self.table,
                    self.bloom, self.upload.words, self.upload.ids, out_r, out_id, out_u,
                )
            )  # fmt: skip

        threads = min(numba.get_num_threads(), -(-n // _TASK))
        if threads > 1:  # work items of _TASK rows, handed out one at a time
            starts = _task_starts(n, threads)
            pool = _pool(threads)
            counts: list[Future[int]] | list[int] = [
                pool.submit(run, lo, hi) for lo, hi in zip(starts, [*starts[1:], n], strict=True)
            ]
        else:
            starts, counts = [0], [run(0, n) if n else 0]
        return Pending(out, starts, counts)

    def finish(self, pending: Pending) -> tuple[np.ndarray, np.ndarray]:
        """The matches of a probe :meth:`start` began (waits for its threads)."""
        dups = len(self._dup_rows) > 0
        first, found, users = pending.matches(dups)
        self._free.append(pending.out)
        if not dups or not len(first):
            return found, users
        lo = np.searchsorted(self._dup_of, first, side="left")
        hi = np.searchsorted(self._dup_of, first, side="right")
        extra = hi - lo
        if not extra.any():
            return found, users
        owner = np.repeat(np.arange(len(first)), extra)
        start = np.repeat(lo - np.cumsum(extra) + extra, extra)
        pos = np.arange(int(extra.sum())) + start
        more = self.upload.ids[self._dup_rows[pos]]
        return np.concatenate([found, more]), np.concatenate([users, users[owner]])

    def _buffers(self, n: int) -> tuple[np.ndarray, ...]:
        """Three output arrays of at least ``n`` rows, reused across chunks (no page
        faults per chunk): a finished probe's, else new ones."""
        while self._free:
            out = self._free.pop()
            if len(out[0]) >= n:
                return out
        return tuple(np.empty(n, np.int64) for _ in range(3))


@dataclass
class Pending:
    """A probe under way: its output buffers and, per work item, its first row and its
    match count (a future while the item runs). Each item writes its matches from its
    first row on; :meth:`matches` joins them by copying those runs."""

    out: tuple[np.ndarray, ...]
    starts: list[int]
    counts: list[Future[int]] | list[int]

    def matches(self, want_rows: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(table row, its upload id, platform id)`` of each platform digest the table
        holds, in platform order (table rows only when ``want_rows``: else empty)."""
        counts = [c if isinstance(c, int) else c.result() for c in self.counts]
        runs = [(lo, c) for lo, c in zip(self.starts, counts, strict=True) if c]
        out_r, out_id, out_u = self.out

        def joined(out: np.ndarray) -> np.ndarray:
            return np.concatenate([out[lo : lo + c] for lo, c in runs] or [out[:0]])

        rows = joined(out_r) if want_rows else out_r[:0].copy()
        return rows, joined(out_id), joined(out_u)
