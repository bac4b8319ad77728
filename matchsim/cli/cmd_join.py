"""``matchsim join``: the platform joins a hashed upload to its users."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from matchsim.cli._app import app, out_console, parse_int, print_json, progress_bar
from matchsim.io import shown


@app.command()
def join(
    platform: Annotated[
        Path,
        typer.Option("--platform", help="Population folder (or its platform.parquet)."),
    ],
    upload: Annotated[Path, typer.Option("--upload", help="The hashed upload (CSV or Parquet).")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for matched.parquet, keys.csv, join.json.")
    ] = Path("runs/join"),
    profile: Annotated[
        str, typer.Option("--profile", help="The platform's normalisation profile.")
    ] = "meta",
    scheme: Annotated[
        str, typer.Option("--scheme", help="Scheme the platform hashes its users with.")
    ] = "sha256",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Scheme parameter name=value (repeatable)."),
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="Match engine: local or dask.")] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (default: a LocalCluster)."),
    ] = None,
    workers: Annotated[
        str, typer.Option("--workers", help="Workers of the Dask LocalCluster.")
    ] = "2",
    key_file: Annotated[
        str | None, typer.Option("--key-file", help="File holding the scheme's shared key.")
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="Environment variable holding the scheme's shared key."),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="Truth table (default: truth.parquet beside the platform)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if not empty.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print join.json to stdout.")] = False,
) -> None:
    """Join a hashed upload to the platform's users; report matches and what it learns."""
    from matchsim.cli.cmd_hash import _params
    from matchsim.join.run import join_files

    options: dict[str, Any] = {}
    if engine == "dask":
        options["scheduler"] = scheduler
        options["n_workers"] = parse_int("--workers", workers, 1)
    secret = None
    if key_file is not None or key_env is not None:
        from matchsim.secrets import check_takes_secret, load_secret

        check_takes_secret(scheme, "--key-file/--key-env")
        secret = load_secret(file=key_file, env=key_env)
    with progress_bar() as progress:
        run = join_files(
            platform,
            upload,
            profile=profile,
            scheme=scheme,
            out=out,
            engine=engine,
            engine_options=options,
            secret=secret,
            scheme_params=_params(param or []),
            key_file=key_file,
            key_env=key_env,
            truth=truth,
            force=force,
            progress=progress,
        )
    if as_json:
        print_json(run.report)
        return
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
    out_console.print(line, soft_wrap=True, highlight=False, markup=False)
