"""Carry out an attack request: the library call behind ``matchsim attack`` and
``matchsim attack-table``.

:func:`run_attack` reverses an upload by enumeration (or a lookup table, or writes the
keyspace as hashcat masks), prices every scheme and writes the recovered plaintexts if
asked; :func:`build_attack_table` hashes a keyspace into a lookup table. Each returns an
:class:`AttackOutcome`: the report as plain data and the same as lines of text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from matchsim.attack.engine import AttackResult, Knowledge, reverse
from matchsim.attack.keyspace import MaskKeyspace
from matchsim.attack.output import (
    findings_lines,
    lengths_line,
    lengths_report,
    mask_lines,
    mask_rows,
    targets_line,
    write_plaintexts,
)
from matchsim.attack.request import TABLE_KINDS, AttackRequest, TableRequest
from matchsim.attack.targets import LABELS, TargetSet, load_targets
from matchsim.errors import ConfigError
from matchsim.io import shown

Progress = Callable[[str, int, int], None]


@dataclass
class AttackOutcome:
    """An attack's report: ``report`` for JSON (no plaintext in it), ``lines`` for a
    terminal."""

    report: dict[str, Any]
    lines: list[str] = field(default_factory=list)


def run_attack(request: AttackRequest, progress: Progress | None = None) -> AttackOutcome:
    """Check ``request``, read its upload and carry it out.

    Raises:
        ConfigError, OutputError, InputError, SecretError: naming the option or file.
    """
    kind = request.check()
    targets = load_targets(request.upload, request.column)
    if request.emit_hcmask is not None:
        return emit_hcmask(request, kind, targets.algorithm)
    knowledge = request.knowledge(targets.algorithm)
    if request.table is not None:
        result, outcome = _look_up(request, kind, targets, knowledge)
    else:
        result, outcome = _enumerate(request, kind, targets, knowledge, progress)
    prices = []
    if request.cost and request.table is None:
        from matchsim.attack.cost import price_catalogue

        prices = price_catalogue(measured={knowledge.describe(): result.hashes_per_second})
        outcome.report["cost"] = [p.to_dict(result.keyspace_size) for p in prices]
    if request.out is not None:
        write_plaintexts(result, request.out)
        outcome.report["out"] = str(request.out)
    outcome.lines += findings_lines(result, kind, prices, request.out)
    return outcome


def _look_up(
    request: AttackRequest, kind: str, targets: TargetSet, knowledge: Knowledge
) -> tuple[AttackResult, AttackOutcome]:
    """Reverse by looking the digests up in ``request.table``."""
    from matchsim.attack.table import load_table, reverse_with_table

    assert request.table is not None
    # The table names its own keyspace; options that describe one must agree with it.
    wanted = request.space.masks(kind)[0] if request.space.given else None
    t0 = time.perf_counter()
    lookup = load_table(request.table, wanted)
    loaded = time.perf_counter() - t0
    result = reverse_with_table(targets, lookup, knowledge)
    space = lookup.keyspace
    report = result.summary() | {
        "table": str(request.table),
        "table_seconds_to_load": round(loaded, 4),
        "masks": mask_rows(space),
    }
    lines = [
        targets_line(request.upload, targets),
        f"lookup table {shown(request.table)}: {shown(space.name)}, {LABELS[lookup.algorithm]}, "
        f"{space.size:,} candidates; loaded in {loaded:.2f} s",
        *mask_lines(space),
        f"looked up {targets.n_distinct:,} distinct digests in {result.seconds:.2f} s "
        f"({result.candidates_tried:,} prefix matches verified by hashing)",
    ]
    return result, AttackOutcome(report, lines)


def _enumerate(
    request: AttackRequest,
    kind: str,
    targets: TargetSet,
    knowledge: Knowledge,
    progress: Progress | None,
) -> tuple[AttackResult, AttackOutcome]:
    """Reverse by enumerating the keyspace the request describes."""
    space, phones = request.space.build(kind, request.max_guesses, request.wordlist)
    result = reverse(
        targets, space, knowledge, progress=progress, device=request.device,
        scheduler=request.scheduler,
    )  # fmt: skip
    report = result.summary()
    lines = [
        targets_line(request.upload, targets),
        f"{result.keyspace}: {result.keyspace_size:,} candidates; "
        f"tried {result.candidates_tried:,} in {result.seconds:.2f} s "
        f"({result.hashes_per_second / 1e6:,.1f} MH/s)",
    ]
    if kind == "email":
        report["guesswork"] = result.guesswork()
    if isinstance(space, MaskKeyspace):
        report["masks"] = mask_rows(space)
        lines += mask_lines(space)
    if phones is not None:
        report["lengths"] = lengths_report(phones)
        lines.append(lengths_line(phones, *request.space.where))
    return result, AttackOutcome(report, lines)


def emit_hcmask(request: AttackRequest, kind: str, algorithm: str) -> AttackOutcome:
    """Write the request's keyspace as hashcat masks to ``request.emit_hcmask``; say how
    to run the same job under hashcat."""
    from matchsim.attack.hcmask import hashcat_command, write_hcmask

    path = request.emit_hcmask
    assert path is not None
    if kind not in TABLE_KINDS:
        raise ConfigError(
            f"--emit-hcmask needs a mask keyspace ({', '.join(TABLE_KINDS)}); "
            f"--kind {kind} is a list of guesses"
        )
    space = request.space.masks(kind)[0]
    count = write_hcmask(space, path)
    command = hashcat_command(algorithm, request.upload, path)
    report = {"hcmask": str(path), "lines": count, "keyspace": space.name,
              "keyspace_size": space.size, "hashcat": command}  # fmt: skip
    return AttackOutcome(report, [
        f"wrote {path}: {space.name}, {space.size:,} candidates in {count:,} hashcat masks",
        f"run the same job with: {command}",
    ])  # fmt: skip


def build_attack_table(request: TableRequest, progress: Progress | None = None) -> AttackOutcome:
    """Hash the request's keyspace once into a lookup table at ``request.out``."""
    from matchsim.attack.table import build_table
    from matchsim.io import output_files

    kind = request.check()
    space, phones = request.space.masks(kind)
    t0 = time.perf_counter()
    lookup = build_table(space, Knowledge(request.algorithm), progress=progress)
    seconds = time.perf_counter() - t0
    with output_files(request.out) as (tmp,):
        size = lookup.save(tmp)
    report: dict[str, Any] = {
        "table": str(request.out), "keyspace": space.name, "keyspace_size": space.size,
        "masks": mask_rows(space), "algorithm": request.algorithm,
        "seconds": round(seconds, 4), "bytes": size,
    }  # fmt: skip
    rate = space.size / seconds if seconds > 0 else 0.0
    lines = [
        f"hashed {space.name} with {LABELS[request.algorithm]}: {space.size:,} candidates "
        f"in {seconds:.2f} s ({rate:,.0f} per second, sorting included)",
        *mask_lines(space),
    ]
    if phones is not None:
        report["lengths"] = lengths_report(phones)
        lines.append(lengths_line(phones, *request.space.where))
    per = size / space.size if space.size else 0.0
    lines.append(f"wrote {request.out}: {size:,} bytes ({per:.1f} bytes per candidate)")
    lines.append(f"reverse an upload with: matchsim attack UPLOAD --table {request.out}")
    return AttackOutcome(report, lines)
