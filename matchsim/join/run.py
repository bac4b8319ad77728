"""``join_files``: the library call behind ``matchsim join``.

Reads the upload, indexes the platform under its profile and scheme, runs an engine,
writes ``matched.parquet`` (``uid``: the distinct matched users — what the platform now
knows about the advertiser's customers), ``keys.csv`` (per-key contributions) and
``join.json`` (counts, match rate, rejected rows per reason, elapsed, peak memory, and
precision/recall against the truth when a truth table sits beside the platform table).
"""

from __future__ import annotations

import json
import os
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matchsim import __version__
from matchsim.errors import InputError
from matchsim.io import check_folder, output_folder
from matchsim.join.engine import ProgressFn, get_engine
from matchsim.join.evaluate import Evaluation, evaluate, upload_row_cids
from matchsim.join.keys import UploadKeys
from matchsim.join.platform import ParquetPlatform
from matchsim.join.result import MatchResult
from matchsim.join.salted import salt_filter
from matchsim.join.upload import read_upload
from matchsim.normalise import Profile, get_profile
from matchsim.schemes import Scheme, upload_params
from matchsim.secrets import Secret

MATCHED_FILE = "matched.parquet"
KEYS_FILE = "keys.csv"
JOIN_FILE = "join.json"
READ_AHEAD = 2
"""Platform chunks the local engine's source computes at once (one per core here)."""


@dataclass(frozen=True)
class JoinRun:
    """What :func:`join_files` wrote and found."""

    out: Path
    result: MatchResult
    report: dict[str, Any]
    evaluation: Evaluation | None


def _platform_file(platform: Path) -> Path:
    return platform / "platform.parquet" if platform.is_dir() else platform


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def join_files(
    platform: str | os.PathLike[str],
    upload: str | os.PathLike[str],
    *,
    profile: str = "meta",
    scheme: str = "sha256",
    out: str | os.PathLike[str],
    engine: str = "local",
    engine_options: dict[str, Any] | None = None,
    secret: Secret | None = None,
    key_file: str | None = None,
    key_env: str | None = None,
    scheme_params: dict[str, Any] | None = None,
    truth: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
    index: bool | str = True,
) -> JoinRun:
    """Join ``upload`` to the platform at ``platform`` (a population folder or its
    ``platform.parquet``) and write the results to ``out``.

    With ``index`` (the default) the platform's digests are read from, or first written
    to, the on-disk platform index (:mod:`matchsim.join.index`); ``index="normalised"``
    keeps only its normalised layer (shared by every scheme), ``False`` neither.

    Raises:
        InputError, ConfigError, SecretError, OutputError, MissingExtraError.
    """
    started = time.perf_counter()
    out_path = Path(out)
    check_folder(out_path, force, [platform, _population_of(platform), upload, truth, key_file])
    prof = get_profile(profile)
    params = upload_params(scheme, scheme_params or {}, prof.encoding)
    platform_file = _platform_file(Path(platform))
    source = ParquetPlatform(
        platform_file, profile, scheme, params, key_file=key_file, key_env=key_env, secret=secret
    )
    sch = source._scheme()
    region = _region_of(platform_file)
    upload_keys, upload_report = read_upload(upload, prof, sch, region, progress)
    source.salt_filter = salt_filter(upload_keys, prof, sch)
    local = engine == "local"
    index_info = (
        _use_index(source, progress, digests=index != "normalised", tee=local)
        if index
        else {"status": "off"}
    )
    joined = time.perf_counter()
    result, index_info = _match(upload_keys, source, engine, engine_options, progress, index_info)
    join_seconds = time.perf_counter() - joined

    truth_path = Path(truth) if truth is not None else platform_file.parent / "truth.parquet"
    evaluated = (
        _evaluate(result, upload_keys, source, truth_path, prof, sch, region)
        if truth is not None or truth_path.exists()
        else None
    )
    report: dict[str, Any] = {
        "kind": "join",
        "matchsim_version": __version__,
        "platform": str(platform_file),
        "upload": asdict(upload_report),
        "profile": profile,
        "scheme": sch.describe(),
        "engine": engine,
        "platform_users": source.n_users,
        **result.summary(),
        "rejected": dict(upload_report.rejected),
        "elapsed_seconds": round(time.perf_counter() - started, 3),
        "join_seconds": round(join_seconds, 3),
        "platform_index": index_info,
        "peak_rss_bytes": peak_rss_bytes(),
    }
    evaluation = None
    if evaluated is not None:
        evaluation, extra = evaluated
        report.update(extra)
    write_outputs(out_path, result, report)
    return JoinRun(out_path, result, report, evaluation)


def _match(
    upload_keys: UploadKeys, source: ParquetPlatform, engine: str,
    engine_options: dict[str, Any] | None, progress: ProgressFn | None,
    index_info: dict[str, Any],
) -> tuple[MatchResult, dict[str, Any]]:  # fmt: skip
    """Run the engine; on the local engine the source computes chunks ahead, and a
    normalised layer it wrote as it went is published once every chunk was read."""
    if engine == "local":  # chunks read in order: the next ones are computed meanwhile
        source.read_ahead = READ_AHEAD
    try:
        with get_engine(engine, **(engine_options or {})) as eng:
            result = eng.match(upload_keys, source, progress)
        if source.tee is not None and source.finish_tee() is None:
            index_info = {"status": "none", "why": "the join did not read every chunk"}
    finally:
        source.close()
        source.read_ahead = 0
    return result, index_info


def _population_of(platform: str | os.PathLike[str]) -> Path | None:
    """The population folder a ``--platform`` given as its ``platform.parquet`` lies in
    (as much an input as when it is named: the join reads its truth and customers)."""
    given = Path(platform)
    if given.is_file() and (given.parent / "manifest.json").is_file():
        return given.parent
    return None


def _evaluate(
    result: MatchResult,
    upload_keys: UploadKeys,
    source: ParquetPlatform,
    truth_path: Path,
    prof: Profile,
    sch: Scheme,
    region: str,
) -> tuple[Evaluation | None, dict[str, Any]]:
    """Score the join against the truth table: the evaluation and its ``join.json`` fields
    (or, where the upload's rows cannot be tied to customers, why not)."""
    customers = truth_path.parent / "customers.parquet"
    if not customers.exists():
        customers = source.path.parent / "customers.parquet"
    mapping = upload_row_cids(upload_keys, customers, prof, sch, region)
    refused = mapping.refused
    evaluation = None
    if mapping.cids is not None:
        try:
            evaluation = evaluate(
                result,
                truth_path,
                row_cid=mapping.cids,
                platform_path=source.path,
                deterministic=sch.deterministic,
                truncated=sch.name.startswith("truncated"),
                presence=None
                if source.norm_dir is None
                else source.norm_dir / "normalised.parquet",
            )
        except InputError as exc:
            if upload_keys.customer_ids is None:
                raise
            refused = f"the upload's customer ids: {exc.reason}"
    extra: dict[str, Any] = {}
    if evaluation is not None:
        extra["evaluation"] = evaluation.to_dict()
        extra["evaluation_rows"] = mapping.how
    if refused is not None:
        extra["evaluation_refused"] = refused
    return evaluation, extra


def _use_index(
    source: ParquetPlatform, progress: ProgressFn | None, digests: bool = True, tee: bool = False
) -> dict[str, Any]:
    """Attach the platform's on-disk digest index to ``source``; say what happened."""
    from matchsim.join.index import ensure_index, index_root

    started = time.perf_counter()
    root = index_root()
    before = {p.name for p in root.iterdir()} if root.is_dir() else set()
    why: list[str] = []
    folder = ensure_index(source, progress, digests, why, tee)
    if folder is None:
        if (source.norm_dir is not None or source.tee is not None) and not digests:
            return {"status": "normalised only", "seconds": round(time.perf_counter() - started, 3)}
        return {"status": "none", "why": "; ".join(why)}
    return {
        "status": "reused" if folder.name in before else "built",
        "folder": folder.name,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _region_of(platform_file: Path) -> str:
    try:
        first = pq.ParquetFile(platform_file).read_row_group(0, columns=["country"])
        value = first["country"][0].as_py() if first.num_rows else None
    except (KeyError, IndexError, OSError, pa.ArrowInvalid):
        value = None
    return str(value).upper() if isinstance(value, str) and len(value) == 2 else "NL"


def write_outputs(out: Path, result: MatchResult, report: dict[str, Any]) -> None:
    """Write matched.parquet, keys.csv and join.json into ``out`` (atomically)."""
    with output_folder(out, force=True, checked=True) as tmp:
        pq.write_table(
            pa.table({"uid": pa.array(result.matched_users, pa.int64())}), tmp / MATCHED_FILE
        )
        lines = ["key,upload_digests,rows_matched,users_matched,users_only_this_key"]
        for key, r in result.per_key.items():
            lines.append(
                f"{key},{r.upload_digests},{r.rows_matched},{r.users_matched},"
                f"{r.users_only_this_key}"
            )
        (tmp / KEYS_FILE).write_text("\n".join(lines) + "\n")
        (tmp / JOIN_FILE).write_text(
            json.dumps(report, indent=2, sort_keys=True, default=_json) + "\n"
        )


def _json(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)
