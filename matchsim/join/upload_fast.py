"""The upload's fast path: a plain UTF-8 CSV of hex digests read in one scan of its bytes.

:func:`read_fast` maps the file, cuts it at newlines into pieces (one scan per thread,
:mod:`matchsim.kernels.csvhex`), and gives what the Arrow path of
:func:`~matchsim.join.upload.read_upload` gives: per field the digests and validity, the
refused values counted under the same reasons, and the text of the columns it needs as
text (fields sent in clear, the customer id). Cells Arrow reads as null (empty, or one of
Arrow's null spellings such as ``NA``) are "no value" here too.

It returns ``None`` — read the file with Arrow — for anything it does not handle exactly:
Parquet, another encoding, quoted line breaks or doubled quotes, a lone ``\\r``, a blank
line, a row with the wrong number of fields, a byte over 127 outside a text column, text
that is not valid UTF-8. Every error message therefore still comes from the Arrow path.
"""

from __future__ import annotations

import contextlib
import mmap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from matchsim.io import TableSource
from matchsim.kernels import csvkinds
from matchsim.kernels.attack import drive
from matchsim.kernels.hextable import hex_pairs
from matchsim.normalise import Profile
from matchsim.schemes import Digests, Scheme

ARROW_NULLS = pa.array(pacsv.ConvertOptions().null_values, pa.string())
"""Cells Arrow's CSV reader (``strings_can_be_null``) reads as null."""

MIN_PIECE = 1 << 20
"""Bytes: pieces smaller than this are not worth a thread."""


@dataclass
class FastRead:
    """What the scan found: the digests of the hex fields, per field its refused values
    counted per ``"<field>: <reason>"``, and the text columns (fields in clear, customer
    ids)."""

    rows: int
    digests: dict[str, Digests]
    rejected: dict[str, Counter[str]]
    text: pa.Table


def read_fast(
    source: TableSource, columns: Mapping[str, str], keep_text: Sequence[str],
    profile: Profile, scheme: Scheme,
) -> FastRead | None:  # fmt: skip
    """Scan ``source`` (a CSV opened by :func:`matchsim.io.open_table`); ``None``: use Arrow.

    Args:
        columns: field -> upload column, as :func:`~matchsim.join.upload.map_upload_columns`.
        keep_text: other columns wanted as text (the customer id).
    """
    if not _scannable(source):
        return None
    hex_ok = scheme.encoding in ("hex", "HEX")
    by_column = {c: f for f, c in columns.items()}
    kinds = np.zeros(len(source.header), dtype=np.int64)
    for i, name in enumerate(source.header):
        if name in by_column:
            hashed = profile.fields[by_column[name]].hashed
            kinds[i] = csvkinds.HEX if hashed and hex_ok else csvkinds.TEXT
        elif name in keep_text:
            kinds[i] = csvkinds.TEXT
    with _mapped(source.path) as buf:
        return _scan_file(buf, source, kinds, by_column, scheme)


def _scannable(source: TableSource) -> bool:
    """Whether the scan reads ``source``: a UTF-8 CSV whose delimiter is one ASCII byte
    other than a quote or a line end."""
    delim = source.delimiter
    return (
        source.format == "csv" and source.encoding == "utf-8" and len(delim) == 1
        and delim not in '"\r\n' and ord(delim) <= 127
    )  # fmt: skip


class _mapped:
    """The file's bytes as a read-only uint8 array (memory-mapped)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> np.ndarray:
        with open(self.path, "rb") as fh:
            self.mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        return np.frombuffer(self.mm, dtype=np.uint8)

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(BufferError):  # an array still views it: closes with it
            self.mm.close()


def _pieces(buf: np.ndarray, start: int) -> np.ndarray:
    """Piece boundaries: ``start``, then just past a newline near each even split, end."""
    size = len(buf) - start
    n = max(1, min(4 * drive.threads(), size // MIN_PIECE))
    bounds = [start]
    for t in range(1, n):
        at = start + size * t // n
        lf = np.flatnonzero(buf[at : at + MIN_PIECE] == 10)
        if len(lf) and at + int(lf[0]) + 1 > bounds[-1]:
            bounds.append(at + int(lf[0]) + 1)
    bounds.append(len(buf))
    return np.array(bounds, dtype=np.int64)


@dataclass
class _Scanned:
    """:func:`_scan`'s arrays: per located column (hex columns first, then text) its
    ``slots`` index into ``status``/``starts``/``lengths``, and each hex column's
    ``digests``."""

    rows: int
    slots: np.ndarray
    digests: np.ndarray
    status: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray


def _scan(
    buf: np.ndarray, delimiter: str, kinds: np.ndarray, size: int, encoding: str,
    algo: int | None = None,
) -> _Scanned | None:  # fmt: skip
    """One :func:`matchsim.kernels.csvhex.scan` of the file's rows after its header line
    (``None``: the scan gave up, read the file with Arrow): compiled ahead of time in
    ``algo``'s module where that is built (:func:`matchsim.kernels.aot.csv_scan`; numba
    is not loaded), else the JIT kernels."""
    head = bytes(buf[: 1 << 16])
    eol = head.find(b"\n")
    if eol < 0 or head[:eol].count(b'"') % 2:
        return None  # no line end in the first 64 KiB, or a quoted line break in the header
    bounds = _pieces(buf, eol + 1)
    kernels = _kernels(algo, buf, kinds)
    capacity = kernels.count_rows(buf, bounds)
    n = int(capacity.sum())
    row0 = np.concatenate([[0], np.cumsum(capacity)[:-1]]).astype(np.int64)
    slots = np.full(len(kinds), -1, dtype=np.int64)
    hex_cols = np.flatnonzero(kinds == csvkinds.HEX)
    text_cols = np.flatnonzero(kinds == csvkinds.TEXT)
    slots[hex_cols] = np.arange(len(hex_cols))
    slots[text_cols] = len(hex_cols) + np.arange(len(text_cols))
    located = len(hex_cols) + len(text_cols)
    digests = np.empty((len(hex_cols), n, size), dtype=np.uint8)
    status = np.empty((located, n), dtype=np.uint8)
    starts = np.empty((located, n), dtype=np.int64)
    lengths = np.empty((located, n), dtype=np.int64)
    pairs = hex_pairs(encoding if encoding in ("hex", "HEX") else "hex")
    got = kernels.scan(
        buf, bounds, row0, ord(delimiter), kinds, slots, size, pairs,
        digests, status, starts, lengths,
    )  # fmt: skip
    if (got != capacity).any():
        return None
    return _Scanned(n, slots, digests, status, starts, lengths)


def _kernels(algo: int | None, buf: np.ndarray, kinds: np.ndarray) -> Any:
    """What runs the scan: ``count_rows`` and ``scan`` compiled in ``algo``'s module
    where built, else :mod:`matchsim.kernels.csvhex` (numba, loaded only now)."""
    if algo is not None:
        from matchsim.kernels import aot

        compiled = aot.csv_scan(algo, buf, kinds)
        if compiled is not None:
            return compiled
    from matchsim.kernels import csvhex

    return csvhex


def _scan_rows(
    buf: np.ndarray, delimiter: str, kinds: np.ndarray, size: int, algo: int | None = None
) -> _Scanned | None:
    """:func:`_scan` of lower-case hex, or None for a file without rows (the Arrow path
    says so) or one the scan gives up on."""
    if len(buf) == 0:
        return None
    got = _scan(buf, delimiter, kinds, size, "hex", algo)
    return None if got is None or got.rows == 0 else got


def read_hex_column(
    source: TableSource, column: str, size: int, algo: int | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """One column of lower-case hex digests of ``size`` bytes, from a CSV opened by
    :func:`matchsim.io.open_table`: ``(digests (n, size) uint8, status (n,) uint8)``, the
    status :data:`~matchsim.kernels.csvkinds.NULL` (empty), ``DECODED`` or ``PRESENT``
    (anything else). ``None``: a file the scan does not handle (read it with Arrow).
    ``algo``: the hash algorithm whose ahead-of-time module may run the scan
    (:func:`_kernels`)."""
    if not _scannable(source) or column not in source.header:
        return None
    kinds = np.zeros(len(source.header), dtype=np.int64)
    kinds[source.header.index(column)] = csvkinds.HEX
    with _mapped(source.path) as buf:
        got = _scan_rows(buf, source.delimiter, kinds, size, algo)
        return None if got is None else (got.digests[0], got.status[0])


def _scan_file(
    buf: np.ndarray, source: TableSource, kinds: np.ndarray, by_column: Mapping[str, str],
    scheme: Scheme,
) -> FastRead | None:  # fmt: skip
    head = bytes(buf[: 1 << 16])
    if head.find(b"\n") < 0 and len(buf) == len(head):
        return _empty(source, kinds)
    size = scheme.digest_size
    scanned = _scan(buf, source.delimiter, kinds, size, scheme.encoding)
    if scanned is None:
        return None
    n, slots, digests, status = scanned.rows, scanned.slots, scanned.digests, scanned.status
    starts, lengths = scanned.starts, scanned.lengths
    hex_cols = np.flatnonzero(kinds == csvkinds.HEX)
    text_cols = np.flatnonzero(kinds == csvkinds.TEXT)
    rejected: dict[str, Counter[str]] = {}
    out: dict[str, Digests] = {}
    for c in hex_cols:
        name = source.header[c]
        k = int(slots[c])
        out[by_column[name]] = Digests(digests[k], status[k] == csvkinds.DECODED)
        bad = np.flatnonzero(status[k] == csvkinds.PRESENT)
        if len(bad):
            from matchsim.join.upload import classify_text

            cells = _cells(buf, starts[k], lengths[k], bad, np.ones(len(bad), bool))
            if cells is None:
                return None
            _, reasons = classify_text(cells, size, scheme.encoding)
            field = by_column[name]
            counts = Counter(reasons.drop_null().to_pylist())
            rejected[field] = Counter({f"{field}: {r}": c for r, c in counts.items()})
    text: dict[str, pa.Array] = {}
    for c in text_cols:
        k = int(slots[c])
        present = status[k] == csvkinds.PRESENT
        cells = _cells(buf, starts[k], lengths[k], np.arange(n), present)
        if cells is None:
            return None
        text[source.header[c]] = cells
    return FastRead(n, out, rejected, pa.table(text) if text else pa.table({}))


def _empty(source: TableSource, kinds: np.ndarray) -> FastRead:
    return FastRead(0, {}, {}, pa.table({}))


def _cells(
    buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, rows: np.ndarray,
    present: np.ndarray,
) -> pa.Array | None:  # fmt: skip
    """The cells ``rows`` as Arrow reads them (null where absent or an Arrow null
    spelling); ``None`` if they are not valid UTF-8."""
    from matchsim.kernels import csvhex

    offsets, data = csvhex.gather_cells(buf, starts, lengths, rows)
    validity = pa.py_buffer(np.packbits(present, bitorder="little"))
    if offsets[-1] < (1 << 31):
        array = pa.StringArray.from_buffers(
            len(rows), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data), validity
        )
    else:
        array = pa.LargeStringArray.from_buffers(
            len(rows), pa.py_buffer(offsets), pa.py_buffer(data), validity
        )
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return None
    spelled = pc.is_in(array, value_set=ARROW_NULLS)
    if pc.any(spelled).as_py():
        array = pc.if_else(spelled, pa.scalar(None, array.type), array)
    return array


@dataclass(frozen=True)
class Columns:
    """Every column of a CSV from one scan (:func:`read_columns`): ``digests`` holds each
    column of hex digests whose every cell decoded or was empty, as ``(digests (n, size)
    uint8, decoded (n,) bool)``; ``text`` every other column as Arrow reads it."""

    rows: int
    digests: dict[str, tuple[np.ndarray, np.ndarray]]
    text: dict[str, pa.Array]


def read_columns(source: TableSource, hex_columns: Sequence[str], size: int) -> Columns | None:
    """Every column of a CSV opened by :func:`matchsim.io.open_table`, in one scan of its
    bytes: ``hex_columns`` decoded as lower-case hex digests of ``size`` bytes where each
    of their cells is one or is empty (else read as text, like the other columns).
    ``None``: a file the scan does not handle (read it with Arrow)."""
    if not _scannable(source):
        return None
    if len(set(source.header)) != len(source.header):
        return None  # a name twice: Arrow's table keeps both, a mapping cannot
    first = np.array(
        [csvkinds.HEX if name in hex_columns else csvkinds.TEXT for name in source.header],
        dtype=np.int64,
    )
    with _mapped(source.path) as buf:
        got = _scan_rows(buf, source.delimiter, first, size)
        if got is None:
            return None
        n = got.rows
        digests: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for c, name in enumerate(source.header):
            k = int(got.slots[c])
            if first[c] == csvkinds.HEX and not bool(np.any(got.status[k] == csvkinds.PRESENT)):
                digests[name] = (got.digests[k], got.status[k] == csvkinds.DECODED)
        # The rest as text; a scan locates a hex column's cells only where they do not
        # decode, so a column with some that do not is located again, as text.
        kinds = np.array(
            [csvkinds.SKIP if name in digests else csvkinds.TEXT for name in source.header],
            dtype=np.int64,
        )
        if any(kinds[c] == csvkinds.TEXT and k == csvkinds.HEX for c, k in enumerate(first)):
            got = _scan(buf, source.delimiter, kinds, size, "hex")
            if got is None or got.rows != n:
                return None
        text: dict[str, pa.Array] = {}
        for c, name in enumerate(source.header):
            if kinds[c] == csvkinds.TEXT:
                k = int(got.slots[c])
                present = got.status[k] != csvkinds.NULL
                cells = _cells(buf, got.starts[k], got.lengths[k], np.arange(n), present)
                if cells is None:
                    return None
                text[name] = cells
        return Columns(n, digests, text)
