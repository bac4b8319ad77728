"""``matchsim reidentify``: reverse every low-entropy field of a hashed upload and link
its rows to a register (or measure their uniqueness)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matchsim.cli._app import app
from matchsim.cli._options import (
    ForceOpt,
    HmacKeyEnv,
    HmacKeyFile,
    JsonOpt,
    out_option,
    population_option,
    profile_option,
    region_option,
    wordlist_option,
)
from matchsim.cli._output import print_json, progress_bar, say
from matchsim.cli._parse import parse_int
from matchsim.errors import ConfigError


@app.command()
def reidentify(
    upload: Annotated[
        Path, typer.Argument(help="Hashed upload (CSV/Parquet) in the profile's column layout.")
    ],
    profile: Annotated[str, profile_option("Profile the upload was normalised with.")] = "meta",
    region: Annotated[str, region_option("Country of the people.")] = "NL",
    register: Annotated[
        Path | None,
        typer.Option("--register", help="CSV/Parquet of named people: plaintext fields + an id."),
    ] = None,
    register_id: Annotated[
        str | None, typer.Option("--register-id", help="The register's id column (default: id).")
    ] = None,
    population: Annotated[
        Path | None,
        population_option("Without --register: a generate folder whose users are linked."),
    ] = None,
    wordlist: Annotated[
        Path | None, wordlist_option("Extra name candidates, one per line.")
    ] = None,
    email_guesses: Annotated[
        str, typer.Option("--email-guesses", help="E-mail guesses to try.")
    ] = "1_000_000",
    hmac_key_env: HmacKeyEnv = None,
    hmac_key_file: HmacKeyFile = None,
    id_full_space: Annotated[
        bool,
        typer.Option(
            "--id-full-space",
            help="Seek customer numbers the probe misses among every 1-8 digit number.",
        ),
    ] = False,
    what_ifs: Annotated[
        bool,
        typer.Option(
            "--what-ifs/--no-what-ifs", help="Also link under HMAC and each profile's clear fields."
        ),
    ] = True,
    out: Annotated[
        Path | None, out_option("Folder for the recovered plaintexts (personal data!).")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Reverse names, dates of birth, postcodes, cities... of a hashed upload and name its
    rows: re-identified (one register match), ambiguous (k) or not found."""
    from matchsim.attack.reidentify import check_out, write_out
    from matchsim.attack.reidentify import reidentify as run
    from matchsim.attack.reidentify_text import reidentify_lines
    from matchsim.attack.request import known_hmac

    if register is not None and population is not None:
        raise ConfigError("give --register or --population, not both")
    guesses = parse_int("--email-guesses", email_guesses, 0)
    inputs = (upload, register, population, wordlist, hmac_key_file)
    if out is not None:
        check_out(out, force, inputs)
    knowledge = known_hmac(hmac_key_file, hmac_key_env)
    with progress_bar(not as_json) as progress:
        result = run(
            upload, profile, region, register=register, register_id=register_id,
            population=population, knowledge=knowledge, wordlist=wordlist,
            email_guesses=guesses, what_ifs=what_ifs, id_full_space=id_full_space,
            progress=progress,
        )  # fmt: skip
    report = result.summary()
    if out is not None:
        write_out(result, out, force=force, inputs=inputs)
        report["out"] = str(out)
    if as_json:
        print_json(report)
        return
    say(*reidentify_lines(report))
    if out is None:
        say("recovered plaintexts not written (personal data); use --out DIR")
