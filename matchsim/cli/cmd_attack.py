"""``matchsim attack``: reverse a hashed upload by enumeration and price every scheme."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from matchsim.cli._app import app, out_console, parse_int, print_json, progress_bar
from matchsim.errors import ConfigError, OutputError, SecretError

_PROFILE_STYLES = {
    "meta": "digits",
    "meta-sdk": "digits",
    "tiktok": "digits",
    "x": "digits",
    "snapchat": "digits",
    "google": "e164",
    "google-ads-legacy": "e164",
    "uid2": "e164",
}
KINDS = ("phone", "email", "date", "postcode", "wordlist")


def _say(text: str) -> None:
    out_console.print(text, soft_wrap=True, highlight=False, markup=False)


def _phone_style(profile: str | None, style: str | None) -> str:
    if style:
        return style
    if profile is None:
        return "digits"
    try:
        from matchsim.normalise import get_profile

        return str(get_profile(profile).phone_style)
    except ImportError:
        pass
    if profile not in _PROFILE_STYLES:
        raise ConfigError(f"unknown profile {profile!r}; known: {', '.join(_PROFILE_STYLES)}")
    return _PROFILE_STYLES[profile]


def _secret(file: Path | None, env: str | None, what: str) -> bytes | None:
    if file is None and env is None:
        return None
    if file is not None:
        if not file.is_file():
            raise SecretError(f"{what} file {file} not found")
        return file.read_bytes().strip()
    assert env is not None
    value = os.environ.get(env)
    if not value:
        raise SecretError(f"{what} environment variable {env} is not set")
    return value.encode()


@app.command()
def attack(
    upload: Annotated[Path, typer.Argument(help="Hashed upload: CSV or one digest per line.")],
    kind: Annotated[
        str, typer.Option("--kind", help=f"What was hashed: {', '.join(KINDS)}.")
    ] = "phone",
    region: Annotated[str, typer.Option("--region", help="Country of the numbers/names.")] = "NL",
    profile: Annotated[
        str | None, typer.Option("--profile", help="Platform profile (sets the phone format).")
    ] = None,
    style: Annotated[
        str | None, typer.Option("--style", help="Phone format: digits, e164 or national.")
    ] = None,
    number_type: Annotated[str, typer.Option("--number-type", help="mobile, fixed_line, ...")] = (
        "mobile"
    ),
    lengths: Annotated[
        str | None, typer.Option("--lengths", help="National number lengths, e.g. 9 or 9,10.")
    ] = None,
    column: Annotated[str | None, typer.Option("--column", help="Column holding digests.")] = None,
    wordlist: Annotated[
        Path | None, typer.Option("--wordlist", help="Extra candidates, one per line.")
    ] = None,
    max_guesses: Annotated[
        str, typer.Option("--max-guesses", help="E-mail guesses to try.")
    ] = "10_000_000",
    pepper_file: Annotated[
        Path | None, typer.Option("--pepper-file", help="File holding a known pepper.")
    ] = None,
    hmac_key_env: Annotated[
        str | None, typer.Option("--hmac-key-env", help="Env variable holding a known HMAC key.")
    ] = None,
    hmac_key_file: Annotated[
        Path | None, typer.Option("--hmac-key-file", help="File holding a known HMAC key.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write recovered plaintexts here (personal data!)."),
    ] = None,
    cost: Annotated[
        bool, typer.Option("--cost/--no-cost", help="Measure and price every scheme.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Reverse hashed identifiers by enumeration; report the share recovered and the cost."""
    from matchsim.attack import Knowledge, load_targets, reverse
    from matchsim.attack import keyspace as ks
    from matchsim.attack.cost import humanize_seconds, price_catalogue
    from matchsim.attack.targets import LABELS

    if kind not in KINDS:
        raise ConfigError(f"unknown --kind {kind!r}; choose from {', '.join(KINDS)}")
    targets = load_targets(upload, column)
    hmac_key = _secret(hmac_key_file, hmac_key_env, "HMAC key")
    pepper = _secret(pepper_file, None, "pepper")
    knowledge = Knowledge(targets.algorithm, pepper=pepper, hmac_key=hmac_key)
    space: ks.MaskKeyspace | ks.WordKeyspace
    if kind == "phone":
        lens = None
        if lengths:
            lens = tuple(parse_int("--lengths", x, 1) for x in lengths.split(","))
        space = ks.phone_keyspace(region, number_type, _phone_style(profile, style), lens)
    elif kind == "email":
        space = ks.email_keyspace(region, parse_int("--max-guesses", max_guesses, 1), wordlist)
    elif kind == "date":
        space = ks.date_keyspace()
    elif kind == "postcode":
        space = ks.nl_postcode_keyspace()
    else:
        if wordlist is None:
            raise ConfigError("--kind wordlist needs --wordlist FILE")
        space = ks.wordlist_keyspace(wordlist)
    with progress_bar(not as_json) as progress:
        result = reverse(targets, space, knowledge, progress=progress)
    report: dict[str, Any] = result.summary()
    if kind == "email":
        report["guesswork"] = result.guesswork()
    prices = []
    if cost:
        prices = price_catalogue(measured={knowledge.describe(): result.hashes_per_second})
        report["cost"] = [p.to_dict(result.keyspace_size) for p in prices]
    if out is not None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        try:
            rows = pa.table(
                {"row": pa.array(targets.rows), "plaintext": result.row_plaintext()}
            ).filter(pa.compute.is_valid(result.row_plaintext()))
            pacsv.write_csv(rows, out)
        except OSError as exc:
            raise OutputError(f"cannot write {out}: {exc.strerror}") from None
        report["out"] = str(out)
    if as_json:
        print_json(report)
        return
    t = targets
    _say(
        f"detected {LABELS[t.algorithm]} ({t.encoding}) in {upload}; "
        f"{t.n_rows:,} rows, {t.n_distinct:,} distinct digests"
        + (
            f"; rejected: {', '.join(f'{v:,} {k}' for k, v in t.rejected.items())}"
            if t.rejected
            else ""
        )
    )
    _say(
        f"{result.keyspace}: {result.keyspace_size:,} candidates; "
        f"tried {result.candidates_tried:,} in {result.seconds:.2f} s "
        f"({result.hashes_per_second / 1e6:,.1f} MH/s)"
    )
    _say(
        f"recovered {result.recovered_distinct:,} of {result.distinct:,} distinct "
        f"({result.share:.1%} of rows)"
    )
    if kind == "email":
        for guesses, share in result.guesswork(8):
            _say(f"  after {guesses:>12,} guesses: {share:.1%} recovered")
    for p in prices:
        if not p.reversible:
            _say(f"  {p.scheme:<17} not reversible by enumeration: {p.reason}")
            continue
        times = ", ".join(
            f"{dev}: {humanize_seconds(s)}" for dev, s in p.seconds(result.keyspace_size).items()
        )
        _say(f"  {p.scheme:<17} {times}")
    if out is None and result.recovered_distinct:
        _say("recovered plaintexts not written (personal data); use --out FILE")
