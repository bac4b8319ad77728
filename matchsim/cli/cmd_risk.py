"""``matchsim risk``: quasi-identifier risk of a customer file or a hashed upload."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from matchsim.cli._app import app
from matchsim.cli._options import json_flag, population_option
from matchsim.cli._output import out_console, print_json
from matchsim.cli._parse import (
    parse_all,
    parse_country,
    parse_positive,
    parse_share,
)
from matchsim.io import shown

if TYPE_CHECKING:
    from matchsim.risk import QIRisk


@app.command()
def risk(
    file: Annotated[Path, typer.Argument(help="Parquet or CSV file (customers, an upload).")],
    qi: Annotated[
        str,
        typer.Option(
            "--qi",
            help="Comma-separated fields; 'postcode:4' keeps 4 characters, 'dob:year' the year.",
        ),
    ] = "postcode,dob,gender",
    population: Annotated[
        Path | None, population_option("Table the attacker links with (e.g. platform.parquet).")
    ] = None,
    population_size: Annotated[
        str | None,
        typer.Option(
            "--population-size", help="N, the population's size, for the population-unique share."
        ),
    ] = None,
    threshold: Annotated[
        str, typer.Option("--threshold", help="Record risk above which a record is at risk.")
    ] = "0.2",
    country: Annotated[
        str | None,
        typer.Option(
            "--country",
            help="Locale: the combination's keyspace and the census-based expected share unique.",
        ),
    ] = None,
    as_json: Annotated[bool, json_flag("Print every measure as JSON.")] = False,
) -> None:
    """Equivalence classes, k-anonymity, uniques and ARX re-identification risk of a QI."""
    from matchsim.risk import qi_risk

    values = parse_all(
        ("--population-size", parse_positive, population_size),
        ("--threshold", parse_share, threshold),
        ("--country", parse_country, country),
    )
    report = qi_risk(
        file, qi, population=population, population_size=values["--population-size"],
        threshold=values["--threshold"], country=values["--country"],
    )  # fmt: skip
    if as_json:
        print_json(report.to_dict())
    else:
        _render(file, report)


def _render(file: Path, report: QIRisk) -> None:
    from matchsim.risk.assess import population_lines

    s = report.sample
    out_console.print(
        f"{shown(file)}: {s.records:,} records on {', '.join(report.qi)}", markup=False
    )
    out_console.print(
        f"  classes {s.classes:,}; k-anonymity {s.k}; unique {s.unique_records:,} "
        f"({s.share_unique:.1%})"
    )
    out_console.print(
        f"  prosecutor: highest {s.prosecutor.highest:.3f}, average {s.prosecutor.average:.3f}, "
        f"at risk {s.prosecutor.records_at_risk:.1%} (threshold {s.threshold:g})"
    )
    out_console.print(
        f"  journalist: highest {s.journalist.highest:.3f}, average {s.journalist.average:.3f}, "
        f"at risk {s.journalist.records_at_risk:.1%}; marketer {s.marketer:.3f}"
    )
    for line in population_lines(report):
        out_console.print(line, soft_wrap=True)
    if report.keyspace is not None:
        total = 1
        for v in report.keyspace.values():
            total *= v
        out_console.print(
            f"  keyspace: {total:,} combinations - a hash of them reverses by enumeration"
        )
