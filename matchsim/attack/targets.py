"""The hashed upload under attack: read it, detect how it was hashed, index its digests.

An attacker (or the data-protection officer auditing a file before it leaves) gets a
column of digests and nothing else. The algorithm is read off the digest length (MD5 16
bytes, SHA-1 20, SHA-256 32, SHA-512 64) and the text encoding off the characters (hex,
or Base64 as UID2 uses). Rows that do not fit the file's dominant format are rejected
and counted per reason, never dropped silently; a file with no dominant format is an
error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from matchsim.errors import InputError
from matchsim.io import shown
from matchsim.kernels.attack.params import ALGORITHMS

DIGEST_BYTES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}
_BY_BYTES = {v: k for k, v in DIGEST_BYTES.items()}
LABELS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
_HEX_RE = "^[0-9a-fA-F]+$"
_B64_RE = "^[A-Za-z0-9+/]+={0,2}$"
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
MIXED_SHARE = 0.1
"""A second format above this share of the rows makes the file 'mixed' (an error)."""


class NothingToAttack(InputError):
    """The upload holds no hash digest to enumerate: its digest column is empty, or its
    values are no MD5/SHA digest (a keyed token, an encrypted ID). An attack on such an
    upload cannot work; every other InputError is a broken file."""


@dataclass(frozen=True)
class TargetSet:
    """The distinct digests of an upload, sorted, with the row -> digest mapping.

    Attributes:
        algorithm: ``md5``, ``sha1``, ``sha256`` or ``sha512`` (from the digest length).
        encoding: ``hex`` or ``base64``.
        digests: (m, k) uint8, distinct digests sorted by their bytes.
        row_digest: (n_valid,) int64 index into ``digests`` for every accepted row.
        rows: (n_valid,) int64 row number (0-based, data rows) of every accepted row.
        n_rows: rows read (including empty and rejected ones).
        rejected: rejected row count per reason.
    """

    algorithm: str
    encoding: str
    digests: np.ndarray
    row_digest: np.ndarray
    rows: np.ndarray
    n_rows: int
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def n_distinct(self) -> int:
        return int(self.digests.shape[0])

    def keys(self) -> np.ndarray:
        """First 8 digest bytes as big-endian uint64 (sorted, since digests are sorted)."""
        return self._keys.copy()

    @functools.cached_property
    def _keys(self) -> np.ndarray:
        return _first_words(self.digests)

    @functools.cached_property
    def _buckets(self) -> tuple[int, np.ndarray]:
        """``(shift, starts)``: the digests whose key's top bits are ``b`` (``key >>
        shift == b``) are ``starts[b]:starts[b + 1]``; about one digest per bucket."""
        bits = max(1, min(26, int(self.n_distinct).bit_length()))
        shift = 64 - bits
        # The keys are sorted, so bucket b starts after every key of the buckets below
        # it: a count per bucket and a running sum (a tenth of searching for each edge).
        counts = np.bincount((self._keys >> np.uint64(shift)).astype(np.intp), minlength=1 << bits)
        starts = np.zeros((1 << bits) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        return shift, starts

    def lookup(self, candidates: np.ndarray) -> np.ndarray:
        """Index into ``digests`` of each (c, k) candidate digest, or -1 (exact match).

        Digests are uniform, so a candidate's key (first 8 bytes) is found by its top
        bits' bucket of about one digest and a short walk inside it: a few passes over
        the candidates that are still walking, where ``np.searchsorted`` would take 20
        cache-missing steps per candidate (4x the time for a million). The walk runs in
        :func:`matchsim.kernels.attack.lookup.lookup`, one candidate at a time
        (compiled ahead of time where :mod:`matchsim.kernels.aot` is built)."""
        if candidates.shape[0] == 0 or self.n_distinct == 0:
            return np.full(candidates.shape[0], -1, dtype=np.int64)
        if candidates.shape[1] == self.digests.shape[1] >= 8:
            from matchsim.kernels.aot import digest_lookup

            lookup = digest_lookup(ALGORITHMS[self.algorithm])

            out = np.empty(candidates.shape[0], dtype=np.int64)
            shift, starts = self._buckets
            lookup(self.digests, self._keys, starts, shift,
                   np.ascontiguousarray(candidates, dtype=np.uint8), out)  # fmt: skip
            return out
        return self._lookup_numpy(candidates)

    def _lookup_numpy(self, candidates: np.ndarray) -> np.ndarray:
        """:meth:`lookup` by NumPy passes (the walk before the numba kernel)."""
        keys = self._keys
        ck = _first_words(candidates)
        shift, starts = self._buckets
        bucket = (ck >> np.uint64(shift)).astype(np.intp)
        pos = starts[bucket]
        end = starts[bucket + 1]
        walking = np.flatnonzero(pos < end)
        while walking.size:
            p = pos[walking]
            walking = walking[keys[p] < ck[walking]]
            pos[walking] += 1
            walking = walking[pos[walking] < end[walking]]
        pos = np.minimum(pos, self.n_distinct - 1)
        ok = np.all(self.digests[pos] == candidates, axis=1)
        return np.where(ok, pos, -1).astype(np.int64)


def _first_words(digests: np.ndarray) -> np.ndarray:
    """First 8 bytes of each (n, k) uint8 row as a big-endian uint64 (one pass where the
    rows are whole 64-bit words)."""
    if digests.shape[1] % 8 == 0 and digests.flags.c_contiguous:
        return digests.view(">u8")[:, 0].astype(np.uint64)
    return digests[:, :8].copy().view(">u8").ravel().astype(np.uint64)


def _fixed_bytes(values: pa.Array, width: int) -> np.ndarray:
    """(n, width) uint8 of ASCII strings that all have exactly ``width`` bytes."""
    arr = values.cast(pa.string())
    if len(arr) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    arr = pa.concat_arrays([arr]) if arr.offset else arr
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    lo = int(offsets[0])
    if int(offsets[-1]) - lo == len(arr) * width:
        # Every string has ``width`` bytes, so they lie back to back: one reshape.
        return data[lo : lo + len(arr) * width].reshape(len(arr), width)
    idx = offsets[:-1, None] + np.arange(width)[None, :]
    return data[idx]


_HEX_TABLE = np.full(256, 0, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX_TABLE[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX_TABLE[_c] = 10 + _i
_IS_HEX = np.zeros(256, dtype=bool)
_IS_HEX[np.frombuffer(b"0123456789abcdefABCDEF", np.uint8)] = True
_B64_TABLE = np.zeros(256, dtype=np.uint32)
for _i, _c in enumerate(_B64_ALPHABET):
    _B64_TABLE[_c] = _i


def decode_hex(values: pa.Array, n_bytes: int) -> np.ndarray:
    """Hex strings of ``2 * n_bytes`` characters -> (n, n_bytes) uint8."""
    text = _fixed_bytes(values, 2 * n_bytes)
    try:
        # The strings' bytes back to back are one hex text: decoded in C.
        return np.frombuffer(bytes.fromhex(text.tobytes().decode("ascii")), np.uint8).reshape(
            text.shape[0], n_bytes
        )
    except (UnicodeDecodeError, ValueError):
        raw = _HEX_TABLE[text]
        return (raw[:, 0::2] << 4) | raw[:, 1::2]


def decode_base64(values: pa.Array, n_bytes: int) -> np.ndarray:
    """Padded Base64 strings of ``n_bytes`` bytes -> (n, n_bytes) uint8."""
    width = (n_bytes + 2) // 3 * 4
    six = _B64_TABLE[_fixed_bytes(values, width)].reshape(-1, width // 4, 4)
    triple = (six[:, :, 0] << 18) | (six[:, :, 1] << 12) | (six[:, :, 2] << 6) | six[:, :, 3]
    out = np.stack([(triple >> 16) & 0xFF, (triple >> 8) & 0xFF, triple & 0xFF], axis=2)
    return out.reshape(len(values), -1)[:, :n_bytes].astype(np.uint8)


def _key_order(keys: np.ndarray) -> np.ndarray:
    """An order that sorts uint64 ``keys`` (ties in any order): the keys' top bits and
    each key's index packed into one uint64 and sorted by value, which NumPy does with
    SIMD sorting networks at twice the speed of ``np.argsort`` (1 M keys: 50 vs 110 ms,
    shared machine). Keys that share their top bits but differ below (for uniform keys,
    a few pairs in a million) come out in index order; one stable pass, near-linear on
    an almost-sorted input, puts them right."""
    n = keys.shape[0]
    b = max(1, n.bit_length())
    if b > 40:
        return np.argsort(keys)
    low = np.uint64((1 << b) - 1)
    packed = (keys & ~low) | np.arange(n, dtype=np.uint64)
    packed.sort()
    order = (packed & low).astype(np.intp)
    ranked = np.take(keys, order)
    if n > 1 and not bool(np.all(ranked[1:] >= ranked[:-1])):
        order = order[np.argsort(ranked, kind="stable")]
    return order


def _take_rows(raw: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``raw[index]`` for an (n, k) uint8 array, each row gathered as one k-byte item by
    ``np.take`` (a 2-D fancy index moves byte by byte: 4x the time for 1 M digests; a
    fancy index of the k-byte items, 5x that of ``np.take``)."""
    rows = np.ascontiguousarray(raw)
    k = rows.shape[1]
    if k == 0:
        return rows[index]
    return np.take(rows.view(f"V{k}").ravel(), index).view(np.uint8).reshape(-1, k)


_GROUP_MIN_ROWS = 4096
"""Fewer rows than this are sorted (grouping by hash pays off on larger columns)."""

_GROUP_SAMPLE = 1 << 16
"""Rows whose distinct share decides between grouping by hash and sorting."""


def _grouped_rows(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`unique_rows` of a column with many repeats (a gender, a city: each value
    in thousands of rows): rows grouped by their first 8 bytes in a hash table
    (:func:`matchsim.kernels.groups.first_seen_groups`), every row checked equal to its
    group's first in full, and only the distinct rows sorted. None where most rows of a
    sample are distinct (sorting them all is cheaper), or where two different rows
    share their first 8 bytes (the sort decides). The sample is counted by NumPy (a
    few milliseconds), so a column of distinct digests, the usual upload, never loads
    numba."""
    rows = np.ascontiguousarray(raw)
    sample = rows[:_GROUP_SAMPLE, :8].copy().view(np.int64).ravel()
    if 2 * np.unique(sample).shape[0] > sample.shape[0]:
        return None
    from matchsim.kernels.groups import first_rows, first_seen_groups

    keys = rows[:, :8].copy().view(np.int64).ravel()
    ids, _, groups = first_seen_groups(keys)
    firsts = _take_rows(rows, first_rows(ids, groups))
    if not np.array_equal(rows, _take_rows(firsts, ids)):
        return None
    digests, inverse = unique_rows(firsts)
    return digests, inverse[ids]


def unique_rows(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an (n, k) uint8 array sorted by their bytes, and each row's index
    into them: ``np.unique(raw, axis=0, return_inverse=True)``, in a tenth of the time.

    Digests are sorted by their first 8 bytes as one big-endian integer; only when two
    different rows share those bytes (for digests, astronomically rare) does a full
    lexicographic sort decide. Repeated rows (one person uploaded twice) need none.
    """
    n, k = raw.shape
    if n == 0:
        return raw.copy(), np.zeros(0, dtype=np.int64)
    if k >= 8 and n >= _GROUP_MIN_ROWS:
        grouped = _grouped_rows(raw)
        if grouped is not None:
            return grouped
    if k >= 8:
        # Sort on the first 8 bytes; neighbours with equal keys are compared in full,
        # and only if two differ does the full sort below decide.
        keys = _first_words(raw)
        order = _key_order(keys)
        ranked_keys = np.take(keys, order)
        same = np.flatnonzero(ranked_keys[1:] == ranked_keys[:-1])
        if same.shape[0] == 0:  # every row distinct (a column of digests)
            inverse = np.empty(n, dtype=np.int64)
            inverse[order] = np.arange(n, dtype=np.int64)
            return _take_rows(raw, order), inverse
        if not np.any(raw[order[same]] != raw[order[same + 1]]):
            fresh = np.ones(n, dtype=bool)
            fresh[same + 1] = False
            group = np.cumsum(fresh) - 1
            inverse = np.empty(n, dtype=np.int64)
            inverse[order] = group
            return _take_rows(raw, order[fresh]), inverse
    if k % 8:
        padded = np.zeros((n, (k + 7) // 8 * 8), dtype=np.uint8)
        padded[:, :k] = raw
    else:
        padded = np.ascontiguousarray(raw)
    cols = padded.view(">u8").astype(np.uint64)  # (n, words), big-endian byte order
    order = np.lexsort(cols.T[::-1])
    ranked = cols[order]
    fresh = np.ones(n, dtype=bool)
    fresh[1:] = np.any(ranked[1:] != ranked[:-1], axis=1)
    group = np.cumsum(fresh) - 1
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = group
    return np.ascontiguousarray(raw[order[fresh]]), inverse


def encode_hex(digests: np.ndarray) -> list[str]:
    return [bytes(row).hex() for row in digests]


def _classify(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Per row: format code (0 none, 1 hex, 2 base64) and digest byte length (0 if none)."""
    import pyarrow.compute as pc

    length = pc.utf8_length(values).to_numpy(zero_copy_only=False)
    n = len(values)
    if n and values.null_count == 0 and int(length.min()) == int(length.max()):
        width = int(length[0])
        k = width // 2
        if width % 2 == 0 and k in _BY_BYTES:
            text = _fixed_bytes(values, width)
            if text.shape == (n, width) and bool(_IS_HEX[text].all()):
                # The common case, one hex digest per row: no regular expressions.
                return np.ones(n, dtype=np.int8), np.full(n, k, dtype=np.int64)
    is_hex = pc.fill_null(pc.match_substring_regex(values, _HEX_RE), False).to_numpy(
        zero_copy_only=False
    )
    is_b64 = pc.fill_null(pc.match_substring_regex(values, _B64_RE), False).to_numpy(
        zero_copy_only=False
    )
    fmt = np.zeros(len(values), dtype=np.int8)
    nbytes = np.zeros(len(values), dtype=np.int64)
    for k in DIGEST_BYTES.values():
        hex_ok = is_hex & (length == 2 * k)
        b64_ok = is_b64 & ~hex_ok & (length == (k + 2) // 3 * 4)
        fmt[hex_ok] = 1
        nbytes[hex_ok] = k
        fmt[b64_ok] = 2
        nbytes[b64_ok] = k
    return fmt, nbytes


def _plain_hex(values: pa.Array) -> np.ndarray | None:
    """The common file, decoded at once: every row a hex digest of one length, with no
    blank, space or other character (what the general path below would accept in full,
    with nothing trimmed or rejected). None for anything else."""
    if not pa.types.is_string(values.type) or len(values) == 0 or values.null_count:
        return None
    arr = pa.concat_arrays([values]) if values.offset else values
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[: n + 1]
    width = int(offsets[1] - offsets[0])
    if width % 2 or width // 2 not in _BY_BYTES or int(offsets[-1] - offsets[0]) != n * width:
        return None
    if not bool(np.all(np.diff(offsets) == width)):
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    try:
        raw = bytes.fromhex(data.tobytes().decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    if len(raw) != n * (width // 2):  # fromhex skipped whitespace
        return None
    return np.frombuffer(raw, np.uint8).reshape(n, width // 2)


def _hex_with_gaps(values: pa.Array) -> TargetSet | None:
    """The common column with gaps (a customer without a phone number): every value
    either absent (null or empty) or one lower-case hex digest of one length, at least
    one of them present. What the general path of :func:`parse_digests` makes of it —
    the digests, only the absent rows rejected, as "empty" — decoded in one numba pass
    (:func:`matchsim.kernels.hexdecode.decode_digests`) with no regular expression over
    the rows. None for any other column, which the general path reads."""
    from matchsim.kernels import string_buffers
    from matchsim.kernels.hexdecode import decode_digests

    if not pa.types.is_string(values.type) or len(values) == 0:
        return None
    _, _, lengths = string_buffers(values)  # a null row has length 0
    first = int(np.argmax(lengths > 0))
    width = int(lengths[first])
    if width == 0 or width % 2 or width // 2 not in _BY_BYTES:
        return None
    decoded = decode_digests(values, width // 2, "hex")
    if not bool(np.all(decoded.valid | (lengths == 0))):
        return None
    rows = np.flatnonzero(decoded.valid)
    return _gapped_target_set(decoded.data, rows, len(values))


def _gapped_target_set(data: np.ndarray, rows: np.ndarray, n: int) -> TargetSet:
    """The targets of an ``n``-row hex column whose rows ``rows`` hold the digests
    ``data[rows]`` and whose other rows are empty (rejected as "empty")."""
    present = data if rows.shape[0] == data.shape[0] else data[rows]  # rows: increasing
    digests, inverse = unique_rows(np.ascontiguousarray(present))
    return TargetSet(
        algorithm=_BY_BYTES[data.shape[1]],
        encoding="hex",
        digests=digests,
        row_digest=inverse.astype(np.int64),
        rows=rows.astype(np.int64),
        n_rows=n,
        rejected={"empty": n - int(rows.shape[0])} if rows.shape[0] < n else {},
    )


def _hex_column_file(path: Path, column: str) -> TargetSet | None:
    """Column ``column`` of a CSV with a header, every cell of it empty or a lower-case
    hex digest of one length (at least one a digest): what :func:`read_upload` and
    :func:`parse_digests` make of it (only the empty rows rejected, as "empty"), from one
    scan of the file's bytes that decodes that column alone
    (:func:`matchsim.join.upload_fast.read_hex_column`). None for any other file, which
    the general path reads (and where it fails, says why)."""
    from matchsim.io import is_parquet, open_table
    from matchsim.join.upload_fast import read_hex_column
    from matchsim.kernels import csvkinds

    if is_parquet(path):
        return None
    try:
        source = open_table(path)
    except InputError:
        return None
    if column not in source.header:  # read_hex_column checks the rest (encoding, delimiter)
        return None
    width = _first_cell_width(path, source.delimiter, source.header.index(column))
    if width is None or width % 2 or width // 2 not in _BY_BYTES:
        return None
    got = read_hex_column(source, column, width // 2, ALGORITHMS[_BY_BYTES[width // 2]])
    if got is None:
        return None
    data, status = got
    if bool(np.any(status == csvkinds.PRESENT)):
        return None
    rows = np.flatnonzero(status == csvkinds.DECODED)
    if rows.shape[0] == 0:
        return None
    return _gapped_target_set(data, rows, int(status.shape[0]))


def _first_cell_width(path: Path, delimiter: str, at: int, lines: int = 1000) -> int | None:
    """The length of the first non-empty cell of column ``at`` within the first
    ``lines`` rows after the header (the width every digest of it must have); None if
    there is none there or the start of the file does not read as CSV."""
    widths = _first_cell_widths(path, delimiter, lines)
    return widths[at] if widths is not None and at < len(widths) else None


def _first_cell_widths(path: Path, delimiter: str, lines: int = 1000) -> list[int | None] | None:
    """Per column of the header, :func:`_first_cell_width`; None if the start of the
    file does not read as CSV."""
    import csv
    import io

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            head = fh.read(1 << 20)
    except (OSError, UnicodeDecodeError):
        return None
    reader = csv.reader(io.StringIO(head), delimiter=delimiter)
    try:
        widths: list[int | None] = [None] * len(next(reader))  # the header
        for _, row in zip(range(lines), reader, strict=False):
            for at, cell in enumerate(row[: len(widths)]):
                if cell and widths[at] is None:
                    widths[at] = len(cell)
            if all(w is not None for w in widths):
                break
    except (csv.Error, StopIteration):
        return None
    return widths


def _plain_target_set(raw: np.ndarray) -> TargetSet:
    """The targets of a file whose every row is a digest (nothing trimmed or rejected)."""
    n = raw.shape[0]
    return _gapped_target_set(raw, np.arange(n, dtype=np.int64), n)


def hex_target_set(values: pa.Array) -> TargetSet | None:
    """The targets of a column whose every value is one lower-case hex digest of one
    length (what matchsim and the platforms' SDKs write), decoded in one numba pass
    (:func:`_hex_with_gaps`, here with no gap allowed): the same digests, in the same
    order, as :func:`parse_digests` finds; ``rows`` and ``row_digest`` follow
    ``values``' rows. None for any other column (a null, a blank, upper case, another
    length), which :func:`parse_digests` reads."""
    got = _hex_with_gaps(values)
    return got if got is not None and not got.rejected else None


def _plain_hex_file(path: Path) -> np.ndarray | None:
    """The common upload, one hex digest per line, all of one length, decoded without
    the CSV reader: (n, k) uint8, or None for any other file (which the CSV path reads)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    width = data.find(b"\n")
    if width <= 0 or width % 2 or width // 2 not in _BY_BYTES:
        return None
    if not data.endswith(b"\n"):
        data += b"\n"
    n = len(data) // (width + 1)
    if len(data) != n * (width + 1):
        return None
    chars = np.frombuffer(data, np.uint8)
    if not bool(np.all(chars[width :: width + 1] == 10)):
        return None
    from matchsim.kernels.aot import hex_decoder

    decode = hex_decoder(ALGORITHMS[_BY_BYTES[width // 2]])
    decoded = decode(chars, n, width) if decode is not None else None
    if decoded is not None:  # every character lower-case hex: the same bytes as below
        return decoded
    try:
        raw = bytes.fromhex(data.decode("ascii"))  # skips the newlines
    except (UnicodeDecodeError, ValueError):
        return None
    if len(raw) != n * (width // 2):  # other whitespace was skipped too
        return None
    return np.frombuffer(raw, np.uint8).reshape(n, width // 2)


def _looks_like_digest(text: str) -> bool:
    """What :func:`_classify` says of one string, in plain Python: a first line has a
    handful of fields, and building an Arrow array from a list would import pandas
    (a second of a fresh process's start)."""
    n = len(text)
    if re.fullmatch(_HEX_RE, text) and n % 2 == 0 and n // 2 in _BY_BYTES:
        return True
    widths = {(k + 2) // 3 * 4 for k in DIGEST_BYTES.values()}
    return bool(re.fullmatch(_B64_RE, text)) and n in widths


def parse_digests(values: pa.Array, path: str | Path | None = None) -> TargetSet:
    """Detect the algorithm and encoding of a column of digests and index it.

    Raises:
        InputError: no values, no recognisable digests, or mixed formats.
    """
    import pyarrow.compute as pc

    fast = _plain_hex(values)
    if fast is not None:
        return _plain_target_set(fast)
    gaps = _hex_with_gaps(values)
    if gaps is not None:
        return gaps
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    n_rows = len(values)
    empty = pc.fill_null(pc.equal(pc.utf8_length(values), 0), True).to_numpy(zero_copy_only=False)
    if n_rows == 0 or bool(np.all(empty)):
        raise NothingToAttack(path, "no hashed values to attack (the file or column is empty)")
    values = pc.fill_null(values, "")
    fmt, nbytes = _classify(values)
    combos: dict[tuple[int, int], int] = {}
    codes, counts = np.unique((fmt.astype(np.int64) * 1000 + nbytes)[fmt > 0], return_counts=True)
    for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
        combos[(code // 1000, code % 1000)] = count
    if not combos:
        raise NothingToAttack(
            path,
            "no recognisable hash digests (expected hex or Base64 of MD5, SHA-1, SHA-256 "
            "or SHA-512)",
        )
    ranked = sorted(combos.items(), key=lambda kv: -kv[1])
    best_fmt, best_k = ranked[0][0]
    n_filled = int(np.sum(~empty))
    for _combo, count in ranked[1:]:
        if count > MIXED_SHARE * n_filled:
            parts = ", ".join(
                f"{c:,} {LABELS[_BY_BYTES[kk]]} {'hex' if ff == 1 else 'Base64'}"
                for (ff, kk), c in ranked[:3]
            )
            raise InputError(path, f"mixed hash formats ({parts}); attack one format at a time")
    ok = (fmt == best_fmt) & (nbytes == best_k)
    rejected: dict[str, int] = {}

    def reject(reason: str, mask: np.ndarray) -> None:
        count = int(np.sum(mask))
        if count:
            rejected[reason] = count

    reject("empty", empty)
    other = ~ok & ~empty
    if best_fmt == 1 and other.any():
        is_hexchars = pc.match_substring_regex(values, _HEX_RE).to_numpy(zero_copy_only=False)
        reject("non-hex characters", other & ~is_hexchars)
        reject("wrong length", other & is_hexchars)
    elif best_fmt != 1:
        reject("not Base64 of the detected length", other)
    rows = np.flatnonzero(ok)
    chosen = values if rows.shape[0] == n_rows else values.take(pa.array(rows))
    raw = decode_hex(chosen, best_k) if best_fmt == 1 else decode_base64(chosen, best_k)
    digests, inverse = unique_rows(raw)
    return TargetSet(
        algorithm=_BY_BYTES[best_k],
        encoding="hex" if best_fmt == 1 else "base64",
        digests=np.ascontiguousarray(digests),
        row_digest=inverse.ravel().astype(np.int64),
        rows=rows.astype(np.int64),
        n_rows=n_rows,
        rejected=rejected,
    )


@dataclass
class _Read:
    """The last CSV upload read: its identity, the header question's answer, the table."""

    key: tuple[str, int, int]
    fields: list[str]
    header: bool
    table: pa.Table


_LAST_READ: list[_Read] = []


def _read_remembered(p: Path, has_header: Callable[[list[str]], bool]) -> pa.Table:
    """:func:`matchsim.io.read_table` of ``p`` (every column as text), the last CSV kept.

    A run attacks each upload several times (its phone column, its e-mail column, then
    the whole row): the 1 M-row CSV is parsed once. The table is reused only for the
    same file (path, size and modification time) whose header question ``has_header``
    answers as it did when it was read; a Parquet file is read each time (cheap)."""
    from matchsim.io import read_table

    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    last = _LAST_READ[0] if _LAST_READ else None
    if last is not None and last.key == key and has_header(last.fields) == last.header:
        return last.table
    asked: list[tuple[list[str], bool]] = []

    def header(fields: list[str]) -> bool:
        answer = has_header(fields)
        asked.append((fields, answer))
        return answer

    _LAST_READ.clear()  # the previous table is released before the next is read
    table = read_table(p, header=header, require_rows=False)
    table = pa.table({n: table.column(n).cast(pa.string()) for n in table.column_names})
    if asked:  # a CSV: the header callback ran
        _LAST_READ.append(_Read(key, *asked[0], table))
    return table


def upload_table(path: str | Path) -> pa.Table:
    """The upload as :func:`matchsim.io.read_table` reads it with a header (every
    column as text), through the same one-file memory as :func:`read_upload`.

    Raises:
        InputError: unreadable file, or a header but no rows.
    """
    from matchsim.io import is_parquet, read_table

    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0 or is_parquet(p):
        return read_table(p)  # its own one-line error; a Parquet file as it is typed
    table = _read_remembered(p, lambda fields: True)
    return table if table.num_rows else read_table(p)


DECODED_KEY = b"matchsim.decoded"
"""Schema metadata of a table from :func:`decoded_upload`: its fixed-size binary columns
are decoded hex digests."""


@dataclass
class _Decoded:
    key: tuple[str, int, int]
    table: pa.Table | None


_LAST_DECODED: list[_Decoded] = []


def decoded_upload(path: str | Path) -> pa.Table | None:
    """The upload CSV (with a header) from one scan of its bytes
    (:func:`matchsim.join.upload_fast.read_columns`), the last one kept like
    :func:`upload_table`'s: each column whose every cell is a lower-case hex digest of
    one width, or empty, as fixed-size binary digests (null where empty; the width of the
    most common such column); every other column as text, as :func:`upload_table` reads
    it. The digests are what :func:`hex_target_set` and :func:`load_targets` decode
    from that text (:func:`digest_column_targets`), without a table of 64-character
    strings and a second pass over it.

    None for any file the scan does not handle, or without such a column: read it with
    :func:`upload_table` (which also says what is wrong with it)."""
    from matchsim.io import is_parquet

    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if _LAST_DECODED and _LAST_DECODED[0].key == key:
        return _LAST_DECODED[0].table
    _LAST_DECODED.clear()  # the previous table is released before the next is read
    table = _read_decoded(p) if p.is_file() and st.st_size and not is_parquet(p) else None
    _LAST_DECODED.append(_Decoded(key, table))
    return table


def _read_decoded(p: Path) -> pa.Table | None:
    """:func:`decoded_upload`'s reading of a non-empty CSV, uncached."""
    from collections import Counter

    from matchsim.io import open_table
    from matchsim.join.upload_fast import read_columns

    try:
        source = open_table(p)
    except InputError:
        return None
    widths = _first_cell_widths(p, source.delimiter) or []
    even = Counter(w for w in widths if w and w % 2 == 0 and w // 2 in _BY_BYTES)
    if not even:
        return None
    width = even.most_common(1)[0][0]
    header = zip(source.header, widths, strict=False)
    got = read_columns(source, [c for c, w in header if w in (width, None)], width // 2)
    if got is None or not got.digests:
        return None
    return _decoded_table(source.header, got.rows, got.digests, got.text)


def _decoded_table(
    header: list[str], n: int, digests: dict[str, tuple[np.ndarray, np.ndarray]],
    text: dict[str, pa.Array],
) -> pa.Table:  # fmt: skip
    columns: dict[str, pa.Array] = {}
    for name in header:
        if name in digests:
            data, decoded = digests[name]
            columns[name] = pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(data.shape[1]), n,
                [pa.py_buffer(np.packbits(decoded, bitorder="little")), pa.py_buffer(data)],
            )  # fmt: skip
        else:
            columns[name] = text[name]
    table = pa.table(columns)
    return table.replace_schema_metadata({DECODED_KEY: b"hex"})


def is_digest_column(table: pa.Table, name: str) -> bool:
    """Whether column ``name`` of ``table`` holds digests :func:`decoded_upload` decoded."""
    meta = table.schema.metadata or {}
    return meta.get(DECODED_KEY) == b"hex" and pa.types.is_fixed_size_binary(
        table.schema.field(name).type
    )


def _digest_column(table: pa.Table | None, name: str) -> pa.ChunkedArray | None:
    """Column ``name`` of ``table`` if it is a digest column (:func:`is_digest_column`)."""
    if table is None or name not in table.column_names or not is_digest_column(table, name):
        return None
    return table.column(name)


def digest_column_targets(column: pa.Array | pa.ChunkedArray) -> TargetSet:
    """The targets of a column of :func:`decoded_upload`: what :func:`load_targets` and
    the general path make of that column's text (the digests, only the empty rows
    rejected, as "empty"); of a column without a null, what :func:`hex_target_set`
    makes of it."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    size = arr.type.byte_width
    n = len(arr)
    data = np.frombuffer(arr.buffers()[1], np.uint8)[arr.offset * size : (arr.offset + n) * size]
    if arr.null_count == 0:
        rows = np.arange(n, dtype=np.int64)
    else:
        rows = np.flatnonzero(np.asarray(arr.is_valid().to_numpy(zero_copy_only=False)))
    return _gapped_target_set(data.reshape(n, size), rows, n)


def read_upload(path: str | Path, column: str | None = None) -> tuple[pa.Table, str]:
    """Read a CSV (with or without a header) or a one-digest-per-line text file.

    Returns the table (all columns as strings) and the column holding the digests: the
    one named, else the column where most values look like digests.

    Raises:
        InputError: unreadable or empty file, or an unknown column.
    """
    import pyarrow.compute as pc

    from matchsim.io import check_file

    p = Path(path)
    check_file(p)  # missing, a folder, a FIFO, unreadable: each said as it is
    if p.stat().st_size == 0:
        raise InputError(shown(p), "the file is empty")

    def has_header(fields: list[str]) -> bool:
        if column is not None and column in fields:
            return True
        return not any(_looks_like_digest(f.strip().strip('"')) for f in fields)

    table = _read_remembered(p, has_header)
    if table.num_rows == 0:
        raise NothingToAttack(p, "no hashed values to attack (the file or column is empty)")
    table = pa.table({n: table.column(n).cast(pa.string()) for n in table.column_names})
    if column is not None:
        if column not in table.column_names:
            raise InputError(
                p, f"no column {shown(column)!r}; columns: {shown(', '.join(table.column_names))}"
            )
        return table, column
    if table.num_columns == 1:
        return table, table.column_names[0]  # nothing to choose: parse_digests classifies it
    best, best_n = table.column_names[0], -1
    for name in table.column_names:
        col = pc.fill_null(pc.utf8_trim_whitespace(table.column(name).combine_chunks()), "")
        n = int(np.sum(_classify(col)[0] > 0))
        if n > best_n:
            best, best_n = name, n
    return table, best


def load_targets(
    path: str | Path, column: str | None = None, *, keep_table: bool = False
) -> TargetSet:
    """:func:`read_upload` then :func:`parse_digests` on the digest column, to the same
    result, but faster for the common files: a file of one hex digest per line, and a
    named column of lower-case hex digests (with gaps) in a CSV of several, are decoded
    straight from the file's bytes (:func:`_hex_column_file`).

    ``keep_table``: read the whole file and keep it for the next attack on it, for a
    caller that attacks several of its columns (a run's phone, e-mail and
    re-identification attacks on one upload read it once): one scan of its bytes
    (:func:`decoded_upload`), or where that does not serve, as text (:func:`read_upload`)."""
    p = Path(path)
    if column is None and p.is_file():
        raw = _plain_hex_file(p)
        if raw is not None:
            return _plain_target_set(raw)
    if column is not None and not keep_table and p.is_file():
        fast = _hex_column_file(p, column)
        if fast is not None:
            return fast
    if column is not None and keep_table:
        digests = _digest_column(decoded_upload(p), column)
        if digests is not None and digests.null_count < len(digests):  # else: the general path
            return digest_column_targets(digests)
    table, col = read_upload(path, column)
    return parse_digests(table.column(col).combine_chunks(), path)
