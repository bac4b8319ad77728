"""``matchsim reidentify``: reverse every low-entropy field of a hashed upload and link
its rows to a register (or measure their uniqueness)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from matchsim.cli._app import (
    HmacKeyEnv,
    HmacKeyFile,
    app,
    out_console,
    parse_int,
    print_json,
    progress_bar,
)
from matchsim.errors import ConfigError


def _say(text: str) -> None:
    out_console.print(text, soft_wrap=True, highlight=False, markup=False)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


@app.command()
def reidentify(
    upload: Annotated[
        Path, typer.Argument(help="Hashed upload (CSV/Parquet) in the profile's column layout.")
    ],
    profile: Annotated[
        str, typer.Option("--profile", help="Profile the upload was normalised with.")
    ] = "meta",
    region: Annotated[str, typer.Option("--region", help="Country of the people.")] = "NL",
    register: Annotated[
        Path | None,
        typer.Option("--register", help="CSV/Parquet of named people: plaintext fields + an id."),
    ] = None,
    register_id: Annotated[
        str | None, typer.Option("--register-id", help="The register's id column (default: id).")
    ] = None,
    population: Annotated[
        Path | None,
        typer.Option(
            "--population", help="Without --register: a generate folder whose users are linked."
        ),
    ] = None,
    wordlist: Annotated[
        Path | None, typer.Option("--wordlist", help="Extra name candidates, one per line.")
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
        Path | None,
        typer.Option("--out", help="Folder for the recovered plaintexts (personal data!)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Reverse names, dates of birth, postcodes, cities... of a hashed upload and name its
    rows: re-identified (one register match), ambiguous (k) or not found."""
    from matchsim.attack import Knowledge
    from matchsim.attack.reidentify import check_out, write_out
    from matchsim.attack.reidentify import reidentify as run

    if register is not None and population is not None:
        raise ConfigError("give --register or --population, not both")
    guesses = parse_int("--email-guesses", email_guesses, 0)
    inputs = (upload, register, population, wordlist, hmac_key_file)
    if out is not None:
        check_out(out, force, inputs)
    knowledge = None
    if hmac_key_env is not None or hmac_key_file is not None:
        from matchsim.secrets import load_secret

        secret = load_secret(
            file=hmac_key_file, env=hmac_key_env, what="HMAC key",
            file_option="--hmac-key-file", env_option="--hmac-key-env",
        )  # fmt: skip
        knowledge = Knowledge("sha256", hmac_key=secret.value)
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
    _render(report)
    if out is None:
        _say("recovered plaintexts not written (personal data); use --out DIR")


def _render(r: dict[str, Any]) -> None:
    n = r["rows"]
    _say(f"{r['upload']}: {n:,} rows in {r['profile']}'s layout ({r['region']})")
    for f in r["fields"].values():
        if not f["hashed"]:
            _say(f"  {f['field']:<11} {f['column']:<8} sent in clear ({f['present']:,} rows)")
            continue
        detail = f["note"] or (
            f"{f['keyspace']}: {f['candidates']:,} of {f['keyspace_size']:,} candidates"
        )
        _say(
            f"  {f['field']:<11} {f['column']:<8} reversed {f['reversed']:>9,} of "
            f"{f['present']:>9,} ({100 * f['share']:5.1f} %) in {f['seconds']:6.2f} s  {detail}"
        )
        for stage in f.get("ranges") or ():
            spans = [f"{a:,}..{b:,}" for a, b in stage["ranges"]]
            shown = ", ".join(spans[:3]) + (f" and {len(spans) - 3} more" if len(spans) > 3 else "")
            _say(
                f"    {stage['why']}: {shown}: {stage['recovered']:,} ids "
                f"({stage['candidates']:,} candidates)"
            )
    within = r["within_upload"]
    _say(
        f"unique within the upload on their reversed fields: {within['unique']:,} rows "
        f"({_pct(within['unique'], n)})"
    )
    link = r.get("link")
    if link is None:
        return
    where = "the population" if link["register_kind"] == "population" else "the register"
    _say(f"linked to {where} ({link['register_rows']:,} people) on {', '.join(link['fields'])}:")
    _say(
        f"  re-identified (one match): {link['reidentified']:>9,} ({_pct(link['reidentified'], n)})"
    )
    ks = ", ".join(f"k={k}: {v:,}" for k, v in link["ambiguous_k"].items() if v)
    _say(
        f"  ambiguous (k matches):     {link['ambiguous']:>9,} ({_pct(link['ambiguous'], n)})"
        + (f"  [{ks}]" if ks else "")
    )
    _say(f"  not found:                 {link['not_found']:>9,} ({_pct(link['not_found'], n)})")
    _say(
        f"  re-identified although neither e-mail nor phone was reversed: "
        f"{link['reidentified_without_email_or_phone']:,}"
    )
    if r.get("scenarios"):
        _say("what if (same rows, other choices):")
        for s in r["scenarios"]:
            fields = ", ".join(s["fields"]) or "nothing to link on"
            _say(
                f"  {s['name']:<48} re-identified {s['reidentified']:>9,} "
                f"({_pct(s['reidentified'], n)}), ambiguous {s['ambiguous']:,}  [{fields}]"
            )
