"""``matchsim generate``: synthetic platform users, customer file and ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matchsim.cli._app import app
from matchsim.cli._options import (
    ForceFolderOpt,
    json_flag,
    out_option,
)
from matchsim.cli._output import out_console, print_json, progress_bar
from matchsim.cli._parse import (
    parse_all,
    parse_int,
    parse_positive,
    parse_share,
)
from matchsim.io import shown

_PlatformUsers = Annotated[str, typer.Option("--platform-users", help="Accounts on the platform.")]
_Customers = Annotated[
    str, typer.Option("--customers", help="Rows in the advertiser's customer file.")
]
_Country = Annotated[str, typer.Option("--country", help="Locale of the population (NL, US).")]
_Overlap = Annotated[str, typer.Option("--overlap", help="Share of customers who have an account.")]
_Seed = Annotated[str, typer.Option("--seed", help="Seed: same seed, same bytes.")]
_ChunkSize = Annotated[
    str, typer.Option("--chunk-size", help="Rows per chunk / Parquet row group.")
]


@app.command()
def generate(
    out: Annotated[
        Path, out_option("Folder to write (created; must be empty unless --force).")
    ] = Path("runs/pop"),
    platform_users: _PlatformUsers = "100_000",
    customers: _Customers = "10_000",
    country: _Country = "NL",
    overlap: _Overlap = "0.6",
    seed: _Seed = "7",
    chunk_size: _ChunkSize = "1_000_000",
    force: ForceFolderOpt = False,
    as_json: Annotated[bool, json_flag("Print the manifest as JSON.")] = False,
) -> None:
    """Generate platform users, a customer file and the ground truth (Parquet + manifest)."""
    from matchsim.generate import PopulationParams, population

    values = parse_all(
        ("--platform-users", parse_positive, platform_users),
        ("--customers", parse_int, customers),
        ("--overlap", parse_share, overlap),
        ("--seed", parse_int, seed),
        ("--chunk-size", parse_positive, chunk_size),
    )
    params = PopulationParams(
        country=country.upper(), **{k[2:].replace("-", "_"): v for k, v in values.items()}
    )
    with progress_bar() as progress:
        result = population(params, out, force=force, progress=progress)
    if as_json:
        print_json(result.manifest)
        return
    counts = result.manifest["counts"]
    out_console.print(
        f"wrote {counts['platform_users']:,} platform users and {counts['customers']:,} customers "
        f"({counts['customers_on_platform']:,} on the platform) to {shown(result.out)} "
        f"in {result.manifest['elapsed_seconds']:.1f} s",
        markup=False,
    )
