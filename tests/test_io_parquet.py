"""``matchsim.io.read_parquet``: a population file read with one-line errors that name
the file (and the column), never Arrow's exception; a good file reads as
``pyarrow.parquet.read_table`` reads it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchsim.errors import InputError
from matchsim.io import UNREADABLE_PARQUET, parquet_names, read_parquet


@pytest.fixture
def table_file(tmp_path: Path) -> Path:
    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"cid": [3, 1, 2], "uid": [None, 7, 8], "x": ["a", "b", None]}), p,
                   row_group_size=2)  # fmt: skip
    return p


def test_reads_as_arrow_reads(table_file: Path) -> None:
    assert read_parquet(table_file).equals(pq.read_table(table_file))
    got = read_parquet(table_file, ["uid", "cid"], required=["x"])
    assert got.equals(pq.read_table(table_file, columns=["uid", "cid"]))
    assert parquet_names(table_file) == ["cid", "uid", "x"]


def _reason(path: Path, columns: list[str] | None = None, required: tuple[str, ...] = ()) -> str:
    with pytest.raises(InputError) as exc:
        read_parquet(path, columns, required)
    assert exc.value.path == str(path)
    return exc.value.reason


@pytest.mark.parametrize("data", [b"", b"PAR1garbage", b"email\na@b.nl\n", b"PAR1" + b"\0" * 64])
def test_not_parquet(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "bad.parquet"
    p.write_bytes(data)
    assert _reason(p) == UNREADABLE_PARQUET
    with pytest.raises(InputError, match=UNREADABLE_PARQUET):
        parquet_names(p)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert _reason(tmp_path / "none.parquet") == "does not exist"
    assert _reason(tmp_path) == "is a folder, not a file"


def test_missing_column_is_named(table_file: Path) -> None:
    assert _reason(table_file, ["cid", "email"]).startswith("has no email column (found: cid")
    assert _reason(table_file, None, ("person",)).startswith("has no person column")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    """A FIFO where a population file should be: opening it would block until a writer
    came (for ever); it is refused by name first. An alarm bounds the test if not."""
    from matchsim.join.platform import ParquetPlatform

    fifo = tmp_path / "platform.parquet"
    os.mkfifo(fifo)

    def late(*_: object) -> None:
        raise TimeoutError("blocked on the FIFO")

    old = signal.signal(signal.SIGALRM, late)
    signal.alarm(10)
    try:
        assert _reason(fifo) == "is not a regular file"
        with pytest.raises(InputError, match="is not a regular file"):
            ParquetPlatform(fifo, profile="meta", scheme="sha256")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_person_ids_must_be_integers_once(tmp_path: Path) -> None:
    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"uid": ["1", "2"]}), p)
    with pytest.raises(InputError) as exc:
        read_parquet(p)
    assert exc.value.column == "uid" and "holds string values" in exc.value.reason
    pq.write_table(pa.table([pa.array([1]), pa.array([2])], names=["cid", "cid"]), p)
    with pytest.raises(InputError, match="column name 'cid' appears twice"):
        parquet_names(p)
