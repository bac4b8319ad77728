"""Sample classes and their population sizes, without grouping the population.

Journalist and marketer risk need, for each equivalence class of the released file (the
*sample*, e.g. 10^6 customers), how many records of the attacker's population table
(10^7 platform users) share its QI values. Grouping the two tables together, as
:func:`matchsim.risk.classes.group` would, hashes every population row into a joint
table and re-encodes each of its text columns per QI set. Here instead:

- each column of each table is dictionary-encoded once (Parquet dictionary columns come
  encoded already), whatever number of QI sets use it;
- a transform (``postcode:4``, ``dob:year``) is applied to the dictionaries, not to the
  rows, and the two tables' transformed dictionaries are encoded together, so equal
  values get equal codes in both tables;
- the sample's combined keys are grouped in order of first appearance and each
  population key only probes that table (:mod:`matchsim.kernels.groups`).

The classes, their order and the population sizes are exactly those of grouping the
concatenated tables and splitting the result (:func:`matchsim.risk.assess._split`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.risk.classes import _MAX_RADIX, EquivalenceClasses, QIField, dense_codes, field_values


@dataclass(frozen=True)
class _Encoded:
    """One column as dictionary indices (-1 for null) and the dictionary."""

    indices: np.ndarray
    dictionary: pa.Array


def _encode(column: pa.ChunkedArray | pa.Array) -> _Encoded:
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_dictionary(column.type):
            if not _one_dictionary(column):
                column = column.unify_dictionaries()
            if column.num_chunks == 0:
                return _Encoded(np.zeros(0, np.int64), pa.array([], column.type.value_type))
            parts = [_indices(c) for c in column.chunks]
            return _Encoded(np.concatenate(parts), column.chunks[0].dictionary)
        column = column.combine_chunks()
    t = column.type
    if pa.types.is_date(t) or pa.types.is_signed_integer(t) or t in (pa.uint8(), pa.uint16()):
        ranged = _by_range(column)
        if ranged is not None:
            return ranged
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        short = _short_strings(column)
        if short is not None:
            return short
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    return _Encoded(_indices(column), column.dictionary)


def _one_dictionary(column: pa.ChunkedArray) -> bool:
    """Every chunk holds the same dictionary, of distinct non-null values: what
    ``unify_dictionaries`` would return is the column itself (the first dictionary, every
    index unchanged), so the unification, which hashes each chunk's dictionary, can be
    skipped (the platform's 124 k surnames: ~0.09 s over the 10 row groups the risk
    section reads, ~0.8 s over the 80 batches ``pq.read_table`` makes of them)."""
    if column.num_chunks == 0:
        return False
    first = column.chunks[0].dictionary
    if first.null_count or not all(c.dictionary.equals(first) for c in column.chunks[1:]):
        return False
    return bool(pc.count_distinct(first).as_py() == len(first))


def _by_range(column: pa.Array) -> _Encoded | None:
    """Dates and integers of a narrow range: ``value - min`` indexes the range itself (no
    hashing); None when the range is wide or the column empty."""
    if pa.types.is_date(column.type):
        storage = pa.int64() if column.type.bit_width == 64 else pa.int32()
        ints = column.cast(storage)
    else:
        storage, ints = column.type, column
    bounds = pc.min_max(ints)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    if lo is None or hi is None or hi - lo >= max(4 * len(column), 1 << 16):
        return None
    values = np.asarray(pc.fill_null(ints, lo).to_numpy(zero_copy_only=False), dtype=np.int64)
    indices = values - lo
    if column.null_count:
        indices[~np.asarray(column.is_valid().to_numpy(zero_copy_only=False))] = -1
    dictionary = pa.array(np.arange(lo, hi + 1, dtype=np.int64)).cast(storage)
    return _Encoded(indices, dictionary.cast(column.type))


def _short_strings(column: pa.Array, dictionary: bool = True) -> _Encoded | None:
    """Strings of at most 7 bytes (postcodes, genders) packed into int64 keys and grouped
    by :mod:`matchsim.kernels.groups`, instead of hashing them as strings; None when one
    is longer. The dictionary holds each distinct value once, in order of first row."""
    from matchsim.kernels.groups import first_rows, first_seen_groups, pack_short_strings

    if len(column) == 0:
        return None
    _, offsets_buf, data_buf = column.buffers()
    wide = pa.types.is_large_string(column.type)
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32)
    offsets = offsets[column.offset : column.offset + len(column) + 1]
    data = np.zeros(0, np.uint8) if data_buf is None else np.frombuffer(data_buf, np.uint8)
    keys, ok = pack_short_strings(offsets, data)
    if not ok:
        return None
    empty = pa.array([], column.type)
    if not column.null_count:
        ids, _, groups = first_seen_groups(keys)
        if not dictionary:
            return _Encoded(ids, empty)
        return _Encoded(ids, column.take(pa.array(first_rows(ids, groups))))
    valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False))
    ids, _, groups = first_seen_groups(keys[valid])
    indices = np.full(len(column), -1, dtype=np.int64)
    indices[valid] = ids
    if not dictionary:
        return _Encoded(indices, empty)
    where = np.flatnonzero(valid)[first_rows(ids, groups)]
    return _Encoded(indices, column.take(pa.array(where)))


def _dense(values: pa.Array) -> tuple[np.ndarray, int]:
    """:func:`dense_codes` (null its own last code), by packed keys when every value is a
    short string (two tables' distinct postcodes: 2 x 10^6 strings)."""
    t = values.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        short = _short_strings(values, dictionary=False)
        if short is not None:
            card = int(short.indices.max(initial=-1)) + 1
            if not values.null_count:
                return short.indices, card
            return np.where(short.indices < 0, card, short.indices), card + 1
    return dense_codes(values)


def _indices(array: pa.DictionaryArray) -> np.ndarray:
    idx = array.indices
    if array.null_count:
        idx = pc.fill_null(idx, -1)
    return np.asarray(idx.to_numpy(zero_copy_only=False), dtype=np.int64)


def _as_one(a: pa.Array, b: pa.Array) -> pa.Array:
    """``a`` and ``b`` as one array (``b`` cast to ``a``'s type, as the joint grouping did)."""
    if a.type != b.type:
        b = b.cast(a.type)
    return pa.concat_arrays([a, b])


@dataclass
class LinkedCodes:
    """Integer codes of QI fields, equal across ``sample`` and ``population`` exactly where
    the (generalised) values are equal; each column is encoded once and reused."""

    sample: pa.Table
    population: pa.Table
    _columns: dict[tuple[int, str], _Encoded] = field(default_factory=dict)

    def _column(self, side: int, name: str) -> _Encoded:
        key = (side, name)
        if key not in self._columns:
            table = self.sample if side == 0 else self.population
            self._columns[key] = _encode(table.column(name))
        return self._columns[key]

    def maps(self, f: QIField) -> tuple[np.ndarray, np.ndarray, int]:
        """``(sample map, population map, cardinality)`` of one field: the code of each
        dictionary entry of either table, and last, at index -1, the code of null."""
        s, p = self._column(0, f.column), self._column(1, f.column)
        ts = field_values(pa.table({f.column: s.dictionary}), f)
        tp = field_values(pa.table({f.column: p.dictionary}), f)
        if pa.types.is_dictionary(ts.type):
            ts = ts.cast(ts.type.value_type)
        if pa.types.is_dictionary(tp.type):
            tp = tp.cast(tp.type.value_type)
        values = _as_one(ts, tp)
        joint, card = _dense(values)
        # the code of null: the dictionary's own null code if it holds a null, else one more
        null_code, total = (card - 1, card) if values.null_count else (card, card + 1)
        ns = len(ts)
        return np.append(joint[:ns], null_code), np.append(joint[ns:], null_code), total

    def codes(self, f: QIField) -> tuple[np.ndarray, np.ndarray, int]:
        """``(sample codes, population codes, cardinality)`` of one field (null its own code)."""
        s_map, p_map, total = self.maps(f)
        return (
            s_map[self._column(0, f.column).indices],
            p_map[self._column(1, f.column).indices],
            total,
        )

    def classes(self, fields: Sequence[QIField]) -> tuple[EquivalenceClasses, np.ndarray] | None:
        """The sample's classes (first-appearance order) and each one's population size;
        None when the combined key would overflow int64 (the caller groups jointly).

        The population's keys are never materialised: one kernel pass looks each row's
        codes up in the maps, combines them and probes the sample's table."""
        from matchsim.kernels.groups import count_linked, first_seen_groups

        key_s: np.ndarray | None = None
        radix = 1
        p_indices: list[np.ndarray] = []
        p_maps: list[np.ndarray] = []
        cards: list[int] = []
        for f in fields:
            s_map, p_map, card = self.maps(f)
            if radix * card >= _MAX_RADIX:
                return None
            cs = s_map[self._column(0, f.column).indices]
            if key_s is None:
                key_s = cs
            else:
                key_s *= card
                key_s += cs
            radix *= card
            p_indices.append(np.ascontiguousarray(self._column(1, f.column).indices, np.int64))
            p_maps.append(np.ascontiguousarray(p_map, np.int64))
            cards.append(card)
        assert key_s is not None
        ids, table, groups = first_seen_groups(np.ascontiguousarray(key_s))
        sizes = np.bincount(ids, minlength=groups).astype(np.int64, copy=False)
        cards_ = np.asarray(cards, dtype=np.int64)
        pop = count_linked(tuple(p_indices), tuple(p_maps), cards_, table, groups)
        names = tuple(f.name for f in fields)
        return EquivalenceClasses(qi=names, row_class=ids, sizes=sizes), pop
