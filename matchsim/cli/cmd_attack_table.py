"""``matchsim attack-table``: hash a keyspace once into a lookup table that ``attack
--table`` reverses later uploads with (the data broker's time-memory trade-off)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matchsim.cli import _options as opt
from matchsim.cli._app import app
from matchsim.cli._output import progress_bar, show
from matchsim.cli._parse import parse_lengths

TABLE_KINDS = ("phone", "date", "postcode")
ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
"""= matchsim.attack.request.TABLE_KINDS and ALGORITHMS, copied for --help."""


@app.command("attack-table")
def attack_table(
    out: Annotated[Path, opt.out_option("The table file to write (Parquet).")],
    kind: Annotated[str, opt.kind_option(f"What to tabulate: {', '.join(TABLE_KINDS)}.")] = "phone",
    region: Annotated[str, opt.region_option("Country of the numbers.")] = "NL",
    profile: opt.ProfileForPhones = None,
    style: opt.StyleOpt = None,
    number_type: Annotated[str, opt.number_type_option("mobile, fixed_line, ...")] = "mobile",
    lengths: opt.LengthsOpt = None,
    algorithm: Annotated[
        str, typer.Option("--algorithm", help=f"Hash: {', '.join(ALGORITHMS)}.")
    ] = "sha256",
    force: opt.ForceOpt = False,
    as_json: opt.JsonOpt = False,
) -> None:
    """Hash a keyspace once into a lookup table; `attack UPLOAD --table FILE` then reverses
    uploads by lookup (the data broker's time-memory trade-off)."""
    from matchsim.attack.request import KeyspaceRequest, TableRequest
    from matchsim.attack.run import build_attack_table

    space = KeyspaceRequest(kind, region, number_type, parse_lengths(lengths), profile, style)
    request = TableRequest(out, space, algorithm=algorithm, force=force)
    with progress_bar(not as_json) as progress:
        outcome = build_attack_table(request, progress)
    show(outcome.report, outcome.lines, as_json)
