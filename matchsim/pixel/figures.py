"""Figures for the ``[pixel]`` report section (imported only by the report layer)."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

_PARTS = (
    ("account_cookie_share", "account (login cookie)", "#b2182b"),
    ("account_identifier_share", "account (hashed e-mail/phone)", "#ef8a62"),
    ("shadow_identifier_share", "shadow profile (hashed identifier)", "#67a9cf"),
    ("shadow_cookie_share", "shadow profile (cookie only)", "#d1e5f0"),
)


def linked_shares(result: dict[str, Any]) -> Figure:
    """Stacked bars: what the platform linked medical-page visits to, per scenario."""
    rows = result["scenarios"]
    names = [r["rules"]["name"] for r in rows]
    fig = Figure(figsize=(8, 0.45 * len(rows) + 1.5))
    ax = fig.subplots()
    left = [0.0] * len(rows)
    for key, label, colour in _PARTS:
        values = [float(r[key]) for r in rows]
        ax.barh(names, values, left=left, label=label, color=colour)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of medical-page visits")
    ax.set_title("Medical-page visits the pixel reports, by what the platform links them to")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def consent_curve(result: dict[str, Any]) -> Figure:
    """Share of medical visits linked to an account against the consent rate."""
    rows = [
        r
        for r in result["scenarios"]
        if r["rules"]["name"] in ("baseline",) or r["rules"]["name"].startswith("consent=")
    ]
    rows.sort(key=lambda r: r["rules"]["consent_rate"])
    fig = Figure(figsize=(5, 3.5))
    ax = fig.subplots()
    x = [r["rules"]["consent_rate"] for r in rows]
    ax.plot(x, [r["account_share"] for r in rows], marker="o", label="linked to an account")
    ax.plot(x, [r["observed_share"] for r in rows], marker="s", label="reported at all")
    ax.set_xlabel("consent rate")
    ax.set_ylabel("share of medical-page visits")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = {"linked_shares": linked_shares, "consent_curve": consent_curve}
