"""The fast paths of ``parse_digests`` (a column of plain hex digests, and one with gaps
between them) give what the general path gives."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.attack import targets as T
from matchsim.errors import InputError


def _general(values: pa.Array) -> T.TargetSet:
    with (
        mock.patch.object(T, "_plain_hex", lambda v: None),
        mock.patch.object(T, "_hex_with_gaps", lambda v: None),
    ):
        return T.parse_digests(values)


def _same(a: T.TargetSet, b: T.TargetSet) -> None:
    assert (a.algorithm, a.encoding, a.n_rows, a.rejected) == (
        b.algorithm,
        b.encoding,
        b.n_rows,
        b.rejected,
    )
    assert np.array_equal(a.digests, b.digests)
    assert np.array_equal(a.row_digest, b.row_digest)
    assert np.array_equal(a.rows, b.rows)


@settings(max_examples=40, deadline=None)
@given(
    algo=st.sampled_from(["md5", "sha1", "sha256", "sha512"]),
    words=st.lists(st.binary(max_size=6), min_size=1, max_size=30),
    upper=st.lists(st.booleans(), min_size=30, max_size=30),
)
def test_fast_path_equals_general_path(algo: str, words: list[bytes], upper: list[bool]) -> None:
    hexes = [hashlib.new(algo, w).hexdigest() for w in words]  # repeats when words repeat
    hexes = [h.upper() if u else h for h, u in zip(hexes, upper, strict=False)]
    values = pa.array(hexes)
    assert T._plain_hex(values) is not None
    _same(T.parse_digests(values), _general(values))


@pytest.mark.parametrize(
    "odd",
    [
        " " + "a" * 63,  # a space inside the fixed width: fromhex would skip it
        "a" * 31 + " " + "b" * 32,
        "",  # a blank row
        "g" * 64,  # not hex
        "a" * 62,  # another length
    ],
)
def test_anything_else_takes_the_general_path(odd: str) -> None:
    hexes = [hashlib.sha256(bytes([i])).hexdigest() for i in range(20)]
    values = pa.array([*hexes[:10], odd, *hexes[10:]])
    assert T._plain_hex(values) is None
    _same(T.parse_digests(values), _general(values))
    assert T.parse_digests(values).rejected  # the odd row is counted, not lost


def test_sliced_arrays_are_read_at_their_offset() -> None:
    hexes = pa.array([hashlib.md5(bytes([i])).hexdigest() for i in range(10)])
    got = T.parse_digests(hexes.slice(3, 4))
    want = sorted(hashlib.md5(bytes([i])).digest() for i in range(3, 7))
    assert [bytes(r) for r in got.digests] == want


@settings(max_examples=40, deadline=None)
@given(
    words=st.lists(st.integers(0, 2**32 - 1), max_size=200),
    bits=st.integers(3, 16),
)
def test_bitmap_sets_exactly_the_words_bits(words: list[int], bits: int) -> None:
    from matchsim.kernels.attack.mask import make_bitmap

    bm = make_bitmap(np.array(words, dtype=np.uint32), bits)
    assert bm.dtype == np.uint64 and bm.shape == (max(1, (1 << bits) // 64),)
    want = {w & ((1 << bits) - 1) for w in words}
    got = {i for i in range(max(64, 1 << bits)) if (int(bm[i >> 6]) >> (i & 63)) & 1}
    assert got == want


@pytest.mark.parametrize(
    "text",
    [
        "".join(hashlib.sha1(bytes([i % 7])).hexdigest() + "\n" for i in range(30)),
        "".join(hashlib.sha1(bytes([i])).hexdigest() + "\n" for i in range(30)).rstrip("\n"),
        "".join(hashlib.md5(bytes([i])).hexdigest().upper() + "\n" for i in range(9)),
    ],
)
def test_plain_file_is_read_as_the_csv_path_reads_it(text: str, tmp_path: Path) -> None:
    path = tmp_path / "up.txt"
    path.write_text(text)
    assert T._plain_hex_file(path) is not None
    table, col = T.read_upload(path)
    _same(T.load_targets(path), _general(table.column(col).combine_chunks()))


@pytest.mark.parametrize(
    "text",
    [
        "sha\n" + hashlib.md5(b"x").hexdigest() + "\n",  # a header
        hashlib.md5(b"x").hexdigest() + "\r\n" + hashlib.md5(b"y").hexdigest() + "\r\n",
        hashlib.md5(b"x").hexdigest() + "\n\n",
        hashlib.md5(b"x").hexdigest() + "\n" + hashlib.md5(b"y").hexdigest()[:-2] + " a\n",
        hashlib.md5(b"x").hexdigest() + "," + hashlib.md5(b"y").hexdigest() + "\n",
    ],
)
def test_other_files_take_the_csv_path(text: str, tmp_path: Path) -> None:
    path = tmp_path / "up.csv"
    path.write_text(text)
    assert T._plain_hex_file(path) is None
    T.load_targets(path)  # reads (or rejects rows) as before


_ALGOS = ["md5", "sha1", "sha256", "sha512"]


@st.composite
def _column_with_gaps(draw: st.DrawFn) -> list[str | None]:
    """Digests of a few values (repeats common) among absent cells; now and then a cell
    the general path must judge (upper case, a space, a truncated or foreign digest)."""
    algo = draw(st.sampled_from(_ALGOS))
    cells: list[str | None] = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(["digest"] * 6 + ["null", "empty"] * 2 + ["odd"]))
        if kind == "digest":
            cells.append(hashlib.new(algo, str(draw(st.integers(0, 8))).encode()).hexdigest())
        elif kind == "null":
            cells.append(None)
        elif kind == "empty":
            cells.append("")
        else:
            good = hashlib.new(algo, b"x").hexdigest()
            other = hashlib.new(draw(st.sampled_from(_ALGOS)), b"y").hexdigest()
            cells.append(draw(st.sampled_from([good.upper(), " " + good, good[:-2], other, "NA"])))
    return cells


def _outcome(parse: Callable[[pa.Array], T.TargetSet], values: pa.Array) -> object:
    """The target set as plain values, or the error's type and message."""
    try:
        got = parse(values)
    except (InputError, T.NothingToAttack) as exc:
        return (type(exc).__name__, str(exc))
    return {
        k: v.tolist() if isinstance(v, np.ndarray) else v
        for k, v in dataclasses.asdict(got).items()
    }


@settings(max_examples=300, deadline=None)
@given(cells=_column_with_gaps(), sliced=st.booleans())
def test_gaps_path_equals_the_general_path(cells: list[str | None], sliced: bool) -> None:
    values = pa.array(["pad", *cells], pa.string())[1:] if sliced else pa.array(cells, pa.string())
    assert _outcome(T.parse_digests, values) == _outcome(_general, values)


def test_gaps_path_takes_the_common_column() -> None:
    """A column of SHA-256 digests with nulls and empty cells goes the fast way, and says
    which rows it kept; upper case, or no digest at all, goes the general way."""
    digest = hashlib.sha256(b"31612345678").hexdigest()
    values = pa.array([digest, None, "", digest, hashlib.sha256(b"x").hexdigest()])
    got = T._hex_with_gaps(values)
    assert got is not None
    assert got.rows.tolist() == [0, 3, 4]
    assert got.rejected == {"empty": 2}
    assert got.n_distinct == 2
    assert got.digests[got.row_digest[0]].tobytes().hex() == digest
    assert T._hex_with_gaps(pa.array([digest.upper(), None])) is None
    assert T._hex_with_gaps(pa.array([None, ""], pa.string())) is None


@st.composite
def _upload_csv(draw: st.DrawFn) -> tuple[str, str]:
    """A small CSV upload in a platform's layout (a digest column among others), as text,
    and the column to attack: mostly what matchsim and the SDKs write, now and then what
    only the general path reads (quoting, line ends, a BOM, another delimiter)."""
    column = _column_with_gaps()
    cells = draw(column)
    other = draw(column)
    delim = draw(st.sampled_from([",", ",", ";", "\t"]))
    quote = draw(st.booleans())
    eol = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    head = ["EMAIL", "PHONE", "FN"]
    rows = []
    for i, cell in enumerate(cells):
        out = [other[i % len(other)], cell, "x"]
        rows.append(delim.join(
            "" if v is None else (f'"{v}"' if quote else v) for v in out
        ))  # fmt: skip
    bom = "\ufeff" if draw(st.integers(0, 9)) == 0 else ""
    end = eol if draw(st.booleans()) else ""
    text = bom + delim.join(f'"{h}"' if quote else h for h in head) + eol + eol.join(rows) + end
    return text, draw(st.sampled_from(["PHONE", "PHONE", "EMAIL"]))


def _read(path: Path, column: str, keep_table: bool) -> object:
    """``load_targets``: the named column from the bytes, or (``keep_table``) the general
    path, reading the whole file as text (the decoded upload off)."""
    T._LAST_READ.clear()
    T._LAST_DECODED.clear()
    with mock.patch.object(T, "decoded_upload", lambda p: None):
        return _outcome(lambda _: T.load_targets(path, column, keep_table=keep_table), pa.array([]))


@settings(max_examples=150, deadline=None)
@given(upload=_upload_csv())
def test_column_read_from_the_bytes_equals_the_general_path(
    upload: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``load_targets(path, column)`` (a named column decoded from the file's bytes where
    it can be) gives what reading the whole file as text gives (``keep_table``), or the
    same error."""
    text, column = upload
    path = tmp_path_factory.mktemp("up") / "upload.csv"
    path.write_bytes(text.encode("utf-8"))
    assert _read(path, column, False) == _read(path, column, True)


def test_column_read_from_the_bytes_takes_the_common_file(tmp_path: Path) -> None:
    """A quoted CSV with a phone column with gaps, as ``matchsim hash`` writes it, is read
    the fast way; an upper-case digest in it sends the file the general way."""
    phone = [hashlib.sha256(str(i).encode()).hexdigest() if i % 3 else "" for i in range(50)]
    email = [hashlib.sha256(f"{i}@x.nl".encode()).hexdigest() for i in range(50)]
    lines = ['"EMAIL","PHONE"'] + [
        f'"{e}",' + (f'"{p}"' if p else "") for e, p in zip(email, phone, strict=True)
    ]
    path = tmp_path / "upload.csv"
    path.write_text("\n".join(lines) + "\n")
    got = T._hex_column_file(path, "PHONE")
    assert got is not None
    assert got.rows.tolist() == [i for i in range(50) if i % 3]
    assert got.rejected == {"empty": 17}
    assert T._hex_column_file(path, "EMAIL") is not None
    lines[5] = lines[5].upper()  # a row of upper-case digests
    path.write_text("\n".join(lines) + "\n")
    assert T._hex_column_file(path, "EMAIL") is None
