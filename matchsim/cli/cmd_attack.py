"""``matchsim attack``: reverse a hashed upload by enumeration and price every scheme;
``matchsim attack-table``: hash a keyspace once into a lookup table that ``attack
--table`` reverses later uploads with."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from matchsim.errors import ConfigError, OutputError
from matchsim.io import check_paths, output_files, shown

if TYPE_CHECKING:
    from matchsim.attack.keyspace import MaskKeyspace, WordKeyspace

KINDS = ("phone", "email", "date", "postcode", "wordlist")  # = matchsim.attack.request.KINDS
TABLE_KINDS = ("phone", "date", "postcode")
ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
_SHOWN_MASKS = 8


def _say(text: str) -> None:
    out_console.print(text, soft_wrap=True, highlight=False, markup=False)


def _secret(
    file: Path | None,
    env: str | None,
    what: str,
    file_option: str = "--hmac-key-file",
    env_option: str = "--hmac-key-env",
) -> bytes | None:
    """The known key/pepper through the one secret loader (:func:`load_secret`): the same
    key file gives the same bytes here as in ``hash``, ``join`` and ``run``."""
    if file is None and env is None:
        return None
    from matchsim.secrets import load_secret

    return load_secret(
        file=file, env=env, what=what, file_option=file_option, env_option=env_option
    ).value


def _lengths(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    return tuple(parse_int("--lengths", x, 1) for x in text.split(","))


def _keyspace(
    kind: str,
    region: str,
    number_type: str,
    lengths: str | None,
    profile: str | None,
    style: str | None,
    max_guesses: str = "10_000_000",
    wordlist: Path | None = None,
) -> MaskKeyspace | WordKeyspace:
    """The keyspace the options describe (phone, e-mail, date, postcode or wordlist)."""
    from matchsim.attack.request import keyspace_for, phone_style_for

    if kind not in KINDS:
        raise ConfigError(f"unknown --kind {kind!r}; choose from {', '.join(KINDS)}")
    return keyspace_for(
        kind,
        region=region,
        number_type=number_type,
        style=phone_style_for(profile, style) if kind == "phone" else "digits",
        lengths=_lengths(lengths),
        max_guesses=parse_int("--max-guesses", max_guesses, 1),
        wordlist=wordlist,
    )


def _mask_report(space: MaskKeyspace) -> list[dict[str, Any]]:
    return [{"mask": m.text(), "candidates": m.size} for m in space.masks]


def _say_masks(space: MaskKeyspace) -> None:
    """The masks of a keyspace, one per line (the first few), with their sizes."""
    width = max(len(m.text()) for m in space.masks[:_SHOWN_MASKS])
    for m in space.masks[:_SHOWN_MASKS]:
        _say(f"  {m.text():<{width}}  {m.size:>15,}")
    if len(space.masks) > _SHOWN_MASKS:
        _say(f"  ... and {len(space.masks) - _SHOWN_MASKS:,} more masks")


def _phone_lengths(
    region: str, number_type: str, lengths: str | None
) -> tuple[dict[int, int], str]:
    """National-number lengths enumerated (with counts) and where they come from."""
    from matchsim.attack.request import phone_space

    space = phone_space(region, number_type, lengths=_lengths(lengths))
    where = f"{region.upper()} {number_type}"
    if space.lengths_from == "given":
        return space.lengths, "as given by --lengths"
    if space.lengths_from == "phonenumbers":
        return space.lengths, f"phonenumbers' possible lengths for {where}; narrow with --lengths"
    left = ", ".join(f"{n} digits ({c:,})" for n, c in space.left_out.items())
    every = ",".join(str(n) for n in sorted([*space.lengths, *space.left_out]))
    source = f"the lengths people's {where} numbers have (matchsim's locale)"
    if left:
        source += f"; left out: {left}, add with --lengths {every}"
    return space.lengths, source


def _say_lengths(counts: dict[int, int], source: str) -> None:
    listed = ", ".join(f"{n} digits ({c:,})" for n, c in counts.items())
    _say(f"  national numbers of {listed}: {source}")


# Options that attack and attack-table share.
_Profile = Annotated[
    str | None, typer.Option("--profile", help="Platform profile (sets the phone format).")
]
_Style = Annotated[
    str | None, typer.Option("--style", help="Phone format: digits, e164 or national.")
]
_Lengths = Annotated[
    str | None,
    typer.Option(
        "--lengths",
        help="National number lengths, e.g. 9 or 9,10 (default: every length "
        "phonenumbers allows for the number type).",
    ),
]


@app.command()
def attack(
    upload: Annotated[Path, typer.Argument(help="Hashed upload: CSV or one digest per line.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help=f"What was hashed: {', '.join(KINDS)} (default phone; email for a "
            "--profile that takes no phones).",
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Country of the numbers/names (default NL).")
    ] = None,
    profile: _Profile = None,
    style: _Style = None,
    number_type: Annotated[
        str | None,
        typer.Option("--number-type", help="mobile, fixed_line, ... (default mobile)."),
    ] = None,
    lengths: _Lengths = None,
    column: Annotated[str | None, typer.Option("--column", help="Column holding digests.")] = None,
    wordlist: Annotated[
        Path | None, typer.Option("--wordlist", help="Extra candidates, one per line.")
    ] = None,
    max_guesses: Annotated[
        str, typer.Option("--max-guesses", help="E-mail guesses to try.")
    ] = "10_000_000",
    device: Annotated[
        str,
        typer.Option(
            "--device",
            help="Where to enumerate mask keyspaces: cpu, or gpu (a CUDA GPU through "
            "numba; install matchsim[gpu]).",
        ),
    ] = "cpu",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Map the enumeration over the Dask cluster whose scheduler is at this "
            "address (tcp://host:8786); chunks are sized to the keyspace.",
        ),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option(
            "--table",
            help="Reverse by looking digests up in this precomputed table (built by "
            "matchsim attack-table) instead of enumerating.",
        ),
    ] = None,
    pepper_file: Annotated[
        Path | None, typer.Option("--pepper-file", help="File holding a known pepper.")
    ] = None,
    hmac_key_env: HmacKeyEnv = None,
    hmac_key_file: HmacKeyFile = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write recovered plaintexts here (personal data!)."),
    ] = None,
    cost: Annotated[
        bool, typer.Option("--cost/--no-cost", help="Measure and price every scheme.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    emit_hcmask: Annotated[
        Path | None,
        typer.Option(
            "--emit-hcmask",
            help="Write the keyspace as a hashcat mask file (.hcmask) to this new file "
            "and stop, so the same job runs under hashcat elsewhere.",
        ),
    ] = None,
) -> None:
    """Reverse hashed identifiers by enumeration (or a lookup table); report the share
    recovered and the cost."""
    from matchsim.attack import Knowledge, MaskKeyspace, load_targets, reverse
    from matchsim.attack.cost import humanize_seconds, price_catalogue
    from matchsim.attack.request import default_kind
    from matchsim.attack.table import load_table, reverse_with_table
    from matchsim.attack.targets import LABELS

    chosen = {"--kind": kind, "--region": region, "--number-type": number_type}
    chosen |= {"--lengths": lengths, "--profile": profile, "--style": style}
    kind = kind or default_kind(profile)
    region, number_type = region or "NL", number_type or "mobile"
    if kind not in KINDS:
        raise ConfigError(f"unknown --kind {kind!r}; choose from {', '.join(KINDS)}")
    if table is not None and kind not in TABLE_KINDS:
        raise ConfigError(
            f"--table holds a mask keyspace ({', '.join(TABLE_KINDS)}); "
            f"--kind {kind} is enumerated, not looked up"
        )
    if device not in ("cpu", "gpu"):
        raise ConfigError(f"unknown --device {device!r}; choose cpu or gpu")
    if table is not None and wordlist is not None:
        raise ConfigError("--wordlist cannot be used with --table")
    if table is not None and device != "cpu":
        raise ConfigError(
            f"--device {device} does not apply to --table (a lookup runs on the CPU); "
            "drop --device or --table"
        )
    check_paths(
        {"--out": out},
        {
            "the upload": upload,
            "the --table": table,
            "the --wordlist": wordlist,
            "the --pepper-file": pepper_file,
            "the --hmac-key-file": hmac_key_file,
        },
    )
    if scheduler is not None and (table is not None or device != "cpu"):
        raise ConfigError("--scheduler enumerates on a Dask cluster; drop --table or --device")
    targets = load_targets(upload, column)
    if emit_hcmask is not None:
        _emit_hcmask(emit_hcmask, upload, targets.algorithm, kind, region, number_type,
                     lengths, profile, style, as_json)  # fmt: skip
        return
    hmac_key = _secret(hmac_key_file, hmac_key_env, "HMAC key")
    pepper = _secret(pepper_file, None, "pepper", "--pepper-file", "--pepper-env")
    knowledge = Knowledge(targets.algorithm, pepper=pepper, hmac_key=hmac_key)
    report: dict[str, Any]
    loaded = 0.0
    phone_info: tuple[dict[int, int], str] | None = None
    if table is not None:
        # The table names its own keyspace; options that describe one must agree with it.
        wanted = None
        if any(v is not None for v in chosen.values()):
            requested = _keyspace(kind, region, number_type, lengths, profile, style)
            assert isinstance(requested, MaskKeyspace)
            wanted = requested
        t0 = time.perf_counter()
        lookup = load_table(table, wanted)
        loaded = time.perf_counter() - t0
        result = reverse_with_table(targets, lookup, knowledge)
        space: MaskKeyspace | WordKeyspace = lookup.keyspace
        report = result.summary()
        report |= {"table": str(table), "table_seconds_to_load": round(loaded, 4)}
    else:
        space = _keyspace(kind, region, number_type, lengths, profile, style, max_guesses, wordlist)
        if kind == "phone":
            phone_info = _phone_lengths(region, number_type, lengths)
        with progress_bar(not as_json) as progress:
            result = reverse(
                targets, space, knowledge, progress=progress, device=device, scheduler=scheduler
            )
        report = result.summary()
        if kind == "email":
            report["guesswork"] = result.guesswork()
        if phone_info is not None:
            report["lengths"] = {str(n): c for n, c in phone_info[0].items()}
    if isinstance(space, MaskKeyspace):
        report["masks"] = _mask_report(space)
    prices = []
    if cost and table is None:
        prices = price_catalogue(measured={knowledge.describe(): result.hashes_per_second})
        report["cost"] = [p.to_dict(result.keyspace_size) for p in prices]
    if out is not None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        rows = pa.table(
            {"row": pa.array(targets.rows), "plaintext": result.row_plaintext()}
        ).filter(pa.compute.is_valid(result.row_plaintext()))
        with output_files(out) as (tmp,):
            pacsv.write_csv(rows, tmp)
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
    if table is not None:
        assert isinstance(space, MaskKeyspace)
        _say(
            f"lookup table {table}: {space.name}, {LABELS[lookup.algorithm]}, "
            f"{space.size:,} candidates; loaded in {loaded:.2f} s"
        )
        _say_masks(space)
        _say(
            f"looked up {t.n_distinct:,} distinct digests in {result.seconds:.2f} s "
            f"({result.candidates_tried:,} prefix matches verified by hashing)"
        )
    else:
        _say(
            f"{result.keyspace}: {result.keyspace_size:,} candidates; "
            f"tried {result.candidates_tried:,} in {result.seconds:.2f} s "
            f"({result.hashes_per_second / 1e6:,.1f} MH/s)"
        )
        if isinstance(space, MaskKeyspace):
            _say_masks(space)
        if phone_info is not None:
            _say_lengths(*phone_info)
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


def _emit_hcmask(
    path: Path,
    upload: Path,
    algorithm: str,
    kind: str,
    region: str,
    number_type: str,
    lengths: str | None,
    profile: str | None,
    style: str | None,
    as_json: bool,
) -> None:
    """``attack --emit-hcmask FILE``: write the keyspace as hashcat masks, say how to run."""
    from matchsim.attack import MaskKeyspace
    from matchsim.attack.hcmask import hashcat_command, write_hcmask

    if kind not in TABLE_KINDS:
        raise ConfigError(
            f"--emit-hcmask needs a mask keyspace ({', '.join(TABLE_KINDS)}); "
            f"--kind {kind} is a list of guesses"
        )
    space = _keyspace(kind, region, number_type, lengths, profile, style)
    assert isinstance(space, MaskKeyspace)
    lines = write_hcmask(space, path)
    command = hashcat_command(algorithm, upload, path)
    if as_json:
        print_json({"hcmask": str(path), "lines": lines, "keyspace": space.name,
                    "keyspace_size": space.size, "hashcat": command})  # fmt: skip
        return
    _say(f"wrote {path}: {space.name}, {space.size:,} candidates in {lines:,} hashcat masks")
    _say(f"run the same job with: {command}")


@app.command("attack-table")
def attack_table(
    out: Annotated[Path, typer.Option("--out", help="The table file to write (Parquet).")],
    kind: Annotated[
        str, typer.Option("--kind", help=f"What to tabulate: {', '.join(TABLE_KINDS)}.")
    ] = "phone",
    region: Annotated[str, typer.Option("--region", help="Country of the numbers.")] = "NL",
    profile: _Profile = None,
    style: _Style = None,
    number_type: Annotated[str, typer.Option("--number-type", help="mobile, fixed_line, ...")] = (
        "mobile"
    ),
    lengths: _Lengths = None,
    algorithm: Annotated[
        str, typer.Option("--algorithm", help=f"Hash: {', '.join(ALGORITHMS)}.")
    ] = "sha256",
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Hash a keyspace once into a lookup table; `attack UPLOAD --table FILE` then reverses
    uploads by lookup (the data broker's time-memory trade-off)."""
    from matchsim.attack import Knowledge, MaskKeyspace
    from matchsim.attack.table import build_table
    from matchsim.attack.targets import LABELS

    if kind not in TABLE_KINDS:
        raise ConfigError(
            f"--kind {kind!r} cannot be tabulated; choose from {', '.join(TABLE_KINDS)}"
        )
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown --algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}")
    if out.exists() and not out.is_file():
        raise OutputError(f"--out {shown(out)} exists and is not a file")
    if out.exists() and not force:
        raise OutputError(f"--out {shown(out)} already exists (use --force to replace it)")
    space = _keyspace(kind, region, number_type, lengths, profile, style)
    assert isinstance(space, MaskKeyspace)
    phone_info = _phone_lengths(region, number_type, lengths) if kind == "phone" else None
    t0 = time.perf_counter()
    with progress_bar(not as_json) as progress:
        lookup = build_table(space, Knowledge(algorithm), progress=progress)
    seconds = time.perf_counter() - t0
    with output_files(out) as (tmp,):
        size = lookup.save(tmp)
    report: dict[str, Any] = {
        "table": str(out),
        "keyspace": space.name,
        "keyspace_size": space.size,
        "masks": _mask_report(space),
        "algorithm": algorithm,
        "seconds": round(seconds, 4),
        "bytes": size,
    }
    if phone_info is not None:
        report["lengths"] = {str(n): c for n, c in phone_info[0].items()}
    if as_json:
        print_json(report)
        return
    rate = space.size / seconds if seconds > 0 else 0.0
    _say(
        f"hashed {space.name} with {LABELS[algorithm]}: {space.size:,} candidates "
        f"in {seconds:.2f} s ({rate:,.0f} per second, sorting included)"
    )
    _say_masks(space)
    if phone_info is not None:
        _say_lengths(*phone_info)
    per = size / space.size if space.size else 0.0
    _say(f"wrote {out}: {size:,} bytes ({per:.1f} bytes per candidate)")
    _say(f"reverse an upload with: matchsim attack UPLOAD --table {out}")
