"""The data broker's time-memory trade-off: hash a keyspace once, reverse files by a join.

A table maps the first 8 bytes of every candidate's digest to the candidate's index in
its keyspace, sorted by digest prefix. Any later upload hashed the same way is reversed
by a sorted join (``searchsorted``) plus an exact check of the full digest, with no
hashing at attack time beyond the verification. Hagen et al. (NDSS 2021) built such a
table for every mobile number in the world; here it is sized for small spaces (dates,
postcodes, one region's numbers) and saved as a ``.npz``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from matchsim.attack.engine import AttackResult, Knowledge, _align, _Plan, _rows_to_strings
from matchsim.attack.keyspace import MaskKeyspace
from matchsim.attack.targets import TargetSet
from matchsim.errors import InputError


@dataclass(frozen=True)
class LookupTable:
    """Digest prefixes (sorted) and the keyspace index of the candidate behind each."""

    keyspace: MaskKeyspace
    algorithm: str
    prefix: np.ndarray  # (N,) uint64 big-endian first 8 digest bytes, sorted
    index: np.ndarray  # (N,) int64 global keyspace index

    def save(self, path: str | Path) -> None:
        np.savez(path, prefix=self.prefix, index=self.index, algorithm=self.algorithm)


def build_table(
    keyspace: MaskKeyspace, knowledge: Knowledge, chunk_size: int = 1 << 22
) -> LookupTable:
    """Hash every candidate of ``keyspace`` once (vectorised, chunk by chunk)."""
    plan = _Plan.make(knowledge)
    prefixes, indices = [], []
    base = 0
    for mask in keyspace.masks:
        for start in range(0, mask.size, chunk_size):
            idx = np.arange(start, min(start + chunk_size, mask.size), dtype=np.int64)
            digests = plan.digest_rows(mask.decode(idx))
            prefixes.append(digests[:, :8].copy().view(">u8").ravel().astype(np.uint64))
            indices.append(base + idx)
        base += mask.size
    prefix = np.concatenate(prefixes)
    order = np.argsort(prefix, kind="stable")
    return LookupTable(keyspace, knowledge.algorithm, prefix[order], np.concatenate(indices)[order])


def load_table(path: str | Path, keyspace: MaskKeyspace) -> LookupTable:
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "lookup table not found")
    with np.load(p) as data:
        return LookupTable(keyspace, str(data["algorithm"]), data["prefix"], data["index"])


def reverse_with_table(
    targets: TargetSet, table: LookupTable, knowledge: Knowledge | None = None
) -> AttackResult:
    """Reverse ``targets`` by joining on digest prefixes; verify each match exactly."""
    knowledge = knowledge or Knowledge(targets.algorithm)
    t0 = time.perf_counter()
    keys = targets.keys()
    lo = np.searchsorted(table.prefix, keys, side="left")
    hi = np.searchsorted(table.prefix, keys, side="right")
    counts = hi - lo
    target = np.repeat(np.arange(keys.shape[0]), counts)
    cand = table.index[
        np.repeat(lo, counts)
        + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    ]
    offsets = np.cumsum([0] + [m.size for m in table.keyspace.masks])
    mask_of = np.searchsorted(offsets, cand, side="right") - 1
    plan = _Plan.make(knowledge)
    values, where = [], []
    for k, mask in enumerate(table.keyspace.masks):
        sel = mask_of == k
        if not sel.any():
            continue
        rows = mask.decode(cand[sel] - offsets[k])
        ok = targets.lookup(plan.digest_rows(rows)) == target[sel]
        values.append(_rows_to_strings(rows[ok]))
        where.append(target[sel][ok])
    return AttackResult(
        keyspace=f"{table.keyspace.name} (precomputed table)",
        keyspace_size=table.keyspace.size,
        knowledge=knowledge,
        targets=targets,
        plaintext=_align(targets.n_distinct, values, where)
        if values
        else pa.nulls(targets.n_distinct, pa.string()),
        candidates_tried=int(counts.sum()),
        seconds=time.perf_counter() - t0,
        engine="table",
    )
