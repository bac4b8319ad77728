"""Figures for the ``[oracle]`` report section (imported only by the report layer).

Each takes the section's ``details`` dict (rows in the order the report tells them) and a
width in inches, and returns a matplotlib Figure.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from matchsim.report import style


@style.styled
def phone_attack(result: dict[str, Any], width: float = style.WIDE) -> Figure:
    """Share of victims whose phone number was inferred from their e-mail, per policy."""
    rows = result["phone"]
    names = [style.wrap(r["policy"]["name"], width) for r in rows]
    fig = style.figure(width, 1.1 + (0.4 if not style.narrow(width) else 0.5) * len(rows))
    ax = fig.subplots()
    ys = list(range(len(rows)))
    values = [100 * float(r.get("success_rate") or 0.0) for r in rows]
    colours = [style.BAD if v > 0 else style.GOOD for v in values]
    ax.barh(ys, values, color=colours, height=0.6)
    ax.set_yticks(ys, names)
    ax.invert_yaxis()
    style.percent_axis(ax, "x", "victims whose phone number was inferred")
    ax.grid(axis="y", visible=False)
    style.bar_labels(ax, ys, values, [f"{v:.0f} %" if v else "0 % (stopped)" for v in values])
    return fig


@style.styled
def differencing(result: dict[str, Any], width: float = style.WIDE) -> Figure:
    """Membership advantage (TPR - FPR) of the differencing attack per policy and repeats."""
    rows = result["differencing"]
    repeats = sorted({r["repeats"] for r in rows})
    names = list(dict.fromkeys(r["policy"]["name"] for r in rows))
    per = 0.3 + 0.18 * len(repeats)
    fig = style.figure(width, 1.5 + per * len(names) * (1.2 if style.narrow(width) else 1.0))
    ax = fig.subplots()
    height = 0.8 / max(len(repeats), 1)
    for j, m in enumerate(repeats):
        by_name = {r["policy"]["name"]: r["advantage"] for r in rows if r["repeats"] == m}
        ys = [i + (j - (len(repeats) - 1) / 2) * height for i in range(len(names))]
        ax.barh(ys, [100 * max(by_name.get(n, 0.0), 0.0) for n in names], height=height * 0.9,
                label=f"{m} answer{'s' if m != 1 else ''} averaged",
                color=style.PALETTE[j % len(style.PALETTE)])  # fmt: skip
    ax.set_yticks(range(len(names)), [style.wrap(n, width) for n in names])
    ax.invert_yaxis()
    style.percent_axis(ax, "x", "advantage over a coin flip (true minus false positives)")
    ax.grid(axis="y", visible=False)
    style.legend_below(fig, ax, ncols_wide=3, width=width)
    return fig


FIGURES = {"phone_attack": phone_attack, "differencing": differencing}
