"""The generator's threads: the platform file's last row group and close overlap the
customer file; an error on either side still ends the call with that error, leaves no
output folder and no thread behind."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from matchsim.generate import PopulationParams, build, population

PARAMS = PopulationParams(platform_users=3_000, customers=400, chunk_size=1_000, seed=11)


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith(("generate", "write"))}


def test_failing_last_row_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = pq.ParquetWriter.write_table
    calls: list[int] = []

    def write_table(self: pq.ParquetWriter, table: Any, *a: Any, **k: Any) -> None:
        calls.append(table.num_rows)
        if len(calls) == 3:  # the last of three row groups: still queued when customers start
            raise OSError("disk full (test)")
        real(self, table, *a, **k)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", write_table)
    with pytest.raises(OSError, match="disk full"):
        population(PARAMS, tmp_path / "pop")
    # the customer file and the truth were written meanwhile; the error still wins
    assert calls[:3] == [1_000, 1_000, 1_000] and sorted(calls[3:]) == [400, 400]
    assert not (tmp_path / "pop").exists()
    assert list(tmp_path.iterdir()) == []
    assert not _threads()


def test_failing_customer_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*a: Any, **k: Any) -> None:
        raise ValueError("customers broke (test)")

    monkeypatch.setattr(build, "corrupt_customers", broken)
    with pytest.raises(ValueError, match="customers broke"):
        population(PARAMS, tmp_path / "pop")
    assert list(tmp_path.iterdir()) == []
    assert not _threads()


def test_complete_files_after_overlap(tmp_path: Path) -> None:
    pop = population(PARAMS, tmp_path / "pop")
    meta = pq.read_metadata(pop.platform)
    assert meta.num_rows == 3_000 and meta.num_row_groups == 3
    assert pq.read_table(pop.customers).num_rows == 400
    assert pq.read_table(pop.truth).num_rows == 400
    assert not _threads()
