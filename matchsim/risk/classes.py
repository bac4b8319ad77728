"""Quasi-identifier specs and equivalence classes, by vectorised grouping.

A *quasi-identifier* (QI) is a set of fields that is not a name or an e-mail but that,
combined, singles people out (Sweeney: 5-digit ZIP, date of birth and sex). Records that
agree on every QI field form an *equivalence class*; every risk measure in
:mod:`matchsim.risk` is a function of the class sizes.

A QI field is written ``column`` or ``column:transform``:

- ``postcode:4`` - the first 4 characters (a Dutch PC6 ``1011 AB`` becomes PC4 ``1011``;
  any positive integer is a prefix length);
- ``dob:year`` / ``dob:month`` - the birth year / year and month of a date column.

Grouping never loops over rows in Python: each column becomes dense integer codes (Arrow's
hash-based ``dictionary_encode``, or ``value - min`` for integers and dates), the codes are
combined into one int64 key by mixed-radix arithmetic (re-compacted with a hash factorise
whenever the radix product would overflow), and one more factorise plus ``bincount`` gives
the classes. A missing value (null) is a value of its own: records with no date of birth
share a class. Hashing a combination is a bijection on it, so a column of digests of
``postcode|dob|gender`` groups into exactly the classes of the three clear columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.errors import ConfigError, InputError

_DATE_TRANSFORMS = ("year", "month")
_MAX_RADIX = 1 << 62


@dataclass(frozen=True)
class QIField:
    """One quasi-identifier field: a column, optionally generalised."""

    column: str
    transform: str | None = None

    @property
    def name(self) -> str:
        return self.column if self.transform is None else f"{self.column}:{self.transform}"

    @classmethod
    def parse(cls, text: str) -> QIField:
        column, _, transform = text.strip().partition(":")
        column = column.strip()
        transform = transform.strip()
        if not column:
            raise ConfigError(f"--qi: empty field name in {text!r}")
        if not transform:
            return cls(column)
        if transform in _DATE_TRANSFORMS or (transform.isdigit() and int(transform) > 0):
            return cls(column, transform)
        raise ConfigError(
            f"--qi: unknown transform {transform!r} in {text!r} "
            "(use year, month or a prefix length such as postcode:4)"
        )


def parse_qi(spec: str | Sequence[str]) -> list[QIField]:
    """``"postcode:4,dob,gender"`` (or a list of such names) -> fields; rejects repeats."""
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    fields = [QIField.parse(p) for p in parts if p.strip()]
    if not fields:
        raise ConfigError("--qi: give at least one field, e.g. --qi postcode,dob,gender")
    names = [f.name for f in fields]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"--qi: field repeated: {', '.join(repeated)}")
    return fields


def read_columns(path: str | Path, columns: Sequence[str]) -> pa.Table:
    """Read ``columns`` of a Parquet (or ``.csv``) file, with one-line errors for bad input."""
    from matchsim.io import open_table, read_table, shown

    path = Path(path)
    if path.is_dir():
        raise InputError(shown(path), "is a folder; give a Parquet or CSV file")
    if not path.exists():
        raise InputError(shown(path), "no such file")
    wanted = list(dict.fromkeys(columns))
    have = open_table(path, wanted, allow_binary=True).header  # one reader (matchsim.io)
    missing = [c for c in wanted if c not in have]
    if missing:
        raise InputError(
            shown(path),
            f"no such column (the file has: {shown(', '.join(have), 200)})",
            column=shown(missing[0]),
        )
    table = read_table(path, columns=wanted, require_rows=False, allow_binary=True)
    table = table.select(wanted)
    if table.num_rows == 0:
        raise InputError(shown(path), "the file has no rows")
    return table


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def field_values(table: pa.Table, field: QIField, path: str | Path | None = None) -> pa.Array:
    """The (generalised) values of one QI field, as one Arrow array."""
    if field.column not in table.column_names:
        raise InputError(
            path,
            f"no such column (the table has: {', '.join(table.column_names)})",
            column=field.column,
        )
    values = table.column(field.column).combine_chunks()
    if field.transform is None:
        return values
    if pa.types.is_dictionary(values.type):
        # Transform the (small) dictionary, not the rows; re-encoded below.
        values = values.cast(values.type.value_type)
    if field.transform in _DATE_TRANSFORMS:
        if not (pa.types.is_date(values.type) or pa.types.is_timestamp(values.type)):
            raise InputError(
                path,
                f"{field.transform!r} needs a date column, not {values.type}",
                column=field.column,
            )
        year = pc.year(values)
        if field.transform == "year":
            return year
        return pc.add(pc.multiply(year, 12), pc.month(values))
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    return pc.utf8_slice_codeunits(values, 0, int(field.transform))


def dense_codes(values: pa.Array) -> tuple[np.ndarray, int]:
    """Integer codes 0..card-1 for ``values`` (equal values, equal codes; null its own code)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_timestamp(t):
        values = values.cast(pa.int64() if t.bit_width == 64 else pa.int32())
        t = values.type
    if pa.types.is_integer(t) and len(values) > 0:
        ints = values.to_numpy(zero_copy_only=False) if values.null_count == 0 else None
        if ints is not None:
            lo, hi = int(ints.min()), int(ints.max())
            if hi - lo < max(4 * len(ints), 1 << 16):
                return (ints.astype(np.int64) - lo), hi - lo + 1
    if pa.types.is_floating(t) or pa.types.is_boolean(t):
        values = values.cast(pa.string())
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    indices = values.indices.to_numpy(zero_copy_only=False)
    dictionary = values.dictionary
    # A dictionary may hold repeats (unified chunks, or values made equal by a transform).
    if len(dictionary) and len(pc.unique(dictionary)) != len(dictionary):
        remap, card = dense_codes(dictionary)
    else:
        remap, card = np.arange(len(dictionary), dtype=np.int64), len(dictionary)
    if values.null_count:
        valid = values.is_valid().to_numpy(zero_copy_only=False)
        codes = np.full(len(values), card, dtype=np.int64)
        codes[valid] = remap[indices[valid].astype(np.int64)]
        return codes, card + 1
    return remap[indices.astype(np.int64)], card


@dataclass(frozen=True)
class EquivalenceClasses:
    """Records grouped by their QI values.

    Attributes:
        qi: the field names, in order.
        row_class: class id of every record (int64, 0..classes-1).
        sizes: size of every class (int64).
    """

    qi: tuple[str, ...]
    row_class: np.ndarray
    sizes: np.ndarray

    @property
    def records(self) -> int:
        return int(self.row_class.shape[0])

    @property
    def classes(self) -> int:
        return int(self.sizes.shape[0])

    def row_sizes(self) -> np.ndarray:
        """The size of each record's class (its prosecutor risk is 1 / this)."""
        return self.sizes[self.row_class]

    def histogram(self) -> np.ndarray:
        """``h[i]`` = number of classes of size ``i`` (``h[0] == 0``)."""
        return np.bincount(self.sizes)


def combine_codes(codes: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 key per row that is equal exactly when all the per-field codes are."""
    key, radix = codes[0][0].astype(np.int64, copy=False), codes[0][1]
    for column, card in codes[1:]:
        if radix * card >= _MAX_RADIX:
            key, radix = _compact(key)
            if radix * card >= _MAX_RADIX:  # pragma: no cover - needs > 2^31 distinct values
                raise ConfigError("too many distinct QI combinations to group")
        key = key * card + column
        radix *= card
    return key


def _compact(key: np.ndarray) -> tuple[np.ndarray, int]:
    ids, uniques = pd.factorize(key, sort=False)
    return ids.astype(np.int64, copy=False), len(uniques)


def group(columns: Sequence[pa.Array], names: Sequence[str]) -> EquivalenceClasses:
    """Equivalence classes of the rows of ``columns`` (equal-length arrays)."""
    key = combine_codes([dense_codes(c) for c in columns])
    row_class, classes = _compact(key)
    sizes = np.bincount(row_class, minlength=classes).astype(np.int64, copy=False)
    return EquivalenceClasses(qi=tuple(names), row_class=row_class, sizes=sizes)


def equivalence_classes(
    table: pa.Table, qi: str | Sequence[str], path: str | Path | None = None
) -> EquivalenceClasses:
    """Group the rows of ``table`` by the QI fields ``qi`` (see :func:`parse_qi`)."""
    fields = parse_qi(qi)
    if table.num_rows == 0:
        raise InputError(path, "the file has no rows")
    return group([field_values(table, f, path) for f in fields], [f.name for f in fields])
