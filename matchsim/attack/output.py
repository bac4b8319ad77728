"""What an attack leaves behind: the recovered plaintexts (on request) and its report in
plain data, a JSON-able dict and the same findings as lines of text for a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from matchsim.attack.engine import AttackResult
from matchsim.attack.keyspace import MaskKeyspace
from matchsim.attack.targets import LABELS, TargetSet

if TYPE_CHECKING:
    from matchsim.attack.cost import SchemePrice
    from matchsim.attack.request import PhoneSpace

SHOWN_MASKS = 8
"""Masks listed one per line in the text report; the rest are counted."""


def write_plaintexts(result: AttackResult, out: Path) -> None:
    """Write the recovered plaintexts (personal data!) to ``out``: a CSV of ``row``
    (the upload row) and ``plaintext``, recovered rows only, whole or not at all."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    from matchsim.io import output_files

    plaintext = result.row_plaintext()
    rows = pa.table({"row": pa.array(result.targets.rows), "plaintext": plaintext})
    with output_files(out) as (tmp,):
        pacsv.write_csv(rows.filter(pc.is_valid(plaintext)), tmp)


PLAINTEXT_HEADER = b'"row","plaintext"'
"""The first line of every plaintext file matchsim writes (pyarrow quotes the names)."""


def plaintexts_written_here(path: Path) -> bool:
    """Is ``path`` a plaintext file ``matchsim attack --out`` wrote (``--force`` may replace it)?"""
    from matchsim.io import first_line_is

    return first_line_is(path, PLAINTEXT_HEADER)


def mask_rows(space: MaskKeyspace) -> list[dict[str, Any]]:
    """Every mask of ``space`` with its number of candidates (for the JSON report)."""
    return [{"mask": m.text(), "candidates": m.size} for m in space.masks]


def mask_lines(space: MaskKeyspace) -> list[str]:
    """The first masks of a keyspace, one per line, with their sizes."""
    from matchsim.io import shown as escaped  # a lookup table's masks come from its file

    first = space.masks[:SHOWN_MASKS]
    texts = [escaped(m.text(), 200) for m in first]
    width = max(len(t) for t in texts)
    lines = [f"  {t:<{width}}  {m.size:>15,}" for t, m in zip(texts, first, strict=True)]
    if len(space.masks) > SHOWN_MASKS:
        lines.append(f"  ... and {len(space.masks) - SHOWN_MASKS:,} more masks")
    return lines


def lengths_report(phones: PhoneSpace) -> dict[str, int]:
    return {str(n): c for n, c in phones.lengths.items()}


def lengths_line(phones: PhoneSpace, region: str, number_type: str) -> str:
    """The national-number lengths enumerated (with counts) and where they come from."""
    where = f"{region.upper()} {number_type}"
    if phones.lengths_from == "given":
        source = "as given by --lengths"
    elif phones.lengths_from == "phonenumbers":
        source = f"phonenumbers' possible lengths for {where}; narrow with --lengths"
    else:
        left = ", ".join(f"{n} digits ({c:,})" for n, c in phones.left_out.items())
        every = ",".join(str(n) for n in sorted([*phones.lengths, *phones.left_out]))
        source = f"the lengths people's {where} numbers have (matchsim's locale)"
        if left:
            source += f"; left out: {left}, add with --lengths {every}"
    listed = ", ".join(f"{n} digits ({c:,})" for n, c in phones.lengths.items())
    return f"  national numbers of {listed}: {source}"


def targets_line(upload: Path, t: TargetSet) -> str:
    rejected = ", ".join(f"{v:,} {k}" for k, v in t.rejected.items())
    return (
        f"detected {LABELS[t.algorithm]} ({t.encoding}) in {upload}; "
        f"{t.n_rows:,} rows, {t.n_distinct:,} distinct digests"
        + (f"; rejected: {rejected}" if t.rejected else "")
    )


def findings_lines(
    result: AttackResult, kind: str, prices: list[SchemePrice], out: Path | None
) -> list[str]:
    """What was recovered, how fast it grew (e-mails), what each scheme would cost."""
    from matchsim.attack.cost import humanize_seconds

    lines = [
        f"recovered {result.recovered_distinct:,} of {result.distinct:,} distinct "
        f"({result.share:.1%} of rows)"
    ]
    if kind == "email":
        lines += [f"  after {g:>12,} guesses: {s:.1%} recovered" for g, s in result.guesswork(8)]
    for p in prices:
        if not p.reversible:
            lines.append(f"  {p.scheme:<17} not reversible by enumeration: {p.reason}")
            continue
        times = ", ".join(
            f"{dev}: {humanize_seconds(s)}" for dev, s in p.seconds(result.keyspace_size).items()
        )
        lines.append(f"  {p.scheme:<17} {times}")
    if out is None and result.recovered_distinct:
        lines.append("recovered plaintexts not written (personal data); use --out FILE")
    return lines
