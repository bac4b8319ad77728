"""The upload's one-scan CSV reader gives exactly what Arrow's reader gives, or steps aside."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from matchsim.errors import InputError
from matchsim.io import open_table
from matchsim.join import upload as upload_mod
from matchsim.join.upload import map_upload_columns, read_upload
from matchsim.join.upload_fast import read_fast
from matchsim.normalise import get_profile
from matchsim.schemes import get_scheme

HEADER = ["EMAIL", "PHONE", "FN", "LN", "ZIP", "DOB", "MADID", "cid", "note"]
PROFILE, SCHEME = get_profile("meta"), get_scheme("sha256")


def _digest(i: int) -> str:
    return hashlib.sha256(str(i % 7).encode()).hexdigest()


_HEX_CELL = st.one_of(
    st.integers(0, 50).map(_digest),  # repeats make duplicate rows
    st.just(""),
    st.integers(0, 50).map(lambda i: _digest(i).upper()),  # upper-case hex: refused
    st.integers(0, 50).map(lambda i: _digest(i)[:-2]),  # wrong length
    st.sampled_from(["NA", "null", "g" * 64, "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm8=", " "]),
)
_TEXT_CELL = st.sampled_from(["", "7f0e5a2c-1b2d-4c3e-8f9a-0b1c2d3e4f50", "NA", "x", "é", "12"])
_OTHER_CELL = st.sampled_from(["", "NA", "x", "12"])  # a skipped column: ASCII, else Arrow reads


@st.composite
def _files(draw: st.DrawFn) -> bytes:
    rows = draw(st.lists(st.tuples(*[_HEX_CELL] * 6, _TEXT_CELL, _TEXT_CELL, _OTHER_CELL),
                         min_size=1, max_size=25))  # fmt: skip
    quote = draw(st.booleans())
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [",".join(HEADER)]
    for row in rows:
        cells = [f'"{c}"' if quote and c else c for c in row]
        lines.append(",".join(cells))
    text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    return text.encode()


def _both(path: Path) -> tuple[object, object]:
    fast = read_upload(path, PROFILE, SCHEME, "NL")
    saved = upload_mod._read_fast
    upload_mod._read_fast = lambda *a, **k: None  # type: ignore[assignment]
    try:
        arrow = read_upload(path, PROFILE, SCHEME, "NL")
    finally:
        upload_mod._read_fast = saved  # type: ignore[assignment]
    return fast, arrow


def _same(fast: object, arrow: object) -> None:
    (a, ra), (b, rb) = fast, arrow  # type: ignore[misc]
    assert ra == rb
    assert a.n_rows == b.n_rows and a.rejected == b.rejected
    assert a.keys.keys() == b.keys.keys()
    for key in a.keys:
        assert np.array_equal(a.keys[key].words, b.keys[key].words)
        assert np.array_equal(a.keys[key].ids, b.keys[key].ids)
    assert np.array_equal(a.rejected_rows, b.rejected_rows)
    assert np.array_equal(
        np.asarray(a.customer_ids if a.customer_ids is not None else []),
        np.asarray(b.customer_ids if b.customer_ids is not None else []),
    )


def _takes_fast_path(path: Path) -> bool:
    try:
        src = open_table(path)
    except InputError:  # refused on opening (Arrow reads the first block), before any scan
        return False
    columns = map_upload_columns(path, src.header, PROFILE)
    return read_fast(src, columns, ["cid"], PROFILE, SCHEME) is not None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_files())
def test_fast_reader_equals_arrow_reader(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "up.csv"
    path.write_bytes(content)
    try:
        fast = read_upload(path, PROFILE, SCHEME, "NL")
    except InputError as exc:  # e.g. every row refused is still a result; errors must agree
        with pytest.raises(InputError) as arrow_exc:
            _both_arrow(path)
        assert str(arrow_exc.value) == str(exc)
        return
    _same(fast, _both(path)[1])
    assert _takes_fast_path(path)  # a well-formed file never falls back


def _both_arrow(path: Path) -> object:
    saved = upload_mod._read_fast
    upload_mod._read_fast = lambda *a, **k: None  # type: ignore[assignment]
    try:
        return read_upload(path, PROFILE, SCHEME, "NL")
    finally:
        upload_mod._read_fast = saved  # type: ignore[assignment]


def test_fast_reader_known_answer(tmp_path: Path) -> None:
    d = _digest(1)
    path = tmp_path / "up.csv"
    path.write_text(f'EMAIL,PHONE\n"{d}",\n{d.upper()},{d[:10]}\n,NA\n{d},{d}')
    (keys, report) = read_upload(path, PROFILE, SCHEME, "NL")
    assert _takes_fast_path(path)
    assert keys.n_rows == 4
    assert report.rejected == {
        "email: upper-case hex": 1,
        "phone: wrong length": 1,
        "no usable key": 2,
    }
    assert keys.keys["email"].ids.tolist() == [0, 3]
    assert keys.keys["email"].words[0].tobytes() == bytes.fromhex(d)
    assert keys.keys["phone"].ids.tolist() == [3]


@pytest.mark.parametrize(
    "body",
    [
        'EMAIL,PHONE\n"a\nb",1\n',  # a line break inside quotes
        'EMAIL,PHONE\n"a""b",1\n',  # a doubled quote
        "EMAIL,PHONE\n1,2\n\n3,4\n",  # a blank line (Arrow skips it)
        "EMAIL,PHONE\n1,2\r3,4\n",  # a lone carriage return ends a row
        "EMAIL,PHONE\n1,2,3\n",  # too many fields: Arrow's error
        "EMAIL,PHONE\n1\n",  # too few fields
        "EMAIL,PHONE\nab\xe9,1\n",  # a byte over 127 in a hex column
        'EMAIL,PHONE\n"ab"x,1\n',  # text after a closing quote
    ],
)
def test_irregular_files_fall_back_to_arrow(tmp_path: Path, body: str) -> None:
    path = tmp_path / "up.csv"
    path.write_bytes(body.encode("utf-8"))
    assert not _takes_fast_path(path)
    try:
        fast = read_upload(path, PROFILE, SCHEME, "NL")
    except InputError as exc:
        with pytest.raises(InputError) as arrow_exc:
            _both_arrow(path)
        assert str(arrow_exc.value) == str(exc)
        return
    _same(fast, _both(path)[1])


def test_bad_utf8_in_a_text_column_gets_arrows_error(tmp_path: Path) -> None:
    path = tmp_path / "up.csv"
    path.write_bytes(b"EMAIL,MADID\n" + b"a,b\n" * 30000 + b"a,\xff\xfe\n")
    with pytest.raises(InputError, match="UTF-8"):
        read_upload(path, PROFILE, SCHEME, "NL")


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 400))
def test_keys_built_then_deduplicated_equal_keys_of_kept_rows(seed: int, n: int) -> None:
    # _key_digests builds every key from all valid rows while duplicates are found on a
    # thread, then drops the duplicates: the same as building from the kept rows only.
    from collections import Counter

    from matchsim.join.keys import NAME_POSTCODE_DOB, KeyDigests
    from matchsim.join.platform import key_fields
    from matchsim.join.upload import _key_digests
    from matchsim.schemes import Digests

    rng = np.random.default_rng(seed)
    fields = ["email", "phone", "first_name", "last_name", "postcode", "dob", "madid"]
    per_field = {}
    for f in fields:  # two values per field: many repeated rows
        data = np.repeat(rng.integers(0, 2, (n, 1), dtype=np.uint8), 32, axis=1)
        valid = rng.random(n) < 0.7
        data[~valid] = 0
        per_field[f] = Digests(data, valid)
    keys, keep = _key_digests(per_field, PROFILE, n, Counter())
    ids = np.arange(n, dtype=np.int64)
    for key, kf in key_fields(PROFILE).items():
        if key == NAME_POSTCODE_DOB:
            want = KeyDigests.combine(
                [(per_field[f].data, per_field[f].valid & keep) for f in kf], ids
            )
        else:
            want = KeyDigests.from_bytes(per_field[key].data, ids, per_field[key].valid & keep)
        assert np.array_equal(keys[key].words, want.words)
        assert np.array_equal(keys[key].ids, want.ids)


def test_byte_order_mark_and_semicolons_take_the_fast_path(tmp_path: Path) -> None:
    d = _digest(2)
    path = tmp_path / "up.csv"
    path.write_bytes(f'\ufeffEMAIL;PHONE;cid\r\n"{d}";;7\r\n;{d};8\r\n'.encode())
    assert _takes_fast_path(path)
    fast, arrow = _both(path)
    _same(fast, arrow)
    keys, report = fast  # type: ignore[misc]
    assert keys.customer_ids.tolist() == [7, 8]
    assert keys.keys["email"].ids.tolist() == [0] and keys.keys["phone"].ids.tolist() == [1]
    assert report.rejected == {}


def _locate_bytewise(buf: bytes, p: int, hi: int, delim: int, text: bool) -> tuple[int, int, int]:
    """``csvhex._locate`` as it read one byte at a time before its eight-byte runs."""
    quote, lf, cr = 34, 10, 13
    if p < hi and buf[p] == quote:
        s = q = p + 1
        while q < hi and buf[q] != quote:
            if buf[q] in (lf, cr):
                return -2, 0, 0
            if buf[q] > 127 and not text:
                return -4, 0, 0
            q += 1
        if q >= hi or (q + 1 < hi and buf[q + 1] == quote):
            return -1, 0, 0
        return s, q - s, q + 1
    q = p
    while q < hi:
        b = buf[q]
        if b in (delim, lf, cr):
            break
        if b == quote:
            return -1, 0, 0
        if b > 127 and not text:
            return -4, 0, 0
        q += 1
    return p, q - p, q


@settings(max_examples=500, deadline=None)
@given(
    body=st.lists(st.sampled_from(list(b'aaaaaaaa0f,;"\n\r\xc3\xa9')), max_size=60).map(bytes),
    quoted=st.booleans(),
    p=st.integers(0, 3),
    cut=st.integers(0, 8),
    delim=st.sampled_from([ord(","), ord(";")]),
    text=st.booleans(),
)
# a delimiter, a quote, a line end and a byte over 127 in the second word of a field
@example(b"aaaaaaaaaa,aaaaaaaaaaaa", False, 0, 0, ord(","), False)
@example(b'aaaaaaaaaa"aaaaaaaaaaaa', True, 1, 0, ord(","), False)
@example(b"aaaaaaaaa\raaaaaaaaaaaa", False, 0, 0, ord(";"), True)
@example(b'aaaaaaaaaa"aaaaaaaaaaaa', False, 0, 0, ord(","), True)
@example(b"aaaaaaaaaa\xc3\xa9aaaaaaaaaa", True, 0, 0, ord(","), False)
@example(b"aaaaaaaaaa\xc3\xa9aaaaaaaaaa", False, 0, 0, ord(","), False)
def test_locate_in_eight_byte_runs_equals_the_byte_loop(
    body: bytes, quoted: bool, p: int, cut: int, delim: int, text: bool
) -> None:
    """The field scan that skips eight plain bytes at a time stops, gives up and measures
    exactly where the byte-by-byte scan does: at quotes, line ends, the delimiter and
    (outside text) bytes over 127, anywhere in a word or past the end of the range."""
    from matchsim.kernels import csvhex

    buf = b"xyz"[:p] + (b'"' if quoted else b"") + body
    hi = max(p, len(buf) - cut)
    arr = np.frombuffer(buf + b"\0" * 16, dtype=np.uint8)[: len(buf)]
    got = csvhex._locate(arr, p, hi, delim, text)
    assert tuple(int(x) for x in got) == _locate_bytewise(buf, p, hi, delim, text)
