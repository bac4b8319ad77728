"""The platform side of a join under a per-record-salted scheme (``salted-sha256``).

Such a digest starts with its salt, drawn at random before hashing (``salt || SHA-256(salt
|| value)``), so a platform digest can only equal an upload digest that carries the same
salt. The platform therefore draws every one of its rows' salts exactly as the scheme
would, keeps the rows whose salt starts like one an upload digest of the same key carries,
and hashes only those: the same matches as hashing every row (the engine still compares
whole digests), for the price of drawing the salts. With random salts no row is kept; with
a seeded scheme (both sides drawing the same salts) the rows that match are.

A key keyed in clear (Meta's MADID) is not salted and is hashed as always.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from matchsim.join.keys import NAME_POSTCODE_DOB, KeyDigests, UploadKeys
from matchsim.join.platform import PLATFORM_COLUMNS, clear_scheme, digest_width, key_fields
from matchsim.normalise import Profile
from matchsim.schemes import Scheme
from matchsim.schemes._base import as_strings

BUCKET_BITS = 24
"""Top bits of a salt's first word that index :attr:`SaltSet.buckets` (2 MiB of flags)."""


@dataclass(frozen=True)
class SaltSet:
    """The first 8 bytes (a uint64) of the salts an upload's digests of one key carry:
    sorted and distinct (``words``), and a flag per value of their top
    :data:`BUCKET_BITS` bits (``buckets``), a quick first test before the exact one."""

    words: np.ndarray
    buckets: np.ndarray

    @classmethod
    def of(cls, first: np.ndarray) -> SaltSet:
        words = np.sort(np.asarray(first, dtype=np.uint64))  # (np.unique: 15x slower)
        if len(words) > 1:
            words = words[np.concatenate([[True], words[1:] != words[:-1]])]
        buckets = np.zeros(1 << BUCKET_BITS, dtype=bool)
        buckets[words >> np.uint64(64 - BUCKET_BITS)] = True
        return cls(words, buckets)

    def holds(self, salts: np.ndarray) -> np.ndarray:
        """Which ``(n, salt_bytes)`` salts start with one of :attr:`words`."""
        out = np.zeros(len(salts), dtype=bool)
        if len(self.words) == 0 or len(salts) == 0:
            return out
        first = np.ascontiguousarray(salts[:, :8]).view(np.uint64)[:, 0]
        maybe = np.flatnonzero(self.buckets[first >> np.uint64(64 - BUCKET_BITS)])
        if len(maybe):
            f = first[maybe]
            at = np.minimum(np.searchsorted(self.words, f), len(self.words) - 1)
            out[maybe] = self.words[at] == f
        return out


def salt_filter(upload: UploadKeys, prof: Profile, sch: Scheme) -> dict[str, SaltSet] | None:
    """Per key the scheme salts, the salts the upload's digests carry (a combination key:
    its first part's, after the leading mix word); None unless the scheme's digests start
    with a salt of at least 8 bytes (``salt_bytes``)."""
    if sch.deterministic or getattr(sch, "salt_bytes", 0) < 8:
        return None
    out: dict[str, SaltSet] = {}
    for key, fields in key_fields(prof).items():
        if key not in upload.keys or not prof.fields[fields[0]].hashed:
            continue
        words = upload.keys[key].words
        at = 1 if key == NAME_POSTCODE_DOB else 0  # KeyDigests.combine leads with a mix
        out[key] = SaltSet.of(words[:, at])
    return out


def salted_candidates(
    ntable: pa.Table, prof: Profile, sch: Any, key: str, uid: np.ndarray, wanted: SaltSet
) -> KeyDigests:
    """A salted key's digests of the rows of a normalised chunk that can match: each
    present value draws its salt as the scheme's ``encode`` would (per column, in row
    order), and only rows whose salt ``wanted`` holds are hashed."""
    fields = key_fields(prof)[key]
    if key == NAME_POSTCODE_DOB:
        return _combination(ntable, prof, sch, fields, uid, wanted)
    pieces = []
    for column in PLATFORM_COLUMNS[key]:
        if column not in ntable.column_names:
            continue
        values = _flat(ntable[column])
        present = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))
        salt = sch.salts(len(present))
        hit = wanted.holds(salt)
        rows = present[hit]
        pieces.append(KeyDigests.from_bytes(_digest_rows(sch, values, rows, salt[hit]), uid[rows]))
    return KeyDigests.concat(pieces, digest_width(prof, sch, key, fields))


def _combination(
    ntable: pa.Table, prof: Profile, sch: Any, fields: tuple[str, ...], uid: np.ndarray,
    wanted: SaltSet,
) -> KeyDigests:  # fmt: skip
    """The combination key: rows holding every part whose first part's salt ``wanted``
    holds. The other parts draw their salts only when some row is kept (each draw starts
    the scheme's generator afresh, so a draw not made changes no other)."""
    columns = [_flat(ntable[f]) for f in fields]
    present = [np.flatnonzero(c.is_valid().to_numpy(zero_copy_only=False)) for c in columns]
    keep = np.zeros(len(uid), dtype=bool)
    keep[present[0]] = True
    for p in present[1:]:
        mask = np.zeros(len(uid), dtype=bool)
        mask[p] = True
        keep &= mask
    first = sch.salts(len(present[0]))
    rows = present[0][wanted.holds(first) & keep[present[0]]]
    parts = []
    for f, values, p in zip(fields, columns, present, strict=True):
        if not prof.fields[f].hashed:  # a part keyed in clear draws no salt
            parts.append((_digest_rows(sch, values, rows, None), np.ones(len(rows), bool)))
            continue
        if not len(rows):
            salts = np.zeros((0, sch.salt_bytes), dtype=np.uint8)
        else:
            drawn = first if f == fields[0] else sch.salts(len(p))
            salts = drawn[np.searchsorted(p, rows)]  # row -> its rank among the present
        parts.append((_digest_rows(sch, values, rows, salts), np.ones(len(rows), bool)))
    return KeyDigests.combine(parts, uid[rows])


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _digest_rows(
    sch: Any, values: pa.Array, rows: np.ndarray, salts: np.ndarray | None
) -> np.ndarray:
    """Digests of ``values`` at ``rows``, salted with ``salts`` (one a row), or keyed in
    clear where there are none."""
    taken = as_strings(values.take(pa.array(rows, pa.int64())))
    if salts is None:
        return np.asarray(clear_scheme().encode(taken).data)
    if len(rows) == 0:
        return np.zeros((0, sch.digest_size), dtype=np.uint8)
    return np.asarray(sch.digest_with(taken, salts))


__all__ = ["SaltSet", "salt_filter", "salted_candidates"]
