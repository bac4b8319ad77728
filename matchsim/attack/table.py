"""The data broker's time-memory trade-off: hash a keyspace once, reverse files by a join.

Threat model: whoever can enumerate a keyspace (every value hashed with a public
algorithm, no secret) can also store the result. A table maps the first 8 bytes of
every candidate's digest to the candidate's index in its keyspace, sorted by digest
prefix. Any later upload hashed the same way is reversed by a sorted join
(``searchsorted``) plus an exact check of the full digest, with no enumeration at
attack time: the cost moves from every attack to one build and the disk that holds it
(16 bytes per candidate or less). Hagen et al. (NDSS 2021) built such a table for every
mobile number in the world; here it is sized for small spaces (dates, postcodes, one
region's numbers). A keyed scheme whose key the broker lacks (HMAC, a pepper) or a
per-record salt defeats it, exactly as it defeats enumeration.

A table is a Parquet file: columns ``prefix`` (uint64, sorted) and ``index`` (the
candidate's number in the keyspace), and in the file's metadata the hash algorithm and
the keyspace itself (its name and masks), so :func:`load_table` needs nothing but the
file and refuses one that does not hold what it claims.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matchsim.attack.engine import AttackResult, Knowledge, _align, _Plan, _rows_to_strings
from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.attack.targets import TargetSet
from matchsim.errors import InputError, OutputError
from matchsim.io import shown

TABLE_FORMAT = "matchsim lookup table"
TABLE_VERSION = 1
_META_KEY = b"matchsim"
_LABELS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
_SECRETS = ("none", "hmac", "pepper-prefix", "pepper-suffix")
"""What :func:`_secret_kind` can say went into a table's digests."""

Progress = Callable[[str, int, int], None]


def _secret_kind(knowledge: Knowledge) -> str:
    """Which secret went into the digests (never the secret itself)."""
    if knowledge.hmac_key is not None:
        return "hmac"
    if knowledge.pepper is not None:
        return f"pepper-{knowledge.pepper_position}"
    return "none"


def describe_keyspace(keyspace: MaskKeyspace, max_masks: int = 3) -> str:
    """``name, N candidates (mask + mask + ...)`` on one line, for messages (a table's
    name and masks come from its file: control characters shown escaped, each cut)."""
    texts = [shown(m.text()) for m in keyspace.masks[:max_masks]]
    if len(keyspace.masks) > max_masks:
        texts.append(f"{len(keyspace.masks) - max_masks:,} more masks")
    return f"{shown(keyspace.name)}, {keyspace.size:,} candidates ({' + '.join(texts)})"


@dataclass(frozen=True)
class LookupTable:
    """Digest prefixes (sorted) and the keyspace index of the candidate behind each.

    Attributes:
        keyspace: what was hashed.
        algorithm: ``md5``, ``sha1``, ``sha256`` or ``sha512``.
        prefix: (N,) uint64, the big-endian first 8 digest bytes, sorted.
        index: (N,) unsigned integers, the keyspace index of each prefix's candidate.
        secret: ``none``, or which secret the digests were built with (``hmac``,
            ``pepper-prefix``, ``pepper-suffix``); the secret itself is never stored.
        source: the file it was loaded from, if any (for messages).
    """

    keyspace: MaskKeyspace
    algorithm: str
    prefix: np.ndarray
    index: np.ndarray
    secret: str = "none"
    source: str | None = None

    def metadata(self) -> dict[str, Any]:
        return {
            "format": TABLE_FORMAT,
            "version": TABLE_VERSION,
            "algorithm": self.algorithm,
            "secret": self.secret,
            "keyspace": {
                "name": self.keyspace.name,
                "size": self.keyspace.size,
                "masks": [[p.decode("latin-1") for p in m.positions] for m in self.keyspace.masks],
            },
        }

    def save(self, path: str | Path) -> int:
        """Write the table as Parquet (atomically: the file appears whole or not at all).

        Returns:
            The file's size in bytes.

        Raises:
            OutputError: the file cannot be written.
        """
        p = Path(path)
        schema = pa.schema(
            [("prefix", pa.uint64()), ("index", pa.from_numpy_dtype(self.index.dtype))],
            metadata={_META_KEY: json.dumps(self.metadata(), sort_keys=True).encode()},
        )
        table = pa.Table.from_arrays([pa.array(self.prefix), pa.array(self.index)], schema=schema)
        tmp = p.with_name(f".{p.name}.partial-{os.getpid()}")
        try:
            # Digest prefixes are random bytes: compression would only cost time; the
            # index's top bits are zero below 2^32 candidates, which zstd saves.
            pq.write_table(
                table, tmp, compression={"prefix": "none", "index": "zstd"},
                write_statistics=False, use_dictionary=False,
            )  # fmt: skip
            os.replace(tmp, p)
            return p.stat().st_size
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot write {p}: {exc.strerror or exc}") from None


def _prefixes(digests: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each digest row as one big-endian uint64 (what a table keys on)."""
    return digests[:, :8].copy().view(">u8").ravel().astype(np.uint64)


def _by_mask(keyspace: MaskKeyspace, cand: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Keyspace indices ``cand`` grouped by the mask they fall in: per mask that holds
    some, ``(positions in cand, their candidates' rows)``."""
    offsets = np.cumsum([0] + [m.size for m in keyspace.masks])
    mask_of = np.searchsorted(offsets, cand, side="right") - 1
    for k, mask in enumerate(keyspace.masks):
        sel = np.flatnonzero(mask_of == k)
        if sel.shape[0]:
            yield sel, mask.decode(cand[sel] - offsets[k])


def _index_dtype(size: int) -> type[np.unsignedinteger[Any]]:
    return np.uint32 if size <= 2**32 else np.uint64


def build_table(
    keyspace: MaskKeyspace,
    knowledge: Knowledge,
    chunk_size: int = 1 << 22,
    progress: Progress | None = None,
) -> LookupTable:
    """Hash every candidate of ``keyspace`` once (vectorised, chunk by chunk), then sort.

    Memory: about 40 bytes per candidate at the peak (prefixes, indices and the sort
    order); the table holds 12 bytes per candidate (16 beyond 2^32 candidates).
    """
    plan = _Plan.make(knowledge)
    dtype = _index_dtype(keyspace.size)
    prefixes, indices = [], []
    base = done = 0
    for mask in keyspace.masks:
        for start in range(0, mask.size, chunk_size):
            idx = np.arange(start, min(start + chunk_size, mask.size), dtype=np.int64)
            digests = plan.digest_rows(mask.decode(idx))
            prefixes.append(_prefixes(digests))
            indices.append((base + idx).astype(dtype))
            done += idx.shape[0]
            if progress is not None:
                progress("candidates hashed", done, keyspace.size)
        base += mask.size
    prefix = np.concatenate(prefixes) if prefixes else np.zeros(0, np.uint64)
    index = np.concatenate(indices) if indices else np.zeros(0, dtype)
    del prefixes, indices
    order = np.argsort(prefix, kind="stable")
    return LookupTable(
        keyspace, knowledge.algorithm, prefix[order], index[order], _secret_kind(knowledge)
    )


def is_lookup_table(path: Path) -> bool:
    """Is ``path`` a lookup table matchsim wrote (Parquet carrying matchsim's metadata)?"""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (pa.ArrowException, OSError):
        return False
    return _META_KEY in meta


def load_table(path: str | Path, keyspace: MaskKeyspace | None = None) -> LookupTable:
    """Read a table written by :meth:`LookupTable.save`, checking it holds what it says.

    Args:
        path: the Parquet file.
        keyspace: if given, the keyspace the caller means to attack; the table must
            have been built for exactly its masks.

    Raises:
        InputError: no such file; not a readable Parquet file; not a matchsim lookup
            table (or another version); a table whose rows do not match its keyspace;
            a table built for another keyspace than ``keyspace``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "lookup table not found")
    try:
        pf = pq.ParquetFile(p)
    except (pa.ArrowException, OSError):
        raise InputError(p, "not a readable Parquet file (corrupt or truncated?)") from None
    with pf:
        return _read_table(p, pf, keyspace)


def _read_table(p: Path, pf: pq.ParquetFile, keyspace: MaskKeyspace | None) -> LookupTable:
    meta = _parse_metadata(p, (pf.schema_arrow.metadata or {}).get(_META_KEY))
    ks = meta["keyspace"]
    name, listed, size = ks.get("name"), ks.get("masks"), ks.get("size")
    if (
        not isinstance(name, str)
        or not isinstance(size, int) or isinstance(size, bool)
        or not isinstance(listed, list)
        or not all(isinstance(m, list) and all(isinstance(s, str) for s in m) for m in listed)
    ):  # fmt: skip
        raise InputError(p, "not a matchsim lookup table (its keyspace is unreadable)")
    try:
        masks = tuple(Mask(tuple(s.encode("latin-1") for s in m)) for m in listed)
        stored = MaskKeyspace(name, masks)
    except (TypeError, ValueError, UnicodeEncodeError):
        raise InputError(p, "not a matchsim lookup table (its keyspace is unreadable)") from None
    if size != stored.size:
        raise InputError(
            p, f"corrupt lookup table: {size:,} candidates listed, its masks hold {stored.size:,}"
        )
    if keyspace is not None and keyspace.masks != stored.masks:
        raise InputError(
            p,
            f"built for {describe_keyspace(stored)}, not for {describe_keyspace(keyspace)}",
        )
    if sorted(pf.schema_arrow.names) != ["index", "prefix"]:
        raise InputError(p, "corrupt lookup table (its columns are not one prefix and one index)")
    if pf.metadata.num_rows != size:
        raise InputError(
            p,
            f"corrupt lookup table: {pf.metadata.num_rows:,} rows for a keyspace of "
            f"{size:,} candidates",
        )
    try:
        data = pf.read(columns=["prefix", "index"])
        prefix = data.column("prefix").to_numpy()
        index = data.column("index").to_numpy()
    except (pa.ArrowException, OSError):
        raise InputError(p, "corrupt lookup table (its data cannot be read)") from None
    if (
        prefix.dtype != np.uint64
        or index.dtype.kind != "u"
        or bool(np.any(prefix[1:] < prefix[:-1]))
        or (size and int(index.max()) >= size)
    ):
        raise InputError(p, "corrupt lookup table (prefixes unsorted or indices out of range)")
    if meta["secret"] == "none":  # a keyed table cannot be checked without its secret
        _spot_check(p, stored, str(meta["algorithm"]), prefix, index)
    return LookupTable(
        stored, str(meta["algorithm"]), prefix, index, str(meta["secret"]), source=str(p)
    )


_SPOT_ROWS = 64
"""Rows of a plain lookup table hashed again on load (:func:`_spot_check`)."""


def _spot_check(
    p: Path, keyspace: MaskKeyspace, algorithm: str, prefix: np.ndarray, index: np.ndarray
) -> None:
    """Hash the candidates behind up to :data:`_SPOT_ROWS` rows spread over the table and
    compare their digests with the stored prefixes: a table whose prefixes were
    overwritten (all zeros still sort) would otherwise recover nothing, silently."""
    if prefix.shape[0] == 0:
        return
    rows = np.unique(np.linspace(0, prefix.shape[0] - 1, _SPOT_ROWS).astype(np.int64))
    plan = _Plan.make(Knowledge(algorithm))
    got = np.empty(rows.shape[0], dtype=np.uint64)
    for sel, candidates in _by_mask(keyspace, index[rows].astype(np.int64)):
        got[sel] = _prefixes(plan.digest_rows(candidates))
    wrong = np.flatnonzero(got != prefix[rows])
    if wrong.shape[0]:
        raise InputError(
            p, f"corrupt lookup table (row {int(rows[wrong[0]]) + 1:,}: its prefix is not "
            "the digest of its candidate)",
        )  # fmt: skip


def _parse_metadata(p: Path, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise InputError(p, "not a matchsim lookup table (no table metadata)")
    try:
        meta = json.loads(raw)
    except ValueError:
        raise InputError(p, "not a matchsim lookup table (unreadable table metadata)") from None
    if not isinstance(meta, dict) or meta.get("format") != TABLE_FORMAT:
        raise InputError(p, "not a matchsim lookup table (no table metadata)")
    if meta.get("version") != TABLE_VERSION:
        raise InputError(
            p,
            f"lookup table version {shown(repr(meta.get('version')))} is not supported "
            f"(this matchsim reads version {TABLE_VERSION}); rebuild it",
        )
    meta.setdefault("secret", "none")
    algorithm, secret = meta.get("algorithm"), meta["secret"]
    if (
        not isinstance(algorithm, str) or algorithm not in _LABELS
        or not isinstance(secret, str) or secret not in _SECRETS
        or not isinstance(meta.get("keyspace"), dict)
    ):  # fmt: skip
        raise InputError(p, "not a matchsim lookup table (unreadable table metadata)")
    return meta


def reverse_with_table(
    targets: TargetSet, table: LookupTable, knowledge: Knowledge | None = None
) -> AttackResult:
    """Reverse ``targets`` by joining on digest prefixes; verify each match exactly.

    Recovers exactly what enumerating ``table.keyspace`` under the same ``knowledge``
    would (every candidate is in the table; every hit is re-hashed and compared in full).

    Raises:
        InputError: the table was built for another algorithm than the upload's digests,
            or with a secret the given ``knowledge`` does not match (or the other way).
    """
    knowledge = knowledge or Knowledge(targets.algorithm)
    for algorithm in (targets.algorithm, knowledge.algorithm):
        if algorithm != table.algorithm:
            raise InputError(
                table.source,
                f"the table holds {_LABELS[table.algorithm]} digests, "
                f"the upload {_LABELS.get(algorithm, algorithm)} digests",
            )
    secret = _secret_kind(knowledge)
    if secret != table.secret:
        label = _LABELS[table.algorithm]
        raise InputError(
            table.source,
            f"the table holds plain {label} digests; a known key or pepper needs enumeration"
            if table.secret == "none"
            else f"the table holds {label} digests built with a secret ({table.secret}); "
            "the attack must know the same one",
        )
    t0 = time.perf_counter()
    keys = targets.keys()
    lo = np.searchsorted(table.prefix, keys, side="left")
    hi = np.searchsorted(table.prefix, keys, side="right")
    counts = hi - lo
    target = np.repeat(np.arange(keys.shape[0]), counts)
    cand = table.index[
        np.repeat(lo, counts)
        + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    ].astype(np.int64)
    plan = _Plan.make(knowledge)
    values, where = [], []
    for sel, rows in _by_mask(table.keyspace, cand):
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
