"""Figures for the ``[pixel]`` report section (imported only by the report layer).

Each takes the section's ``details`` dict and a width in inches (the report draws every
figure at a laptop and a phone width) and returns a matplotlib Figure.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from matchsim.report import style

# what a medical-page visit ended up linked to, worst first (colour-blind-safe, dark = worse)
PARTS = (
    ("account_cookie_share", "account (login cookie)", "#D55E00"),
    ("account_identifier_share", "account (hashed e-mail/phone)", "#E69F00"),
    ("shadow_identifier_share", "shadow profile (hashed identifier)", "#0072B2"),
    ("shadow_cookie_share", "shadow profile (cookie only)", "#56B4E9"),
)

_SCHEMES = {
    "sha256": "SHA-256",
    "hmac-sha256": "HMAC-SHA256",
    "salted-sha256": "SHA-256 with a salt per record",
}


def scenario_label(rules: dict[str, Any]) -> str:
    """A scenario's rules in words: ``consent=0.4`` -> ``40 % of visitors consent``."""
    name = str(rules.get("name", "?"))
    kind, _, value = name.partition("=")
    if kind == "placement":
        pages = " and ".join(rules.get("placement") or [])
        return f"Pixel on {pages} pages only" if pages else "Pixel on no page"
    if kind == "consent":
        return f"{100 * float(rules.get('consent_rate', value)):.0f} % of visitors consent"
    if kind == "scheme":
        if value == "none":
            return "No advanced matching"
        return f"Advanced matching with {_SCHEMES.get(value, value)}"
    if name == "baseline":
        scheme = _SCHEMES.get(str(rules.get("scheme")), str(rules.get("scheme")))
        consent = float(rules.get("consent_rate", 1.0))
        asked = "no consent asked" if consent >= 1 else f"{100 * consent:.0f} % consent"
        return f"Baseline: pixel on every page, {asked}, {scheme}"
    return name


@style.styled
def linked_shares(result: dict[str, Any], width: float = style.WIDE) -> Figure:
    """Stacked bars: what the platform linked medical-page visits to, per scenario."""
    rows = result["scenarios"]
    names = [style.wrap(scenario_label(r["rules"]), width, 40, 20) for r in rows]
    per_row = 0.42 if not style.narrow(width) else 0.6
    fig = style.figure(width, 1.8 + per_row * len(rows))
    ax = fig.subplots()
    ys = list(range(len(rows)))
    left = [0.0] * len(rows)
    for key, label, colour in PARTS:
        values = [float(r.get(key) or 0.0) for r in rows]
        ax.barh(ys, values, left=left, label=label, color=colour, height=0.7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(ys, names)
    ax.invert_yaxis()
    style.percent_axis(ax, "x", "medical-page visits", scale=1.0)
    ax.grid(axis="y", visible=False)
    style.legend_below(fig, ax, ncols_wide=2, width=width)
    return fig


@style.styled
def consent_curve(result: dict[str, Any], width: float = style.WIDE) -> Figure:
    """Medical visits reported and linked to an account, at each consent rate measured."""
    rows = [
        r
        for r in result["scenarios"]
        if r["rules"]["name"] == "baseline" or r["rules"]["name"].startswith("consent=")
    ]
    rows.sort(key=lambda r: r["rules"]["consent_rate"])
    fig = style.figure(width, 3.4 if not style.narrow(width) else 4.2)
    ax = fig.subplots()
    x = [r["rules"]["consent_rate"] for r in rows]
    # consent is a rate: the points are the levels measured, joined to show the trend
    ax.plot(x, [r["account_share"] for r in rows], marker="o", color="#D55E00",
            label="linked to an account")  # fmt: skip
    ax.plot(x, [r["observed_share"] for r in rows], marker="s", color="#0072B2",
            label="reported to the platform")  # fmt: skip
    style.percent_axis(ax, "x", "visitors who consent", scale=1.0)
    style.percent_axis(ax, "y", "medical-page visits", scale=1.0)
    style.legend_below(fig, ax, ncols_wide=2, width=width)
    return fig


FIGURES = {"linked_shares": linked_shares, "consent_curve": consent_curve}
