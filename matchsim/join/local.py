"""The ``local`` engine: numba on one machine, platform streamed chunk by chunk.

Memory is the upload itself, its table (8 bytes a slot, 1.5-3 slots per digest) and
filter (1 byte a slot), and one platform chunk at a time; the next chunk is loaded on a
background thread while the current one is probed (the probe kernel releases the GIL),
and the probe threads start on the next chunk while this thread collects the matches of
the last.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from matchsim.join.engine import Engine, Job, Pairs, concat_pairs
from matchsim.join.table import DigestTable, Pending


class LocalEngine(Engine):
    """Direct-addressed hash tables over the upload; the platform probes them in chunks."""

    name = "local"

    def __init__(self, prefetch: bool = True) -> None:
        self.prefetch = prefetch

    def _pairs(self, job: Job) -> Pairs:
        platform, progress = job.platform, job.progress
        tables = {key: DigestTable(digests) for key, digests in job.uploads.items()}
        n = platform.n_chunks
        parts = []
        pending: dict[str, Pending] = {}
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = pool.submit(platform.chunk, 0) if self.prefetch else None
            for i in range(n + 1):
                started: dict[str, Pending] = {}
                if i < n:  # the threads probe chunk i while this thread collects chunk i - 1
                    chunk = ahead.result() if ahead is not None else platform.chunk(i)
                    if self.prefetch and i + 1 < n:
                        ahead = pool.submit(platform.chunk, i + 1)
                    started = {k: t.start(chunk[k]) for k, t in tables.items() if k in chunk}
                if i:
                    parts.append({k: tables[k].finish(p) for k, p in pending.items()})
                    if progress:
                        progress("platform chunks", i, n)
                pending = started
        return concat_pairs(parts, list(tables))
