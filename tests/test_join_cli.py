"""``matchsim join`` on the command line: outputs, bad input counted, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from matchsim.generate import Population
from matchsim.upload.write import hash_file


@pytest.fixture(scope="module")
def upload(nl_population: Population, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "upload.csv"
    hash_file(nl_population.customers, profile="meta", scheme="sha256", region="NL", out=path)
    return path


def test_join_writes_matched_keys_and_report(
    run_cli, nl_population: Population, upload: Path, tmp_path: Path
) -> None:
    code, out, err = run_cli(
        "join",
        "--platform",
        nl_population.out,
        "--upload",
        upload,
        "--profile",
        "meta",
        "--scheme",
        "sha256",
        "--out",
        tmp_path / "j",
    )
    assert code == 0, err
    assert out.startswith("matched ") and "precision 1.000" in out
    report = json.loads((tmp_path / "j" / "join.json").read_text())
    assert report["matched_users"] == pq.read_table(tmp_path / "j" / "matched.parquet").num_rows
    assert report["evaluation"]["precision"] == 1.0
    assert set(report["per_key"]) == {"email", "phone", "madid", "name_postcode_dob"}
    assert report["peak_rss_bytes"] > 0 and report["elapsed_seconds"] > 0
    assert (tmp_path / "j" / "keys.csv").read_text().startswith("key,upload_digests,")


def test_bad_digests_are_counted_per_reason(
    run_cli, nl_population: Population, upload: Path, tmp_path: Path
) -> None:
    table = pacsv.read_csv(upload).slice(0, 6)
    rows = table.to_pylist()
    good = rows[0]["EMAIL"]
    rows[1]["EMAIL"] = good[:-2]  # wrong length
    rows[2]["EMAIL"] = good.upper()  # upper-case hex
    rows[3]["EMAIL"] = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm8="  # Base64 in a hex upload
    rows[4]["EMAIL"] = "g" * 64  # wrong alphabet
    rows[5] = dict(rows[0])  # a duplicate row
    bad = tmp_path / "bad.csv"
    pacsv.write_csv(table.from_pylist(rows, schema=table.schema), bad)
    code, _, err = run_cli(
        "join", "--platform", nl_population.out, "--upload", bad, "--out", tmp_path / "j", "--json"
    )
    assert code == 0, err
    report = json.loads((tmp_path / "j" / "join.json").read_text())
    assert report["rejected"]["email: wrong length"] == 1
    assert report["rejected"]["email: upper-case hex"] == 1
    assert report["rejected"]["email: Base64 in a hex upload"] == 1
    assert report["rejected"]["email: wrong alphabet"] == 1
    assert report["rejected"]["duplicate row"] == 1
    assert report["rows"] == 6 and report["accepted_rows"] == 5
    assert "the upload mixes hex and Base64 digests" in report["upload"]["notes"]


def test_empty_upload_is_an_error(run_cli, nl_population: Population, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("EMAIL,PHONE\n")
    code, _, err = run_cli(
        "join", "--platform", nl_population.out, "--upload", empty, "--out", tmp_path / "j"
    )
    assert code == 1
    assert err == f"Error: {empty}: has no rows\n"


def test_upload_without_matching_columns(
    run_cli, nl_population: Population, tmp_path: Path
) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("foo,bar\n1,2\n")
    code, _, err = run_cli(
        "join", "--platform", nl_population.out, "--upload", odd, "--out", tmp_path / "j"
    )
    assert code == 1
    assert err.startswith(f"Error: {odd}: has no column that profile meta matches on (expected")
    assert err.count("\n") == 1


def test_missing_upload_and_unknown_engine(
    run_cli, nl_population: Population, upload: Path, tmp_path: Path
) -> None:
    code, _, err = run_cli(
        "join",
        "--platform",
        nl_population.out,
        "--upload",
        tmp_path / "no.csv",
        "--out",
        tmp_path / "j",
    )
    assert (code, err) == (1, f"Error: {tmp_path / 'no.csv'}: does not exist\n")
    code, _, err = run_cli(
        "join",
        "--platform",
        nl_population.out,
        "--upload",
        upload,
        "--engine",
        "spark",
        "--out",
        tmp_path / "j",
    )
    assert (code, err) == (1, "Error: unknown engine 'spark'; available: dask, local\n")


def test_help_documents_the_command(run_cli) -> None:
    code, out, _ = run_cli("join", "--help")
    assert code == 0 and "Join a hashed upload" in out and "--scheduler" in out
