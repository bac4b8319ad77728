"""The upload side of one key as a probe-able table (see :mod:`matchsim.kernels.join`)."""

from __future__ import annotations

import numpy as np

from matchsim.join.keys import KeyDigests
from matchsim.kernels.join import build_table, probe_table, radix_partition

_LOAD = 1.5  # slots per digest, at least: load factor <= 2/3


def table_bits(n: int) -> int:
    """log2 of the slot count for ``n`` digests."""
    return max(4, int(np.ceil(np.log2(max(1.0, n * _LOAD)))))


_REGION_BITS = 14  # slots per region: 2**14 * 12 bytes stays in a core's L2 cache


def region_bits(bits: int) -> int:
    """log2 of the region count for a table of ``2**bits`` slots."""
    return max(0, bits - _REGION_BITS)


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
        self.upload = upload
        self.bits = table_bits(n)
        row_type = np.int32 if n < 2**31 else np.int64
        self.pbits = region_bits(self.bits)
        part_keys, part_rows, starts = self._partition(upload.words, self.pbits)
        if n and int(np.diff(starts).max()) > 0.75 * (1 << (self.bits - self.pbits)):
            self.pbits = 0
            part_keys, part_rows, starts = self._partition(upload.words, 0)
        self.keys = np.zeros(1 << self.bits, dtype=np.uint64)
        self.rows = np.empty(1 << self.bits, dtype=row_type)
        self.bloom = np.zeros(1 << max(0, self.bits + 3 - 6), dtype=np.uint64)
        rep = np.empty(n, dtype=row_type)
        self.distinct = int(
            build_table(
                upload.words, part_keys, part_rows, starts, self.pbits, self.bits,
                self.keys, self.rows, rep, self.bloom,
            )
        )  # fmt: skip
        del part_keys, part_rows
        self._rep = rep
        # Rows whose digest an earlier row already holds, grouped by that earlier row.
        dups = np.flatnonzero(rep != np.arange(n, dtype=row_type))
        order = np.argsort(rep[dups], kind="stable")
        self._dup_rows = dups[order].astype(np.int64)
        self._dup_of = rep[dups][order].astype(np.int64)
        self._out = np.empty(0, dtype=row_type)

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
        return self._rep.astype(np.int64)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.rows.nbytes)

    def probe(self, platform: KeyDigests) -> tuple[np.ndarray, np.ndarray]:
        """Verified matches of ``platform`` digests: ``(upload ids, platform ids)``."""
        if len(platform) == 0 or len(self.upload) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        if platform.words.shape[1] != self.upload.words.shape[1]:
            raise ValueError("digest widths differ between upload and platform")
        if len(self._out) < len(platform):  # reused across chunks: no page faults per chunk
            self._out = np.empty(len(platform), dtype=self._out.dtype)
        out: np.ndarray = self._out[: len(platform)]
        probe_table(
            platform.words, self.pbits, self.bits, self.keys, self.rows, self.bloom,
            self.upload.words, out,
        )  # fmt: skip
        hit = np.flatnonzero(out >= 0)
        first = out[hit].astype(np.int64)
        users = platform.ids[hit]
        if len(self._dup_rows) and len(first):
            lo = np.searchsorted(self._dup_of, first, side="left")
            hi = np.searchsorted(self._dup_of, first, side="right")
            extra = hi - lo
            if extra.any():
                owner = np.repeat(np.arange(len(first)), extra)
                start = np.repeat(lo - np.cumsum(extra) + extra, extra)
                pos = np.arange(int(extra.sum())) + start
                first = np.concatenate([first, self._dup_rows[pos]])
                users = np.concatenate([users, users[owner]])
        return self.upload.ids[first], users
