"""Figures of the scheme sections, drawn from ``results.json`` only (every number traceable).

Each function takes the results dict and a width in inches (:data:`style.WIDE` or
:data:`style.NARROW`) and returns a matplotlib Figure, or None when the run has nothing
to draw for it. Discrete data are bars or steps; log axes are ticked in words.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from matchsim.report import style
from matchsim.report.humanise import share

PHONE = style.PALETTE[0]
EMAIL = style.PALETTE[1]


def _schemes(results: dict[str, Any]) -> list[dict[str, Any]]:
    return list(results.get("schemes") or [])


def _height(rows: int, per_row: float, width: float, extra: float = 1.3) -> float:
    return extra + per_row * rows * (1.25 if style.narrow(width) else 1.0)


@style.styled
def match_rates(results: dict[str, Any], width: float = style.WIDE) -> Figure | None:
    """Match rate the platform shows the advertiser, per scheme."""
    rows = [(s["label"], s["join"]["match_rate"]) for s in _schemes(results) if s.get("join")]
    if not rows:
        return None
    fig = style.figure(width, _height(len(rows), 0.42, width, 1.0))
    ax = fig.subplots()
    ys = list(range(len(rows)))
    values = [100 * r for _, r in rows]
    ax.barh(ys, values, color=PHONE, height=0.6)
    ax.set_yticks(ys, [style.wrap(name, width) for name, _ in rows])
    ax.invert_yaxis()
    style.percent_axis(ax, "x", "upload rows the platform matched to a user")
    ax.grid(axis="y", visible=False)
    style.bar_labels(ax, ys, values, [share(r) for _, r in rows])
    return fig


@style.styled
def reversal(results: dict[str, Any], width: float = style.WIDE) -> Figure | None:
    """Share of hashed phone numbers and e-mails an outsider recovered, per scheme."""
    rows = [
        s
        for s in _schemes(results)
        if s.get("phone_share") is not None or s.get("email_share") is not None
    ]
    if not rows:
        return None
    kinds = [
        (k, name, colour)
        for k, name, colour in (
            ("phone_share", "phone numbers", PHONE),
            ("email_share", "e-mail addresses", EMAIL),
        )
        if any(s.get(k) is not None for s in rows)
    ]
    fig = style.figure(width, _height(len(rows), 0.3 + 0.25 * len(kinds), width, 1.3))
    ax = fig.subplots()
    bar = 0.8 / len(kinds)
    for j, (key, name, colour) in enumerate(kinds):
        ys = [i + (j - (len(kinds) - 1) / 2) * bar for i in range(len(rows))]
        vals = [s.get(key) for s in rows]
        shown = [(y, 100 * v) for y, v in zip(ys, vals, strict=True) if v is not None]
        if not shown:
            continue
        ax.barh([y for y, _ in shown], [v for _, v in shown], height=bar * 0.9, color=colour,
                label=name)  # fmt: skip
        style.bar_labels(
            ax,
            [y for y, _ in shown],
            [v for _, v in shown],
            [share(v / 100) if v else "0 % (nothing recovered)" for _, v in shown],
        )
    ax.set_yticks(range(len(rows)), [style.wrap(s["label"], width) for s in rows])
    ax.invert_yaxis()
    style.percent_axis(ax, "x", "hashed identifiers recovered by an outsider")
    ax.grid(axis="y", visible=False)
    style.legend_below(fig, ax, width=width)
    return fig


@style.styled
def reversal_time(results: dict[str, Any], width: float = style.WIDE) -> Figure | None:
    """Share of identifiers recovered against seconds of attack on this machine (steps)."""
    series = [
        (f"{s['label']} · {a['kind']}", curve)
        for s in _schemes(results)
        for a in s.get("attacks", [])
        if (curve := a.get("time_curve") or [])
    ]
    if not series:
        return None
    fig = style.figure(width, 3.6 if not style.narrow(width) else 4.4)
    ax = fig.subplots()
    low = min(max(p[0], 1e-3) for _, c in series for p in c)
    high = max(max(p[0], 1e-3) for _, c in series for p in c)
    for i, (name, curve) in enumerate(series):
        xs = [max(p[0], 1e-3) for p in curve]
        ax.step(xs, [100 * p[1] for p in curve], where="post", label=name,
                color=style.PALETTE[i % len(style.PALETTE)], linewidth=2)  # fmt: skip
    style.time_axis(ax, "x", low, high, "time spent attacking, on this machine")
    style.percent_axis(ax, "y", "recovered")
    style.legend_below(fig, ax, ncols_wide=2, width=width)
    return fig


@style.styled
def guesswork(results: dict[str, Any], width: float = style.WIDE) -> Figure | None:
    """E-mail guesswork: share recovered against candidates tried, most likely first (steps)."""
    series = [
        (s["label"], a["curve"])
        for s in _schemes(results)
        for a in s.get("attacks", [])
        if a.get("kind") == "email" and a.get("curve") and a["curve"][-1][1] > 0
    ]
    if not series:
        return None
    fig = style.figure(width, 3.6 if not style.narrow(width) else 4.4)
    ax = fig.subplots()
    high = max(max(p[0], 1) for _, c in series for p in c)
    for i, (name, curve) in enumerate(series):
        ax.step([max(p[0], 1) for p in curve], [100 * p[1] for p in curve], where="post",
                label=name, color=style.PALETTE[i % len(style.PALETTE)], linewidth=2)  # fmt: skip
    style.count_axis(ax, "x", 1, high, "e-mail addresses guessed, most likely first")
    ax.set_ylim(0, max(5.0, 1.15 * max(100 * p[1] for _, c in series for p in c)))
    style.axis_label(ax, "y", "hashed e-mails recovered (%)")
    style.legend_below(fig, ax, ncols_wide=2, width=width)
    return fig


def _device_order(rows: list[tuple[str, dict[str, float]]]) -> list[str]:
    names: list[str] = []
    for _, devices in rows:
        names += [d for d in devices if d not in names]
    return sorted(names, key=lambda d: (d != "here", d))


def device_label(device: str) -> str:
    return "this machine (measured)" if device == "here" else f"{device} (published rate)"


@style.styled
def exhaust_costs(results: dict[str, Any], width: float = style.WIDE) -> Figure | None:
    """Time to try every phone number in the keyspace, per scheme and device."""
    rows = [
        (s["label"], s["cost"]["devices"])
        for s in _schemes(results)
        if (s.get("cost") or {}).get("feasible") and s["cost"].get("devices")
    ]
    if not rows:
        return None
    devices = _device_order(rows)
    fig = style.figure(width, _height(len(rows), 0.28 * len(devices) + 0.2, width, 1.6))
    ax = fig.subplots()
    bar = 0.8 / len(devices)
    values = [v for _, d in rows for v in d.values() if v]
    for j, device in enumerate(devices):
        pts = [
            (i + (j - (len(devices) - 1) / 2) * bar, d[device])
            for i, (_, d) in enumerate(rows)
            if d.get(device)
        ]
        colour = style.NEUTRAL if device == "here" else style.PALETTE[j % len(style.PALETTE)]
        ax.barh([y for y, _ in pts], [v for _, v in pts], height=bar * 0.9, color=colour,
                label=device_label(device), left=min(values) / 4)  # fmt: skip
    from matchsim.report.humanise import duration

    style.time_axis(ax, "x", min(values) / 4, max(values), "time to try every number")
    for j, device in enumerate(devices):
        for i, (_, d) in enumerate(rows):
            if d.get(device):
                y = i + (j - (len(devices) - 1) / 2) * bar
                style.bar_labels(ax, [y], [d[device]], [duration(d[device])])
    ax.set_yticks(range(len(rows)), [style.wrap(name, width) for name, _ in rows])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi * 30)  # room for the value labels
    style.legend_below(fig, ax, ncols_wide=2, width=width)
    return fig


_KEYS = {
    "email": "e-mail",
    "phone": "phone",
    "madid": "mobile advertising ID (sent unhashed)",
    "name_postcode_dob": "name + postcode + birth date",
}


def key_label(key: str) -> str:
    return _KEYS.get(key, key.replace("_", " "))


@style.styled
def matched_keys(results: dict[str, Any], width: float = style.WIDE) -> Figure | None:
    """Platform users matched through each identifier (first deterministic scheme)."""
    first = next((s for s in _schemes(results) if (s.get("join") or {}).get("per_key")), None)
    if first is None:
        return None
    per_key = first["join"]["per_key"]
    keys = sorted(
        (k for k in per_key if per_key[k].get("users_matched")),
        key=lambda k: -per_key[k]["users_matched"],
    )
    if not keys:
        return None
    fig = style.figure(width, _height(len(keys), 0.42, width, 1.0))
    ax = fig.subplots()
    ys = list(range(len(keys)))
    vals = [per_key[k]["users_matched"] for k in keys]
    ax.barh(ys, vals, color=PHONE, height=0.6)
    ax.set_yticks(ys, [style.wrap(key_label(k), width) for k in keys])
    ax.invert_yaxis()
    ax.set_xlim(0, max(vals) * 1.25)
    style.axis_label(ax, "x", "platform users matched through this identifier")
    ax.grid(axis="y", visible=False)
    style.bar_labels(ax, ys, vals, [f"{v:,}" for v in vals])
    return fig


_QI = {
    "dob": "birth date",
    "dob:year": "birth year",
    "first_name": "first name",
    "last_name": "last name",
    "postcode:4": "postcode (4 digits)",
}


def qi_words(qi: list[str]) -> str:
    """Quasi-identifier fields in words: ``["postcode:4", "dob"]`` -> ``postcode (4 digits) +
    birth date``."""
    out = []
    for f in qi:
        if f in _QI:
            out.append(_QI[f])
        elif ":" in f:
            name, _, n = f.partition(":")
            out.append(f"{name.replace('_', ' ')} (first {n})")
        else:
            out.append(f.replace("_", " "))
    return " + ".join(out)


BUCKETS = (
    (1, 1, "alone (unique)"),
    (2, 2, "2"),
    (3, 5, "3–5"),
    (6, 10, "6–10"),
    (11, 10**12, "11 or more"),
)


def class_buckets(hist: list[list[int]]) -> list[float]:
    """Share of records in groups of each size bucket (groups of people sharing all values)."""
    total = sum(n for _, n in hist) or 1
    return [sum(n for size, n in hist if lo <= size <= hi) / total for lo, hi, _ in BUCKETS]


@style.styled
def class_sizes(results: dict[str, Any], width: float = style.WIDE) -> Figure | None:
    """Share of customers by how many others share their quasi-identifier values (bars)."""
    sets = [r for r in results.get("risk") or [] if r.get("class_size_histogram")]
    if not sets:
        return None
    fig = style.figure(width, 3.4 if not style.narrow(width) else 4.4)
    ax = fig.subplots()
    n = len(sets)
    bar = 0.8 / n
    for j, r in enumerate(sets):
        xs = [i + (j - (n - 1) / 2) * bar for i in range(len(BUCKETS))]
        ax.bar(xs, [100 * v for v in class_buckets(r["class_size_histogram"])], width=bar * 0.9,
               label=qi_words(r["qi"]), color=style.PALETTE[j % len(style.PALETTE)])  # fmt: skip
    names = [b[2] for b in BUCKETS]
    ax.set_xticks(range(len(BUCKETS)), [style.wrap(x, width, 12, 7) for x in names])
    style.axis_label(ax, "x", "customers who share these values (group size)")
    style.percent_axis(ax, "y", "customers")
    ax.grid(axis="x", visible=False)
    style.legend_below(fig, ax, ncols_wide=3, width=width)
    return fig


@style.styled
def promises(details: dict[str, Any], width: float = style.WIDE) -> Figure | None:
    """Share of named targets whose membership each product's promise let an advertiser learn."""
    rows = [r for r in details.get("products") or [] if r.get("members_learned") is not None]
    if not rows:
        return None
    fig = style.figure(width, _height(len(rows), 0.42, width, 1.0))
    ax = fig.subplots()
    ys = list(range(len(rows)))
    vals = [float(r["members_learned"]) for r in rows]
    ax.barh(ys, vals, height=0.6,
            color=[style.BAD if r.get("succeeds") else style.GOOD for r in rows])  # fmt: skip
    ax.set_yticks(
        ys, [style.wrap(str((r.get("product") or {}).get("name", "?")), width) for r in rows]
    )
    ax.invert_yaxis()
    style.percent_axis(ax, "x", "named people whose membership the advertiser learned", scale=1.0)
    ax.grid(axis="y", visible=False)
    style.bar_labels(ax, ys, vals, [
        f"{share(v)} (broken)" if r.get("succeeds") else f"{share(v)} (held)"
        for v, r in zip(vals, rows, strict=True)
    ])  # fmt: skip
    return fig
