"""``matchsim attack``: reverse a hashed upload by enumeration and price every scheme.

Parses the options into an :class:`~matchsim.attack.request.AttackRequest`, carries it out
with :func:`matchsim.attack.run.run_attack` and prints its report.
"""

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
    LengthsOpt,
    ProfileForPhones,
    StyleOpt,
    kind_option,
    number_type_option,
    out_option,
    region_option,
    wordlist_option,
)
from matchsim.cli._output import progress_bar, show
from matchsim.cli._parse import (
    parse_int,
    parse_lengths,
)

KINDS = ("phone", "email", "date", "postcode", "wordlist")
"""= matchsim.attack.request.KINDS, copied for --help (the attack package loads numba)."""

_Device = Annotated[
    str,
    typer.Option(
        "--device",
        help="Where to enumerate mask keyspaces: cpu, or gpu (a CUDA GPU through "
        "numba; install matchsim[gpu]).",
    ),
]
_Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Map the enumeration over the Dask cluster whose scheduler is at this "
        "address (tcp://host:8786); chunks are sized to the keyspace.",
    ),
]
_Table = Annotated[
    Path | None,
    typer.Option(
        "--table",
        help="Reverse by looking digests up in this precomputed table (built by "
        "matchsim attack-table) instead of enumerating.",
    ),
]
_EmitHcmask = Annotated[
    Path | None,
    typer.Option(
        "--emit-hcmask",
        help="Write the keyspace as a hashcat mask file (.hcmask) to this new file "
        "and stop, so the same job runs under hashcat elsewhere.",
    ),
]


@app.command()
def attack(
    upload: Annotated[Path, typer.Argument(help="Hashed upload: CSV or one digest per line.")],
    kind: Annotated[
        str | None,
        kind_option(
            f"What was hashed: {', '.join(KINDS)} (default phone; email for a "
            "--profile that takes no phones)."
        ),
    ] = None,
    region: Annotated[
        str | None, region_option("Country of the numbers/names (default NL).")
    ] = None,
    profile: ProfileForPhones = None,
    style: StyleOpt = None,
    number_type: Annotated[
        str | None, number_type_option("mobile, fixed_line, ... (default mobile).")
    ] = None,
    lengths: LengthsOpt = None,
    column: Annotated[str | None, typer.Option("--column", help="Column holding digests.")] = None,
    wordlist: Annotated[Path | None, wordlist_option("Extra candidates, one per line.")] = None,
    max_guesses: Annotated[
        str, typer.Option("--max-guesses", help="E-mail guesses to try.")
    ] = "10_000_000",
    device: _Device = "cpu",
    scheduler: _Scheduler = None,
    table: _Table = None,
    pepper_file: Annotated[
        Path | None, typer.Option("--pepper-file", help="File holding a known pepper.")
    ] = None,
    hmac_key_env: HmacKeyEnv = None,
    hmac_key_file: HmacKeyFile = None,
    out: Annotated[
        Path | None, out_option("Write recovered plaintexts here (personal data!).")
    ] = None,
    cost: Annotated[
        bool, typer.Option("--cost/--no-cost", help="Measure and price every scheme.")
    ] = True,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    emit_hcmask: _EmitHcmask = None,
) -> None:
    """Reverse hashed identifiers by enumeration (or a lookup table); report the share
    recovered and the cost."""
    from matchsim.attack.request import AttackRequest, KeyspaceRequest
    from matchsim.attack.run import run_attack

    space = KeyspaceRequest(kind, region, number_type, parse_lengths(lengths), profile, style)
    request = AttackRequest(
        upload, space, column=column, wordlist=wordlist,
        max_guesses=parse_int("--max-guesses", max_guesses, 1), device=device,
        scheduler=scheduler, table=table, pepper_file=pepper_file, hmac_key_file=hmac_key_file,
        hmac_key_env=hmac_key_env, out=out, force=force, cost=cost, emit_hcmask=emit_hcmask,
    )  # fmt: skip
    with progress_bar(not as_json) as progress:
        outcome = run_attack(request, progress)
    show(outcome.report, outcome.lines, as_json)
