"""Dates of birth stored as timestamps (pandas writes milliseconds, often with a time of
day): the normalised value is the day, whatever the unit and the time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.cli import main
from matchsim.normalise.fields import dob

MOMENTS = st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2030, 12, 31))
UNITS = st.sampled_from(["s", "ms", "us", "ns"])


@settings(max_examples=200, deadline=None)
@given(moments=st.lists(MOMENTS, min_size=1, max_size=20))
def test_a_date64_with_a_time_of_day_normalises_to_its_day(moments: list[dt.datetime]) -> None:
    """date64 counts milliseconds; a value that is not a whole day (Arrow writers allow
    it) is its day, before 1970 too (floored, not truncated: -1 ms is 31 December 1969)."""
    epoch = dt.datetime(1970, 1, 1)
    ms = [(m - epoch) // dt.timedelta(milliseconds=1) for m in moments]
    got = dob(pa.array([*ms, None], pa.date64()), "NL")
    assert got.values.to_pylist() == [
        (epoch + dt.timedelta(milliseconds=v)).strftime("%Y%m%d") for v in ms
    ] + [None]
    assert dob(pa.array([-1, 0, 86_399_999], pa.date64()), "NL").values.to_pylist() == [
        "19691231", "19700101", "19700101",
    ]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    moments=st.lists(MOMENTS, min_size=1, max_size=20),
    unit=UNITS,
)
def test_a_timestamp_normalises_to_its_day(moments: list[dt.datetime], unit: str) -> None:
    if unit == "s":
        moments = [m.replace(microsecond=0) for m in moments]
    if unit == "ms":
        moments = [m.replace(microsecond=m.microsecond // 1000 * 1000) for m in moments]
    got = dob(pa.array([*moments, None], pa.timestamp(unit)), "NL")
    assert got.values.to_pylist() == [m.strftime("%Y%m%d") for m in moments] + [None]


@settings(max_examples=200, deadline=None)
@given(
    moments=st.lists(MOMENTS, min_size=1, max_size=20),
    zone=st.sampled_from(["Asia/Tokyo", "America/Sao_Paulo", "Europe/Amsterdam", "UTC"]),
    unit=UNITS,
)
def test_a_zoned_timestamp_normalises_to_its_local_day(
    moments: list[dt.datetime], zone: str, unit: str
) -> None:
    """A timestamp with a time zone is the day it is there (local midnight may not exist,
    or come twice, where clocks change: no error either way)."""
    local = [m.replace(microsecond=0, tzinfo=ZoneInfo(zone)) for m in moments]
    instants = pa.array([int(m.timestamp()) for m in local], pa.int64())
    stored = instants.cast(pa.timestamp("s", tz=zone)).cast(pa.timestamp(unit, tz=zone))
    got = dob(stored, "NL")
    assert got.values.to_pylist() == [m.strftime("%Y%m%d") for m in local]


def test_midnight_that_does_not_exist_or_comes_twice() -> None:
    # Sao Paulo skipped 2018-11-04 00:00-01:00; Tokyo's clocks went back at midnight of
    # 1951-09-09 (a day that began twice)
    for zone, day in (("America/Sao_Paulo", dt.datetime(2018, 11, 4, 12)),
                      ("Asia/Tokyo", dt.datetime(1951, 9, 8, 23, 30))):  # fmt: skip
        instant = int(day.replace(tzinfo=ZoneInfo(zone)).timestamp())
        stored = pa.array([instant], pa.int64()).cast(pa.timestamp("s", tz=zone))
        assert dob(stored, "NL").values.to_pylist() == [day.strftime("%Y%m%d")]


def test_hash_takes_a_pandas_style_dob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``matchsim hash`` of a file whose dob is timestamp[ms] with a time of day (it
    stopped with an Arrow cast error, exit 70) hashes the day, as a date column would."""
    moment = dt.datetime(1990, 1, 1, 12, 34, 56, 789000)
    as_time = tmp_path / "times.parquet"
    as_date = tmp_path / "dates.parquet"
    pq.write_table(
        pa.table({"email": ["a@b.nl"], "dob": pa.array([moment], pa.timestamp("ms"))}), as_time
    )
    pq.write_table(pa.table({"email": ["a@b.nl"], "dob": pa.array([moment.date()])}), as_date)
    digests = []
    for source in (as_time, as_date):
        out = tmp_path / f"{source.stem}.csv"
        with pytest.raises(SystemExit) as exc:
            main(["hash", str(source), "--region", "NL", "--out", str(out)])
        assert exc.value.code in (0, None), capsys.readouterr().err
        digests.append(pacsv.read_csv(out).column("DOB").to_pylist())
    assert digests[0] == digests[1] and digests[0][0]
