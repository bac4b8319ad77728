"""The ``local`` engine: numba on one machine, platform streamed chunk by chunk.

Memory is the upload itself, its table (8 bytes a slot, 1.5-3 slots per digest) and
filter (1 byte a slot), and one platform chunk at a time; the next chunk is loaded on a
background thread while the current one is probed (the probe kernel releases the GIL).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from matchsim.join.engine import Engine, Job, Pairs, concat_pairs, probe_chunk
from matchsim.join.table import DigestTable


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
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = pool.submit(platform.chunk, 0) if self.prefetch else None
            for i in range(n):
                chunk = ahead.result() if ahead is not None else platform.chunk(i)
                if self.prefetch and i + 1 < n:
                    ahead = pool.submit(platform.chunk, i + 1)
                parts.append(probe_chunk(tables, chunk))
                if progress:
                    progress("platform chunks", i + 1, n)
        return concat_pairs(parts, list(tables))
