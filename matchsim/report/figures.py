"""Figures of a report, drawn from ``results.json`` only (so every number is traceable).

The only module family that imports matplotlib. Each function takes the results dict
and returns a PNG as bytes, or None when the run has nothing to draw for it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

_COLOURS = ["#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057", "#aa7c11"]


def figure_png(fig: Figure) -> bytes:
    """A matplotlib figure as PNG bytes (closes the figure)."""
    return _png(fig)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def match_rates(results: dict[str, Any]) -> bytes | None:
    rows = [
        (s["label"], s["join"]["match_rate"]) for s in results.get("schemes", []) if s.get("join")
    ]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(rows)))
    labels, rates = zip(*rows, strict=True)
    ax.barh(labels, [100 * r for r in rates], color=_COLOURS[0])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("match rate shown to the advertiser (%)")
    for y, r in enumerate(rates):
        ax.text(100 * r + 1, y, f"{100 * r:.1f} %", va="center", fontsize=9)
    ax.set_title("Does the platform still match the list?")
    return _png(fig)


def _percent_curves(
    series: list[tuple[str, list[float], list[float]]],
    xlabel: str,
    ylabel: str,
    title: str,
    marker: str | None = None,
    full_scale: bool = True,
) -> bytes | None:
    """Lines of percentages against a log x axis, one per ``(label, xs, shares)``."""
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (label, xs, shares) in enumerate(series):
        ax.plot(
            xs,
            [100 * y for y in shares],
            marker=marker,
            label=label,
            color=_COLOURS[i % len(_COLOURS)],
        )
    ax.set_xscale("log")
    if full_scale:
        ax.set_ylim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _png(fig)


def reversal_curves(results: dict[str, Any]) -> bytes | None:
    """Share of identifiers recovered against seconds of attack, per scheme and kind."""
    series = [
        (f"{s['label']} · {a['kind']}", [max(p[0], 1e-3) for p in curve], [p[1] for p in curve])
        for s in results.get("schemes", [])
        for a in s.get("attacks", [])
        if (curve := a.get("time_curve") or [])
    ]
    return _percent_curves(
        series,
        "seconds of attack on this machine (log)",
        "identifiers recovered (%)",
        "How fast do the hashes fall?",
    )


def guesswork(results: dict[str, Any]) -> bytes | None:
    """E-mail guesswork curve: share recovered against candidates tried."""
    series = [
        (s["label"], [max(p[0], 1) for p in a["curve"]], [p[1] for p in a["curve"]])
        for s in results.get("schemes", [])
        for a in s.get("attacks", [])
        if a.get("kind") == "email" and a.get("curve")
    ]
    return _percent_curves(
        series,
        "e-mail candidates tried, most likely first (log)",
        "hashed e-mails recovered (%)",
        "Guesswork: e-mail addresses from name tables",
    )


def exhaust_costs(results: dict[str, Any]) -> bytes | None:
    """Seconds to exhaust the phone keyspace per scheme, here and on reference GPUs."""
    rows = []
    for s in results.get("schemes", []):
        cost = s.get("cost") or {}
        if cost.get("feasible") and cost.get("devices"):
            rows.append((s["label"], cost["devices"]))
    if not rows:
        return None
    devices = list(rows[0][1])
    fig, ax = plt.subplots(figsize=(7.5, 0.8 + 0.5 * len(rows)))
    height = 0.8 / max(len(devices), 1)
    for d, device in enumerate(devices):
        ys = [i + d * height for i in range(len(rows))]
        ax.barh(
            ys,
            [max(r[1].get(device, 0.0), 1e-6) for r in rows],
            height=height,
            label=device,
            color=_COLOURS[d % len(_COLOURS)],
        )
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(rows))], [r[0] for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("seconds to try every number in the keyspace (log)")
    ax.set_title("Cost to exhaust the phone keyspace")
    ax.legend(fontsize=8)
    return _png(fig)


def class_sizes(results: dict[str, Any]) -> bytes | None:
    """Equivalence-class size histogram for each quasi-identifier set."""
    series = []
    for r in results.get("risk", []):
        hist = r.get("class_size_histogram")
        if hist:
            total = sum(h[1] for h in hist) or 1
            series.append((" + ".join(r["qi"]), [h[0] for h in hist], [h[1] / total for h in hist]))
    return _percent_curves(
        series,
        "equivalence-class size (records sharing the same values)",
        "records (%)",
        "Quasi-identifiers: how many people share your values?",
        marker="o",
        full_scale=False,
    )


FIGURES: dict[str, tuple[str, Callable[[dict[str, Any]], bytes | None]]] = {
    "match_rates": ("Match rate per scheme", match_rates),
    "reversal": ("Reversal share against time", reversal_curves),
    "guesswork": ("E-mail guesswork curve", guesswork),
    "cost": ("Cost to exhaust, per scheme", exhaust_costs),
    "classes": ("Equivalence-class sizes", class_sizes),
}
