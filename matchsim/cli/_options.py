"""Options that several verbs take, declared once (their values are parsed by
:mod:`matchsim.cli._parse`).

Each option is a factory (its flag names fixed here, its help text worded per verb where
the verb needs its own) plus, where every verb words it the same, a ready
``Annotated`` alias: a command writes ``as_json: JsonOpt = False``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer


def _named(flag: str) -> Callable[[str], Any]:
    """The factory of ``flag``'s typer option: it takes the verb's help text."""

    def option(help: str) -> Any:
        return typer.Option(flag, help=help)

    return option


json_flag, force_flag, out_option = map(_named, ("--json", "--force", "--out"))
profile_option, scheme_option, region_option = map(_named, ("--profile", "--scheme", "--region"))
key_file_option, key_env_option = map(_named, ("--key-file", "--key-env"))
population_option, wordlist_option = map(_named, ("--population", "--wordlist"))
kind_option, number_type_option = map(_named, ("--kind", "--number-type"))

JsonOpt = Annotated[bool, json_flag("Print the report as JSON.")]
ForceOpt = Annotated[bool, force_flag("Replace --out if it exists.")]
ForceFolderOpt = Annotated[bool, force_flag("Replace --out if it is not empty.")]
ParamOpt = Annotated[
    list[str] | None, typer.Option("--param", help="Scheme parameter name=value (repeatable).")
]
HmacKeyEnv = Annotated[
    str | None, typer.Option("--hmac-key-env", help="Env variable holding a known HMAC key.")
]
HmacKeyFile = Annotated[
    Path | None, typer.Option("--hmac-key-file", help="File holding a known HMAC key.")
]
"""The attacker's known HMAC key (``attack``, ``reidentify``)."""


# The keyspace an attack enumerates (``attack``, ``attack-table``).
ProfileForPhones = Annotated[
    str | None, profile_option("Platform profile (sets the phone format).")
]
StyleOpt = Annotated[
    str | None, typer.Option("--style", help="Phone format: digits, e164 or national.")
]
LengthsOpt = Annotated[
    str | None,
    typer.Option(
        "--lengths",
        help="National number lengths, e.g. 9 or 9,10 (default: every length "
        "phonenumbers allows for the number type).",
    ),
]
