"""Normalise and hash a customer file the way one platform takes it: the library behind
``matchsim hash``.

``hash_file(path, profile="meta", scheme="sha256", region="NL", out="upload.csv")``
streams the input (CSV or Parquet) in batches, normalises each identifier field with
the profile, encodes the hashed ones with the scheme, and writes

* the upload in the platform's column layout, one row per input row (row ``i`` is input
  row ``i``; empty where the field was missing or rejected);
* a rejects file: ``row, field, column, input, action, reason`` for every value that was
  rejected or accepted-but-unmatchable;
* a summary (:class:`HashSummary`, also written as JSON): rows in, per field how many
  were hashed, missing, rejected (per reason) and accepted-but-unmatchable.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matchsim.errors import ConfigError, InputError, OutputError
from matchsim.io import check_files, check_paths, output_files, shown
from matchsim.io import open_table as read_source
from matchsim.normalise import FIELDS, INPUT_COLUMNS, Normalised, Profile, distinct, get_profile
from matchsim.schemes import Scheme, get_scheme
from matchsim.schemes._base import as_strings
from matchsim.secrets import Secret

BATCH_ROWS = 1_000_000

# Header names recognised besides matchsim's own (case-insensitive).
ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "e_mail", "mail", "email_address", "emailadres"),
    "phone": ("phone", "phone_number", "telephone", "telefoon", "mobile", "telefoonnummer"),
    "first_name": ("first_name", "firstname", "given_name", "fn", "voornaam"),
    "last_name": ("last_name", "lastname", "family_name", "surname", "ln", "achternaam"),
    "dob": ("dob", "date_of_birth", "birthdate", "geboortedatum"),
    "gender": ("gender", "sex", "geslacht"),
    "city": ("city", "ct", "woonplaats", "plaats"),
    "state": ("region", "state", "st", "province", "provincie"),
    "postcode": ("postcode", "zip", "zipcode", "postal_code", "zp"),
    "country": ("country", "land"),
    "madid": ("madid", "maid", "mobile_ad_id", "idfa", "aaid"),
}


@dataclass
class FieldSummary:
    column: str
    input_column: str
    hashed: bool
    present: int = 0
    written: int = 0
    missing: int = 0
    rejected: int = 0
    unmatchable: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class HashSummary:
    """What ``hash_file`` did; ``as_dict()`` is the JSON summary."""

    input: str
    out: str
    rejects: str
    profile: str
    region: str
    scheme: dict[str, Any]
    rows_in: int = 0
    fields: dict[str, FieldSummary] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.fields.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- input


def open_table(path: str | Path) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    """Column names and a batch iterator for a CSV or Parquet file (:mod:`matchsim.io`)."""
    src = read_source(path)
    return src.header, src.batches


def map_columns(path: str | Path, header: list[str], profile: Profile) -> dict[str, str]:
    """Field -> input column for every field the profile takes and the input has."""
    lower: dict[str, str] = {}
    for h in header:
        if h.lower() in lower:
            raise InputError(
                shown(path),
                f"columns {shown(lower[h.lower()])!r} and {shown(h)!r} differ only in case; "
                "which one holds the data? rename one",
            )
        lower[h.lower()] = h
    found: dict[str, str] = {}
    for f in profile.fields:
        for alias in (INPUT_COLUMNS[f], *ALIASES.get(f, ())):
            if alias in lower:
                found[f] = lower[alias]
                break
    if not found:
        wanted = ", ".join(INPUT_COLUMNS[f] for f in profile.fields)
        raise InputError(
            path,
            f"has no identifier column that profile {profile.name} takes "
            f"(expected one of: {wanted}; found: {shown(', '.join(header) or 'none', 200)})",
        )
    return found


# --------------------------------------------------------------------------- output


class _Writer:
    """A CSV or Parquet writer onto ``path`` (a temporary name); the format follows
    ``final``'s suffix."""

    def __init__(self, path: Path, schema: pa.Schema, final: Path | None = None) -> None:
        self.path = path
        self.schema = schema
        final = final or path
        try:
            if final.suffix.lower() in (".parquet", ".pq"):
                self._w: Any = pq.ParquetWriter(path, schema, compression="zstd")
            else:
                self._w = pacsv.CSVWriter(path, schema)
        except OSError as exc:
            raise OutputError(f"cannot write {shown(final)}: {exc.strerror or exc}") from None

    def write(self, table: pa.Table) -> None:
        self._w.write_table(table)

    def close(self) -> None:
        self._w.close()


def _default_rejects(out: Path) -> Path:
    return out.with_name(out.stem + ".rejects.csv")


def _summary_path(out: Path) -> Path:
    return out.with_name(out.stem + ".summary.json")


def _written_here(out: Path, path: Path) -> bool:
    """Did ``matchsim hash`` write ``path`` as part of the upload ``out``? Its summary,
    beside ``out``, names the upload and the rejects file it wrote."""
    try:
        summary = json.loads(_summary_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(summary, dict) or not {"out", "rejects", "profile"} <= summary.keys():
        return False
    named = {Path(str(summary["out"])).name, Path(str(summary["rejects"])).name}
    return Path(str(summary["out"])).name == out.name and (
        path.name in named or path == _summary_path(out)
    )


# --------------------------------------------------------------------------- hashing


def encode_column(
    scheme: Scheme, values: pa.Array, prehashed: np.ndarray,
    encoded: pa.DictionaryArray | None = None,
) -> pa.Array:  # fmt: skip
    """Digest text of normalised values; pre-hashed values pass through as they are.

    ``encoded``: ``values`` dictionary-encoded (:func:`matchsim.normalise.distinct.dictionary`),
    if at hand: a deterministic scheme then hashes and spells each distinct value once
    and takes the text to every row (the same text as row by row)."""
    if encoded is not None and scheme.deterministic:
        once = scheme.encode(as_strings(encoded.dictionary))
        text = scheme.to_text(once).take(encoded.indices)
    else:
        text = scheme.to_text(distinct.encode(scheme, values))
    if prehashed.any():
        text = pc.if_else(pa.array(prehashed), values, text)
    return text


def hash_value(
    value: str,
    *,
    field: str,
    profile: str | Profile = "meta",
    scheme: str | Scheme = "sha256",
    region: str = "NL",
    secret: Secret | None = None,
    encoding: str | None = None,
) -> dict[str, Any]:
    """Normalise and hash one value (teaching): the ``--json`` record of ``matchsim hash``.

    Raises:
        InputError: the value cannot be normalised (with the profile's reason).
    """
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    if field not in FIELDS:
        raise ConfigError(f"unknown field {field!r}; known fields: {', '.join(FIELDS)}")
    rule = prof.rule(field)
    sch = scheme if isinstance(scheme, Scheme) else _scheme(scheme, prof, secret, encoding)
    norm = prof.normalise(field, pa.array([value], pa.string()), region)
    if norm.rejected[0]:
        raise InputError(None, f"{field} {value!r} rejected by {prof.name}: {norm.reasons[0]}")
    normalised = norm.values[0].as_py()
    digest = None
    if normalised is not None and rule.hashed:
        digest = encode_column(sch, norm.values, norm.prehashed)[0].as_py()
    record: dict[str, Any] = {
        "field": field,
        "input": value,
        "normalised": normalised,
        "hash": digest,
        "scheme": sch.name if rule.hashed else None,
        "profile": prof.name,
    }
    if norm.reasons[0].is_valid:
        record["note"] = norm.reasons[0].as_py()
    return record


def _scheme(name: str, profile: Profile, secret: Secret | None, encoding: str | None) -> Scheme:
    from matchsim.schemes import upload_params

    given: dict[str, Any] = {} if encoding is None else {"encoding": encoding}
    return get_scheme(name, secret=secret, **upload_params(name, given, profile.encoding))


def hash_file(
    path: str | Path,
    *,
    profile: str | Profile,
    scheme: str | Scheme = "sha256",
    region: str | None = None,
    out: str | Path,
    rejects: str | Path | None = None,
    secret: Secret | None = None,
    encoding: str | None = None,
    force: bool = False,
) -> HashSummary:
    """Normalise and hash ``path`` into the platform's upload layout.

    Args:
        path: CSV (``,``/``;``/tab, optional UTF-8 BOM) or Parquet.
        profile: platform profile name or object.
        scheme: scheme name or object (``sha256`` by default).
        region: default phone region; if None, taken from the input's ``country`` column
            when it holds a single country.
        out: upload file (``.csv`` or ``.parquet``).
        rejects: rejects file (default ``<out stem>.rejects.csv``).
        secret: the scheme's secret, if it needs one.
        encoding: digest text encoding; default: the profile's.
        force: replace an upload (and its rejects and summary) that matchsim wrote.

    Raises:
        InputError, ConfigError, SecretError, OutputError: one-line user errors.
    """
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    sch = scheme if isinstance(scheme, Scheme) else _scheme(scheme, prof, secret, encoding)
    path, out = Path(path), Path(out)
    rejects_path = Path(rejects) if rejects is not None else _default_rejects(out)
    summary_path = _summary_path(out)
    if region is not None:
        region = check_region(region)
    src = read_source(path)
    check_paths(
        {"--out": out, "--rejects": rejects_path, "the summary": summary_path},
        {"the input": path},
    )
    check_files(
        {"--out": out, "--rejects": rejects_path, "the summary": summary_path},
        force, lambda p: _written_here(out, p),
    )  # fmt: skip
    header, batches = src.header, src.batches
    columns = map_columns(path, header, prof)
    summary = HashSummary(str(path), str(out), str(rejects_path), prof.name, "", sch.describe())
    summary.notes.extend(src.notes)
    if sch.name.split("-")[0] not in prof.accepted_hashes and sch.name not in prof.accepted_hashes:
        summary.notes.append(
            f"{prof.name} accepts {', '.join(prof.accepted_hashes)}; {sch.name} is a what-if"
        )
    for f, c in columns.items():
        rule = prof.fields[f]
        summary.fields[f] = FieldSummary(rule.column, c, rule.hashed)
    out_schema = pa.schema([(prof.fields[f].column, pa.string()) for f in prof.fields])
    rej_schema = pa.schema(
        [("row", pa.int64()), ("field", pa.string()), ("column", pa.string()),
         ("input", pa.string()), ("action", pa.string()), ("reason", pa.string())]
    )  # fmt: skip
    with output_files(out, rejects_path, summary_path) as (tmp_out, tmp_rej, tmp_summary):
        writer = _Writer(tmp_out, out_schema, out)
        rej_writer = _Writer(tmp_rej, rej_schema, rejects_path)
        try:
            for number, batch in enumerate(batches):
                if region is None:
                    region = _infer_region(path, batch, columns)
                memo = _Memo(path, prof, region, number)
                _hash_batch(batch, prof, sch, region, columns, summary, writer, rej_writer, memo)
        finally:
            writer.close()
            rej_writer.close()
        if summary.rows_in == 0:
            raise InputError(shown(path), "has a header but no rows")
        summary.region = region or ""
        tmp_summary.write_text(json.dumps(summary.as_dict(), indent=2) + "\n")
    return summary


def check_region(region: str) -> str:
    """The upper-case region code, if ``phonenumbers`` knows it.

    Raises:
        ConfigError: an unknown region (every phone would be rejected otherwise).
    """
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"unknown --region {shown(region)!r}; give a two-letter country code such as NL, "
            "DE or US"
        )
    return code


def _hash_batch(
    batch: pa.RecordBatch,
    prof: Profile,
    sch: Scheme,
    region: str,
    columns: dict[str, str],
    summary: HashSummary,
    writer: _Writer,
    rej_writer: _Writer,
    memo: _Memo | None = None,
) -> None:
    table = pa.Table.from_batches([batch])
    n = table.num_rows
    rej_schema = rej_writer.schema
    cols: list[pa.Array] = []
    for f, rule in prof.fields.items():
        if f not in columns:
            cols.append(pa.nulls(n, pa.string()))
            continue
        raw = table[columns[f]].combine_chunks()
        norm = memo.get(f, raw) if memo is not None else distinct.normalise(prof, f, raw, region)
        fs = summary.fields[f]
        present = norm.values.is_valid().to_numpy(zero_copy_only=False)
        fs.written += int(present.sum())
        fs.rejected += int(norm.rejected.sum())
        unmatchable = norm.unmatchable
        fs.unmatchable += int(unmatchable.sum())
        fs.present += int(present.sum() + norm.rejected.sum())
        fs.missing += int(n - present.sum() - norm.rejected.sum())
        flagged = norm.rejected | unmatchable
        if flagged.any():
            rows = np.flatnonzero(flagged)
            reasons = norm.reasons.take(pa.array(rows))
            for reason, count in Counter(reasons.to_pylist()).items():
                fs.reasons[str(reason)] = fs.reasons.get(str(reason), 0) + count
            action = np.where(norm.rejected[rows], "rejected", "accepted")
            rej_writer.write(
                pa.table(
                    [
                        pa.array(rows + summary.rows_in, pa.int64()),
                        pa.array([f] * len(rows), pa.string()),
                        pa.array([columns[f]] * len(rows), pa.string()),
                        raw.take(pa.array(rows)).cast(pa.string()),
                        pa.array(action, pa.string()),
                        reasons,
                    ],
                    schema=rej_schema,
                )
            )
        if rule.hashed:
            encoded = memo.encoded(f, norm.values) if memo is not None else None
            cols.append(encode_column(sch, norm.values, norm.prehashed, encoded))
        else:
            cols.append(norm.values)
    writer.write(pa.Table.from_arrays(cols, schema=writer.schema))
    summary.rows_in += n


class _Memo:
    """The normalised columns of the last input file hashed in this process, reused when
    the same file is hashed again under the same profile and region (``matchsim run``
    hashes one customer file once per scheme; normalising is scheme-independent and, for
    messy phone numbers, most of the work). Keyed by the file's path, size and mtime."""

    _held: ClassVar[dict[tuple[Any, ...], Normalised]] = {}
    _encoded: ClassVar[dict[tuple[Any, ...], pa.DictionaryArray | None]] = {}
    _file: ClassVar[tuple[Any, ...] | None] = None
    LIMIT: ClassVar[int] = 16_000_000
    """Values held at most (about 300 MB for a 1 M-row, 11-field file); a larger file is
    normalised again for each scheme rather than held."""

    def __init__(self, path: Path, prof: Profile, region: str, batch: int) -> None:
        try:
            st = path.stat()
            stamp: tuple[Any, ...] | None = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        self.stamp = stamp
        self.key = (repr(prof), region, batch)
        self.prof = prof
        self.region = region
        if stamp != _Memo._file:  # one file's worth at a time
            _Memo._held.clear()
            _Memo._encoded.clear()
            _Memo._file = stamp

    def get(self, field_name: str, raw: pa.Array | pa.ChunkedArray) -> Normalised:
        key = (*self.key, field_name, len(raw))
        norm = _Memo._held.get(key) if self.stamp is not None else None
        if norm is None:
            norm = distinct.normalise(self.prof, field_name, raw, self.region)
            held = sum(len(v.values) for v in _Memo._held.values())
            if self.stamp is not None and held + len(raw) <= _Memo.LIMIT:
                _Memo._held[key] = norm
        return norm

    def encoded(self, field_name: str, values: pa.Array) -> pa.DictionaryArray | None:
        """The normalised ``values`` of a held field dictionary-encoded, if they repeat
        enough to be worth it (kept with them: each scheme hashes the same distinct
        values); None where they do not, or are not held."""
        key = (*self.key, field_name, len(values))
        if self.stamp is None or key not in _Memo._held:
            return None
        if key not in _Memo._encoded:
            repeats = distinct.repeats(values)
            _Memo._encoded[key] = distinct.dictionary(values) if repeats else None
        return _Memo._encoded[key]


def _infer_region(path: Path, batch: pa.RecordBatch, columns: dict[str, str]) -> str:
    names = batch.schema.names
    col = columns.get("country") or next((c for c in names if c.lower() == "country"), None)
    if col is not None:
        values = pc.unique(pc.drop_null(batch.column(col).cast(pa.string())))
        if len(values) == 1 and len(values[0].as_py()) == 2:
            return str(values[0].as_py()).upper()
    raise ConfigError(
        f"{path}: cannot tell the phone region from the file; give --region (e.g. --region NL)"
    )
