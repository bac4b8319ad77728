"""Every table matchsim reads and every file it writes goes through this module.

Reading (:func:`open_table`, :func:`read_table`): CSV or Parquet, the same rules and the
same messages for every verb.

* **Encoding.** A UTF-8 byte-order mark means UTF-8; a UTF-16 mark (``FF FE`` / ``FE FF``)
  means UTF-16. Without a mark the file is UTF-8 if its first 64 KiB decode as UTF-8,
  otherwise Windows-1252 (what Excel writes on Western-European Windows); the reader says
  which it chose (:attr:`TableSource.encoding`). UTF-16 without a mark and NUL bytes are
  refused (a binary file, not text).
* **Delimiter.** The one of ``,`` ``;`` tab ``|`` that splits the first 20 lines into the
  same number of fields (most fields wins; a single column is comma-separated).
* **Lines.** ``\\n``, ``\\r\\n`` and a lone ``\\r`` all end a row; quoted values may hold
  newlines.
* **Header.** The first row names the columns; names are trimmed; an empty name becomes
  ``column N``; a name used twice is an error (which value would we take?).
* **Parquet.** Columns of text, numbers, dates or dictionaries of those; list, struct,
  map and binary columns are refused with the column's name.

Writing (:func:`output_files`, :func:`prepare_folder` / :func:`finish_folder`): outputs are
written beside their final name as ``.NAME.partial-PID``, flushed to disk, and renamed
into place only when everything is written; a group of files (an upload, its rejects and
its summary) is renamed together or not at all. :func:`check_paths` refuses an output
that is, or is inside, an input, or that another output of the same command also names.
``--force`` replaces only a folder that matchsim wrote (it carries a matchsim manifest),
never ``.``, ``/``, the home folder, an ancestor of the working folder or of an input.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from matchsim.errors import InputError, OutputError

HEAD_BYTES = 1 << 16
BLOCK_BYTES = 1 << 24
DELIMITERS = (",", ";", "\t", "|")
PARQUET_SUFFIXES = (".parquet", ".pq")
MANIFESTS = ("manifest.json", "join.json", "results.json")
"""A folder holding one of these, written by matchsim, is one that ``--force`` may replace."""


# --------------------------------------------------------------------------- messages


PATH_LIMIT = 1024
"""A path is shown whole up to this many characters: a path cut short cannot be found."""


def shown(text: object, limit: int = 80) -> str:
    """``text`` safe to print in a one-line message: control and invisible format
    characters escaped (no terminal escape injection), cut to ``limit`` characters
    (a path object to at least :data:`PATH_LIMIT`: the user has to find the file)."""
    if isinstance(text, os.PathLike):
        limit = max(limit, PATH_LIMIT)
    out = []
    for ch in str(text):
        if ch == " " or (ch.isprintable() and unicodedata.category(ch) != "Cf"):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    value = "".join(out)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- reading


@dataclass
class TableSource:
    """An opened table: its columns, how it was read, and its record batches."""

    path: Path
    header: list[str]
    batches: Iterator[pa.RecordBatch]
    format: str = "csv"
    encoding: str = "utf-8"
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)


def is_parquet(path: Path) -> bool:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


UNREADABLE_PARQUET = "is not a readable Parquet file"
"""Why a population's Parquet file is refused, in every process that reads it (the join's
platform reader, the register an experiment draws), so a run names it the same way
whichever meets it first."""


def read_parquet(
    path: str | os.PathLike[str], columns: Sequence[str] | None = None,
    required: Sequence[str] = (),
) -> pa.Table:  # fmt: skip
    """``pyarrow.parquet.read_table(path, columns=columns)`` with the one-line errors of
    matchsim's other readers, for the Parquet files a population folder holds (a
    platform, customer or truth table handed to ``join``, ``reidentify``, ``run``...):
    a file that is missing or unreadable, one that is not Parquet
    (:data:`UNREADABLE_PARQUET`), and a column of ``columns`` or ``required`` it does
    not have (named).

    Raises:
        InputError: as above; never Arrow's own exception.
    """
    import pyarrow.parquet as pq

    p = Path(path)
    names = parquet_schema(p).names
    missing = [c for c in [*(columns or ()), *required] if c not in names]
    if missing:
        raise InputError(
            shown(p), f"has no {shown(missing[0])} column (found: {shown(', '.join(names))})"
        )
    try:
        return pq.read_table(p, columns=None if columns is None else list(columns))
    except (pa.ArrowInvalid, OSError):
        raise InputError(shown(p), UNREADABLE_PARQUET) from None


ID_COLUMNS = ("uid", "cid")
"""A population's person keys (platform user, customer): integers, once per file."""


def check_population_columns(path: str | os.PathLike[str], schema: pa.Schema) -> None:
    """Refuse a population file whose ``uid`` or ``cid`` column appears twice or holds
    anything but integers (what ``matchsim generate`` writes), or with a column of a kind
    no reader takes (binary, list, struct, map), naming the column.

    Raises:
        InputError: as above.
    """
    for name in ID_COLUMNS:
        at = schema.get_all_field_indices(name)
        if len(at) > 1:
            raise InputError(shown(path), f"column name {name!r} appears twice; rename one")
        kind = schema.field(at[0]).type if at else None
        if kind is not None and not pa.types.is_signed_integer(kind):
            raise InputError(
                shown(path), f"holds {shown(str(kind))} values; matchsim reads signed integer "
                "ids here (int64, as matchsim generate writes)",
                column=name,
            )  # fmt: skip
    refuse_kinds(path, schema)


def population_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """A population folder's ``manifest.json``, checked for what a run reads from it: the
    platform's user count, the country (a region ``phonenumbers`` knows) and the seed.

    Raises:
        InputError: the file is missing, not JSON, or lacks (or mistypes) one of them.
    """
    import phonenumbers

    path = Path(folder) / "manifest.json"
    check_file(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        why = "is not a JSON manifest (matchsim generate writes one)"
        raise InputError(shown(path), why) from None
    except OSError as exc:
        raise InputError(shown(path), f"cannot be read ({exc.strerror or exc})") from None
    counts = data.get("counts") if isinstance(data, dict) else None
    if not isinstance(counts, dict):
        raise InputError(shown(path), "has no counts.platform_users (a whole number)")
    for key, value in counts.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InputError(
                shown(path), f"counts.{shown(key)} is {shown(repr(value))}, not a whole number"
            )
    for key in ("platform_users", "customers"):
        if key not in counts:
            raise InputError(shown(path), f"has no counts.{key} (a whole number)")
    params = data.get("parameters")
    country = params.get("country") if isinstance(params, dict) else None
    if not isinstance(country, str) or country.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise InputError(
            shown(path), f"parameters.country {shown(repr(country))} is not a country code "
            "such as NL, DE or US",
        )  # fmt: skip
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(shown(path), f"seed {shown(repr(seed))} is not a whole number")
    return dict(data)


def check_ids_once(path: str | os.PathLike[str], column: str) -> None:
    """:func:`check_ids` of column ``column`` of a population file, read alone."""
    check_ids(read_parquet(path, [column]).column(column), path, column)


def check_ids(ids: pa.Array | pa.ChunkedArray, path: str | os.PathLike[str], column: str) -> None:
    """Refuse person ids (column ``column`` of the population file ``path``: a platform's
    ``uid``, a customer file's ``cid``) of which one is missing, negative (-1 stands for
    "no platform user" in evaluation) or on two rows: a join would count one user twice,
    a register would name the wrong person.

    Raises:
        InputError: naming the file, the column, and how many rows have no id (and the
            first), or the negative id, or an id that repeats and how many do.
    """
    import numpy as np

    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if ids.null_count:
        first = int(np.flatnonzero(np.asarray(ids.is_null().to_numpy(zero_copy_only=False)))[0])
        n = ids.null_count
        raise InputError(
            shown(path), f"{n:,} {'row has' if n == 1 else 'rows have'} no {column} (every "
            f"person has one; the first is row {first + 1:,})",
            column=column,
        )  # fmt: skip
    values = np.asarray(ids.to_numpy(), dtype=np.int64)
    if len(values) == 0:
        return
    lo, hi = int(values.min()), int(values.max())
    if lo < 0:
        raise InputError(
            shown(path), f"id {lo} is negative; person ids are whole numbers from 0",
            column=column,
        )  # fmt: skip
    if hi - lo < 8 * len(values):  # ids of a generated population: 0..n-1, one byte each
        seen = np.zeros(hi - lo + 1, dtype=np.uint8)
        seen[values - lo] = 1
        if int(seen.sum()) == len(values):
            return
    ordered = np.sort(values)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return
    extra = int(same.sum())
    raise InputError(
        shown(path), f"id {int(ordered[1:][same][0])} appears on more than one row "
        f"({extra:,} {'row repeats an id' if extra == 1 else 'rows repeat an id'}); "
        "every person has one id of their own",
        column=column,
    )  # fmt: skip


def parquet_schema(path: str | os.PathLike[str]) -> pa.Schema:
    """A population file's schema, with :func:`read_parquet`'s errors: the file checked
    (:func:`check_file`), its footer read, its columns checked
    (:func:`check_population_columns`)."""
    import pyarrow.parquet as pq

    p = Path(path)
    check_file(p)
    try:
        schema = pq.read_schema(p)
    except (pa.ArrowInvalid, OSError):
        raise InputError(shown(p), UNREADABLE_PARQUET) from None
    check_population_columns(p, schema)
    return schema


def parquet_names(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a population file (:func:`parquet_schema`)."""
    return list(parquet_schema(path).names)


def check_file(path: Path) -> None:
    """Refuse an input that is missing, a folder, not a regular file (a FIFO would block
    the reader forever) or unreadable, with one line naming it."""
    if not path.exists():
        raise InputError(shown(path), "does not exist")
    if path.is_dir():
        raise InputError(shown(path), "is a folder, not a file")
    if not path.is_file():
        raise InputError(shown(path), "is not a regular file")
    if not os.access(path, os.R_OK):
        raise InputError(shown(path), "cannot be read (permission denied)")


def _check_names(path: Path, header: list[str]) -> list[str]:
    names = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(header, start=1):
        name = raw.strip() or f"column {i}"
        if name in seen:
            raise InputError(
                shown(path),
                f"column name {shown(name)!r} appears twice (columns {seen[name]} and {i}); "
                "rename one",
            )
        seen[name] = i
        names.append(name)
    return names


def _encoding_of(path: Path, raw: bytes) -> tuple[str, int]:
    """(Python codec name, bytes of byte-order mark) by the rule in the module text."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    for bom, order in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            body = raw[2 : 2 + 4096]
            text = body[: len(body) // 2 * 2].decode(order, errors="replace")
            first = (text.splitlines() or [""])[0]
            if sum(c < "\x80" for c in first) * 2 < len(first) or "\ufffd" in first:
                raise InputError(
                    shown(path),
                    f"is not UTF-8 text, nor readable UTF-16 (it starts with a UTF-16 "
                    f"byte-order mark but its header does not decode as {order[-2:].upper()}); "
                    "save it as 'CSV UTF-8'",
                )
            return order, 2
    nul = raw.find(b"\x00")
    if nul >= 0:
        even = raw[0::2].count(0)
        odd = raw[1::2].count(0)
        if max(even, odd) > len(raw) // 4:
            raise InputError(
                shown(path),
                "looks like UTF-16 text without a byte-order mark; save it as 'CSV UTF-8'",
            )
        line = raw[:nul].count(b"\n") + 1
        raise InputError(
            shown(path), "holds a NUL byte; it is a binary file, not CSV text", row=line
        )
    try:
        raw.decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4 and len(raw) == HEAD_BYTES:
            return "utf-8", 0  # a character cut by the 64 KiB window
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        raise InputError(
            shown(path), "is neither UTF-8 nor Windows-1252 text; save it as 'CSV UTF-8'"
        ) from None
    return "cp1252", 0


def _delimiter(lines: list[str]) -> str:
    """The delimiter that splits ``lines`` consistently into the most fields."""
    best, best_fields = ",", 1
    for d in DELIMITERS:
        try:
            counts = {len(row) for row in csv.reader(lines, delimiter=d) if row}
        except csv.Error:
            continue
        if len(counts) == 1:
            n = counts.pop()
            if n > best_fields:
                best, best_fields = d, n
    if best_fields == 1 and lines:
        # No delimiter is consistent (ragged rows): the one the header uses most.
        top = max(DELIMITERS, key=lines[0].count)
        if lines[0].count(top):
            best = top
    return best


def _csv(path: Path, header_row: bool | Callable[[list[str]], bool] = True) -> TableSource:
    try:
        with path.open("rb") as fh:
            raw = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise InputError(shown(path), f"cannot be read ({exc.strerror})") from None
    if not raw.strip():
        raise InputError(shown(path), "is empty")
    encoding, bom = _encoding_of(path, raw)
    body = raw[bom:]
    if encoding.startswith("utf-16"):
        body = body[: len(body) // 2 * 2]
    head = body.decode(encoding, errors="ignore")
    if not head.strip():
        raise InputError(shown(path), "is empty")
    lines = head.splitlines()
    if len(raw) == HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the window
    if not lines[0].strip():
        raise InputError(shown(path), "the first line (the header) is empty", row=1)
    delimiter = _delimiter(lines[:20])
    try:
        header = next(csv.reader([lines[0]], delimiter=delimiter))
    except csv.Error as exc:
        raise InputError(shown(path), f"the header cannot be read ({exc})", row=1) from None
    if callable(header_row):
        header_row = header_row([h.strip() for h in header])
    names = _check_names(path, header) if header_row else [f"f{i}" for i in range(len(header))]
    # A byte-order mark sits in the first row, which Arrow skips as the header (or, in a
    # file without one, Arrow's UTF-8 reader drops itself).
    arrow_encoding = {"utf-8": "utf8"}.get(encoding, encoding)
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names,
                skip_rows=1 if header_row else 0,
                block_size=BLOCK_BYTES,
                encoding=arrow_encoding,
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in names}, strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, LookupError) as exc:
        raise InputError(shown(path), _arrow_reason(exc, encoding)) from None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            raise InputError(shown(path), _arrow_reason(exc, encoding)) from None

    notes = []
    if encoding == "cp1252":
        notes.append(f"{path.name} is not UTF-8; read as Windows-1252")
    return TableSource(path, names, batches(), "csv", encoding, delimiter, notes)


def _arrow_reason(exc: BaseException, encoding: str = "utf-8") -> str:
    text = _first_line(exc)
    if isinstance(exc, UnicodeDecodeError) or "UTF8" in text or "utf8" in text.lower():
        if encoding == "utf-8":
            return "is not valid UTF-8 text (past its first 64 KiB); save it as 'CSV UTF-8'"
        return f"is not valid {encoding} text; save it as 'CSV UTF-8'"
    m = re.search(r"Expected (\d+) columns, got (\d+)", text)
    if m:
        return f"a row has {m.group(2)} fields where the header has {m.group(1)}"
    if "straddling" in text or "block" in text.lower():
        return f"a row is longer than {BLOCK_BYTES >> 20} MiB; is this a CSV file?"
    return f"is not a readable CSV file ({shown(text)})"


_REFUSED_TYPES = (
    (pa.types.is_binary, "binary"),
    (pa.types.is_large_binary, "binary"),
    (pa.types.is_fixed_size_binary, "binary"),
    (pa.types.is_list, "list"),
    (pa.types.is_large_list, "list"),
    (pa.types.is_fixed_size_list, "list"),
    (pa.types.is_struct, "struct"),
    (pa.types.is_map, "map"),
)


def refuse_kinds(
    path: str | os.PathLike[str], schema: pa.Schema, columns: Sequence[str] | None = None,
    allow_binary: bool = False,
) -> None:  # fmt: skip
    """Refuse a Parquet column (of ``columns``, or any) of a kind no reader takes
    (:data:`_REFUSED_TYPES`; binary allowed with ``allow_binary``), naming it.

    Raises:
        InputError: as above.
    """
    for f in schema:
        if columns is not None and f.name not in columns:
            continue
        t = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        for test, label in _REFUSED_TYPES:
            if test(t) and not (allow_binary and label == "binary"):
                raise InputError(
                    shown(path),
                    f"holds {label} values ({shown(str(t))}); matchsim reads text and number "
                    "columns",
                    column=shown(f.name),
                )


def _parquet(
    path: Path, columns: Sequence[str] | None = None, allow_binary: bool = False
) -> TableSource:
    import pyarrow.parquet as pq  # here: an upload is usually a CSV or text file

    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(
            shown(path), f"is not a readable Parquet file ({shown(_first_line(exc))})"
        ) from None
    names = list(schema.names)
    _check_names(path, names)
    refuse_kinds(path, schema, columns, allow_binary)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from pf.iter_batches(batch_size=1_000_000, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                shown(path), f"is not a readable Parquet file ({shown(_first_line(exc))})"
            ) from None

    return TableSource(path, names, batches(), "parquet", "", "")


def open_table(
    path: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    *,
    header: bool | Callable[[list[str]], bool] = True,
    allow_binary: bool = False,
) -> TableSource:
    """Open a CSV or Parquet table by the rules above; batches stream on demand.

    Args:
        columns: Parquet only: read (and type-check) only these columns.
        header: CSV only: whether the first row names the columns (else they are named
            ``f0``, ``f1``…), or a function of the first row's fields that decides.
        allow_binary: Parquet only: accept binary columns (digests as bytes, for a
            reader that only compares values, such as ``risk``).

    Raises:
        InputError: missing, unreadable, empty, binary, badly encoded, duplicate column
            names, refused column types; rows that do not parse (while iterating).
    """
    p = Path(path)
    check_file(p)
    if is_parquet(p):
        return _parquet(p, columns, allow_binary)
    return _csv(p, header)


def read_table(
    path: str | os.PathLike[str],
    *,
    require_rows: bool = True,
    columns: Sequence[str] | None = None,
    header: bool | Callable[[list[str]], bool] = True,
    allow_binary: bool = False,
) -> pa.Table:
    """The whole table (CSV columns as text). ``require_rows``: a header alone is an error."""
    src = open_table(path, columns, header=header, allow_binary=allow_binary)
    batches = list(src.batches)
    if batches:
        table = pa.Table.from_batches(batches)
    else:
        table = pa.table({h: pa.array([], pa.string()) for h in src.header})
    if require_rows and table.num_rows == 0:
        raise InputError(shown(src.path), "has a header but no rows")
    return table


# --------------------------------------------------------------------------- path rules


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:  # a hard link: another name for the same file
        return a.is_file() and b.is_file() and os.path.samefile(a, b)
    except OSError:
        return False


def _inside(child: Path, parent: Path) -> bool:
    return _same(child, parent) or parent in child.parents


def check_paths(
    outputs: dict[str, str | os.PathLike[str] | None],
    inputs: dict[str, str | os.PathLike[str] | None],
) -> None:
    """Refuse an output that is (or is inside) an input, contains an input, or that two
    options name. ``outputs``/``inputs``: option label -> path (None: not given).

    Raises:
        OutputError: naming the two options.
    """
    outs = {k: _real(v) for k, v in outputs.items() if v is not None}
    ins = {k: _real(v) for k, v in inputs.items() if v is not None}
    for o_label, o in outs.items():
        for i_label, i in ins.items():
            if _inside(o, i):
                raise OutputError(
                    f"{o_label} {shown(outputs[o_label])} "
                    f"{'is' if _same(o, i) else 'is inside'} {i_label}; "
                    "matchsim never writes over an input"
                )
            if _inside(i, o):
                raise OutputError(
                    f"{o_label} {shown(outputs[o_label])} holds {i_label}; "
                    "matchsim never writes over an input"
                )
    labels = list(outs)
    for a in range(len(labels)):
        for b in range(a + 1, len(labels)):
            if outs[labels[a]] == outs[labels[b]]:
                raise OutputError(
                    f"{labels[a]} and {labels[b]} name the same file "
                    f"{shown(outputs[labels[a]])}; give each output its own path"
                )


def is_matchsim_folder(folder: Path) -> bool:
    """True when ``folder`` carries a manifest matchsim wrote (``matchsim_version`` in it)."""
    for name in MANIFESTS:
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "matchsim_version" in data:
            return True
    return False


def check_not_precious(out: str | os.PathLike[str], what: str = "--out cannot be") -> None:
    """Refuse ``/``, the home folder, the working folder and its ancestors as an output
    folder: replacing them would destroy everything in them.

    Raises:
        OutputError
    """
    real = _real(out)
    cwd = _real(Path.cwd())
    home = _real(Path.home())
    if real == Path(real.anchor) or real == home or _inside(cwd, real):
        raise OutputError(
            f"{what} {shown(out)}: it is the root, the home folder, or the working folder "
            "(or holds it); give --out a folder of its own"
        )


def check_force(out: Path, inputs: Sequence[str | os.PathLike[str]] = ()) -> None:
    """May ``--force`` replace the existing folder ``out``?

    Raises:
        OutputError: ``out`` is ``/``, the home folder, the working folder or one of its
            ancestors, an input or an ancestor of one, a folder matchsim did not write, or
            a folder that cannot be deleted.
    """
    check_not_precious(out, "--force will not replace")
    real = _real(out)
    for i in inputs:
        if _inside(_real(i), real):
            raise OutputError(
                f"--force will not replace {shown(out)}: it holds the input {shown(i)}"
            )
    if not is_matchsim_folder(real):
        raise OutputError(
            f"--force will not replace {shown(out)}: it is not a folder matchsim wrote "
            "(no matchsim manifest in it); remove it yourself or choose another --out"
        )
    for root, dirs, _files in os.walk(real):
        for d in [root, *(os.path.join(root, x) for x in dirs)]:
            if not os.access(d, os.W_OK | os.X_OK):
                raise OutputError(
                    f"--force cannot replace {shown(out)}: {shown(d)} is not writable"
                )
    if not os.access(real.parent, os.W_OK | os.X_OK):
        raise OutputError(f"--force cannot replace {shown(out)}: its parent is not writable")


def check_files(outputs: dict[str, Path | None], force: bool, ours: Callable[[Path], bool]) -> None:
    """May a command write these single files? (Checked before any work is done.)

    A file that does not exist yet may always be written. One that exists is replaced
    only with ``force``, and then only when ``ours(path)`` says matchsim wrote it (an
    upload beside its summary, a plaintext CSV with matchsim's header, a lookup table
    with matchsim's metadata): ``--force`` never replaces someone else's file.

    Args:
        outputs: option or description -> path (None: not asked for).

    Raises:
        OutputError: naming the option and the file.
    """
    for what, path in outputs.items():
        if path is None or not (path.exists() or path.is_symlink()):
            continue
        if path.is_dir():
            raise OutputError(f"{what} {shown(path)} is a folder; give a file name")
        if not force:
            raise OutputError(f"{what} {shown(path)} already exists (use --force to replace it)")
        if path.is_symlink() or not ours(path):
            raise OutputError(
                f"--force will not replace {shown(path)}: it is not a file matchsim wrote; "
                "remove it yourself or choose another name"
            )


def first_line_is(path: Path, line: bytes) -> bool:
    """True when the file's first line (without its line end) is exactly ``line``."""
    try:
        with path.open("rb") as fh:
            head = fh.readline(len(line) + 3)
    except OSError:
        return False
    return head.rstrip(b"\r\n") == line


# --------------------------------------------------------------------------- writing


_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(partial|old)-(?P<pid>\d+)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(parent: Path, name: str) -> None:
    """Remove ``.NAME.partial-PID`` / ``.NAME.old-PID`` left by a process that has died."""
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = _PARTIAL.match(entry.name)
        if m is None or m.group("name") != name or _alive(int(m.group("pid"))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()


def partial_path(final: Path) -> Path:
    return final.parent / f".{final.name}.partial-{os.getpid()}"


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, files in os.walk(folder):
        for f in files:
            _fsync(Path(root) / f)
        _fsync(Path(root))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while renaming, so a group of renames is never cut in two."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _writable_parent(final: Path) -> Path:
    parent = final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {shown(parent)}: {exc.strerror}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {shown(final)}: {shown(parent)} is not writable")
    return parent


def _commit(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each (tmp, final) into place; all or none (old files restored on failure)."""
    moved: list[tuple[Path, Path]] = []  # (final, backup)
    placed: list[Path] = []
    with _signals_held():
        try:
            for _tmp, final in pairs:
                if final.exists() or final.is_symlink():
                    backup = final.parent / f".{final.name}.old-{os.getpid()}"
                    os.replace(final, backup)
                    moved.append((final, backup))
            for tmp, final in pairs:
                os.replace(tmp, final)
                placed.append(final)
        except OSError as exc:
            for final in placed:
                with contextlib.suppress(OSError):
                    os.unlink(final)
            for final, backup in moved:
                with contextlib.suppress(OSError):
                    os.replace(backup, final)
            raise OutputError(f"cannot write {shown(pairs[0][1])}: {exc.strerror or exc}") from None
        for _final, backup in moved:
            if backup.is_dir() and not backup.is_symlink():
                shutil.rmtree(backup, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    backup.unlink()
        for parent in {f.parent for _t, f in pairs}:
            _fsync(parent)


@contextlib.contextmanager
def output_files(*finals: str | os.PathLike[str]) -> Iterator[list[Path]]:
    """Write a group of files atomically: yields temporary paths beside each final name;
    when the block ends without error they are flushed and renamed into place together.
    On any error, Ctrl-C or SIGTERM the temporaries are removed and nothing appears.

    Raises:
        OutputError: a final path is a folder or its folder is not writable.
    """
    paths = [Path(f) for f in finals]
    for p in paths:
        if p.is_dir():
            raise OutputError(f"cannot write {shown(p)}: it is a folder")
        remove_stale(_writable_parent(p), p.name)
    tmps = [partial_path(p) for p in paths]
    try:
        yield tmps
        for t in tmps:
            _fsync(t)
        _commit(list(zip(tmps, paths, strict=True)))
    except OSError as exc:
        raise OutputError(f"cannot write {shown(paths[0])}: {exc.strerror or exc}") from None
    finally:
        for t in tmps:
            with contextlib.suppress(OSError):
                t.unlink()


def check_folder(
    out: str | os.PathLike[str], force: bool, inputs: Sequence[str | os.PathLike[str] | None] = ()
) -> None:
    """May a command write the folder ``out``? (Checked before any work is done.)

    Raises:
        OutputError: ``out`` is (in) an input or holds one, is a file, is not empty
            (without ``force``), or may not be replaced (see :func:`check_force`).
    """
    out = Path(out)
    given = [i for i in inputs if i is not None]
    check_not_precious(out, "--force will not replace" if force else "--out cannot be")
    check_paths({"--out": out}, {f"the input {shown(i)}": i for i in given})
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {shown(out)} exists and is not a folder")
    if out.is_dir():
        try:
            empty = not any(out.iterdir())
        except OSError as exc:
            raise OutputError(f"--out {shown(out)} cannot be read ({exc.strerror})") from None
        if not empty:
            if not force:
                raise OutputError(
                    f"--out {shown(out)} already exists and is not empty "
                    "(use --force to replace it)"
                )
            check_force(out, given)


def prepare_folder(
    out: str | os.PathLike[str],
    force: bool,
    inputs: Sequence[str | os.PathLike[str] | None] = (),
    *,
    checked: bool = False,
) -> Path:
    """Check ``out`` (unless ``checked``: :func:`check_folder` ran already) and return a
    fresh ``.NAME.partial-PID`` sibling folder to write into.

    Raises:
        OutputError: see :func:`check_folder`; or the parent is not writable.
    """
    out = Path(out)
    if not checked:
        check_folder(out, force, inputs)
    parent = _writable_parent(out)
    remove_stale(parent, out.name)
    tmp = partial_path(out)
    if tmp.exists():
        shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
    except OSError as exc:
        raise OutputError(f"cannot write into {shown(parent)}: {exc.strerror}") from None
    return tmp


def finish_folder(tmp: Path, out: str | os.PathLike[str]) -> None:
    """Flush the completed temporary folder and rename it to ``out`` (replacing an old one)."""
    out = Path(out)
    _fsync_tree(tmp)
    if out.is_dir() and not any(out.iterdir()):
        with contextlib.suppress(OSError):
            out.rmdir()
    _commit([(tmp, out)])


@contextlib.contextmanager
def output_folder(
    out: str | os.PathLike[str],
    force: bool,
    inputs: Sequence[str | os.PathLike[str] | None] = (),
    *,
    checked: bool = False,
) -> Iterator[Path]:
    """``prepare_folder`` ... ``finish_folder``; the temporary folder is removed on error."""
    tmp = prepare_folder(out, force, inputs, checked=checked)
    try:
        yield tmp
        finish_folder(tmp, out)
    except OSError as exc:
        raise OutputError(f"cannot write {shown(out)}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- signals


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: unwinds like KeyboardInterrupt so every ``finally`` cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return "Ctrl-C" if self.signum == signal.SIGINT else signal.Signals(self.signum).name


def _raise_interrupted(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise :class:`Interrupted` (main thread only)."""
    previous: dict[int, Any] = {}
    try:
        for s in (signal.SIGINT, signal.SIGTERM):
            previous[s] = signal.signal(s, _raise_interrupted)
    except ValueError:  # not the main thread: leave the handlers alone
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


__all__ = [
    "Interrupted",
    "TableSource",
    "check_files",
    "check_folder",
    "check_force",
    "check_paths",
    "finish_folder",
    "first_line_is",
    "is_matchsim_folder",
    "open_table",
    "output_files",
    "output_folder",
    "prepare_folder",
    "read_table",
    "shown",
    "signals_raise",
]
