"""One look for every figure: matplotlib defaults, a colour-blind-safe palette, two widths.

Every figure is drawn twice from the same function: ``WIDE`` for a laptop or projector
(shown at up to ~900 px) and ``NARROW`` for a phone (shown at ~360 px, drawn at a higher
dpi so it stays sharp). The HTML picks one with a ``<picture>`` media query, so text in a
figure is as legible on a phone as the page's own text. Legends sit outside the axes
(below them), never over data; log axes carry ticks in words ("1 ms", "1 h", "1 year").

Palette: Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies.
Colours that carry meaning: ``BAD`` (vermillion) for what leaks, ``GOOD`` (bluish green)
for what protects, ``NEUTRAL`` (grey) for what was not measured.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

# Okabe-Ito, in an order where neighbours differ in lightness too
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
BAD = "#D55E00"
GOOD = "#009E73"
NEUTRAL = "#999999"
INK = "#1d2330"
MUTED = "#5a6375"

WIDE = 8.0  # inches, drawn at WIDE_DPI
NARROW = 3.6
WIDE_DPI = 110
NARROW_DPI = 220

RC: Any = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#b8bfcc",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e7ee",
    "grid.linewidth": 0.8,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}

Draw = Callable[[Any, float], Figure | None]


@dataclass(frozen=True)
class Picture:
    """One figure at both widths, as base64 PNG, with the alt text that states its finding."""

    wide: str
    narrow: str
    alt: str
    caption: str


def figure(width: float, height: float) -> Figure:
    """A new figure in the house style (constrained layout, so outside legends fit)."""
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


def styled(fn: Callable[..., Figure | None]) -> Callable[..., Figure | None]:
    """Run a drawing function under the house rcParams (ticks, fonts, colour cycle)."""

    def wrapper(*args: Any, **kwargs: Any) -> Figure | None:
        with matplotlib.rc_context(RC):
            return fn(*args, **kwargs)

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


def png(fig: Figure, dpi: int = WIDE_DPI) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def picture(draw: Draw, data: Any, alt: str, caption: str = "") -> Picture | None:
    """Draw ``data`` at both widths; None when there is nothing to draw."""
    wide = draw(data, WIDE)
    narrow = draw(data, NARROW)
    if wide is None or narrow is None:
        return None
    return Picture(
        wide=base64.b64encode(png(wide, WIDE_DPI)).decode(),
        narrow=base64.b64encode(png(narrow, NARROW_DPI)).decode(),
        alt=alt,
        caption=caption,
    )


def narrow(width: float) -> bool:
    return width < (WIDE + NARROW) / 2


def wrap(text: str, width: float, wide_chars: int = 34, narrow_chars: int = 18) -> str:
    """A tick label broken over lines so a narrow figure keeps room for its bars."""
    return "\n".join(textwrap.wrap(str(text), narrow_chars if narrow(width) else wide_chars))


def legend_below(fig: Figure, ax: Axes, ncols_wide: int = 4, width: float = WIDE) -> None:
    """The legend under the axes, outside them (constrained layout makes room)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    ncols = 1 if narrow(width) else min(ncols_wide, len(handles))
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols)


_TIME_TICKS = (
    (1e-6, "1 µs"),
    (1e-3, "1 ms"),
    (1.0, "1 s"),
    (60.0, "1 min"),
    (3600.0, "1 h"),
    (86_400.0, "1 day"),
    (365.25 * 86_400, "1 year"),
    (1000 * 365.25 * 86_400, "1,000 years"),
    (1e6 * 365.25 * 86_400, "1 million years"),
)


def time_axis(ax: Axes, axis: str, low: float, high: float, what: str) -> None:
    """A logarithmic time axis ticked in words (``1 ms``, ``1 min``, ``1 year``)."""
    ticks = [(t, name) for t, name in _TIME_TICKS if low / 3 <= t <= high * 3]
    if len(ticks) < 2:
        ticks = [(t, name) for t, name in _TIME_TICKS if low / 1000 <= t <= high * 1000]
    getattr(ax, f"set_{axis}scale")("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator([t for t, _ in ticks]))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: dict(ticks).get(v, "")))
    target.set_minor_locator(NullLocator())
    lo = min(low, ticks[0][0]) / 2
    hi = max(high, ticks[-1][0]) * 2
    getattr(ax, f"set_{axis}lim")(lo, hi)
    _axis_label(ax, axis, f"{what} (log scale)")


def _axis_label(ax: Axes, axis: str, text: str) -> None:
    """An axis label, broken over lines when a narrow figure cannot hold it on one."""
    fig = ax.figure
    width = fig.get_figwidth() if isinstance(fig, Figure) else WIDE
    chars = 70 if not narrow(width) else 24
    getattr(ax, f"set_{axis}label")("\n".join(textwrap.wrap(text, chars)))


def count_axis(ax: Axes, axis: str, low: float, high: float, what: str) -> None:
    """A logarithmic count axis ticked in words (``1``, ``1,000``, ``1 million``)."""
    from matchsim.report.humanise import big

    getattr(ax, f"set_{axis}scale")("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    exps = range(max(0, int(_floor_log10(low))), int(_floor_log10(high)) + 2)
    ticks = [10.0**e for e in exps]
    if len(ticks) > 5:
        ticks = ticks[:: (len(ticks) + 3) // 4]
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: big(v)))
    target.set_minor_locator(NullLocator())
    _axis_label(ax, axis, f"{what} (log scale)")


def _floor_log10(x: float) -> float:
    import math

    return math.floor(math.log10(max(x, 1e-12)))


def percent_axis(ax: Axes, axis: str, what: str, scale: float = 100.0) -> None:
    """A 0-100 % axis; ``scale`` is the value drawn for 100 % (1.0 for fractions)."""
    getattr(ax, f"set_{axis}lim")(0, scale)
    target = ax.xaxis if axis == "x" else ax.yaxis
    fig = ax.figure
    wide = not narrow(fig.get_figwidth() if isinstance(fig, Figure) else WIDE)
    steps = [0, 0.25, 0.5, 0.75, 1] if wide else [0, 0.5, 1]
    target.set_major_locator(FixedLocator([scale * f for f in steps]))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{100 * v / scale:.0f} %"))
    _axis_label(ax, axis, what)


def legend_under_axes(ax: Axes, width: float, ncols_wide: int = 3) -> None:
    """An axes legend placed under the axes, outside them (never over the data)."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32 if narrow(width) else -0.22),
                  ncols=1 if narrow(width) else min(ncols_wide, len(handles)))  # fmt: skip


def axis_label(ax: Axes, axis: str, text: str) -> None:
    _axis_label(ax, axis, text)


def bar_labels(
    ax: Axes, ys: Sequence[float], values: Sequence[float], texts: Sequence[str]
) -> None:
    """Each horizontal bar's value written just past its end (a 0 % bar still shows "0 %")."""
    for y, v, text in zip(ys, values, texts, strict=True):
        ax.annotate(
            text,
            (v, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=9,
            color=INK,
        )
