"""An upload CSV is parsed once for the several attacks of a run, and read again
whenever it may differ."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import matchsim.io
from matchsim.attack import targets
from matchsim.attack.targets import load_targets, read_upload, upload_table


def _write(path: Path, words: list[str]) -> None:
    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    rows = [f"{sha(w)},{sha(w + '@example.nl')}" for w in words]
    path.write_text("phone,email\n" + "\n".join(rows) + "\n")


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths ``matchsim.io.read_table`` reads from now on (the real reader stays
    reachable as its ``__wrapped__``), with the one-file memory emptied."""
    calls: list[Path] = []
    real = matchsim.io.read_table

    def counting(p: Path, **kw: object) -> object:
        calls.append(p)
        return real(p, **kw)  # type: ignore[arg-type]

    counting.__wrapped__ = real  # type: ignore[attr-defined]
    monkeypatch.setattr(matchsim.io, "read_table", counting)
    monkeypatch.setattr(targets, "_LAST_READ", [])
    return calls


def test_one_parse_for_every_attack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's phone and e-mail attacks (``keep_table``: the whole upload, kept) and its
    re-identification parse the file once where it is read as text (a file the scan of
    its bytes does not read: ``decoded_upload`` off here; its own memory is tested in
    test_attack_decoded_upload)."""
    path = tmp_path / "upload.csv"
    _write(path, ["a", "b", "c"])
    calls = _counting_reads(monkeypatch)
    monkeypatch.setattr(targets, "decoded_upload", lambda p: None)
    real = matchsim.io.read_table.__wrapped__  # type: ignore[attr-defined]
    phone = load_targets(path, "phone", keep_table=True)
    email = load_targets(path, "email", keep_table=True)
    whole = upload_table(path)
    assert len(calls) == 1
    assert phone.n_distinct == email.n_distinct == 3 and whole.num_rows == 3
    assert whole.equals(real(path))  # what reidentify read before
    # the file changes: read again, and the new rows are seen
    _write(path, ["a", "b", "c", "d"])
    os.utime(path, ns=(1, 1))
    assert load_targets(path, "phone", keep_table=True).n_distinct == 4
    assert len(calls) == 2
    # another file replaces the one kept
    other = tmp_path / "other.csv"
    _write(other, ["x"])
    assert read_upload(other)[0].num_rows == 1
    assert upload_table(path).num_rows == 4
    assert len(calls) == 4


def test_one_column_alone_reads_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``matchsim attack --column`` (no ``keep_table``) decodes that column from the file's
    bytes: no table of every column as text is read, or kept."""
    path = tmp_path / "upload.csv"
    _write(path, ["a", "b", "c"])
    calls = _counting_reads(monkeypatch)
    assert load_targets(path, "phone").n_distinct == 3
    assert calls == [] and targets._LAST_READ == []


def test_header_question_answered_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file without a header whose first row the caller names differently is not
    served from memory under the other reading."""
    path = tmp_path / "bare.csv"
    path.write_text(
        hashlib.sha256(b"a").hexdigest() + "\n" + hashlib.sha256(b"b").hexdigest() + "\n"
    )
    monkeypatch.setattr(targets, "_LAST_READ", [])
    table, col = read_upload(path)
    assert table.num_rows == 2  # no header: both rows are digests
    first = hashlib.sha256(b"a").hexdigest()
    table, col = read_upload(path, first)  # a column named like the first row: a header
    assert col == first and table.num_rows == 1
