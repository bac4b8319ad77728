"""Read an advertiser's upload the way the platform receives it, and refuse what is bad.

The upload is CSV or Parquet in a platform's column layout (what ``matchsim hash``
writes): one column per field, digests as text in the scheme's encoding for hashed
fields, normalised text for fields sent in clear. Columns are recognised by the
platform profile's names first, then by any known profile's name for the same field (an
advertiser who followed another platform's rules — the mismatch experiment).

Every value that cannot be used is counted under a reason (wrong length, wrong alphabet,
Base64 in a hex upload, upper-case hex…), rows that repeat an earlier row are counted as
duplicates, and rows left with no usable key are counted too: nothing is dropped
silently. Row ``i`` of the upload keeps id ``i``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.errors import InputError
from matchsim.io import TableSource
from matchsim.join.keys import NAME_POSTCODE_DOB, KeyDigests, UploadKeys
from matchsim.join.platform import clear_scheme, key_fields
from matchsim.join.table import DigestTable
from matchsim.kernels.hexdecode import decode_digests, row_fingerprints
from matchsim.normalise import PROFILES, Profile
from matchsim.schemes import Digests, Scheme
from matchsim.schemes._base import text_width

ID_COLUMNS = ("cid", "extern_id", "external_id", "customer_id")
"""Names (any case) of an upload column holding the advertiser's own customer id."""

DUPLICATE_ROW = "duplicate row"
NO_USABLE_KEY = "no usable key"

_PATTERNS = {
    "hex": r"^[0-9a-f]+$",
    "HEX": r"^[0-9A-F]+$",
    "base64": r"^[A-Za-z0-9+/]+={0,2}$",
}


@dataclass
class UploadReport:
    """What reading the upload found; goes into ``join.json``."""

    path: str
    rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def map_upload_columns(path: Path, header: list[str], profile: Profile) -> dict[str, str]:
    """Field -> upload column, by the profile's names, then any known profile's names."""
    lower = {h.strip().lower(): h for h in header}
    found: dict[str, str] = {}
    for f, rule in profile.fields.items():
        names = [rule.column] + [p.fields[f].column for p in PROFILES.values() if f in p.fields]
        for name in names:
            if name.lower() in lower:
                found[f] = lower[name.lower()]
                break
    if not any(f in found for fields in key_fields(profile).values() for f in fields):
        wanted = ", ".join(
            profile.fields[f].column for fs in key_fields(profile).values() for f in fs
        )
        raise InputError(
            path,
            f"has no column that profile {profile.name} matches on "
            f"(expected some of: {wanted}; found: {', '.join(header) or 'none'})",
        )
    return found


def classify_text(
    texts: pa.Array | pa.ChunkedArray, digest_size: int, encoding: str
) -> tuple[Digests, pa.Array]:
    """Decode digest text; for each present but undecodable value, the reason why."""
    texts = texts.cast(pa.string())
    digests = decode_digests(texts, digest_size, encoding)
    present = np.asarray(pc.is_valid(texts), dtype=bool)
    bad = present & ~digests.valid
    if not bad.any():
        return digests, pa.nulls(len(texts), pa.string())
    reasons = np.full(len(texts), None, dtype=object)
    if bad.any():
        rows = np.flatnonzero(bad)
        sub = texts.take(pa.array(rows))
        if isinstance(sub, pa.ChunkedArray):
            sub = sub.combine_chunks()
        length = pc.utf8_length(sub).to_numpy(zero_copy_only=False)
        width = text_width(digest_size, encoding)
        match = {
            e: pc.match_substring_regex(sub, p).to_numpy(zero_copy_only=False)
            for e, p in _PATTERNS.items()
        }
        other = "base64" if encoding != "base64" else "hex"
        looks_other = match[other] | (match["HEX"] if other == "hex" else False)
        reason = np.where(
            match[encoding] & (length != width),
            "wrong length",
            np.where(
                (length == text_width(digest_size, other)) & looks_other,
                f"{'Base64' if other == 'base64' else 'hex'} in a {encoding} upload",
                np.where(
                    (encoding == "hex") & match["HEX"] & (length == width),
                    "upper-case hex",
                    np.where(length != width, "wrong length", "wrong alphabet"),
                ),
            ),
        )
        reasons[rows] = reason
    return digests, pa.array(reasons, pa.string())


def read_upload(
    path: str | os.PathLike[str],
    profile: Profile,
    scheme: Scheme,
    region: str,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[UploadKeys, UploadReport]:
    """Decode ``path`` into per-key digests; count every refused value and row.

    Raises:
        InputError: unreadable file, no rows, or no column the profile matches on.
    """
    from matchsim.io import open_table

    path = Path(path)
    source = open_table(path)
    header = source.header
    columns = map_upload_columns(path, header, profile)
    report = UploadReport(str(path), columns={f: c for f, c in columns.items()})
    report.ignored_columns = [h for h in header if h not in columns.values()]
    id_columns = [h for h in report.ignored_columns if h.strip().lower() in ID_COLUMNS]
    fast = _read_fast(source, columns, id_columns, profile, scheme, region)
    if fast is not None:
        per_field, rejected, ids, n = fast
    else:
        per_field, rejected, ids, n = _read_batches(
            path, source, columns, id_columns, profile, scheme, region, progress
        )
    if progress and n:
        size = max(1, path.stat().st_size >> 20)
        progress("reading upload (MB)", size, size)
    if n == 0:
        raise InputError(path, "has no rows")
    report.rows = n
    if any(r.startswith(tuple(f"{f}: Base64" for f in columns)) for r in rejected) or any(
        "hex in a" in r for r in rejected
    ):
        report.notes.append("the upload mixes hex and Base64 digests")
    keys, keep = _key_digests(per_field, profile, n, rejected)
    report.rejected = dict(rejected)
    upload = UploadKeys(
        n_rows=n,
        keys=keys,
        rejected=dict(rejected),
        rejected_rows=np.flatnonzero(~keep).astype(np.int64),
        customer_ids=_customer_ids(ids, report) if id_columns else None,
    )
    return upload, report


_Read = tuple[dict[str, Digests], Counter[str], pa.Table, int]
"""Per field the digests, refused values per reason, the customer-id columns, rows."""


def _read_fast(
    source: TableSource, columns: Mapping[str, str], id_columns: list[str],
    profile: Profile, scheme: Scheme, region: str,
) -> _Read | None:  # fmt: skip
    """The one-scan reader of a plain CSV (:mod:`matchsim.join.upload_fast`), fields in
    clear normalised as :func:`_decode_fields` does; ``None`` where it does not apply."""
    from matchsim.join.upload_fast import read_fast

    fast = read_fast(source, columns, id_columns, profile, scheme)
    if fast is None:
        return None
    per_field = dict(fast.digests)
    text = {f: c for f, c in columns.items() if c in fast.text.column_names}
    counts: Counter[str] = Counter()
    if text and fast.rows:
        more, counts = _decode_fields(fast.text, text, profile, scheme, region)
        per_field.update(more)
    rejected: Counter[str] = Counter()
    for f in columns:  # the Arrow path's order (of a file read in one batch)
        rejected.update(fast.rejected.get(f, Counter()))
        rejected.update({r: c for r, c in counts.items() if r.startswith(f"{f}: ")})
    order = {f: per_field[f] for f in columns if f in per_field}
    ids = fast.text.select(id_columns) if id_columns else pa.table({})
    return order, rejected, ids, fast.rows


def _read_batches(
    path: Path, source: TableSource, columns: Mapping[str, str], id_columns: list[str],
    profile: Profile, scheme: Scheme, region: str,
    progress: Callable[[str, int, int], None] | None,
) -> _Read:  # fmt: skip
    """Arrow's reader, batch by batch: only the decoded digests of the whole upload are
    held, never its text; a batch decodes on a thread while the reader parses the next."""
    rejected: Counter[str] = Counter()
    parts: list[dict[str, Digests]] = []
    id_parts: list[pa.Table] = []
    n = 0
    with ThreadPoolExecutor(max_workers=1) as stage:
        pending: list[Future[tuple[dict[str, Digests], Counter[str]]]] = []
        for batch in source.batches:
            table = pa.Table.from_batches([batch])
            if len(pending) >= 2:  # at most two batches of text in memory
                _collect(pending.pop(0), parts, rejected)
            pending.append(stage.submit(_decode_fields, table, columns, profile, scheme, region))
            id_parts.append(table.select(id_columns))
            n += table.num_rows
            if progress:
                progress("reading upload (MB)", *_megabytes(path, id_parts, table))
        for future in pending:
            _collect(future, parts, rejected)
    per_field = {f: _concat_digests([part[f] for part in parts]) for f in parts[0]} if parts else {}
    ids = pa.concat_tables(id_parts) if id_parts else pa.table({})
    return per_field, rejected, ids, n


def _megabytes(path: Path, parts: list[pa.Table], last: pa.Table) -> tuple[int, int]:
    """About how much of the upload has been read, and its size, in MB (text read is
    estimated from the batches' string bytes)."""
    total = max(1, path.stat().st_size >> 20)
    done = sum(p.num_rows for p in parts) * (last.nbytes // max(1, last.num_rows)) >> 20
    return min(done, total), total


def _collect(
    future: Future[tuple[dict[str, Digests], Counter[str]]],
    parts: list[dict[str, Digests]],
    rejected: Counter[str],
) -> None:
    per_field, counts = future.result()
    parts.append(per_field)
    rejected.update(counts)


def _decode_fields(
    table: pa.Table, columns: Mapping[str, str], profile: Profile, scheme: Scheme, region: str
) -> tuple[dict[str, Digests], Counter[str]]:
    """Per field, the upload column's digests, and each refused value counted under
    ``"<field>: <reason>"``. Hashed columns decode on threads (the decoder releases the
    GIL); a field sent in clear is normalised and keyed as the platform keys it."""
    per_field: dict[str, Digests] = {}
    rejected: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        decoded = {
            f: pool.submit(classify_text, table[c], scheme.digest_size, scheme.encoding)
            for f, c in columns.items()
            if profile.fields[f].hashed
        }
    for f, column in columns.items():
        raw = table[column]
        if f in decoded:
            digests, reasons = decoded[f].result()
        else:  # sent in clear: the platform normalises it itself, then keys it
            norm = profile.normalise(f, raw, region)
            digests = clear_scheme().encode(norm.values)
            reasons = pc.if_else(
                pa.array(norm.rejected), norm.reasons, pa.scalar(None, pa.string())
            )
        for reason, count in Counter(reasons.drop_null().to_pylist()).items():
            rejected[f"{f}: {reason}"] += count
        per_field[f] = digests
    return per_field, rejected


def _key_digests(
    per_field: Mapping[str, Digests], profile: Profile, n: int, rejected: Counter[str]
) -> tuple[dict[str, KeyDigests], np.ndarray]:
    """Per match key, the digests of the rows kept (ids: row numbers), and which rows are
    kept: those with a usable key that do not repeat an earlier row (counted in
    ``rejected`` as duplicates or as having no usable key)."""
    ids = np.arange(n, dtype=np.int64)
    usable = np.zeros(n, dtype=bool)
    key_valid: dict[str, np.ndarray] = {}
    for key, fields in key_fields(profile).items():
        if not all(f in per_field for f in fields):
            continue
        valid = np.logical_and.reduce([per_field[f].valid for f in fields])
        key_valid[key] = valid
        usable |= valid
    # Duplicate rows are found on a thread while the keys are built from every valid row;
    # the duplicates are then taken out (the same digests as building from kept rows).
    with ThreadPoolExecutor(max_workers=1) as pool:
        found = pool.submit(_duplicate_rows, per_field)
        keys: dict[str, KeyDigests] = {}
        for key, valid in key_valid.items():
            fields = key_fields(profile)[key]
            if key == NAME_POSTCODE_DOB:
                parts = [(per_field[f].data, per_field[f].valid) for f in fields]
                keys[key] = KeyDigests.combine(parts, ids)
            else:
                keys[key] = KeyDigests.from_bytes(per_field[key].data, ids, valid)
        duplicate = found.result() & usable
    if duplicate.any():
        rejected[DUPLICATE_ROW] = int(duplicate.sum())
        keys = {k: d.take(~duplicate[d.ids]) for k, d in keys.items()}
    keep = usable & ~duplicate
    no_key = ~usable
    if no_key.any():
        rejected[NO_USABLE_KEY] = int(no_key.sum())
    return keys, keep


def _concat_digests(parts: list[Digests]) -> Digests:
    if len(parts) == 1:
        return parts[0]
    return Digests(
        np.concatenate([p.data for p in parts]), np.concatenate([p.valid for p in parts])
    )


def _customer_ids(table: pa.Table, report: UploadReport) -> np.ndarray | None:
    """The advertiser's integer customer id per row, if an ignored column carries one."""
    for name in table.column_names:
        if name.strip().lower() in ID_COLUMNS:
            column = table[name]
            try:
                ids = pc.cast(column, pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                report.notes.append(f"column {name} is not an integer customer id")
                return None
            if ids.null_count:
                report.notes.append(f"column {name} has empty customer ids")
                return None
            return np.asarray(ids.to_numpy(), dtype=np.int64)
    return None


def _duplicate_rows(per_field: Mapping[str, Digests]) -> np.ndarray:
    """True for each row whose every field equals an earlier row's (digest and presence).

    Rows are grouped by a 64-bit fingerprint of all their fields (sorted, stable), and each
    candidate is confirmed against the first row of its group field by field; should two
    different rows ever share a fingerprint, the exact table-based method decides.
    """
    if not per_field:
        return np.zeros(0, dtype=bool)
    fields = sorted(per_field)
    n = len(per_field[fields[0]])
    h = row_fingerprints([(per_field[f].data, per_field[f].valid) for f in fields])
    order = np.argsort(h, kind="stable")
    sh = h[order]
    later = np.flatnonzero(sh[1:] == sh[:-1]) + 1  # sorted positions that repeat a fingerprint
    if len(later) == 0:
        return np.zeros(n, dtype=bool)
    starts = np.ones(n, dtype=bool)
    starts[later] = False
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    rows = order[later]
    firsts = order[run_start[later]]
    same = np.ones(len(rows), dtype=bool)
    for f in fields:
        d = per_field[f]
        same &= d.valid[rows] == d.valid[firsts]
        same &= (d.data[rows] == d.data[firsts]).all(axis=1)
    if not same.all():  # a fingerprint collision (about 2**-64 a pair): decide exactly
        return _duplicate_rows_exact(per_field)
    duplicate = np.zeros(n, dtype=bool)
    duplicate[rows] = True
    return duplicate


def _duplicate_rows_exact(per_field: Mapping[str, Digests]) -> np.ndarray:
    """The same answer as :func:`_duplicate_rows`, through a digest table of whole rows."""
    if not per_field:
        return np.zeros(0, dtype=bool)
    fields = sorted(per_field)
    n = len(per_field[fields[0]])
    row = np.concatenate(
        [per_field[f].data for f in fields]
        + [np.stack([per_field[f].valid for f in fields], axis=1).astype(np.uint8)],
        axis=1,
    )
    whole = KeyDigests.combine([(row, np.ones(n, dtype=bool))], np.arange(n, dtype=np.int64))
    table = DigestTable(whole)
    first = table.first_rows()
    return first != np.arange(n)
