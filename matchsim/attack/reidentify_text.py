"""The report of ``matchsim reidentify`` (``ReidentifyResult.summary()`` of
:mod:`matchsim.attack.reidentify`) as lines of text for a terminal."""

from __future__ import annotations

from typing import Any


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def reidentify_lines(r: dict[str, Any]) -> list[str]:
    """The report of :meth:`ReidentifyResult.summary` as lines of text."""
    lines: list[str] = []
    add = lines.append
    n = r["rows"]
    add(f"{r['upload']}: {n:,} rows in {r['profile']}'s layout ({r['region']})")
    for f in r["fields"].values():
        if not f["hashed"]:
            add(f"  {f['field']:<11} {f['column']:<8} sent in clear ({f['present']:,} rows)")
            continue
        detail = f["note"] or (
            f"{f['keyspace']}: {f['candidates']:,} of {f['keyspace_size']:,} candidates"
        )
        add(
            f"  {f['field']:<11} {f['column']:<8} reversed {f['reversed']:>9,} of "
            f"{f['present']:>9,} ({100 * f['share']:5.1f} %) in {f['seconds']:6.2f} s  {detail}"
        )
        for stage in f.get("ranges") or ():
            spans = [f"{a:,}..{b:,}" for a, b in stage["ranges"]]
            shown = ", ".join(spans[:3]) + (f" and {len(spans) - 3} more" if len(spans) > 3 else "")
            add(
                f"    {stage['why']}: {shown}: {stage['recovered']:,} ids "
                f"({stage['candidates']:,} candidates)"
            )
    within = r["within_upload"]
    add(
        f"unique within the upload on their reversed fields: {within['unique']:,} rows "
        f"({_pct(within['unique'], n)})"
    )
    link = r.get("link")
    if link is None:
        return lines
    where = "the population" if link["register_kind"] == "population" else "the register"
    add(f"linked to {where} ({link['register_rows']:,} people) on {', '.join(link['fields'])}:")
    add(
        f"  re-identified (one match): {link['reidentified']:>9,} ({_pct(link['reidentified'], n)})"
    )
    ks = ", ".join(f"k={k}: {v:,}" for k, v in link["ambiguous_k"].items() if v)
    add(
        f"  ambiguous (k matches):     {link['ambiguous']:>9,} ({_pct(link['ambiguous'], n)})"
        + (f"  [{ks}]" if ks else "")
    )
    add(f"  not found:                 {link['not_found']:>9,} ({_pct(link['not_found'], n)})")
    add(
        f"  re-identified although neither e-mail nor phone was reversed: "
        f"{link['reidentified_without_email_or_phone']:,}"
    )
    if r.get("scenarios"):
        add("what if (same rows, other choices):")
        for s in r["scenarios"]:
            fields = ", ".join(s["fields"]) or "nothing to link on"
            add(
                f"  {s['name']:<48} re-identified {s['reidentified']:>9,} "
                f"({_pct(s['reidentified'], n)}), ambiguous {s['ambiguous']:,}  [{fields}]"
            )
    return lines
