"""``matchsim run`` (an experiment file into a run folder) and ``matchsim report``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from matchsim.cli._app import app
from matchsim.cli._options import ForceOpt, json_flag, out_option
from matchsim.cli._output import out_console, print_json, progress_bar
from matchsim.io import shown


@app.command()
def run(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML (see experiments/).")],
    out: Annotated[Path | None, out_option("Run folder (default runs/<name>-<time>).")] = None,
    force: ForceOpt = False,
    no_measure: Annotated[
        bool,
        typer.Option("--no-measure", help="Skip timing the KDFs here; use reference rates."),
    ] = False,
    as_json: Annotated[bool, json_flag("Print results.json.")] = False,
) -> None:
    """Run an experiment: generate, hash, join, attack, assess risk, write the report."""
    from matchsim.experiment import load_experiment

    loaded = load_experiment(experiment)  # every problem in the file, before any work
    from matchsim.experiment import run_experiment

    with progress_bar() as progress:
        result = run_experiment(
            loaded, out, force=force, progress=progress, measure_costs=not no_measure
        )
    if as_json:
        print_json(result.results)
        return
    out_console.print(f"[bold]{escape(shown(loaded.name))}[/bold] -> {escape(shown(result.out))}")
    for s in result.results.get("schemes", []):
        rate = s["join"]["match_rate"]
        phone = s.get("phone_share")
        email = s.get("email_share")
        out_console.print(
            f"  {escape(shown(s['label'])):<45} match {100 * rate:5.1f} %"
            + (f"   phones reversed {100 * phone:5.1f} %" if phone is not None else "")
            + (f"   e-mails reversed {100 * email:5.1f} %" if email is not None else "")
        )
    out_console.print(f"report: {shown(result.out / 'report.html')}", markup=False)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder holding results.json.")],
) -> None:
    """Re-render report.html and report.md from a run folder's results.json."""
    from matchsim.report import render_report

    html, md = render_report(run_dir)
    out_console.print(f"wrote {shown(html)} and {shown(md)}", markup=False, highlight=False)
