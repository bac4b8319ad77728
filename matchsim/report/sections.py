"""Section renderers: one function per ``results.json`` section, each turning it into prose.

How a report is assembled
-------------------------
:data:`SECTIONS` maps a results.json key (``schemes``, ``membership``, ``risk``, ``pixel``,
``oracle``, ``psi``, ``clk``) to a renderer ``fn(results) -> Contribution``. A report shows
only the keys present in its results.json, in the order of :data:`SECTIONS`; a key no
renderer knows is shown by :func:`generic` (its ``text`` as the answer, its ``summary`` as
a table, every list in ``details`` as a collapsed table), so a new stage's section appears
even before it has a renderer of its own.

A :class:`Contribution` may carry:

- ``headline``: a finding in one or two sentences with its key numbers (the first
  contribution with one becomes the report's headline, under the title);
- ``verdict``: a table with one row per scheme or policy and plain-question columns (the
  first becomes the report's verdict table);
- ``sections``: one :class:`Section` per question the experiment asked, each with a
  one-sentence ``answer``, one figure (:class:`~matchsim.report.style.Picture`), one
  compact table with human labels and, collapsed, the detailed tables;
- ``mitigations``: rows for "What would have protected them" (measure, what it stopped,
  what it did not stop).

To render a new section well: write one ``fn(results) -> Contribution`` here (or in the
stage's package), add it to :data:`SECTIONS`, and, only if the generic section markup in
``templates/report.html.j2`` does not fit, one template block. Every string is escaped by
the templates (autoescape on for every template); renderers never produce markup.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from matchsim.report import figures, style
from matchsim.report.humanise import (
    DASH,
    big,
    count,
    days,
    duration,
    label,
    points,
    share,
    size,
    value,
)

REFERENCE_DEVICE = "RTX 4090"
META_KEYS = {"schema", "matchsim_version", "experiment", "population", "advertisers", "platform"}


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, and a tone (``bad``/``good``/``warn``) the text also states."""

    text: str
    tone: str | None = None
    numeric: bool = False


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""

    def __post_init__(self) -> None:
        # a header is for people: a raw key that slipped through still reads as words
        self.columns = [c.replace("_", " ") for c in self.columns]


@dataclass
class Section:
    key: str
    title: str
    answer: str
    picture: style.Picture | None = None
    table: Table | None = None
    notes: list[str] = field(default_factory=list)
    details: list[Table] = field(default_factory=list)
    more_pictures: list[style.Picture] = field(default_factory=list)


@dataclass
class Contribution:
    headline: str = ""
    verdict: Table | None = None
    sections: list[Section] = field(default_factory=list)
    mitigations: list[list[Cell]] = field(default_factory=list)


Renderer = Callable[[dict[str, Any]], Contribution]


# A table column: its header, and the cell it shows for one item.
Column = tuple[str, Callable[[dict[str, Any]], Cell]]


def _by_column(items: list[dict[str, Any]], columns: list[Column], caption: str = "") -> Table:
    """One row per item, one cell per column (each header beside what fills it)."""
    return Table(
        [h for h, _ in columns], [[cell(x) for _, cell in columns] for x in items], caption
    )


def num(text: str) -> Cell:
    return Cell(text, numeric=True)


def _t(text: Any) -> Cell:
    return Cell(DASH if text is None else str(text))


_KEY_WORDS = {
    "name_postcode_dob": "name + postcode + birth date",
    "madid": "mobile advertising ID",
    "email": "e-mail",
}


def words(text: str) -> str:
    """Free text from results.json with raw key names spelled out."""
    for k, v in _KEY_WORDS.items():
        text = re.sub(rf"\b{k}\b", v, text)
    return text


# --- schemes -------------------------------------------------------------------------


def _schemes(results: dict[str, Any]) -> list[dict[str, Any]]:
    return list(results.get("schemes") or [])


def _customers(results: dict[str, Any]) -> int:
    return int((results.get("population") or {}).get("customers") or 0)


def _reference(cost: dict[str, Any] | None, key: str = "devices") -> float | None:
    devices = (cost or {}).get(key) or {}
    v = devices.get(REFERENCE_DEVICE)
    return float(v) if v is not None else None


def _attacked(s: dict[str, Any]) -> bool:
    return s.get("phone_share") is not None or s.get("email_share") is not None


def _recovered(s: dict[str, Any]) -> float:
    return max(s.get("phone_share") or 0.0, s.get("email_share") or 0.0)


def _seconds(s: dict[str, Any]) -> float | None:
    """How long the attack that recovered something ran (the phone attack's, if it did)."""
    if s.get("reverse_seconds") is not None:
        return float(s["reverse_seconds"])
    took = [a["seconds"] for a in s.get("attacks", []) if a.get("share") and a.get("seconds")]
    return max(took) if took else None


def _reversal_cell(s: dict[str, Any]) -> Cell:
    if not _attacked(s):
        reason = (s.get("cost") or {}).get("reason")
        if reason and reason != "not priced":
            return Cell("No: cannot be enumerated", "good")
        return Cell("Not attacked in this run", None)
    parts = []
    if s.get("phone_share") is not None:
        parts.append(f"{share(s['phone_share'])} of phones")
    if s.get("email_share") is not None:
        parts.append(f"{share(s['email_share'])} of e-mails")
    if _recovered(s) > 0:
        return Cell("Yes: " + ", ".join(parts), "bad")
    return Cell("No: nothing recovered", "good")


def _time_cell(s: dict[str, Any]) -> Cell:
    cost = s.get("cost") or {}
    gpu = _reference(cost)
    if s.get("reverse_seconds") is not None and _recovered(s) > 0:
        text = f"{duration(s['reverse_seconds'])} here"
        if gpu is not None:
            text += f"; {duration(gpu)} to try every number on an {REFERENCE_DEVICE}"
        return Cell(text, "bad")
    if _recovered(s) > 0 and _seconds(s) is not None:
        return Cell(f"{duration(_seconds(s))} here", "bad")
    if cost.get("feasible"):
        here = (cost.get("devices") or {}).get("here")
        bits = [f"{duration(here)} here" if here is not None else None]
        if gpu is not None:
            bits.append(f"{duration(gpu)} on an {REFERENCE_DEVICE}")
        return Cell("; ".join(b for b in bits if b) or DASH, "bad")
    with_key = _reference(cost, "with_key")
    if with_key is not None:
        return Cell(
            f"Never without the key; with it {duration(with_key)} on an {REFERENCE_DEVICE}",
            "good",
        )
    reason = cost.get("reason")
    if not reason or reason == "not priced":
        return Cell("Not measured in this run")
    return Cell(words(str(reason)), "good")


def _learns(s: dict[str, Any]) -> str:
    """What the join told the platform, from its counts (short enough for a table cell)."""
    join = s.get("join") or {}
    users = join.get("matched_users")
    keys = [k for k, v in (join.get("per_key") or {}).items() if v.get("users_matched")]
    if users is None or not keys:
        return words(str(s.get("learns") or DASH))
    via = ", ".join(figures.key_label(k).split(" (")[0] for k in keys)
    return f"which {count(users)} of its users are customers (matched by {via})"


def _verdict(results: dict[str, Any]) -> Table:
    rows = []
    for s in _schemes(results):
        join = s.get("join") or {}
        rate = join.get("match_rate")
        match = Cell(DASH) if rate is None else Cell(f"{share(rate)} of the list")
        rows.append(
            [
                Cell(str(s.get("label") or s.get("name"))),
                match,
                _reversal_cell(s),
                _time_cell(s),
                Cell(_learns(s)),
            ]
        )
    return Table(
        [
            "Scheme",
            "Does the platform still match?",
            "Can an outsider reverse it?",
            "How long does it take?",
            "What does the platform learn?",
        ],
        rows,
    )


def _plain(results: dict[str, Any]) -> dict[str, Any] | None:
    attacked = [s for s in _schemes(results) if not s.get("needs_secret") and _recovered(s) > 0]
    if not attacked:
        return None
    from matchsim.schemes import SCHEMES

    # the registry's reference scheme (plain SHA-256) leads when it was run
    named = [s for s in attacked if getattr(SCHEMES.get(s.get("name", "")), "reference", False)]
    return named[0] if named else max(attacked, key=_recovered)


def _headline(results: dict[str, Any]) -> str:
    schemes = _schemes(results)
    customers = _customers(results)
    s = _plain(results)
    if s is not None:
        rate = (s.get("join") or {}).get("match_rate")
        what = []
        if s.get("phone_share"):
            what.append(f"{share(s['phone_share'])} of the hashed phone numbers")
        if s.get("email_share"):
            what.append(f"{share(s['email_share'])} of the e-mail addresses")
        took = ""
        if s.get("reverse_seconds") is not None:
            took = f" in {duration(s['reverse_seconds'])} on this machine"
            gpu = _reference(s.get("cost"))
            if gpu is not None:
                took += f" (every number tried in {duration(gpu)} on an {REFERENCE_DEVICE})"
        first = (
            f"Hashing did not make the list anonymous: under {s['label']}, the platform matched "
            f"{share(rate)} of {count(customers)} customers, and an outsider holding only the "
            f"upload recovered {' and '.join(what)}{took}."
        )
        keyed = [k for k in schemes if k.get("needs_secret") and _attacked(k) and not _recovered(k)]
        if keyed:
            k = keyed[0]
            users = (k.get("join") or {}).get("matched_users")
            first += (
                f" With {k['label']} the outsider recovered nothing, but the platform still "
                f"matched {share((k.get('join') or {}).get('match_rate'))}"
                + (
                    f" and learned which {count(users)} of its users are customers."
                    if users
                    else "."
                )
            )
        return first
    if schemes:
        s = schemes[0]
        join = s.get("join") or {}
        ev = join.get("evaluation") or {}
        text = (
            f"Under {s['label']}, the platform matched {share(join.get('match_rate'))} of "
            f"{count(customers)} customers"
        )
        if ev.get("recall") is not None:
            text += f" and found {share(ev['recall'])} of the customers it has as users"
        text += "."
        missed = ev.get("missed_by_reason") or {}
        if missed:
            reason, n = max(missed.items(), key=lambda kv: kv[1])
            text += (
                f" Of {count(ev.get('missed'))} customers it missed, {count(n)} were lost to "
                f"{reason}."
            )
        return text
    return ""


def _match_section(results: dict[str, Any]) -> Section | None:
    rows = [s for s in _schemes(results) if s.get("join")]
    if not rows:
        return None
    best = max(s["join"]["match_rate"] for s in rows)
    top = [s["label"] for s in rows if s["join"]["match_rate"] == best]
    low = [s for s in rows if s["join"]["match_rate"] < 0.5 * best]
    pic = style.picture(
        figures.match_rates,
        results,
        f"Bar chart of match rates: {share(best)} under {_list(top)}"
        + "".join(f"; {s['label']} {share(s['join']['match_rate'])}" for s in low)
        + ".",
    )
    return Section(
        "match",
        "Does the platform still match the list?",
        _match_answer(rows),
        pic,
        _match_table(rows),
        details=_match_details(rows),
    )


def _match_answer(rows: list[dict[str, Any]]) -> str:
    """The most common match rate and the schemes under it, then every scheme that differs."""
    rates = Counter(round(s["join"]["match_rate"], 6) for s in rows)
    common = rates.most_common(1)[0][0]
    same = [s for s in rows if round(s["join"]["match_rate"], 6) == common]
    who = (
        _list([s["label"] for s in same])
        if len(same) <= 3
        else f"{len(same)} of the {len(rows)} schemes"
    )
    answer = f"The platform matched {share(common)} of the list under {who}"
    others = []
    for s in rows:
        if s in same:
            continue
        precision = (s["join"].get("evaluation") or {}).get("precision")
        others.append(
            f"{s['label']} {share(s['join']['match_rate'])}"
            + (f" ({share(precision)} of them right)" if precision and precision < 0.995 else "")
        )
    if others:
        answer += "; " + "; ".join(others)
    return answer + "."


def _match_table(rows: list[dict[str, Any]]) -> Table:
    return Table(
        ["Scheme", "Match rate", "Rows matched", "Correct matches", "Customers found"],
        [
            [
                _t(s["label"]),
                num(share(s["join"]["match_rate"])),
                num(count(s["join"].get("matched_rows"))),
                num(share((s["join"].get("evaluation") or {}).get("precision"))),
                num(share((s["join"].get("evaluation") or {}).get("recall"))),
            ]
            for s in rows
        ],
        "Correct matches: matched rows that are the right person (precision). Customers "
        "found: customers who are platform users and were matched (recall).",
    )


def _match_details(rows: list[dict[str, Any]]) -> list[Table]:
    """Which identifier matched whom, and why customers were missed (where results say)."""
    per_key = []
    for s in rows:
        for k, v in (s["join"].get("per_key") or {}).items():
            per_key.append(
                [
                    _t(s["label"]),
                    _t(figures.key_label(k)),
                    num(count(v.get("upload_digests"))),
                    num(count(v.get("users_matched"))),
                    num(count(v.get("users_only_this_key"))),
                ]
            )
    details = []
    if per_key:
        details.append(
            Table(
                ["Scheme", "Identifier", "Values uploaded", "Users matched", "Only through this"],
                per_key,
                "Which identifiers did the matching",
            )
        )
    missed = []
    for s in rows:
        ev = s["join"].get("evaluation") or {}
        for reason, n in (ev.get("missed_by_reason") or {}).items():
            missed.append([_t(s["label"]), _t(reason), num(count(n))])
    if missed:
        details.append(Table(["Scheme", "Why missed", "Customers"], missed, "Customers missed"))
    return details


def _list(names: list[str]) -> str:
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    if len(names) > 4:
        return f"{', '.join(names[:3])} and {len(names) - 3} more"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _reversal_section(results: dict[str, Any]) -> Section | None:
    rows = [s for s in _schemes(results) if _attacked(s)]
    if not rows:
        return None
    answer, alt = _reversal_answer(rows)
    table = Table(
        ["Scheme", "Phones recovered", "E-mails recovered", "Time on this machine"],
        [
            [
                _t(s["label"]),
                num(share(s.get("phone_share"))),
                num(share(s.get("email_share"))),
                num(duration(_seconds(s)) if _recovered(s) else DASH),
            ]
            for s in rows
        ],
    )
    more = [
        p
        for draw, alt_more in (
            (figures.reversal_time, "Step chart: share recovered against time spent attacking."),
            (figures.guesswork, "Step chart: e-mails recovered against guesses tried."),
        )
        if (p := style.picture(draw, results, alt_more, alt_more.split(": ", 1)[1])) is not None
    ]
    return Section(
        "reversal",
        "Can an outsider reverse the hashes?",
        answer,
        style.picture(figures.reversal, results, alt),
        table,
        details=[_attacks_table(rows)],
        more_pictures=more,
    )


def _reversal_answer(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """(answer, the bar chart's alt text): which schemes fell, how far, which held."""
    fell = [s for s in rows if _recovered(s) > 0]
    held = [s for s in rows if _recovered(s) == 0]
    if not fell:
        return (
            "No: the outsider recovered nothing under any scheme attacked.",
            "Bar chart: no scheme lost any identifier to an outsider.",
        )
    worst = max(fell, key=_recovered)
    amounts = [
        f"{share(max(s.get(key) or 0 for s in fell))} of the {what}"
        for key, what in (("phone_share", "phone numbers"), ("email_share", "e-mails"))
        if any(s.get(key) for s in fell)
    ]
    answer = f"Yes, under {_list([s['label'] for s in fell])}: up to {' and '.join(amounts)}; "
    answer += f"nothing under {_list([s['label'] for s in held])}." if held else "no scheme held."
    alt = (
        f"Bar chart: an outsider recovered {share(worst.get('phone_share'))} of phone numbers "
        f"under {worst['label']}"
        + (f" and 0 % under {_list([s['label'] for s in held])}" if held else "")
        + "."
    )
    return answer, alt


def _attacks_table(rows: list[dict[str, Any]]) -> Table:
    """Every attack on every scheme, one row each."""
    attacks = [
        [
            _t(s["label"]),
            _t(a.get("kind")),
            _t(a.get("keyspace") or a.get("reason")),
            num(big(a.get("keyspace_size"))),
            num(count(a.get("distinct"))),
            num(count(a.get("recovered_distinct"))),
            num(share(a.get("share"))),
            num(share(a.get("precision"))),
            num(duration(a.get("seconds"))),
            num(big(a.get("hashes_per_second"))),
        ]
        for s in rows
        for a in s.get("attacks", [])
    ]
    return Table(
        [
            "Scheme",
            "Attack",
            "Keyspace",
            "Candidates",
            "Distinct digests",
            "Reversed",
            "Share of rows",
            "Correct",
            "Time here",
            "Hashes per second here",
        ],
        attacks,
        "Every attack",
    )


def _cost_section(results: dict[str, Any]) -> Section | None:
    rows = _schemes(results)
    feasible = [s for s in rows if (s.get("cost") or {}).get("feasible")]
    if not feasible:
        return None
    s = min(feasible, key=lambda x: _reference(x.get("cost")) or float("inf"))
    cost = s["cost"]
    gpu = _reference(cost)
    numbers = f"all {big(cost['keyspace_size'])}" if cost.get("keyspace_size") else "every"
    answer = (
        f"Trying {numbers} phone numbers under {s['label']} takes "
        f"{duration((cost.get('devices') or {}).get('here'))} on this machine"
        + (f" and {duration(gpu)} on an {REFERENCE_DEVICE}" if gpu is not None else "")
        + "; a secret key the outsider lacks is the only thing that stops it."
    )
    devices = figures._device_order([(x["label"], x["cost"]["devices"]) for x in feasible])
    table = Table(
        ["Scheme", *[label(figures.device_label(d)) for d in devices]],
        [
            [_t(x["label"]), *[num(duration(x["cost"]["devices"].get(d))) for d in devices]]
            for x in feasible
        ],
        "Time to try every number in the keyspace.",
    )
    other = [x for x in rows if x not in feasible and x.get("cost")]
    details = []
    if other:
        details.append(
            Table(
                [
                    "Scheme",
                    "Why it cannot be enumerated",
                    f"With the key, on an {REFERENCE_DEVICE}",
                ],
                [
                    [
                        _t(x["label"]),
                        _t(words(str(x["cost"].get("reason") or DASH))),
                        num(duration(_reference(x["cost"], "with_key"))),
                    ]
                    for x in other
                ],
                "Schemes an outsider cannot enumerate",
            )
        )
    alt = (
        f"Bar chart on a log time scale: every phone number tried in "
        f"{duration((cost.get('devices') or {}).get('here'))} here and {duration(gpu)} on an "
        f"{REFERENCE_DEVICE} under {s['label']}."
    )
    return Section(
        "cost",
        "How long does an attacker need?",
        answer,
        style.picture(figures.exhaust_costs, results, alt),
        table,
        details=details,
    )


def _scheme_mitigations(results: dict[str, Any]) -> list[list[Cell]]:
    out = []
    for s in _schemes(results):
        if s.get("weak") or (not s.get("needs_secret") and _recovered(s) > 0):
            continue
        rate = (s.get("join") or {}).get("match_rate")
        if _attacked(s) and _recovered(s) == 0:
            stopped = Cell("the outsider: nothing recovered", "good")
        elif (s.get("cost") or {}).get("reason") not in (None, "", "not priced"):
            stopped = Cell(words(str(s["cost"]["reason"])), "good")
        else:
            stopped = Cell("not measured in this run")
        remains = f"the platform matched {share(rate)}; it learns {_learns(s)}"
        out.append([Cell(str(s["label"])), stopped, Cell(remains, "warn")])
    return out


_FIELD_LABELS = {
    "first_name": "first name", "last_name": "last name", "dob": "date of birth",
    "gender": "gender", "postcode": "postcode", "city": "city", "state": "state/province",
    "country": "country", "email": "e-mail", "phone": "phone", "external_id": "customer number",
}  # fmt: skip


def _reidentify_section(results: dict[str, Any]) -> Section | None:
    """The re-identification attack (``attacks[].kind == "reidentify"``) per scheme."""
    found = [
        (s, a)
        for s in _schemes(results)
        for a in s.get("attacks", [])
        if a.get("kind") == "reidentify"
    ]
    if not found:
        return None
    rows = []
    for s, a in found:
        if not a.get("feasible"):
            rows.append([_t(s["label"]), num(DASH), num(DASH), num(DASH), num(DASH), num(DASH)])
            continue
        n = a.get("rows") or 1
        rows.append(
            [
                _t(s["label"]),
                Cell(
                    f"{count(a.get('reidentified'))} ({share((a.get('reidentified') or 0) / n)})",
                    "bad" if a.get("reidentified") else "good",
                    True,
                ),
                num(count(a.get("ambiguous"))),
                num(count(a.get("not_found"))),
                num(count(a.get("reidentified_without_email_or_phone"))),
                num(share(a.get("precision"))),
            ]
        )
    table = Table(
        ["Scheme", "Named (one match)", "Ambiguous (several)", "Not found",
         "Named without e-mail or phone reversed", "Correct"],
        rows,
    )  # fmt: skip
    feasible = [(s, a) for s, a in found if a.get("feasible")]
    if not feasible:
        return Section("reidentify", "Can an outsider name the people on the list?",
                       "No upload could be linked to the register.", None, table)  # fmt: skip
    best_s, best = max(feasible, key=lambda sa: sa[1].get("share") or 0.0)
    order = list(_FIELD_LABELS)
    fields = sorted(
        (best.get("fields") or {}).items(),
        key=lambda fv: order.index(fv[0]) if fv[0] in order else len(order),
    )
    reversed_fields = [
        _FIELD_LABELS.get(f, f)
        for f, v in fields
        if v.get("hashed") and (v.get("share") or 0) > 0.5
    ]
    coverage = (best.get("register") or {}).get("coverage")
    answer = (
        f"Under {best_s['label']}, an outsider reversed {', '.join(reversed_fields) or 'no field'} "
        f"and named {share(best.get('share'))} of the upload's rows in a register of "
        f"{share(coverage)} of residents ({count(best.get('reidentified_without_email_or_phone'))} "
        "of them although neither their e-mail nor their phone was reversed)."
    )
    zero = [s["label"] for s, a in found if not a.get("reidentified")]
    if zero:
        answer += f" Nobody was named under {_list(zero)}."
    per_field = Table(
        ["Field", "Rows reversed", "Candidates in its keyspace"],
        [
            [
                _t(_FIELD_LABELS.get(f, f)),
                num(share(v.get("share"))),
                num(big(v.get("keyspace_size"))),
            ]
            for f, v in fields
            if v.get("hashed")
        ],
        f"Fields reversed under {best_s['label']}",
    )
    return Section("reidentify", "Can an outsider name the people on the list?", answer, None,
                   table, details=[per_field])  # fmt: skip


def render_schemes(results: dict[str, Any]) -> Contribution:
    results = with_labels(results)
    sections = [
        x
        for x in (
            _match_section(results),
            _reversal_section(results),
            _reidentify_section(results),
            _cost_section(results),
        )
        if x is not None
    ]
    return Contribution(
        headline=_headline(results),
        verdict=_verdict(results) if _schemes(results) else None,
        sections=sections,
        mitigations=_scheme_mitigations(results),
    )


# --- membership and risk -----------------------------------------------------------


def render_membership(results: dict[str, Any]) -> Contribution:
    m = results.get("membership") or {}
    ads = m.get("advertisers") or []
    platform_users = (m.get("details") or {}).get("platform_users") or (
        results.get("population") or {}
    ).get("platform_users")
    if not ads:
        return Contribution()
    a = max(ads, key=lambda x: x.get("users") or 0)
    frac = (a.get("users") or 0) / platform_users if platform_users else None
    answer = (
        f"The platform now knows that {count(a.get('users'))} of its "
        f"{count(platform_users)} users ({share(frac)}) are customers of a {a.get('label')}"
        + (" — a sensitive attribute it did not hold before." if a.get("sensitive") else ".")
    )
    table = Table(
        [
            "Advertiser",
            "What they are",
            "Users now known to be customers",
            "Share of users",
            "Sensitive",
        ],
        [
            [
                _t(x.get("name")),
                _t(x.get("label")),
                num(count(x.get("users"))),
                num(share((x.get("users") or 0) / platform_users if platform_users else None)),
                Cell("yes", "bad") if x.get("sensitive") else Cell("no"),
            ]
            for x in ads
        ],
    )
    pic = style.picture(
        figures.matched_keys,
        results,
        "Bar chart of platform users matched through each identifier (e-mail, phone, "
        "advertising ID, name + postcode + birth date).",
        "Which identifiers did the matching (first scheme)",
    )
    return Contribution(
        sections=[
            Section(
                "membership", "What does the platform learn about its users?", answer, pic, table
            )
        ]
    )


def _population_uniques(r: dict[str, Any]) -> str:
    if r.get("population_unique_share") is not None:
        text = share(r["population_unique_share"])
        low_high = r.get("population_interval")
        if low_high:
            text += f" ({share(low_high[0])}–{share(low_high[1])})"
        return text
    if r.get("expected_unique_share") is not None:
        return (
            f"{share(r['expected_unique_share'])} (census; the sample cannot support an estimate)"
        )
    return DASH


def render_risk(results: dict[str, Any]) -> Contribution:
    sets = [r for r in results.get("risk") or [] if "skipped" not in r]
    if not sets:
        return Contribution()
    worst = max(sets, key=lambda r: r.get("unique_share") or 0)
    ks = (worst.get("keyspace") or {}).get("size")
    answer = (
        f"{share(worst.get('unique_share'))} of customers are the only one with their "
        f"{figures.qi_words(worst['qi'])}; hashing the combination changes nothing, since equal "
        "values hash to equal digests"
        + (f" and an attacker can enumerate all {big(ks)} combinations." if ks else ".")
    )
    fields: Column = ("Fields", lambda r: _t(figures.qi_words(r["qi"])))
    table = _by_column(
        sets,
        [
            fields,
            ("Customers", lambda r: num(count(r.get("records")))),
            ("Alone in the file", lambda r: num(share(r.get("unique_share")))),
            ("Smallest group", lambda r: num(count(r.get("k")))),
            ("Re-identification risk", lambda r: num(share(r.get("prosecutor_average")))),
            (
                "Combinations to enumerate",
                lambda r: num(big((r.get("keyspace") or {}).get("size"))),
            ),
        ],
        "Re-identification risk: the prosecutor model's average (ARX).",
    )
    details = [
        _by_column(
            sets,
            [
                fields,
                ("Journalist risk", lambda r: num(share(r.get("journalist_average")))),
                ("Marketer risk", lambda r: num(share(r.get("marketer")))),
                ("Population uniques (estimate)", lambda r: num(_population_uniques(r))),
                ("Estimator", lambda r: _t(r.get("population_model"))),
            ],
            "Against the platform as the population",
        )
    ]
    pic = style.picture(
        figures.class_sizes,
        results,
        f"Bar chart: {share(worst.get('unique_share'))} of customers are alone in the file on "
        f"{figures.qi_words(worst['qi'])}.",
    )
    return Contribution(
        sections=[
            Section(
                "risk",
                "Do the other fields identify people on their own?",
                answer,
                pic,
                table,
                details=details,
            )
        ]
    )


# --- pixel ---------------------------------------------------------------------------


def render_pixel(results: dict[str, Any]) -> Contribution:
    sec = results.get("pixel") or {}
    details = sec.get("details") or {}
    rows = details.get("scenarios") or []
    if not rows:
        return generic("pixel", results)
    return Contribution(
        _pixel_headline(rows),
        _pixel_verdict(rows),
        [_pixel_section(rows, details)],
        _pixel_mitigations(rows),
    )


def _pixel_headline(rows: list[dict[str, Any]]) -> str:
    """The baseline's account and shadow-profile links, then the best measure tested."""
    from matchsim.pixel.figures import scenario_label as name

    base = rows[0]
    linked = base.get("people_medical_linked_to_account")
    people = base.get("people_with_medical_visits")
    headline = (
        f"{name(base['rules'])}: the platform tied {share(base.get('account_share'))} of "
        f"medical-page visits to an identified account ({count(linked)} of {count(people)} "
        f"visitors who viewed a medical page) and {share(base.get('shadow_identifier_share'))} "
        "more to shadow profiles keyed by a hashed e-mail or phone number."
    )
    others = rows[1:]
    if others:
        best = min(others, key=lambda r: r.get("account_share") or 0)
        headline += (
            f" The most effective measure tested ({name(best['rules']).lower()}) cut account "
            f"links to {share(best.get('account_share'))}."
        )
    return headline


def _pixel_verdict(rows: list[dict[str, Any]]) -> Table:
    from matchsim.pixel.figures import scenario_label as name

    return Table(
        [
            "Scenario",
            "Does the platform see the visit?",
            "Is it tied to an account?",
            "Shadow profile from a hashed identifier?",
            "Visitors tied to a medical page",
        ],
        [
            [
                _t(name(r["rules"])),
                num(share(r.get("observed_share"))),
                Cell(
                    share(r.get("account_share")),
                    "bad" if (r.get("account_share") or 0) > 0 else "good",
                    True,
                ),
                num(share(r.get("shadow_identifier_share"))),
                num(
                    f"{count(r.get('people_medical_linked_to_account'))} of "
                    f"{count(r.get('people_with_medical_visits'))}"
                ),
            ]
            for r in rows
        ],
    )


def _pixel_section(rows: list[dict[str, Any]], details: dict[str, Any]) -> Section:
    from matchsim.pixel import figures as pixel_figures

    name = pixel_figures.scenario_label
    base = rows[0]
    detail_keys = [k for k in rows[0] if k != "rules"]
    full = Table(
        ["Scenario", *[label(k) for k in detail_keys]],
        [[_t(name(r["rules"])), *[num(value(r.get(k), k)) for k in detail_keys]] for r in rows],
        "Every measure, per scenario",
    )
    world = details.get("world") or {}
    world_table = Table(
        ["Simulated", "Count"],
        [[_t(label(k)), num(value(v, k))] for k, v in world.items() if not isinstance(v, dict)],
        "The simulated visitors",
    )
    pic = style.picture(
        lambda d, w: pixel_figures.linked_shares(d, w),
        details,
        f"Stacked bar chart: at baseline {share(base.get('account_share'))} of medical-page "
        f"visits are tied to an account; the strongest measure cuts this to "
        f"{share(min(r.get('account_share') or 0 for r in rows))}.",
    )
    more = []
    if any(r["rules"]["name"].startswith("consent=") for r in rows):
        p = style.picture(
            lambda d, w: pixel_figures.consent_curve(d, w),
            details,
            "Bar chart: fewer consenting visitors, fewer medical visits reported and linked.",
            "Medical visits reported and linked, by consent rate",
        )
        if p:
            more.append(p)
    return Section(
        "pixel",
        "What does the pixel tell the platform about medical-page visits?",
        _pixel_answer(rows),
        pic,
        Table(
            [
                "Scenario",
                "Tied to an account",
                "Shadow profile (hashed identifier)",
                "Shadow profile (cookie only)",
            ],
            [
                [
                    _t(name(r["rules"])),
                    num(share(r.get("account_share"))),
                    num(share(r.get("shadow_identifier_share"))),
                    num(share(r.get("shadow_cookie_share"))),
                ]
                for r in rows
            ],
            "Shares of medical-page visits.",
        ),
        details=[full, world_table],
        more_pictures=more,
    )


def _pixel_mitigations(rows: list[dict[str, Any]]) -> list[list[Cell]]:
    """Each variation against the baseline: what it cut, what the platform still sees."""
    from matchsim.pixel.figures import scenario_label as name

    base = rows[0]
    return [
        [
            Cell(name(r["rules"])),
            Cell(
                f"account links {share(base.get('account_share'))} → "
                f"{share(r.get('account_share'))}",
                "good"
                if (r.get("account_share") or 0) < (base.get("account_share") or 0)
                else None,
            ),
            Cell(
                f"still reported to the platform: {share(r.get('observed_share'))} of visits; "
                f"shadow profiles: {share(_shadow(r))}",
                "warn",
            ),
        ]
        for r in rows[1:]
    ]


def _pixel_answer(rows: list[dict[str, Any]]) -> str:
    from matchsim.pixel.figures import scenario_label

    base = rows[0]
    text = (
        f"At baseline it ties {share(base.get('account_share'))} of medical-page visits to an "
        f"account and {share(_shadow(base))} to shadow profiles"
    )
    better = sorted(
        (r for r in rows[1:] if (r.get("account_share") or 0) < (base.get("account_share") or 0)),
        key=lambda r: r.get("account_share") or 0,
    )
    if better:
        text += (
            f"; {scenario_label(better[0]['rules']).lower()} cuts account links the most, to "
            f"{share(better[0].get('account_share'))}"
        )
    keyed = [r for r in rows[1:] if str(r["rules"].get("name", "")).startswith("scheme=")]
    if keyed:
        text += (
            f", while a different hashing scheme leaves {share(keyed[0].get('account_share'))} "
            "linked through the login cookie"
        )
    return text + "."


def _shadow(r: dict[str, Any]) -> float:
    return float(r.get("shadow_identifier_share") or 0) + float(r.get("shadow_cookie_share") or 0)


# --- oracle --------------------------------------------------------------------------


def policy_words(p: dict[str, Any]) -> str:
    """An audience-size reporting policy in words."""
    if not p.get("customer_lists", True):
        return "no size estimates for customer lists"
    bits = []
    if p.get("noise") and p["noise"] != "none":
        budget = p.get("budget")
        bits.append(
            f"{p['noise']} noise (ε = {p.get('epsilon'):g})"
            + (
                f", {count(p.get('queries_per_period'))} queries per {p.get('period')}"
                if budget
                else ""
            )
        )
    if p.get("ranges"):
        bits.append(f"ranges ×{p['ranges']:g} from {count(p.get('floor'))}")
    else:
        if (p.get("granularity") or 1) > 1:
            bits.append(f"rounded to {count(p['granularity'])}")
        if p.get("floor"):
            bits.append(f"nothing shown below {count(p['floor'])}")
    return ", ".join(bits) or "exact counts"


def render_oracle(results: dict[str, Any]) -> Contribution:
    sec = results.get("oracle") or {}
    d = sec.get("details") or {}
    phone = d.get("phone") or []
    if not phone and not d.get("differencing"):
        return generic("oracle", results)
    # the story: what leaks most first, then each mitigation by how much it holds back
    phone = sorted(
        phone, key=lambda r: (-(r.get("success_rate") or 0), r.get("projected_days") or 0)
    )
    contribution = _oracle_phone(phone, d) if phone else Contribution()
    diff = d.get("differencing") or []
    if diff:
        contribution.sections.append(_differencing_section(diff))
    return contribution


def _oracle_phone(phone: list[dict[str, Any]], d: dict[str, Any]) -> Contribution:
    """Phone-from-e-mail inference: headline, verdict, section and the policies that held."""
    website = {r["policy"]["name"]: r for r in d.get("website") or []}
    leaked = [r for r in phone if (r.get("success_rate") or 0) > 0]
    stopped = [r for r in phone if not r.get("success_rate")]
    first = leaked[0] if leaked else phone[0]
    q = (first.get("queries") or {}).get("mean")
    headline = (
        f"Under the {first['policy']['name']} policy ({policy_words(first['policy'])}), an "
        f"advertiser inferred {share(first.get('success_rate'))} of victims' phone numbers "
        f"from their e-mail address alone, with about {count(q)} size estimates each; "
        f"{len(stopped)} of the {len(phone)} policies measured stopped it."
    )
    mitigations = [
        [
            Cell(f"{r['policy']['name']}: {policy_words(r['policy'])}"),
            Cell(f"phone inference: 0 % of victims ({_oracle_time(r)})", "good"),
            _website_cell(website.get(r["policy"]["name"]), remains=True),
        ]
        for r in stopped
    ]
    return Contribution(
        headline,
        _oracle_verdict(phone, website),
        [_oracle_phone_section(phone, leaked, stopped, d)],
        mitigations,
    )


def _oracle_verdict(phone: list[dict[str, Any]], website: dict[str, Any]) -> Table:
    return Table(
        [
            "Policy",
            "How the platform reports sizes",
            "Can it infer a phone number from an e-mail?",
            "Queries per victim",
            "How long does it take?",
            "Can it tell who visited its website?",
        ],
        [
            [
                _t(r["policy"]["name"]),
                _t(policy_words(r["policy"])),
                Cell(
                    ("Yes: " if r.get("success_rate") else "No: ")
                    + f"{share(r.get('success_rate'))} of victims",
                    "bad" if r.get("success_rate") else "good",
                ),
                num(count((r.get("queries") or {}).get("mean"))),
                _t(_oracle_time(r)),
                _website_cell(website.get(r["policy"]["name"])),
            ]
            for r in phone
        ],
    )


def _oracle_phone_section(
    phone: list[dict[str, Any]],
    leaked: list[dict[str, Any]],
    stopped: list[dict[str, Any]],
    d: dict[str, Any],
) -> Section:
    from matchsim.oracle import figures as oracle_figures

    first = leaked[0] if leaked else phone[0]
    pic = style.picture(
        lambda x, w: oracle_figures.phone_attack(x, w),
        {"phone": phone},
        f"Bar chart: {share(first.get('success_rate'))} of phone numbers inferred under "
        f"{first['policy']['name']}; "
        f"0 % under {_list([r['policy']['name'] for r in stopped])}."
        if stopped
        else "Bar chart of phone numbers inferred per policy.",
    )
    return Section(
        "oracle-phone",
        "Can an advertiser learn a phone number from an e-mail address?",
        f"Yes under {_list([r['policy']['name'] for r in leaked])}; "
        f"{'no' if stopped else 'every policy leaked'}"
        + (f" under {_list([r['policy']['name'] for r in stopped])}" if stopped else "")
        + (f" within {days(_max_days(d))} of queries." if stopped else "."),
        pic,
        Table(
            ["Policy", "In words", "Phones inferred", "Queries per victim", "Time needed"],
            [
                [
                    _t(r["policy"]["name"]),
                    _t(policy_words(r["policy"])),
                    num(share(r.get("success_rate"))),
                    num(count((r.get("queries") or {}).get("mean"))),
                    num(_oracle_time(r)),
                ]
                for r in phone
            ],
        ),
        notes=[
            "Each victim's phone number is inferred digit by digit: the attacker "
            "uploads the victim's e-mail with padding numbers and reads whether the "
            "audience size estimate moves (Venkatadri et al., IEEE S&P 2018)."
        ],
        details=[_statuses(phone)],
    )


def _differencing_section(diff: list[dict[str, Any]]) -> Section:
    """Membership by differencing two uploads, per policy and number of answers averaged."""
    from matchsim.oracle import figures as oracle_figures

    repeats = sorted({r["repeats"] for r in diff})
    top = max(repeats)
    by = {(r["policy"]["name"], r["repeats"]): r for r in diff}
    names = list(dict.fromkeys(r["policy"]["name"] for r in diff))
    names.sort(key=lambda n: -(by.get((n, top)) or {}).get("advantage", 0))
    policies = {r["policy"]["name"]: r["policy"] for r in diff}
    ordered = [by[(n, m)] for n in names for m in repeats if (n, m) in by]
    certain = [n for n in names if (by.get((n, top)) or {}).get("advantage", 0) >= 0.99]
    safe = [n for n in names if (by.get((n, top)) or {}).get("advantage", 0) <= 0.05]
    answer = (
        "Yes under "
        + (_list(certain) if certain else "no policy with certainty")
        + f" (two uploads that differ by one person, {top} answers averaged)"
        + (f"; only {_list(safe)} kept the advantage near a coin flip." if safe else ".")
    )
    table = Table(
        [
            "Policy",
            "In words",
            *[f"Advantage, {m} answer{'s' if m != 1 else ''}" for m in repeats],
        ],
        [
            [
                _t(n),
                _t(policy_words(policies[n])),
                *[num(points((by.get((n, m)) or {}).get("advantage"))) for m in repeats],
            ]
            for n in names
        ],
        "Advantage: true-positive rate minus false-positive rate, in percentage points; "
        "0 is a coin flip, 100 is certainty.",
    )
    pic = style.picture(
        lambda x, w: oracle_figures.differencing(x, w),
        {"differencing": ordered},
        "Bar chart of the differencing attack's advantage per policy: "
        + (f"certain under {_list(certain)}" if certain else "never certain")
        + (f", near zero under {_list(safe)}." if safe else "."),
    )
    return Section(
        "oracle-differencing",
        "Can an advertiser tell whether one person is on a list?",
        answer,
        pic,
        table,
        details=[_differencing_settings(ordered)],
    )


def _differencing_settings(ordered: list[dict[str, Any]]) -> Table:
    return Table(
        [
            "Policy",
            "Answers averaged",
            "Queries per target",
            "Days",
            "True positives",
            "False positives",
            "Accuracy",
            "Advantage",
        ],
        [
            [
                _t(r["policy"]["name"]),
                num(count(r.get("repeats"))),
                num(count(r.get("queries_per_target"))),
                num(count(r.get("days"))),
                num(share(r.get("tpr"))),
                num(share(r.get("fpr"))),
                num(share(r.get("accuracy"))),
                num(points(r.get("advantage"))),
            ]
            for r in ordered
        ],
        "Every setting",
    )


def _max_days(d: dict[str, Any]) -> float | None:
    cfg = d.get("config") or {}
    v = cfg.get("max_days")
    return float(v) if v is not None else None


def _oracle_time(r: dict[str, Any]) -> str:
    if r.get("success_rate"):
        return days((r.get("days") or {}).get("mean"))
    if r.get("projected_days"):
        return f"would need {days(r['projected_days'])}"
    statuses = r.get("statuses") or {}
    return ", ".join(statuses) if statuses else DASH


def _website_cell(r: dict[str, Any] | None, remains: bool = False) -> Cell:
    if r is None:
        return Cell(DASH)
    rate = r.get("success_rate") or 0
    text = f"{'Yes' if rate else 'No'}: {share(rate)} of visitors identified"
    if remains:
        text = f"website visitors identified: {share(rate)}"
    return Cell(text, "bad" if rate else ("good" if not remains else None))


def _statuses(rows: list[dict[str, Any]]) -> Table:
    return Table(
        ["Policy", "Outcome per victim", "Estimate uploads per victim", "Projected queries"],
        [
            [
                _t(r["policy"]["name"]),
                _t("; ".join(f"{k}: {v}" for k, v in (r.get("statuses") or {}).items())),
                num(count((r.get("uploads") or {}).get("mean"))),
                num(count((r.get("projected_queries") or {}).get("mean"))),
            ]
            for r in rows
        ],
        "Why each victim's attack ended",
    )


# --- PSI and CLK ---------------------------------------------------------------------


def render_psi(results: dict[str, Any]) -> Contribution:
    r = (results.get("psi") or {}).get("details") or {}
    if "match_rate" not in r:
        return generic("psi", results)
    learns = r.get("learns") or {}
    answer = (
        f"ECDH private set intersection matched {share(r.get('match_rate'))} of the list "
        f"(plain hashing: {share(r.get('plain_hash_match_rate'))}) and sent "
        f"{size(r.get('bytes_total'))} over the wire; an outsider has no offline test of a "
        f"guess, but the platform still learns {words(str(learns.get('platform')))}."
    )
    secs = r.get("seconds") or {}
    table = Table(
        ["Measure", "Value"],
        [
            [_t("Match rate"), num(share(r.get("match_rate")))],
            [_t("Customers matched"), num(count(r.get("matched")))],
            [_t("Bytes exchanged"), num(size(r.get("bytes_total")))],
            [_t("Time per element"), num(duration((r.get("us_per_element") or 0) * 1e-6))],
            [_t("Time in all, this machine"), num(duration(secs.get("total")))],
            [_t("Group"), _t(r.get("group"))],
            [_t("The advertiser learns"), _t((r.get("learns") or {}).get("advertiser"))],
        ],
    )
    return Contribution(
        sections=[Section("psi", "What does private set intersection change?", answer, None, table)]
    )


def render_clk(results: dict[str, Any]) -> Contribution:
    summary = (results.get("clk") or {}).get("summary") or {}
    link, attack = summary.get("linkage") or {}, summary.get("attack") or {}
    if not link:
        return generic("clk", results)
    typos = link.get("recall_on_name_typos") or {}
    answer = (
        f"Bloom-filter encodings matched {share(link.get('match_rate'))} of the list and "
        f"caught {share(typos.get('clk'))} of name typos (exact hashing: "
        f"{share(typos.get('exact_hash'))}); without the key, a frequency attack "
        f"re-identified {share(attack.get('reidentified'))} of first names."
    )
    table = Table(
        ["Method", "Links", "Correct", "Precision", "Recall"],
        [
            [
                _t(name),
                num(count(v.get("links"))),
                num(count(v.get("correct"))),
                num(share(v.get("precision"))),
                num(share(v.get("recall"))),
            ]
            for name, v in (
                ("Bloom-filter encodings (CLK)", link.get("clk") or {}),
                ("Exact hash", link.get("exact_hash") or {}),
            )
        ],
    )
    return Contribution(
        sections=[Section("clk", "Do Bloom-filter encodings protect names?", answer, None, table)]
    )


# --- platform promises ---------------------------------------------------------------


def _dict_table(title: str, rows: list[dict[str, Any]]) -> Table:
    """A table whose rows are dicts keyed by human column names already."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return Table(
        columns, [[_t(r.get(c)) for c in columns] for r in rows], title[:1].upper() + title[1:]
    )


def render_promises(results: dict[str, Any]) -> Contribution:
    sec = results.get("promises") or {}
    summary = sec.get("summary") or {}
    tables = [t for t in summary.get("tables") or [] if t.get("rows")]
    if not tables:
        return generic("promises", results)
    products = tables[0]["rows"]
    verdict = Table(
        ["Product", "What it promises", "Is the promise broken?", "How long does it take?",
         "Members learned"],
        [
            [_t(r.get("Product")), _t(r.get("Promise")),
             Cell("Yes: broken" if r.get("Verdict") == "broken" else "No: it held",
                  "bad" if r.get("Verdict") == "broken" else "good"),
             _t(r.get("Time")), num(str(r.get("Members learned", DASH)))]
            for r in products
        ],
    )  # fmt: skip
    mitigations = [
        [Cell(str(r.get("Product"))), Cell(f"held: {r.get('Promise')}", "good"),
         Cell(f"members learned: {r.get('Members learned', DASH)}", "warn")]
        for r in products
        if r.get("Verdict") != "broken"
    ]  # fmt: skip
    text = str(sec.get("text") or "")
    details = sec.get("details") if isinstance(sec.get("details"), dict) else {}
    broken = sum(r.get("Verdict") == "broken" for r in products)
    pic = style.picture(
        figures.promises,
        details,
        f"Bar chart: {broken} of {len(products)} product promises broken; each bar is the share "
        "of named people whose membership an ordinary advertiser learned.",
    )
    return Contribution(
        headline=text,
        verdict=verdict,
        sections=[
            Section(
                "promises",
                "Do today's platforms keep their promises?",
                text,
                pic,
                _dict_table(tables[0].get("title", ""), products),
                details=[_dict_table(t.get("title", ""), t["rows"]) for t in tables[1:]],
            )
        ],
        mitigations=mitigations,
    )


# --- who can re-identify ---------------------------------------------------------------

_PARTY_LABELS = {
    "advertiser": "Advertiser",
    "platform": "Platform",
    "outsider with the upload": "Outsider with the upload",
    "outsider with a register": "Outsider with a register",
    "clean-room operator": "Clean-room operator",
}


_WHO_ORDER = (
    "platform",
    "outsider with the upload",
    "outsider with a register",
    "advertiser",
    "clean-room operator",
)


def _who_people(c: dict[str, Any]) -> str:
    people, of = c.get("people"), c.get("of")
    if people is None:
        return DASH
    if of:
        return f"{count(people)} of {count(of)}"
    return count(people)


def _who_cell(c: dict[str, Any]) -> Cell:
    """A compact cell: how many people, and how long it took where the run measured it."""
    can = str(c.get("can") or DASH)
    people = c.get("people")
    if can == "n/a":
        return Cell("Not part of this run")
    if people is None:
        if can == "no":
            return Cell("Nobody: cannot be enumerated", "good")
        return Cell("Not measured" if can == "not measured" else can.capitalize())
    if not people:
        return Cell("Nobody", "good")
    if c.get("source") == "upload rows":
        return Cell(f"All {count(people)}: its own list")
    text = f"{count(people)} {'person' if people == 1 else 'people'}"
    part = c.get("share")
    if part is not None and float(part) < 1:
        text += f" ({share(float(part))})"
    if c.get("seconds") is not None:
        text += f" in {duration(c['seconds'])}"
    return Cell(text, "bad")


def _who_cost(c: dict[str, Any]) -> str:
    cost = words(str(c.get("cost") or DASH))
    if c.get("seconds") is not None:
        cost += f" ({duration(c['seconds'])} here)"
    return cost


def _who_answer(rows: list[dict[str, Any]]) -> str:
    """One sentence: the scheme where an outsider named the most, then the schemes that
    held against outsiders and what the platform still named under them."""

    def cell(r: dict[str, Any], party: str) -> dict[str, Any]:
        c: dict[str, Any] = r["cells"].get(party) or {}
        return c

    def people(r: dict[str, Any], party: str) -> int:
        return int(cell(r, party).get("people") or 0)

    exposed = [r for r in rows if people(r, "outsider with the upload")]
    held = [r for r in rows if cell(r, "outsider with the upload").get("can") == "no"]
    clauses = []
    if exposed:
        r = max(exposed, key=lambda x: people(x, "outsider with the upload"))
        c = cell(r, "outsider with the upload")
        took = f" in {duration(c['seconds'])}" if c.get("seconds") is not None else ""
        clauses.append(
            f"under {r['label']}, the platform named the {count(people(r, 'platform'))} "
            f"customers its join matched and an outsider holding only the upload named "
            f"{count(c['people'])} ({share(c.get('share'))}){took}"
        )
    if held:
        most = max(people(r, "platform") for r in held)
        clauses.append(
            f"under {_list([r['label'] for r in held])}, an outsider recovered nothing, yet "
            f"the platform still named up to {count(most)}"
        )
    if not clauses:
        most = max(people(r, "platform") for r in rows)
        clauses.append(f"the platform named up to {count(most)} customers its join matched")
    text = "; ".join(clauses)
    return text[:1].upper() + text[1:] + "."


def render_who(results: dict[str, Any]) -> Contribution:
    """Who can re-identify the people on the list (``who``), per scheme and party."""
    who = results.get("who") or {}
    rows = [r for r in who.get("rows") or [] if isinstance(r.get("cells"), dict)]
    if not rows:
        return Contribution()
    # the matrix has a row per schemes[] entry, in order: take their readable labels
    labels = [s.get("label") for s in _schemes(with_labels(results))]
    if len(labels) == len(rows):
        rows = [{**r, "label": lab or r.get("label")} for r, lab in zip(rows, labels, strict=True)]
    parties = who.get("parties") or []
    order = [p for p in _WHO_ORDER if p in parties]
    if not who.get("clean_room"):
        order = [p for p in order if p != "clean-room operator"]
    table = Table(
        ["Scheme", *[_PARTY_LABELS.get(p, p) for p in order]],
        [[_t(r["label"]), *[_who_cell(r["cells"].get(p) or {}) for p in order]] for r in rows],
        "People each party can name from this run's list; time measured on this machine.",
    )
    full = Table(
        ["Scheme", "Party", "Can it?", "What it needs", "People", "Cost"],
        [
            [
                _t(r["label"]),
                _t(_PARTY_LABELS.get(p, p)),
                _t(c.get("can")),
                _t(words(str(c.get("needs") or DASH))),
                num(_who_people(c)),
                _t(_who_cost(c)),
            ]
            for r in rows
            for p in who.get("parties", [])
            if (c := r["cells"].get(p)) is not None
        ],
        "Every party, what it needs, how many people and at what cost",
    )
    notes = [str(who["domain_note"])] if who.get("domain_note") else []
    if not who.get("clean_room"):
        notes.append("No clean room or PSI operator takes part in this experiment.")
    return Contribution(
        sections=[
            Section(
                "who",
                "Who can re-identify the people on the list?",
                _who_answer(rows),
                None,
                table,
                notes=notes,
                details=[full],
            )
        ]
    )


# --- anything else -------------------------------------------------------------------


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        if k in ("text", "curve", "time_curve") or isinstance(v, list):
            continue
        name = f"{prefix}{k}"
        if isinstance(v, dict) and "name" not in v:
            out += _flatten(v, name + " · ")
        else:
            out.append((name, v))
    return out


def _list_table(title: str, items: list[dict[str, Any]]) -> Table:
    columns: list[str] = []
    for item in items:
        for k, v in item.items():
            scalar = not isinstance(v, list | dict) or (isinstance(v, dict) and "name" in v)
            if scalar and k not in columns:
                columns.append(k)
    return Table(
        [label(c) for c in columns],
        [
            [
                Cell(value(item.get(c), c), numeric=isinstance(item.get(c), int | float))
                for c in columns
            ]
            for item in items
        ],
        label(title),
    )


def generic(key: str, results: dict[str, Any]) -> Contribution:
    """Any section: its ``text`` as the answer, ``summary`` as a table, lists collapsed."""
    sec = results.get(key)
    if not isinstance(sec, dict):
        return Contribution()
    summary: dict[str, Any] = sec["summary"] if isinstance(sec.get("summary"), dict) else {}
    details: dict[str, Any] = sec["details"] if isinstance(sec.get("details"), dict) else sec
    rows = [[_t(label(k)), num(value(v, k.rsplit(" · ", 1)[-1]))] for k, v in _flatten(summary)]
    tables = [
        _list_table(k, v)
        for k, v in details.items()
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
    ]
    title = str(sec.get("title") or label(key))
    answer = str(sec.get("text") or sec.get("answer") or "")
    return Contribution(
        headline=str(sec.get("headline") or ""),
        sections=[
            Section(
                key,
                title,
                answer,
                None,
                Table(["Measure", "Value"], rows) if rows else None,
                details=tables,
            )
        ],
    )


SECTIONS: dict[str, Renderer] = {
    "schemes": render_schemes,
    "pixel": render_pixel,
    "oracle": render_oracle,
    "membership": render_membership,
    "risk": render_risk,
    "psi": render_psi,
    "clk": render_clk,
    "promises": render_promises,
    "who": render_who,
}


def configured(results: dict[str, Any]) -> list[str]:
    """The results.json sections this run has, in report order (known first, then others)."""
    present = [k for k, v in results.items() if k not in META_KEYS and v]
    known = [k for k in SECTIONS if k in present]
    return known + sorted(k for k in present if k not in SECTIONS)


# how a scheme reads when the experiment gave it no label of its own
_DISPLAY: dict[str, Callable[[dict[str, Any]], str]] = {
    "md5": lambda p: "MD5",
    "sha1": lambda p: "SHA-1",
    "sha256": lambda p: "SHA-256",
    "sha512": lambda p: "SHA-512",
    "truncated-sha256": lambda p: f"SHA-256 cut to {p.get('bits', '?')} bits",
    "pepper-sha256": lambda p: "SHA-256 with a shared pepper",
    "hmac-sha256": lambda p: "HMAC-SHA256",
    "salted-sha256": lambda p: "SHA-256 with a salt per record",
    "pbkdf2-sha256": lambda p: (
        f"PBKDF2-SHA256, {count(p.get('iterations'))} iterations"
        if p.get("iterations")
        else "PBKDF2-SHA256"
    ),
    "scrypt": lambda p: f"scrypt, N = {count(p.get('n'))}" if p.get("n") else "scrypt",
    "argon2id": lambda p: "Argon2id",
    "uid2": lambda p: "UID2",
}


def with_labels(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` with every unlabelled scheme given a readable name (a shallow copy)."""
    out = dict(results)
    schemes = []
    for s in results.get("schemes") or []:
        name = str(s.get("name"))
        if (not s.get("label") or s.get("label") == name) and name in _DISPLAY:
            s = {**s, "label": _DISPLAY[name](s.get("params") or {})}
        schemes.append(s)
    if "schemes" in results:
        out["schemes"] = schemes
    return out


def contributions(results: dict[str, Any]) -> list[Contribution]:
    results = with_labels(results)
    return [
        SECTIONS[k](results) if k in SECTIONS else generic(k, results) for k in configured(results)
    ]
