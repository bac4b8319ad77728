"""``matchsim risk``: output, exit codes and exact one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from matchsim.generate import Population


def test_risk_json(run_cli, nl_population: Population) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli(
        "risk",
        nl_population.customers,
        "--qi",
        "postcode:4,dob",
        "--population",
        nl_population.platform,
        "--country",
        "NL",
        "--json",
    )
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["qi"] == ["postcode:4", "dob"] and data["records"] == 4_000
    assert data["keyspace"]["size"] == 4045 * 30316
    assert data["population_uniqueness"]["population"] == 20_000


def test_risk_text(run_cli, nl_population: Population) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("risk", nl_population.customers, "--qi", "gender")
    assert code == 0
    assert "k-anonymity" in out and "prosecutor" in out


def test_risk_errors(run_cli, tmp_path: Path, nl_population: Population) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"dob": pa.array([], pa.date32())}), empty)
    cases = [
        (("risk", empty, "--qi", "dob"), f"Error: {empty}: the file has no rows\n"),
        (
            ("risk", empty, "--qi", "zip"),
            f"Error: {empty}, column 'zip': no such column (the file has: dob)\n",
        ),
        (
            ("risk", tmp_path / "none.parquet"),
            f"Error: {tmp_path / 'none.parquet'}: no such file\n",
        ),
        (
            ("risk", nl_population.customers, "--threshold", "2", "--population-size", "x"),
            "Error: --population-size must be an integer, got 'x'; "
            "--threshold must be between 0 and 1, got 2\n",
        ),
        (
            ("risk", nl_population.customers, "--qi", "dob:week"),
            "Error: --qi: unknown transform 'week' in 'dob:week' "
            "(use year, month or a prefix length such as postcode:4)\n",
        ),
    ]
    for args, message in cases:
        code, out, err = run_cli(*args)
        assert (code, out, err) == (1, "", message)


def test_risk_help(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("risk", "--help")
    assert code == 0 and "--qi" in out and "ARX" in out
