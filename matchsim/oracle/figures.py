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
    """Share of victims whose phone number was inferred, and the queries it took, per policy."""
    rows = result["phone"]
    names = [style.wrap(r["policy"]["name"], width) for r in rows]
    thin = style.narrow(width)
    per = 0.4 if not thin else 0.5
    fig = style.figure(width, (1.4 + per * len(rows)) * (2 if thin else 1))
    success, queries = fig.subplots(2, 1) if thin else fig.subplots(1, 2)
    ys = list(range(len(rows)))
    values = [float(r.get("success_rate") or 0.0) for r in rows]
    success.barh(ys, values, color=[style.BAD if v > 0 else style.GOOD for v in values],
                 height=0.6)  # fmt: skip
    success.set_yticks(ys, names)
    success.invert_yaxis()
    style.percent_axis(success, "x", "victims whose phone number was inferred", scale=1.0)
    success.grid(axis="y", visible=False)
    style.bar_labels(success, ys, values,
                     [f"{100 * v:.0f} %" if v else "0 % (stopped)" for v in values])  # fmt: skip
    made = [max(float((r.get("queries") or {}).get("mean") or 0.0), 1.0) for r in rows]
    needed = [max(float((r.get("projected_queries") or {}).get("mean") or 0.0), 1.0) for r in rows]
    queries.barh(ys, needed, color="#56B4E9", height=0.6, label="needed (projected)")
    queries.barh(ys, made, color="#0072B2", height=0.6, label="made")
    queries.set_yticks(ys, names if thin else [""] * len(ys))
    queries.invert_yaxis()
    style.count_axis(queries, "x", 1, max(needed + made), "size estimates per victim")
    queries.grid(axis="y", visible=False)
    style.legend_under_axes(queries, width, ncols_wide=2)
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
        ax.barh(ys, [max(by_name.get(n, 0.0), 0.0) for n in names], height=height * 0.9,
                label=f"{m} answer(s) averaged",
                color=style.PALETTE[j % len(style.PALETTE)])  # fmt: skip
    ax.set_yticks(range(len(names)), [style.wrap(n, width) for n in names])
    ax.invert_yaxis()
    style.percent_axis(ax, "x", "advantage over a coin flip (true minus false positives)",
                       scale=1.0)  # fmt: skip
    ax.grid(axis="y", visible=False)
    style.legend_under_axes(ax, width)
    return fig


FIGURES = {"phone_attack": phone_attack, "differencing": differencing}
