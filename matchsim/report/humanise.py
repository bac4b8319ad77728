"""Numbers as a reader says them: durations, counts, shares, sizes and column labels.

Every cell and sentence of a report goes through one of these, so ``0.00273`` seconds
reads "2.7 ms", ``1234567`` reads "1,234,567" and ``0.8821`` reads "88.2 %". ``None``
(nothing measured) reads "—" everywhere.
"""

from __future__ import annotations

import math
import re
from typing import Any

DASH = "—"
YEAR = 365.25 * 86_400

# (upper limit in seconds, unit, seconds per unit); the first limit above the value wins
_UNITS = (
    (1e-3, "µs", 1e-6),
    (0.1, "ms", 1e-3),
    (120.0, "s", 1.0),
    (7_200.0, "min", 60.0),
    (172_800.0, "h", 3_600.0),
    (2 * YEAR, "days", 86_400.0),
)


def _sig(x: float, digits: int = 2) -> str:
    """``x`` to ``digits`` significant figures, without a trailing ``.0``; 3 from 100."""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    text = f"{x:.{digits}g}"
    if "e" in text:  # rounding carried into the next power of ten: 99.9 -> "1e+02"
        return f"{float(text):,.0f}"
    return text


def duration(seconds: float | None) -> str:
    """A time span in the largest unit that keeps it readable.

    ``0.00273`` -> ``2.7 ms``; ``0.4`` -> ``0.4 s`` (ms below 0.1 s); ``300`` -> ``5 min``;
    ``21600`` -> ``6 h``; ``864000`` -> ``10 days``; 50 years -> ``50 years``; from a million
    years ``3.4 million years``; infinity -> ``never (not enumerable)``. The unit is chosen
    after rounding, so ``7194`` reads ``2 h``, never ``120 min``; a negative or undefined
    span (nothing that was measured) reads "—".
    """
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return DASH
    if math.isinf(seconds):
        return "never (not enumerable)"
    if seconds == 0:
        return "0 s"
    for i, (limit, unit, div) in enumerate(_UNITS):
        if seconds < limit:
            text = _sig(seconds / div)
            # rounding may reach the next unit's threshold (59.99 s -> "60 s"): move up
            if i + 1 < len(_UNITS) and float(text.replace(",", "")) * div >= limit:
                continue
            return f"{text} {unit}"
    years = seconds / YEAR
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if years >= scale:
            return f"{_sig(years / scale)} {word} years"
    return f"{_sig(years)} years"


def days(n: float | None) -> str:
    """Days on a simulated clock: ``0`` -> ``same day``, ``5873`` -> ``16 years``."""
    if n is None or not math.isfinite(n) or n < 0:
        return DASH
    if n < 1:
        return "same day"
    return duration(n * 86_400)


def count(n: float | None) -> str:
    """A count with thousands separators; a non-integral value keeps 2 significant figures."""
    if n is None or not math.isfinite(n):
        return DASH
    if isinstance(n, float) and not n.is_integer():
        return _sig(n) if abs(n) < 100 else f"{n:,.0f}"
    return f"{int(n):,}"


def big(n: float | None) -> str:
    """A large count in words: ``60000000`` -> ``60 million``; below a million as :func:`count`."""
    if n is None or not math.isfinite(n):
        return DASH
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        # the scale is chosen after rounding: 999,999,999.9 reads "1 billion"
        if abs(float(_sig(n / 1e3, 3).replace(",", ""))) * 1e3 >= scale:
            return f"{_sig(n / scale, 3)} {word}"
    return count(n)


def share(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.8821`` -> ``88.2 %``; exactly 0 or 1: ``0 %``, ``100 %``."""
    if x is None or not math.isfinite(x) or x < 0:
        return DASH
    if x == 0 or x == 1:
        return f"{100 * x:.0f} %"
    text = f"{100 * x:.{digits}f}"
    # rounding never turns "almost all" into all, or "a few" into none
    step = 10.0**-digits
    if x < 1 and float(text) >= 100:
        return f"{100 - step:.{digits}f} %"
    if x > 0 and float(text) == 0:
        return f"< {step:.{digits}f} %"
    return f"{text} %"


def points(x: float | None) -> str:
    """A difference of two rates in percentage points: ``0.445`` -> ``45 points``."""
    if x is None or not math.isfinite(x):
        return DASH
    return f"{100 * x:.0f} points"


def size(n: float | None) -> str:
    """Bytes: ``387840`` -> ``379 KB`` (binary multiples, as file managers show them)."""
    if n is None:
        return DASH
    for scale, unit in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")):
        if n >= scale:
            return f"{_sig(n / scale, 3)} {unit}"
    return f"{int(n)} bytes"


def rate(per_second: float | None) -> str:
    """Hashes per second in words: ``14961481`` -> ``15 million per second``."""
    if per_second is None:
        return DASH
    return f"{big(per_second)} per second"


_WORDS = {
    "qi": "quasi-identifiers",
    "fpr": "false-positive rate",
    "tpr": "true-positive rate",
    "dob": "date of birth",
    "madid": "mobile advertising ID",
    "clk": "CLK",
    "psi": "PSI",
    "us": "µs",
}


def label(key: str) -> str:
    """A results.json key as a column header: no underscores, known abbreviations spelled out.

    ``non_user_medical_observed_share`` -> ``Non user medical observed share``;
    ``fpr`` -> ``False-positive rate``.
    """
    words = [w for w in re.split(r"[_\s]+", str(key).strip()) if w]
    words = [_WORDS.get(w.lower(), w) for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


# a key holding one of these words holds a fraction in [0, 1]
_FRACTIONS = {"share", "rate", "precision", "recall", "accuracy", "measure", "tpr", "fpr",
              "reidentified", "success", "advantage"}  # fmt: skip


def value(v: Any, key: str = "") -> str:
    """Any scalar of results.json, formatted by what its key says it is."""
    if v is None:
        return DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    k = key.lower()
    if isinstance(v, int | float):
        tokens = set(re.split(r"[^a-z0-9]+", k))
        if tokens & _FRACTIONS:
            return share(float(v)) if 0 <= v <= 1 else count(v)
        if "seconds" in k:
            return duration(float(v))
        if "bytes" in k:
            return size(v)
        return count(v)
    if isinstance(v, dict):
        return str(v.get("name", DASH))
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)
