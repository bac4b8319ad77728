"""``matchsim attack --kind phone`` without ``--lengths``: the default keyspace is the
number type's possible lengths in phonenumbers' metadata, and the report shows its
masks; a phone lookup table built by ``attack-table`` agrees with enumeration."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from phonenumbers import PhoneMetadata

from matchsim.attack import phone_keyspace
from matchsim.attack.keyspace import phone_lengths
from matchsim.generate.people import e164
from matchsim.generate.phones import sample_numbers
from matchsim.locale.numberplan import number_plan


@pytest.mark.parametrize("region", ["NL", "DE", "GB", "US", "AD", "NU"])
def test_default_lengths_are_the_number_types_possible_lengths(region: str) -> None:
    meta = PhoneMetadata.metadata_for_region(region)
    counts = phone_lengths(region)
    # The mobile type's own lengths, not the region's (AD: 6 and 9, not also 8).
    assert set(counts) == set(meta.mobile.possible_length)
    assert phone_keyspace(region).size == sum(counts.values())


def test_nl_mobile_default_includes_the_m2m_range() -> None:
    # phonenumbers lists 9 (06) and 11 (097, machine-to-machine) for NL mobiles.
    assert phone_lengths("NL") == {9: 60_000_000, 11: 100_000_000}
    assert [m.text() for m in phone_keyspace("NL").masks] == [
        "316[123458]?d?d?d?d?d?d?d",
        "31970?d?d?d?d?d?d?d?d",
    ]
    assert phone_lengths("NL", lengths=(9,)) == {9: 60_000_000}


@pytest.fixture(scope="module")
def niue_numbers() -> list[str]:
    """Niue mobiles drawn uniformly from its plan by the generator (4 and 7 digits)."""
    plan = number_plan("NU", "mobile")
    numbers = sample_numbers(np.random.default_rng(3), [plan], np.zeros(60, dtype=np.int64))
    digits = pc.utf8_replace_slice(e164(numbers), 0, 1, "").to_pylist()
    assert {len(d) - 3 for d in digits} == {4, 7}
    return sorted(set(digits))


def _upload(path: Path, values: list[str]) -> Path:
    path.write_text("".join(hashlib.sha256(v.encode()).hexdigest() + "\n" for v in values))
    return path


def test_cli_reports_masks_and_lengths(run_cli, tmp_path: Path, niue_numbers: list[str]) -> None:  # type: ignore[no-untyped-def]
    upload = _upload(tmp_path / "nu.csv", niue_numbers)
    n = len(niue_numbers)
    code, out, err = run_cli("attack", upload, "--region", "NU", "--no-cost")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[1].startswith("NU mobile phones (digits): 11,000 candidates; tried 11,000 in ")
    assert lines[2:5] == [
        "  683[56]?d?d?d                      2,000",
        "  683888[123456789]?d?d?d            9,000",
        "  national numbers of 4 digits (2,000), 7 digits (9,000): phonenumbers' possible "
        "lengths for NU mobile; narrow with --lengths",
    ]
    assert lines[5] == f"recovered {n} of {n} distinct (100.0% of rows)"

    code, out, err = run_cli("attack", upload, "--region", "NU", "--lengths", "7", "--no-cost")
    assert (code, err) == (0, "")
    long = [d for d in niue_numbers if len(d) == 10]
    assert out.splitlines()[2:5] == [
        "  683888[123456789]?d?d?d            9,000",
        "  national numbers of 7 digits (9,000): as given by --lengths",
        f"recovered {len(long)} of {n} distinct ({len(long) / n:.1%} of rows)",
    ]
    code, out, err = run_cli("attack", upload, "--region", "nu", "--json", "--no-cost")
    assert code == 0, err
    report = json.loads(out)
    assert report["lengths"] == {"4": 2000, "7": 9000}
    assert report["masks"] == [
        {"mask": "683[56]?d?d?d", "candidates": 2000},
        {"mask": "683888[123456789]?d?d?d", "candidates": 9000},
    ]
    assert report["keyspace_size"] == 11_000 and report["recovered"] == n


def test_cli_phone_table_matches_enumeration(
    run_cli, tmp_path: Path, niue_numbers: list[str]
) -> None:  # type: ignore[no-untyped-def]
    upload = _upload(tmp_path / "nu.csv", [*niue_numbers, "6831234"])  # 1234: not a mobile
    table = tmp_path / "nu.parquet"
    code, out, err = run_cli("attack-table", "--region", "NU", "--out", table, "--json")
    assert (code, err) == (0, "")
    built = json.loads(out)
    assert built["keyspace"] == "NU mobile phones (digits)" and built["keyspace_size"] == 11_000
    assert built["bytes"] == table.stat().st_size and built["algorithm"] == "sha256"
    assert built["lengths"] == {"4": 2000, "7": 9000}
    by_table, by_scan = tmp_path / "table.csv", tmp_path / "scan.csv"
    code, out, err = run_cli(
        "attack", upload, "--table", table, "--region", "NU", "--json", "--out", by_table
    )
    assert code == 0, err
    assert json.loads(out)["recovered"] == len(niue_numbers)
    code, _, err = run_cli("attack", upload, "--region", "NU", "--no-cost", "--out", by_scan)
    assert code == 0, err
    assert by_table.read_text() == by_scan.read_text()
    assert sorted(line.split(",")[1] for line in by_table.read_text().splitlines()[1:]) == [
        f'"{d}"' for d in niue_numbers
    ]
    # The same table asked for as another style (E.164) is refused.
    code, _, err = run_cli("attack", upload, "--table", table, "--region", "NU", "--style", "e164")
    assert code == 1
    assert err == (
        f"Error: {table}: built for NU mobile phones (digits), 11,000 candidates (683[56]?d?d?d "
        "+ 683888[123456789]?d?d?d), not for NU mobile phones (e164), 11,000 candidates "
        "(+683[56]?d?d?d + +683888[123456789]?d?d?d)\n"
    )
