"""Hashing one customer file under several schemes normalises it once, with the same result."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchsim.upload import write
from matchsim.upload.write import hash_file


def _fresh(path: Path, scheme: str, out: Path) -> bytes:
    write._Memo._held.clear()
    write._Memo._file = None
    hash_file(path, profile="meta", scheme=scheme, region="NL", out=out)
    return out.read_bytes() + out.with_name(out.stem + ".rejects.csv").read_bytes()


def _memo(path: Path, scheme: str, out: Path) -> bytes:
    hash_file(path, profile="meta", scheme=scheme, region="NL", out=out)
    return out.read_bytes() + out.with_name(out.stem + ".rejects.csv").read_bytes()


def test_second_scheme_reuses_normalisation_exactly(tmp_path: Path) -> None:
    src = tmp_path / "c.parquet"
    pq.write_table(
        pa.table(
            {
                "email": ["A@B.NL", "x", None, "a@b.nl"] * 50,
                "phone": ["06 1234 5678", "12", None, "+31612345678"] * 50,
                "first_name": ["Jan", "", "Ann", "jan"] * 50,
            }
        ),
        src,
    )
    first = _fresh(src, "sha256", tmp_path / "a.csv")
    assert write._Memo._held  # kept for the next scheme
    assert _memo(src, "md5", tmp_path / "b.csv") == _fresh(src, "md5", tmp_path / "b2.csv")
    assert _memo(src, "sha256", tmp_path / "c.csv") == first


def test_changed_file_is_normalised_again(tmp_path: Path) -> None:
    src = tmp_path / "c.parquet"
    pq.write_table(pa.table({"email": ["a@b.nl"] * 10}), src)
    _fresh(src, "sha256", tmp_path / "a.csv")
    pq.write_table(pa.table({"email": ["c@d.nl"] * 10}), src)
    os.utime(src, ns=(1, 1))  # a new mtime whatever the clock's resolution
    got = _memo(src, "sha256", tmp_path / "b.csv")
    assert got == _fresh(src, "sha256", tmp_path / "b2.csv")


def test_a_file_beyond_the_limit_is_not_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "c.parquet"
    pq.write_table(pa.table({"email": ["a@b.nl"] * 10, "first_name": ["Jan"] * 10}), src)
    monkeypatch.setattr(write._Memo, "LIMIT", 15)
    first = _fresh(src, "sha256", tmp_path / "a.csv")
    assert sum(len(v.values) for v in write._Memo._held.values()) <= 15
    assert _memo(src, "sha256", tmp_path / "b.csv") == first


@pytest.mark.parametrize("scheme", ["sha256", "md5", "salted-sha256"])
def test_encoded_column_text_equals_row_by_row(scheme: str) -> None:
    """A held dictionary encoding gives the text hashing row by row gives (a salted
    scheme ignores it: every row draws its own salt)."""
    import numpy as np

    from matchsim.normalise import distinct
    from matchsim.schemes import get_scheme

    values = pa.array(["anna", None, "bob", "anna", "", "bob", None, "cees"] * 50)
    sch = get_scheme(scheme, seed=1) if scheme.startswith("salted") else get_scheme(scheme)
    prehashed = np.zeros(len(values), dtype=bool)
    got = write.encode_column(sch, values, prehashed, distinct.dictionary(values))
    want = write.encode_column(sch, values, prehashed)
    assert got.equals(want) and got.null_count == 100
