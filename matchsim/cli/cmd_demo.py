"""``matchsim demo``: the one-minute lesson that a hashed phone number is a phone number.

A narrated walk-through in the terminal: an insurer hashes a phone number; uploads a
small customer list; the platform matches it; an outsider enumerates every Dutch mobile
number and reverses the list, live; then the same with HMAC (the platform still matches,
the outsider finds nothing) and a per-record salt (nobody matches). It ends with a
table and writes the same report as ``matchsim run`` into ``runs/demo``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from matchsim.cli._app import app
from matchsim.cli._demo_narrator import Narrator, closing_table
from matchsim.cli._options import out_option
from matchsim.cli._output import out_console, progress_bar

DEMO_EXPERIMENT = {
    "version": 1,
    "name": "demo",
    "description": "The one-minute demo: a Dutch health insurer's hashed customer list.",
    "seed": 2018,
    "population": {"platform_users": 50_000, "customers": 5_000, "country": "NL", "overlap": 0.6},
    "advertiser": {
        "name": "a Dutch health insurer",
        "label": "health insurer",
        "sensitive": True,
        "profile": "meta",
    },
    "platform": {"profile": "meta"},
    "schemes": [
        {"name": "sha256", "label": "SHA-256 (as the platform asks)"},
        {"name": "hmac-sha256", "label": "HMAC-SHA256 (key shared with the platform)"},
        {"name": "salted-sha256", "label": "SHA-256 with a salt per record"},
    ],
    "attacks": [{"kind": "phone"}, {"kind": "reidentify", "coverage": 0.9, "guesses": 20_000}],
    "risk": {"qi": [["postcode", "dob", "gender"]]},
}


@app.command()
def demo(
    out: Annotated[Path, out_option("Where to write the demo's report.")] = Path("runs/demo"),
    no_pause: Annotated[
        bool, typer.Option("--no-pause", help="Run straight through (for scripts).")
    ] = False,
) -> None:
    """The one-minute teaching demo: a hashed phone number is a phone number."""
    from matchsim.experiment import parse_experiment, run_experiment
    from matchsim.upload.write import hash_value

    started = time.perf_counter()
    narrator = Narrator(pause=not no_pause and sys.stdin.isatty())
    meta = hash_value("06-12345678", field="phone", profile="meta", scheme="sha256", region="NL")
    google = hash_value(
        "06-12345678", field="phone", profile="google", scheme="sha256", region="NL"
    )
    narrator.say(
        "1. An insurer hashes a phone number",
        f"06-12345678  ->  normalised for Meta: {meta['normalised']}\n"
        f"SHA-256: {meta['hash']}\n\n"
        f"Google wants {google['normalised']} and gets a different digest:\n"
        f"SHA-256: {google['hash']}\n\n"
        "Regulators call this pseudonymisation. Watch what it protects.",
    )
    narrator.wait()
    experiment = parse_experiment(DEMO_EXPERIMENT)
    with progress_bar() as progress:
        result = run_experiment(
            experiment, out, force=True, progress=progress, measure_costs=False, on_step=narrator
        )
    out_console.print(closing_table(result.results))
    out_console.print(
        f"Report: {result.out / 'report.html'}  ({time.perf_counter() - started:.0f} s in all)"
    )
