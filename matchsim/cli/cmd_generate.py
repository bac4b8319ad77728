"""``matchsim generate``: synthetic platform users, customer file and ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from matchsim.cli._app import app, out_console, parse_int, parse_share, print_json, progress_bar
from matchsim.errors import ConfigError
from matchsim.io import shown


@app.command()
def generate(
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write (created; must be empty unless --force).")
    ] = Path("runs/pop"),
    platform_users: Annotated[
        str, typer.Option("--platform-users", help="Accounts on the platform.")
    ] = "100_000",
    customers: Annotated[
        str, typer.Option("--customers", help="Rows in the advertiser's customer file.")
    ] = "10_000",
    country: Annotated[
        str, typer.Option("--country", help="Locale of the population (NL, US).")
    ] = "NL",
    overlap: Annotated[
        str, typer.Option("--overlap", help="Share of customers who have an account.")
    ] = "0.6",
    seed: Annotated[str, typer.Option("--seed", help="Seed: same seed, same bytes.")] = "7",
    chunk_size: Annotated[
        str, typer.Option("--chunk-size", help="Rows per chunk / Parquet row group.")
    ] = "1_000_000",
    force: Annotated[
        bool, typer.Option("--force", help="Replace --out if it is not empty.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Generate platform users, a customer file and the ground truth (Parquet + manifest)."""
    from matchsim.generate import PopulationParams, population

    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, option, text, parse in (
        ("platform_users", "--platform-users", platform_users, lambda o, t: parse_int(o, t, 1)),
        ("customers", "--customers", customers, parse_int),
        ("overlap", "--overlap", overlap, parse_share),
        ("seed", "--seed", seed, parse_int),
        ("chunk_size", "--chunk-size", chunk_size, lambda o, t: parse_int(o, t, 1)),
    ):
        try:
            values[key] = parse(option, text)
        except ConfigError as exc:
            problems.extend(exc.problems)
    ConfigError.collect(problems)
    params = PopulationParams(country=country.upper(), **values)
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
