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


def reversal_curves(results: dict[str, Any]) -> bytes | None:
    """Share of identifiers recovered against seconds of attack, per scheme and kind."""
    series = []
    for s in results.get("schemes", []):
        for a in s.get("attacks", []):
            curve = a.get("time_curve") or []
            if curve:
                series.append((f"{s['label']} · {a['kind']}", curve))
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (label, curve) in enumerate(series):
        xs = [max(p[0], 1e-3) for p in curve]
        ax.plot(xs, [100 * p[1] for p in curve], label=label, color=_COLOURS[i % len(_COLOURS)])
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    ax.set_xlabel("seconds of attack on this machine (log)")
    ax.set_ylabel("identifiers recovered (%)")
    ax.set_title("How fast do the hashes fall?")
    ax.legend(fontsize=8)
    return _png(fig)


def guesswork(results: dict[str, Any]) -> bytes | None:
    """E-mail guesswork curve: share recovered against candidates tried."""
    series = []
    for s in results.get("schemes", []):
        for a in s.get("attacks", []):
            if a.get("kind") == "email" and a.get("curve"):
                series.append((s["label"], a["curve"]))
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (label, curve) in enumerate(series):
        ax.plot(
            [max(p[0], 1) for p in curve],
            [100 * p[1] for p in curve],
            label=label,
            color=_COLOURS[i % len(_COLOURS)],
        )
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    ax.set_xlabel("e-mail candidates tried, most likely first (log)")
    ax.set_ylabel("hashed e-mails recovered (%)")
    ax.set_title("Guesswork: e-mail addresses from name tables")
    ax.legend(fontsize=8)
    return _png(fig)


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
    sets = [r for r in results.get("risk", []) if r.get("class_size_histogram")]
    if not sets:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, r in enumerate(sets):
        hist = r["class_size_histogram"]
        sizes = [h[0] for h in hist]
        records = [h[1] for h in hist]
        total = sum(records) or 1
        ax.plot(
            sizes,
            [100 * x / total for x in records],
            marker="o",
            label=" + ".join(r["qi"]),
            color=_COLOURS[i % len(_COLOURS)],
        )
    ax.set_xscale("log")
    ax.set_xlabel("equivalence-class size (records sharing the same values)")
    ax.set_ylabel("records (%)")
    ax.set_title("Quasi-identifiers: how many people share your values?")
    ax.legend(fontsize=8)
    return _png(fig)


FIGURES: dict[str, tuple[str, Callable[[dict[str, Any]], bytes | None]]] = {
    "match_rates": ("Match rate per scheme", match_rates),
    "reversal": ("Reversal share against time", reversal_curves),
    "guesswork": ("E-mail guesswork curve", guesswork),
    "cost": ("Cost to exhaust, per scheme", exhaust_costs),
    "classes": ("Equivalence-class sizes", class_sizes),
}
