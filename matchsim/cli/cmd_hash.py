"""``matchsim hash``: normalise and hash one value (teaching) or a whole customer file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from matchsim.cli._app import app
from matchsim.cli._options import (
    ForceOpt,
    ParamOpt,
    json_flag,
    key_env_option,
    key_file_option,
    out_option,
    profile_option,
    region_option,
    scheme_option,
)
from matchsim.cli._output import print_json, say
from matchsim.cli._parse import scheme_params
from matchsim.errors import ConfigError
from matchsim.io import shown

if TYPE_CHECKING:
    from matchsim.upload.write import HashSummary


@app.command("hash")
def hash_command(
    target: Annotated[str, typer.Argument(help="A value to hash, or a CSV/Parquet file.")],
    field: Annotated[
        str | None, typer.Option("--field", help="Field of a single value (email, phone, …).")
    ] = None,
    profile: Annotated[str, profile_option("Platform profile (meta, google, uid2, …).")] = "meta",
    scheme: Annotated[str, scheme_option("Hashing scheme (sha256, hmac-sha256, …).")] = "sha256",
    param: ParamOpt = None,
    region: Annotated[
        str | None, region_option("Default phone region, e.g. NL (files: from country).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Digest text: hex, HEX or base64.")
    ] = None,
    key_file: Annotated[
        Path | None, key_file_option("File holding the scheme's secret key.")
    ] = None,
    key_env: Annotated[
        str | None, key_env_option("Environment variable holding the secret key.")
    ] = None,
    out: Annotated[Path | None, out_option("Upload file to write (.csv or .parquet).")] = None,
    rejects: Annotated[
        Path | None, typer.Option("--rejects", help="Rejects file (default <out>.rejects.csv).")
    ] = None,
    force: ForceOpt = False,
    as_json: Annotated[bool, json_flag("Print the result as JSON.")] = False,
) -> None:
    """Normalise and hash a value, or a customer file into a platform's upload layout."""
    from matchsim.normalise import get_profile
    from matchsim.schemes import get_scheme, upload_params
    from matchsim.secrets import scheme_secret
    from matchsim.upload.write import check_region, hash_file, hash_value

    prof = get_profile(profile)
    params = scheme_params(param)
    if encoding is not None:
        params["encoding"] = encoding
    params = upload_params(scheme, params, prof.encoding)
    if region is not None:
        region = check_region(region)
    secret = scheme_secret(scheme, key_file, key_env, what=f"key for scheme {scheme}")
    sch = get_scheme(scheme, secret=secret, **params)
    if out is not None or Path(target).suffix.lower() in (".csv", ".parquet", ".pq"):
        if out is None:
            raise ConfigError("give --out for the upload file when hashing a file")
        summary = hash_file(
            target, profile=prof, scheme=sch, region=region, out=out, rejects=rejects, force=force
        )
        if as_json:
            print_json(summary.as_dict())
        else:
            say(*_file_lines(summary, prof.name, sch.name), soft_wrap=False)
        return
    if field is None:
        raise ConfigError("give --field (email, phone, …) to hash a single value")
    record = hash_value(target, field=field, profile=prof, scheme=sch, region=region or "NL")
    if as_json:
        print_json(record)
    else:
        say(*_value_lines(record, prof.name), soft_wrap=False)


def _file_lines(summary: HashSummary, profile: str, scheme: str) -> list[str]:
    lines = [f"hashed {summary.rows_in:,} rows for {profile} with {scheme} -> {shown(summary.out)}"]
    for name, fs in summary.fields.items():
        extra = "".join(f"; {count:,} {reason}" for reason, count in sorted(fs.reasons.items()))
        kind = "hashed" if fs.hashed else "clear"
        lines.append(
            f"  {name:<11} {shown(fs.column):<16} {kind:<6} {fs.written:>9,} written, "
            f"{fs.rejected:,} rejected, {fs.missing:,} missing{extra}"
        )
    lines += [f"  note: {note}" for note in summary.notes]
    return [*lines, f"rejects: {shown(summary.rejects)}"]


def _value_lines(record: dict[str, Any], profile: str) -> list[str]:
    lines = [f"normalised: {record['normalised']}"]
    if record["hash"] is not None:
        lines.append(f"{record['scheme']}: {record['hash']}")
    else:
        lines.append(f"sent in clear by {profile}")
    if "note" in record:
        lines.append(f"note: {record['note']}")
    return lines
