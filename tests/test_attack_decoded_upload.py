"""An upload read in one scan of its bytes (``decoded_upload``: digest columns decoded,
the rest as text) gives the attacks what the table of text gives them."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matchsim.io
import matchsim.join.upload_fast
from matchsim.attack import targets as T
from matchsim.attack.reidentify import _plain_text, reverse_upload
from matchsim.errors import InputError

_ALGOS = ["md5", "sha1", "sha256"]


@st.composite
def _upload(draw: st.DrawFn) -> str:
    """A small upload CSV: digest columns (gaps, repeats, now and then a cell only the
    text can hold: upper case, a space, ``NA``, another width), a column in clear, and
    quoting, line ends, a BOM or a delimiter of the kinds the scan handles or gives up on."""
    algo = draw(st.sampled_from(_ALGOS))
    n = draw(st.integers(1, 30))
    names = ["EMAIL", "PHONE", "FN", "MADID"]
    columns: list[list[str]] = []
    for name in names:
        cells = []
        for _ in range(n):
            if name == "MADID":
                cells.append(draw(st.sampled_from(["", "ab-12", "é", "x y", "NA"])))
                continue
            kind = draw(st.sampled_from(["digest"] * 8 + ["empty"] * 2 + ["odd"]))
            if kind == "digest":
                word = str(draw(st.integers(0, 6))).encode()
                cells.append(hashlib.new(algo, word).hexdigest())
            elif kind == "empty":
                cells.append("")
            else:
                good = hashlib.new(algo, b"x").hexdigest()
                other = hashlib.new(draw(st.sampled_from(_ALGOS)), b"y").hexdigest()
                cells.append(draw(st.sampled_from([good.upper(), " " + good, other, "NA"])))
        columns.append(cells)
    delim = draw(st.sampled_from([",", ",", ";", "\t"]))
    quote = draw(st.booleans())
    eol = draw(st.sampled_from(["\n", "\n", "\r\n"]))

    def cell(v: str) -> str:
        return f'"{v}"' if quote and v else v

    lines = [delim.join(cell(h) for h in names)]
    lines += [delim.join(cell(col[i]) for col in columns) for i in range(n)]
    bom = "\ufeff" if draw(st.integers(0, 9)) == 0 else ""
    return bom + eol.join(lines) + (eol if draw(st.booleans()) else "")


def _fresh() -> None:
    T._LAST_READ.clear()
    T._LAST_DECODED.clear()


def _targets(path: Path, column: str, *, decoded: bool) -> object:
    """``load_targets(keep_table=True)`` as a run calls it, from the decoded upload or (not
    ``decoded``) from the table of text: the target set as plain values, or the error."""
    _fresh()
    try:
        if decoded:
            got = T.load_targets(path, column, keep_table=True)
        else:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(T, "decoded_upload", lambda p: None)
                got = T.load_targets(path, column, keep_table=True)
    except (InputError, T.NothingToAttack) as exc:
        return (type(exc).__name__, str(exc))
    return {
        k: v.tolist() if isinstance(v, np.ndarray) else v
        for k, v in dataclasses.asdict(got).items()
    }


@settings(max_examples=80, deadline=None)
@given(text=_upload(), column=st.sampled_from(["EMAIL", "PHONE", "FN"]))
def test_decoded_upload_holds_what_the_text_holds(
    text: str, column: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every column of the decoded upload, read back as text, is the column of the table
    of text; a digest column's targets are those of its text, or the same error."""
    path = tmp_path_factory.mktemp("up") / "upload.csv"
    path.write_bytes(text.encode("utf-8"))
    _fresh()
    decoded = T.decoded_upload(path)
    plain = T.upload_table(path)
    if decoded is not None:
        assert decoded.column_names == plain.column_names
        for name in plain.column_names:
            assert _plain_text(decoded.column(name)).equals(_plain_text(plain.column(name)))
    assert _targets(path, column, decoded=True) == _targets(path, column, decoded=False)


def test_decoded_upload_takes_the_common_upload(tmp_path: Path) -> None:
    """What ``matchsim hash`` writes: quoted digests of one width with gaps and a column
    in clear; the digest columns are decoded (null where empty), the other stays text. A
    file with no digest column, or one the scan does not read, is left to the text."""
    sha = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(6)]
    lines = ['"EMAIL","PHONE","MADID"'] + [
        f'"{sha[i]}",' + (f'"{sha[5 - i]}"' if i % 2 else "") + f',"id-{i}"' for i in range(6)
    ]
    path = tmp_path / "upload.csv"
    path.write_text("\n".join(lines) + "\n")
    _fresh()
    got = T.decoded_upload(path)
    assert got is not None
    assert T.is_digest_column(got, "EMAIL") and T.is_digest_column(got, "PHONE")
    assert not T.is_digest_column(got, "MADID")
    assert got.column("PHONE").null_count == 3
    assert got.column("EMAIL")[2].as_py() == bytes.fromhex(sha[2])
    assert got.column("MADID").to_pylist() == [f"id-{i}" for i in range(6)]
    assert not T.is_digest_column(T.upload_table(path), "EMAIL")  # text stays text
    (tmp_path / "clear.csv").write_text("A,B\nx,y\n")
    assert T.decoded_upload(tmp_path / "clear.csv") is None
    (tmp_path / "doubled.csv").write_text('A,B\n"say ""hi""",' + sha[0] + "\n")
    assert T.decoded_upload(tmp_path / "doubled.csv") is None


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the upload's bytes are scanned and how often it is read as text."""
    calls = {"scan": 0, "text": 0}
    scan, text = matchsim.join.upload_fast.read_columns, matchsim.io.read_table

    def counted_scan(*args: Any, **kw: Any) -> Any:
        calls["scan"] += 1
        return scan(*args, **kw)

    def counted_text(*args: Any, **kw: Any) -> Any:
        calls["text"] += 1
        return text(*args, **kw)

    monkeypatch.setattr(matchsim.join.upload_fast, "read_columns", counted_scan)
    monkeypatch.setattr(matchsim.io, "read_table", counted_text)
    _fresh()
    return calls


@pytest.fixture(scope="module")
def nl_upload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from matchsim.generate import PopulationParams, population
    from matchsim.upload.write import hash_file

    root = tmp_path_factory.mktemp("decoded")
    params = PopulationParams(platform_users=3000, customers=2000, country="NL", seed=5)
    pop = population(params, root / "pop")
    upload = root / "upload.csv"
    hash_file(pop.customers, profile="meta", scheme="sha256", region="NL", out=upload)
    return upload


def test_one_scan_for_every_attack(nl_upload: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's phone and e-mail attacks and its re-identification scan the upload once
    and never read it as text; a changed file is scanned again."""
    calls = _counting(monkeypatch)
    phone = T.load_targets(nl_upload, "PHONE", keep_table=True)
    email = T.load_targets(nl_upload, "EMAIL", keep_table=True)
    table = T.decoded_upload(nl_upload)
    assert calls == {"scan": 1, "text": 0}
    assert table is not None and table.num_rows == phone.n_rows == email.n_rows == 2000
    assert phone.rejected["empty"] + len(phone.rows) == 2000  # some without a phone number
    nl_upload.touch()
    T.load_targets(nl_upload, "PHONE", keep_table=True)
    assert calls == {"scan": 2, "text": 0}


def _plain(rev: Any) -> object:
    report = {
        f: {k: v for k, v in r.to_dict().items() if k != "seconds"} for f, r in rev.fields.items()
    }
    codes = {f: (i.tolist(), d.to_pylist()) for f, (i, d) in rev.codes.items()}
    return rev.n_rows, {f: v.to_pylist() for f, v in rev.values.items()}, report, codes


def test_reversal_of_the_decoded_upload_equals_the_text(nl_upload: Path) -> None:
    """Every field reversed from the decoded digests as from the text: the same values,
    codes and reports (the phone column has gaps; MADID travels in clear)."""
    fields = ["first_name", "gender", "dob", "postcode", "country", "madid", "phone", "email"]
    _fresh()
    decoded = T.decoded_upload(nl_upload)
    assert decoded is not None and T.is_digest_column(decoded, "PHONE")
    got = reverse_upload(decoded, "meta", "NL", email_guesses=20_000, fields=fields)
    want = reverse_upload(T.upload_table(nl_upload), "meta", "NL", email_guesses=20_000,
                          fields=fields)  # fmt: skip
    assert got.fields["phone"].reversed > 0 and got.fields["first_name"].reversed > 0
    assert _plain(got) == _plain(want)


def test_digests_read_back_as_their_text_at_their_offset() -> None:
    """A digest column (sliced, with nulls) reads back as the lower-case hex it was
    decoded from, null where empty."""
    import pyarrow as pa

    digests = [hashlib.sha1(str(i).encode()).digest() for i in range(5)]
    column = pa.array([digests[0], None, *digests[1:]], pa.binary(20))
    want = [None, *(d.hex() for d in digests[1:])]
    assert _plain_text(column.slice(1)).to_pylist() == want
