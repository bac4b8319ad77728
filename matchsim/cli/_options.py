"""Options that several verbs take, declared once (their values are parsed by
:mod:`matchsim.cli._parse`).

Each option is a factory (its flag names fixed here, its help text worded per verb where
the verb needs its own) plus, where every verb words it the same, a ready
``Annotated`` alias: a command writes ``as_json: JsonOpt = False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def json_flag(help: str = "Print the report as JSON.") -> Any:
    return typer.Option("--json", help=help)


def force_flag(help: str = "Replace --out if it exists.") -> Any:
    return typer.Option("--force", help=help)


def out_option(help: str) -> Any:
    return typer.Option("--out", help=help)


def profile_option(help: str) -> Any:
    return typer.Option("--profile", help=help)


def scheme_option(help: str) -> Any:
    return typer.Option("--scheme", help=help)


def region_option(help: str) -> Any:
    return typer.Option("--region", help=help)


def key_file_option(help: str = "File holding the scheme's secret key.") -> Any:
    return typer.Option("--key-file", help=help)


def key_env_option(help: str = "Environment variable holding the secret key.") -> Any:
    return typer.Option("--key-env", help=help)


JsonOpt = Annotated[bool, json_flag()]
ForceOpt = Annotated[bool, force_flag()]
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


def number_type_option(help: str) -> Any:
    return typer.Option("--number-type", help=help)


def kind_option(help: str) -> Any:
    return typer.Option("--kind", help=help)
