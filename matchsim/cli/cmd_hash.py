"""``matchsim hash``: normalise and hash one value (teaching) or a whole customer file."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from matchsim.cli._app import app, out_console, print_json
from matchsim.errors import ConfigError
from matchsim.io import shown


def _params(items: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            problems.append(f"--param must look like name=value, got {item!r}")
            continue
        key = key.strip().replace("-", "_")
        if key in ("key", "secret", "pepper", "salt_secret", "hmac_key"):
            problems.append(f"--param {key}: secrets come only from --key-file or --key-env")
            continue
        if key == "salt":
            problems.append(
                "--param salt: a shared salt is a secret; give it with --key-file or --key-env "
                "(without one the KDF schemes use their documented public salt)"
            )
            continue
        value: Any = text
        with contextlib.suppress(ValueError):
            value = int(text.replace("_", ""))
        params[key] = value
    ConfigError.collect(problems)
    return params


@app.command("hash")
def hash_command(
    target: Annotated[str, typer.Argument(help="A value to hash, or a CSV/Parquet file.")],
    field: Annotated[
        str | None, typer.Option("--field", help="Field of a single value (email, phone, …).")
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="Platform profile (meta, google, uid2, …).")
    ] = "meta",
    scheme: Annotated[
        str, typer.Option("--scheme", help="Hashing scheme (sha256, hmac-sha256, …).")
    ] = "sha256",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Scheme parameter name=value (repeatable)."),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", help="Default phone region, e.g. NL (files: from country)."),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Digest text: hex, HEX or base64.")
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="File holding the scheme's secret key.")
    ] = None,
    key_env: Annotated[
        str | None,
        typer.Option("--key-env", help="Environment variable holding the secret key."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Upload file to write (.csv or .parquet).")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Rejects file (default <out>.rejects.csv).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Normalise and hash a value, or a customer file into a platform's upload layout."""
    from matchsim.normalise import get_profile
    from matchsim.schemes import get_scheme, upload_params
    from matchsim.secrets import check_takes_secret, load_secret
    from matchsim.upload.write import check_region, hash_file, hash_value

    prof = get_profile(profile)
    params = _params(param or [])
    if encoding is not None:
        params["encoding"] = encoding
    params = upload_params(scheme, params, prof.encoding)
    if region is not None:
        region = check_region(region)
    secret = None
    if key_file is not None or key_env is not None:
        check_takes_secret(scheme, "--key-file/--key-env")
        secret = load_secret(file=key_file, env=key_env, what=f"key for scheme {scheme}")
    sch = get_scheme(scheme, secret=secret, **params)

    is_file = out is not None or Path(target).suffix.lower() in (".csv", ".parquet", ".pq")
    if is_file:
        if out is None:
            raise ConfigError("give --out for the upload file when hashing a file")
        summary = hash_file(
            target, profile=prof, scheme=sch, region=region, out=out, rejects=rejects
        )
        if as_json:
            print_json(summary.as_dict())
            return
        out_console.print(
            f"hashed {summary.rows_in:,} rows for {prof.name} with {sch.name} -> "
            f"{shown(summary.out)}",
            markup=False,
            highlight=False,
        )
        for name, fs in summary.fields.items():
            extra = "".join(f"; {count:,} {reason}" for reason, count in sorted(fs.reasons.items()))
            kind = "hashed" if fs.hashed else "clear"
            out_console.print(
                f"  {name:<11} {shown(fs.column):<16} {kind:<6} {fs.written:>9,} written, "
                f"{fs.rejected:,} rejected, {fs.missing:,} missing{extra}",
                markup=False,
                highlight=False,
            )
        for note in summary.notes:
            out_console.print(f"  note: {note}", markup=False, highlight=False)
        out_console.print(f"rejects: {shown(summary.rejects)}", markup=False, highlight=False)
        return
    if field is None:
        raise ConfigError("give --field (email, phone, …) to hash a single value")
    record = hash_value(target, field=field, profile=prof, scheme=sch, region=region or "NL")
    if as_json:
        print_json(record)
        return
    lines = [f"normalised: {record['normalised']}"]
    if record["hash"] is not None:
        lines.append(f"{record['scheme']}: {record['hash']}")
    else:
        lines.append(f"sent in clear by {prof.name}")
    if "note" in record:
        lines.append(f"note: {record['note']}")
    for line in lines:
        out_console.print(line, markup=False, highlight=False)
