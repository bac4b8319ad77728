"""Figures for the ``[oracle]`` report section (imported only by the report layer)."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure


def phone_attack(result: dict[str, Any]) -> Figure:
    """Success rate and queries per victim of the phone-inference attack, per policy."""
    rows = result["phone"]
    names = [r["policy"]["name"] for r in rows]
    fig = Figure(figsize=(9, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.barh(names, [r["success_rate"] or 0.0 for r in rows], color="#b2182b")
    ax1.set_xlim(0, 1)
    ax1.invert_yaxis()
    ax1.set_xlabel("phones inferred (share of victims)")
    queries = [r["queries"]["mean"] or 0.0 for r in rows]
    projected = [r["projected_queries"]["mean"] or 0.0 for r in rows]
    ax2.barh(names, projected, color="#d1e5f0", label="needed (projected)")
    ax2.barh(names, queries, color="#2166ac", label="made")
    ax2.set_xscale("symlog")
    ax2.invert_yaxis()
    ax2.set_yticklabels([])
    ax2.set_xlabel("estimate queries per victim")
    ax2.legend(fontsize=8)
    fig.suptitle("Inferring a phone number from an e-mail address through size estimates")
    fig.tight_layout()
    return fig


def differencing(result: dict[str, Any]) -> Figure:
    """Membership advantage (TPR - FPR) of the differencing attack per setting."""
    rows = result["differencing"]
    repeats = sorted({r["repeats"] for r in rows})
    names = list(dict.fromkeys(r["policy"]["name"] for r in rows))
    fig = Figure(figsize=(8, 0.4 * len(names) + 1.8))
    ax = fig.subplots()
    height = 0.8 / max(len(repeats), 1)
    for j, m in enumerate(repeats):
        by_name = {r["policy"]["name"]: r["advantage"] for r in rows if r["repeats"] == m}
        ys = [i + j * height for i in range(len(names))]
        ax.barh(
            ys, [by_name.get(n, 0.0) for n in names], height=height, label=f"{m} answer(s) averaged"
        )
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xlim(-0.1, 1)
    ax.set_xlabel("membership advantage (TPR - FPR)")
    ax.set_title("Two uploads that differ by one person")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = {"phone_attack": phone_attack, "differencing": differencing}
