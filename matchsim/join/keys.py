"""Digests as the join sees them: per match key, fixed-width words and the ids they belong to.

A match key is one of :data:`MATCH_KEYS`. On the upload side the ids are upload row
numbers; on the platform side they are user ids (one user may hold several digests of one
key, e.g. two e-mail addresses). The platform side is a :class:`PlatformSource`: a
sequence of chunks, so that an engine never needs the whole platform in memory and a
distributed engine can build each chunk where it runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from matchsim.errors import ConfigError
from matchsim.kernels.join import gather_bytes, mix_rows
from matchsim.kernels.mix import gather_words, mix_into_first

EMAIL, PHONE, MADID, NAME_POSTCODE_DOB = "email", "phone", "madid", "name_postcode_dob"
MATCH_KEYS = (EMAIL, PHONE, MADID, NAME_POSTCODE_DOB)
"""Keys a custom-audience join matches on; a row matches a user if any key matches."""

COMBINATION_FIELDS = ("first_name", "last_name", "postcode", "dob")
"""Fields whose digests together form the :data:`NAME_POSTCODE_DOB` key."""


def _as_words(data: np.ndarray) -> np.ndarray:
    """``(n, D)`` uint8 digests as ``(n, W)`` uint64 words whose first word is uniform."""
    n, size = data.shape
    if size % 8 == 0 and size >= 8:
        return np.ascontiguousarray(data).view(np.uint64)
    padded = np.zeros((n, -(-size // 8) * 8), dtype=np.uint8)
    padded[:, :size] = data
    words = padded.view(np.uint64)
    if size >= 8:
        return words
    # A short (truncated) digest leaves the top bytes of its word zero: lead with a mix.
    return np.concatenate([mix_rows(words)[:, None], words], axis=1)


@dataclass(frozen=True)
class KeyDigests:
    """The digests of one key: ``words`` ``(n, W)`` uint64 and ``ids`` ``(n,)`` int64.

    ``digest_size`` is the width in bytes of one digest as the scheme produced it (for a
    combination key, the sum of its parts); both sides of a join must agree on it.
    """

    words: np.ndarray
    ids: np.ndarray
    digest_size: int

    def __post_init__(self) -> None:
        if self.words.ndim != 2 or self.words.dtype != np.uint64:
            raise ValueError("words must be a 2-d uint64 array")
        if self.ids.shape != (self.words.shape[0],):
            raise ValueError("ids must have one entry per digest")

    def __len__(self) -> int:
        return int(self.words.shape[0])

    @classmethod
    def empty(cls, digest_size: int) -> KeyDigests:
        return cls.from_bytes(np.zeros((0, digest_size), np.uint8), np.zeros(0, np.int64))

    @classmethod
    def from_bytes(
        cls, data: np.ndarray, ids: np.ndarray, valid: np.ndarray | None = None
    ) -> KeyDigests:
        """From ``(n, D)`` uint8 digests, keeping the rows where ``valid`` is true."""
        data = np.asarray(data, dtype=np.uint8)
        ids = np.asarray(ids, dtype=np.int64)
        if valid is not None and not bool(np.all(valid)):
            data, ids = data[valid], ids[valid]
        return cls(_as_words(data), ids, int(data.shape[1]))

    @classmethod
    def combine(cls, parts: Sequence[tuple[np.ndarray, np.ndarray]], ids: np.ndarray) -> KeyDigests:
        """One digest per row from several ``(data, valid)`` parts, valid where all are."""
        valid = np.logical_and.reduce([np.asarray(v, bool) for _, v in parts])
        return cls.gather([(d, None) for d, _ in parts], valid, ids)

    @classmethod
    def gather(
        cls, parts: Sequence[tuple[np.ndarray, np.ndarray | None]], valid: np.ndarray,
        ids: np.ndarray,
    ) -> KeyDigests:  # fmt: skip
        """What :meth:`combine` gives for parts given as ``(table, index)``: row ``r``'s
        part is ``table[index[r]]`` (``table[r]`` where ``index`` is None), so that a part
        with few distinct values is gathered from its table, never expanded first."""
        keep = np.flatnonzero(valid)
        size = sum(int(np.shape(d)[1]) for d, _ in parts)
        # Word 0: a mix of the rest (the parts' first words are not independent of the
        # rest); words 1..: the parts side by side, zero-padded. Gathered in one pass.
        width = 1 + -(-size // 8)
        # parts of whole words are copied word by word (every byte written: no zeroing)
        whole = all(int(np.shape(d)[1]) % 8 == 0 for d, _ in parts)
        words = (np.empty if whole else np.zeros)((len(keep), width), dtype=np.uint64)
        raw = words.view(np.uint8)
        at = 8
        for d, index in parts:
            d = np.ascontiguousarray(d, np.uint8)
            rows = keep if index is None else np.asarray(index)[keep]
            if whole:
                gather_words(d.view(np.uint64), rows, words, at // 8)
            else:
                gather_bytes(d, rows, raw, at)
            at += d.shape[1]
        mix_into_first(words)  # word 0 = mix_rows(words[:, 1:]), without copying them
        return cls(words, np.asarray(ids, np.int64)[keep], size)

    def take(self, index: np.ndarray | slice) -> KeyDigests:
        return KeyDigests(self.words[index], self.ids[index], self.digest_size)

    @classmethod
    def concat(cls, parts: Sequence[KeyDigests], digest_size: int) -> KeyDigests:
        if not parts:
            return cls.empty(digest_size)
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.words for p in parts]),
            np.concatenate([p.ids for p in parts]),
            digest_size,
        )


@dataclass(frozen=True)
class UploadKeys:
    """An advertiser's upload after decoding: per key, the digests of the accepted rows.

    Attributes:
        n_rows: rows in the uploaded file.
        keys: digests per match key; ids are row numbers ``0..n_rows-1``.
        rejected: rows (or values) refused, counted per reason; never dropped silently.
        rejected_rows: row numbers that contributed no usable key at all.
        customer_ids: the advertiser's own id of each row, when the upload carries one
            (a ``cid`` / ``extern_id`` column); never matched on, used only to score the
            join against the truth.
    """

    n_rows: int
    keys: Mapping[str, KeyDigests]
    rejected: Mapping[str, int] = field(default_factory=dict)
    rejected_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    customer_ids: np.ndarray | None = None

    @property
    def accepted_rows(self) -> int:
        return self.n_rows - len(self.rejected_rows)


class PlatformSource(Protocol):
    """The platform's side of a join, in chunks an engine loads one at a time.

    Implementations must be picklable and cheap to pickle (a path and parameters, not the
    data): a distributed engine sends the source to its workers, which call :meth:`chunk`.
    """

    @property
    def keys(self) -> Mapping[str, int]:
        """Match keys this platform indexes, with their digest sizes in bytes."""
        ...

    @property
    def n_chunks(self) -> int: ...

    @property
    def n_users(self) -> int: ...

    def chunk(self, index: int) -> Mapping[str, KeyDigests]:
        """The digests of chunk ``index``, per key (ids are user ids)."""
        ...


@dataclass(frozen=True)
class InMemoryPlatform:
    """A platform index already held in memory, served in chunks of ``chunk_rows`` digests."""

    digests: Mapping[str, KeyDigests]
    users: int
    chunk_rows: int = 1 << 22

    def __post_init__(self) -> None:
        if self.chunk_rows < 1:
            raise ConfigError(f"chunk_rows must be >= 1, got {self.chunk_rows}")

    @property
    def keys(self) -> Mapping[str, int]:
        return {k: d.digest_size for k, d in self.digests.items()}

    @property
    def n_users(self) -> int:
        return self.users

    @property
    def n_chunks(self) -> int:
        longest = max((len(d) for d in self.digests.values()), default=0)
        return max(1, -(-longest // self.chunk_rows))

    def chunk(self, index: int) -> Mapping[str, KeyDigests]:
        part = slice(index * self.chunk_rows, (index + 1) * self.chunk_rows)
        return {k: d.take(part) for k, d in self.digests.items()}
