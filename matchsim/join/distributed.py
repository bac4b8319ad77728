"""The ``dask`` engine: both sides partitioned by hash prefix, one join task per partition.

The upload is split on the client by the low bits of each digest's first word (its first
byte: the hash prefix) and scattered to the workers. Each platform chunk is built where a
worker runs (``PlatformSource.chunk`` reads and hashes it there), reduced to the digests
that pass a small filter of the upload's keys (a Bloom semi-join: about 1 in 12
non-matching digests survives, so the shuffle moves a fraction of the platform), and
split the same way; partition ``p`` then joins upload part ``p`` with part ``p`` of
every chunk, using the same tables and kernels as the ``local`` engine. Only the
verified pairs come back. The table slot uses the *top* bits of the word, which the
partition does not constrain, so every partition's table stays evenly filled.

``dask.distributed`` is imported only when this engine is constructed.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import numpy as np

from matchsim.errors import ConfigError, MissingExtraError
from matchsim.join.engine import Engine, Job, Pairs, concat_pairs, probe_chunk
from matchsim.join.keys import KeyDigests, PlatformSource
from matchsim.join.table import DigestTable, table_bits
from matchsim.kernels.join import filter_pass, make_filter, prefix_order


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise MissingExtraError("dask.distributed", "dask") from None
    return distributed


def split_by_prefix(digests: KeyDigests, parts: int) -> list[KeyDigests]:
    """``digests`` in ``parts`` (a power of two) groups by the low bits of the first word."""
    if parts == 1:
        return [digests]
    order, starts = prefix_order(digests.words, parts)
    return [digests.take(order[starts[p] : starts[p + 1]]) for p in range(parts)]


def _chunk_parts(
    platform: PlatformSource,
    index: int,
    filters: Mapping[str, tuple[int, np.ndarray]],
    parts: int,
) -> list[dict[str, KeyDigests]]:
    chunk = platform.chunk(index)
    split = {}
    for key, (fbits, bloom) in filters.items():
        if key in chunk:
            # Only digests the upload's filter lets through travel to their partition.
            survivors = chunk[key].take(np.flatnonzero(filter_pass(chunk[key].words, fbits, bloom)))
            split[key] = split_by_prefix(survivors, parts)
    return [{k: v[p] for k, v in split.items()} for p in range(parts)]


def _filter(digests: KeyDigests) -> tuple[int, np.ndarray]:
    fbits = max(6, table_bits(len(digests)) + 3)
    return fbits, make_filter(digests.words, fbits)


def _join_partition(
    uploads: Mapping[str, KeyDigests], *chunks: Mapping[str, KeyDigests]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    tables = {k: DigestTable(d) for k, d in uploads.items() if len(d)}
    return concat_pairs([probe_chunk(tables, c) for c in chunks], list(tables))


class DaskEngine(Engine):
    """Partitioned join on a ``dask.distributed`` cluster.

    Args:
        scheduler: address of a running scheduler (``tcp://host:8786``); without it a
            ``LocalCluster`` of ``n_workers`` single-threaded worker processes is started
            and closed with the engine.
        n_workers: workers of the local cluster.
        partitions: hash-prefix partitions (a power of two); default 2 per worker thread.
        client: an existing ``distributed.Client`` to use (not closed by the engine).
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        n_workers: int = 2,
        partitions: int | None = None,
        client: Any = None,
    ) -> None:
        distributed = _import_distributed()
        if partitions is not None and (partitions < 1 or partitions & (partitions - 1)):
            raise ConfigError(f"partitions must be a power of two, got {partitions}")
        self._cluster = None
        self._own_client = client is None
        if client is not None:
            self.client = client
        elif scheduler:
            try:
                self.client = distributed.Client(scheduler, timeout="10s")
            except OSError as exc:
                raise ConfigError(
                    f"cannot reach the Dask scheduler at {scheduler}: {exc}"
                ) from None
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # one thread per worker: keep numba's kernels from oversubscribing cores
                env={"NUMBA_NUM_THREADS": "1"},
            )
            self.client = distributed.Client(self._cluster)
        self.partitions = partitions

    def _n_parts(self) -> int:
        if self.partitions:
            return self.partitions
        threads = sum(self.client.nthreads().values()) or 1
        return 1 << int(np.ceil(np.log2(2 * threads)))

    def _pairs(self, job: Job) -> Pairs:
        uploads, platform, progress = job.uploads, job.platform, job.progress
        client = self.client
        parts = self._n_parts()
        keys = list(uploads)
        split = {k: split_by_prefix(d, parts) for k, d in uploads.items()}
        upload_parts = client.scatter([{k: split[k][p] for k in keys} for p in range(parts)])
        # Sent once per worker; a file-backed source is a path and names, not data.
        source = client.scatter(platform, broadcast=True, hash=False)
        filters = client.scatter(
            {k: _filter(d) for k, d in uploads.items()}, broadcast=True, hash=False
        )
        chunk_futures = [
            client.submit(_chunk_parts, source, i, filters, parts, pure=False)
            for i in range(platform.n_chunks)
        ]
        pieces = [
            [client.submit(operator.getitem, c, p) for c in chunk_futures] for p in range(parts)
        ]
        joins = [client.submit(_join_partition, upload_parts[p], *pieces[p]) for p in range(parts)]
        distributed = _import_distributed()
        results = []
        for done, future in enumerate(distributed.as_completed(joins), start=1):
            results.append(future.result())
            if progress:
                progress("partitions", done, parts)
        return concat_pairs(results, keys)

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
