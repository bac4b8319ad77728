"""``matchsim join``: the platform joins a hashed upload to its users."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from matchsim.cli._app import app
from matchsim.cli._options import (
    ParamOpt,
    force_flag,
    json_flag,
    key_env_option,
    key_file_option,
    out_option,
    profile_option,
    scheme_option,
)
from matchsim.cli._output import progress_bar, show
from matchsim.cli._parse import (
    parse_int,
    scheme_params,
)
from matchsim.io import shown

if TYPE_CHECKING:
    from matchsim.join.run import JoinRun


@app.command()
def join(
    platform: Annotated[
        Path, typer.Option("--platform", help="Population folder (or its platform.parquet).")
    ],
    upload: Annotated[Path, typer.Option("--upload", help="The hashed upload (CSV or Parquet).")],
    out: Annotated[Path, out_option("Folder for matched.parquet, keys.csv, join.json.")] = Path(
        "runs/join"
    ),
    profile: Annotated[str, profile_option("The platform's normalisation profile.")] = "meta",
    scheme: Annotated[str, scheme_option("Scheme the platform hashes its users with.")] = "sha256",
    param: ParamOpt = None,
    engine: Annotated[str, typer.Option("--engine", help="Match engine: local or dask.")] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (default: a LocalCluster)."),
    ] = None,
    workers: Annotated[str, typer.Option("--workers", help="Workers of the Dask LocalCluster.")] = (
        "2"
    ),
    key_file: Annotated[
        str | None, key_file_option("File holding the scheme's shared key.")
    ] = None,
    key_env: Annotated[
        str | None, key_env_option("Environment variable holding the scheme's shared key.")
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="Truth table (default: truth.parquet beside the platform)."),
    ] = None,
    force: Annotated[bool, force_flag("Replace --out if not empty.")] = False,
    as_json: Annotated[bool, json_flag("Print join.json to stdout.")] = False,
) -> None:
    """Join a hashed upload to the platform's users; report matches and what it learns."""
    from matchsim.join.run import join_files
    from matchsim.secrets import scheme_secret

    options: dict[str, Any] = {}
    if engine == "dask":
        options = {"scheduler": scheduler, "n_workers": parse_int("--workers", workers, 1)}
    secret = scheme_secret(scheme, key_file, key_env)
    with progress_bar() as progress:
        run = join_files(
            platform, upload, profile=profile, scheme=scheme, out=out, engine=engine,
            engine_options=options, secret=secret, scheme_params=scheme_params(param),
            key_file=key_file, key_env=key_env, truth=truth, force=force, progress=progress,
        )  # fmt: skip
    show(run.report, [_summary_line(run)], as_json)


def _summary_line(run: JoinRun) -> str:
    r = run.report
    # The match rate is over accepted rows (what a platform shows): say so.
    line = (
        f"matched {r['matched_rows']:,} of {r['rows']:,} rows "
        f"({100 * r['match_rate']:.1f} % of {r['accepted_rows']:,} accepted rows), "
        f"{r['matched_users']:,} distinct users; wrote {shown(run.out)}"
    )
    if run.evaluation is not None:
        line += f"; precision {run.evaluation.precision:.3f}, recall {run.evaluation.recall:.3f}"
    elif "evaluation_refused" in r:
        line += f"; no precision or recall: {r['evaluation_refused']}"
    return line
