"""The sentences a run writes into ``results.json``: each one from its stage's figures.

The stages return numbers; the words around them live here, next to the report's other
wording. Percentages here keep the one-decimal form results.json has always carried
(``"12.3 %"``), so a rerun of an old experiment writes the same text.
"""

from __future__ import annotations

from typing import Any


def percent(x: Any) -> str:
    """``0.1234`` -> ``"12.3 %"``; ``None`` -> ``"—"``."""
    return "—" if x is None else f"{100 * float(x):.1f} %"


def name_of(value: Any) -> str:
    """A policy or rule set's name (a dict with ``name``, or the value itself)."""
    if isinstance(value, dict):
        return str(value.get("name", "?"))
    return str(value or "?")


def platform_learns(report: dict[str, Any]) -> str:
    """What the platform learned from an upload, in words, from the join's own counts."""
    users = int(report.get("matched_users") or 0)
    keys = [k for k, v in (report.get("per_key") or {}).items() if v.get("users_matched")]
    if users == 0:
        return "nothing: no upload row matched any of its users"
    return (
        f"that {users:,} of its users are the advertiser's customers (matched on {', '.join(keys)})"
    )


def pixel_answer(baseline: dict[str, Any]) -> str:
    """The tracking pixel's answer: visits linked to an account and to a shadow profile."""
    linked = percent(baseline.get("account_share"))
    shadow = percent(baseline.get("shadow_identifier_share"))
    return (
        f"Baseline ({name_of(baseline.get('rules'))}): {linked} of medical-page visits linked "
        f"to an identified account, {shadow} to a shadow profile keyed by a hashed identifier."
    )


def oracle_answer(first: dict[str, Any]) -> str:
    """The size oracle's answer under its first reporting policy."""
    return (
        f"Under {name_of(first.get('policy'))} the attacker inferred "
        f"{percent(first.get('success_rate'))} of victims' phone numbers from an e-mail address."
    )


def psi_threat(result: dict[str, Any]) -> str:
    """PSI's row in the scheme table: what is revealed, to whom, at what traffic."""
    return (
        f"{result['reveal']} revealed to the {result['receiver']}; "
        f"{result['bytes_total']:,} bytes on the wire"
    )


def clk_threat(linkage: dict[str, Any]) -> str:
    """CLK's row in the scheme table: hardening and what fuzzy matching recovers."""
    return (
        f"keyed q-gram filters, hardening: {linkage['hardening']}; fuzzy matching "
        f"recovers {100 * linkage['recall_on_name_typos']['clk']:.0f} % of name typos"
    )


def clk_attack_reason(attack: dict[str, Any]) -> str:
    """Why an outsider need not enumerate CLKs: the frequency attack's result."""
    return (
        "no enumeration needed: a frequency attack without the key "
        f"re-identified {100 * attack['reidentified']:.1f} % of first names"
    )


__all__ = [
    "clk_attack_reason",
    "clk_threat",
    "name_of",
    "oracle_answer",
    "percent",
    "pixel_answer",
    "platform_learns",
    "psi_threat",
]
