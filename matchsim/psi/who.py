"""Who can re-identify, per scheme and protocol: a matrix of parties and what they need.

Framing (context, not legal advice): the EDPB Guidelines 01/2025 on pseudonymisation
describe a *pseudonymisation domain*: the parties from whom the controller intends to
withhold the additional information (keys, salts, lookup tables) needed to attribute
pseudonymised data to a person. Data is pseudonymised only with respect to that domain;
anyone outside it who holds the additional information, or can rebuild it (a register
of the same identifiers, an enumerable keyspace), can attribute it. Each cell below says
what a party needs, how many people it can re-identify, and at what cost, with numbers
from this run where the run measured them.
"""

from __future__ import annotations

from typing import Any

PARTIES = (
    "advertiser",
    "platform",
    "clean-room operator",
    "outsider with the upload",
    "outsider with a register",
)

DOMAIN_NOTE = (
    "EDPB Guidelines 01/2025 (pseudonymisation): data is pseudonymised only towards the "
    "parties in the pseudonymisation domain, those kept from the additional information. "
    "A party that holds a key, a salt or a register of the same identifiers is outside it. "
    "Context for the table, not legal advice."
)


def _cell(can: str, needs: str, people: str, cost: str) -> dict[str, str]:
    return {"can": can, "needs": needs, "people": people, "cost": cost}


def _measured(rows: list[dict[str, Any]], family: str) -> str:
    hits = [r for r in rows if r["product"]["family"] == family and r.get("succeeds")]
    if not hits:
        return ""
    best = min(hits, key=lambda r: r["queries"])
    return (
        f"measured: {best['product']['name']}, {100 * best['members_learned']:.0f} % of "
        f"member targets in {best['days']:.1f} days"
    )


def reidentify_matrix(
    rows: list[dict[str, Any]], *, upload: int = 0, in_register: int = 0
) -> dict[str, Any]:
    """The matrix for the products attacked in ``rows`` (one row per scheme family).

    ``upload`` and ``in_register``: rows of the advertiser's hashed list and how many
    distinct people in it a register like the platform's user table attributes
    (measured by the caller).
    """
    register = (
        f"measured: {in_register:,} people of a {upload:,}-row upload, with a register "
        "the size of the platform's user table"
        if upload
        else "every row in the register"
    )
    floors = _measured(rows, "audience floor") or _measured(rows, "audience ranges")
    thresholds = _measured(rows, "clean-room threshold")
    noise = _measured(rows, "clean-room noise")
    pair = next((r for r in rows if r["product"]["id"] == "pair"), None)
    pair_note = (
        f"measured: {100 * pair['members_learned']:.0f} % of member targets from match rates"
        if pair
        else ""
    )
    schemes = [
        _plain_row(floors, register),
        _threshold_row(thresholds),
        _dp_row(noise),
        _pair_row(pair_note),
        _uid2_row(),
    ]
    return {"parties": list(PARTIES), "schemes": schemes, "domain_note": DOMAIN_NOTE}


def _plain_row(floors: str, register: str) -> dict[str, Any]:
    """A plain SHA-256 customer-list upload."""
    return {
        "scheme": "plain SHA-256 upload (customer lists: Google, TikTok, X, LinkedIn, Meta)",
        "cells": {
            "advertiser": _cell(
                "yes",
                "its own list",
                "everyone it uploads (it holds the plaintext); others via size oracles",
                floors or "uploads and size estimates",
            ),
            "platform": _cell(
                "yes",
                "its user table (the same identifiers)",
                "every matched row; unmatched phones by enumeration",
                "one hash per user; phone plans in seconds on a GPU",
            ),
            "clean-room operator": _cell("n/a", "-", "-", "no operator"),
            "outsider with the upload": _cell(
                "yes",
                "the file",
                "every row whose phone is in a number plan; e-mails by dictionary",
                "hours on one GPU (no key)",
            ),
            "outsider with a register": _cell(
                "yes",
                "a register of e-mails or phones",
                register,
                "one hash per register entry",
            ),
        },
    }


def _threshold_row(thresholds: str) -> dict[str, Any]:
    """A clean room that releases only aggregates above a threshold."""
    return {
        "scheme": "clean room with aggregation threshold (ADH, AWS minimumIdentityCount, AMC)",
        "cells": {
            "advertiser": _cell(
                "partly",
                "decoys above the threshold, repeated queries",
                "targets it can name, one at a time",
                thresholds or "two queries per target",
            ),
            "platform": _cell(
                "yes",
                "its own data in the room",
                "all its users",
                "none: it already holds them",
            ),
            "clean-room operator": _cell(
                "yes", "access to both parties' tables", "all matched rows", "insider access"
            ),
            "outsider with the upload": _cell(
                "partly",
                "the upload (hashed like the list above)",
                "as for plain hashes",
                "as for plain hashes",
            ),
            "outsider with a register": _cell("no", "query access to the room", "-", "-"),
        },
    }


def _dp_row(noise: str) -> dict[str, Any]:
    """A clean room that adds differentially private noise."""
    return {
        "scheme": "clean room with differential privacy (AWS, Snowflake, ADH noise)",
        "cells": {
            "advertiser": _cell(
                "partly",
                "budget spent on one target, refreshed budgets",
                "a few targets per budget period",
                noise or "bounded by tanh(eps/2) per period",
            ),
            "platform": _cell("yes", "its own data", "all its users", "none"),
            "clean-room operator": _cell(
                "yes", "the tables before noise", "all matched rows", "insider access"
            ),
            "outsider with the upload": _cell(
                "partly", "the upload", "as for plain hashes", "as for plain hashes"
            ),
            "outsider with a register": _cell("no", "query access", "-", "-"),
        },
    }


def _pair_row(pair_note: str) -> dict[str, Any]:
    """PAIR: the publisher and advertiser encrypt under each other's keys."""
    return {
        "scheme": "PAIR (commutative encryption on Curve25519, salt 30 d, keys 180 d)",
        "cells": {
            "advertiser": _cell(
                "yes",
                "its DCR's PAIR lists, or match rates of two uploads",
                "its own customers on the publisher",
                pair_note or "one upload per target",
            ),
            "platform": _cell(
                "yes", "its DCR's PAIR lists", "its users in the advertiser's list", "one match"
            ),
            "clean-room operator": _cell(
                "yes",
                "Ks and one party's scalar (a DCR holds them)",
                "everyone in that party's list",
                "insider access",
            ),
            "outsider with the upload": _cell(
                "no", "Ks and a scalar", "-", "discrete log on Curve25519"
            ),
            "outsider with a register": _cell("no", "Ks and a scalar, or DCR access", "-", "-"),
        },
    }


def _uid2_row() -> dict[str, Any]:
    """UID2: raw UID2s are salted hashes the operator maps."""
    return {
        "scheme": "UID2 (raw UID2 = salted hash, mapped by the operator)",
        "cells": {
            "advertiser": _cell(
                "yes",
                "an API key (participant)",
                "everyone in its register it sees in the bid stream",
                "one map call per 5,000 identifiers",
            ),
            "platform": _cell("yes", "an API key", "everyone in its register", "map calls"),
            "clean-room operator": _cell(
                "yes", "the operator's salts", "everyone", "operator access"
            ),
            "outsider with the upload": _cell("no", "salts or an API key", "-", "-"),
            "outsider with a register": _cell(
                "partly",
                "a register plus any participant's API key",
                "the register",
                "map calls; linkable 90 days over a rotation",
            ),
        },
    }


# --- the matrix of one run -----------------------------------------------------------

RUN_PARTIES = (
    "advertiser",
    "platform",
    "outsider with the upload",
    "outsider with a register",
    "clean-room operator",
)
CLEAN_ROOM_SECTIONS = ("psi", "promises")
"""results.json sections that put a clean-room or PSI operator into the run."""

NOT_MEASURED = "not measured"


def _party(
    can: str,
    needs: str,
    people: int | None = None,
    of: int | None = None,
    *,
    cost: str = NOT_MEASURED,
    seconds: float | None = None,
    source: str | None = None,
    share: float | None = None,
) -> dict[str, Any]:
    """One cell: whether the party can re-identify (``yes``/``no``/``partly``/``n/a``/
    ``not measured``), what it needs, how many people (of how many rows), the cost in
    words, the measured ``seconds`` (a timing key), where the number comes from, and
    ``share``: people / of, or the attack's own share (of the rows that carry a digest)."""
    if share is None and people is not None and of:
        share = round(people / of, 6)
    return {
        "can": can,
        "needs": needs,
        "people": people,
        "of": of,
        "cost": cost,
        "seconds": seconds,
        "source": source,
        "share": share,
    }


def _scheme_class(entry: dict[str, Any]) -> Any:
    from matchsim.schemes import SCHEMES

    return SCHEMES.get(str(entry.get("name")))


def _needs_secret(entry: dict[str, Any]) -> bool:
    cls = _scheme_class(entry)
    return bool(cls.needs_secret if cls is not None else entry.get("needs_secret"))


def _holds_key(entry: dict[str, Any], what: str) -> str:
    """`` and the key ...`` for a registry scheme with a shared secret, else nothing
    (a protocol row such as PSI says what its parties hold in its own words)."""
    cls = _scheme_class(entry)
    if cls is None or not cls.needs_secret:
        return ""
    return what.format(secret=cls.secret_word)


def _upload_rows(entry: dict[str, Any], customers: int | None) -> int | None:
    rows = (entry.get("upload") or {}).get("rows")
    return int(rows) if rows is not None else customers


def _advertiser(entry: dict[str, Any], customers: int | None) -> dict[str, Any]:
    rows = _upload_rows(entry, customers)
    return _party(
        "yes",
        "its own customer list (it holds the plaintext)",
        rows,
        rows,
        cost="none: it wrote the list",
        source="upload rows",
    )


def _platform(entry: dict[str, Any]) -> dict[str, Any]:
    join = entry.get("join") or {}
    needs = "its own user table" + _holds_key(
        entry, " and the {secret} it shares with the advertiser (it holds it)"
    )
    users = join.get("matched_users")
    if users is None:
        learns = entry.get("learns")
        return _party(NOT_MEASURED, f"{needs}; learns {learns}" if learns else needs)
    return _party(
        "yes" if users else "no",
        needs,
        int(users),
        join.get("uploaded_rows"),
        cost="one join: every matched user is named",
        seconds=join.get("join_seconds"),
        source="join matched_users",
    )


def _outsider_upload(entry: dict[str, Any]) -> dict[str, Any]:
    """From the run's phone/e-mail attacks by an attacker without the secret, else the
    scheme registry's reason (keyed, salted) or the priced cost (enumerable)."""
    keyed = _needs_secret(entry)
    attacks = [
        a
        for a in entry.get("attacks") or []
        if a.get("kind") in ("phone", "email") and not (keyed and a.get("knows_secret"))
    ]
    ran = [a for a in attacks if a.get("feasible")]
    cls = _scheme_class(entry)
    limit = cls.outsider_limit() if cls is not None else None
    if ran:
        best = max(ran, key=lambda a: (a.get("share") or 0.0, a.get("recovered") or 0))
        recovered = int(best.get("recovered") or 0)
        what = "a number plan" if best["kind"] == "phone" else "a list of likely e-mails"
        if recovered:
            return _party(
                "yes",
                f"the upload and {what} (no key)",
                recovered,
                best.get("attempted"),
                cost=f"the {best['kind']} attack's run",
                seconds=best.get("seconds"),
                source=f"{best['kind']} attack recovered rows",
                share=best.get("share"),
            )
        reason = limit.reason if limit is not None else "nothing recovered by enumeration"
        return _party(
            "no",
            reason,
            0,
            best.get("attempted"),
            cost=f"nothing recoverable: the {best['kind']} attack's run found no match",
            seconds=best.get("seconds"),
            source=f"{best['kind']} attack recovered rows",
            share=0.0,
        )
    if limit is not None:
        return _party("no", limit.reason, cost="nothing recoverable", source="scheme registry")
    if cls is None:  # a protocol row (PSI, CLK): its own verdict and cost statement
        reason = (entry.get("cost") or {}).get("reason")
        can = str(entry.get("outsider_can") or NOT_MEASURED)
        return _party(can, str(reason or "not attacked in this run"), cost=NOT_MEASURED)
    cost = entry.get("cost") or {}
    here = (cost.get("devices") or {}).get("here")
    why = next((a.get("reason") for a in attacks if a.get("reason")), None)
    return _party(
        "partly" if cost.get("feasible") else NOT_MEASURED,
        str(why or "the upload and a list of candidates"),
        cost="every candidate tried at the measured rate" if here is not None else NOT_MEASURED,
        seconds=here,
        source="cost model" if here is not None else None,
    )


def _outsider_register(entry: dict[str, Any]) -> dict[str, Any]:
    """From the run's ``reidentify`` attack; without one, the platform's join is the same
    attack run with a register like its user table (for schemes an outsider can hash)."""
    for a in entry.get("attacks") or []:
        if a.get("kind") != "reidentify":
            continue
        if not a.get("feasible"):
            return _party("no", str(a.get("reason") or "no field to link on"), 0, a.get("rows"),
                          cost="nothing linked", source="reidentify attack")  # fmt: skip
        coverage = (a.get("register") or {}).get("coverage")
        needs = "a register of names, birth dates and postcodes"
        if coverage is not None:
            needs += f" covering {100 * float(coverage):.0f} % of residents"
        n = int(a.get("reidentified") or 0)
        cls = _scheme_class(entry)
        limit = cls.outsider_limit() if cls is not None else None
        if not n and limit is not None:
            needs += f"; {limit.reason}"
        return _party(
            "yes" if n else "no",
            needs,
            n,
            a.get("rows"),
            cost="the reidentify attack's run",
            seconds=a.get("seconds"),
            source="reidentify attack reidentified",
            share=a.get("share"),
        )
    cls = _scheme_class(entry)
    limit = cls.outsider_limit() if cls is not None else None
    if limit is not None:
        return _party("no", limit.reason, cost="nothing recoverable", source="scheme registry")
    users = (entry.get("join") or {}).get("matched_users")
    if cls is None or users is None or not cls.deterministic:
        return _party(NOT_MEASURED, "a register of the same identifiers")
    return _party(
        "yes" if users else "no",
        "a register of e-mails and phones like the platform's user table",
        int(users),
        (entry.get("join") or {}).get("uploaded_rows"),
        cost="one hash per register entry (the join is this attack)",
        seconds=(entry.get("join") or {}).get("join_seconds"),
        source="join matched_users",
    )


def _operator(entry: dict[str, Any], clean_room: bool) -> dict[str, Any]:
    if not clean_room:
        return _party("n/a", "no clean room or PSI operator in this experiment",
                      cost="not part of this run")  # fmt: skip
    needs = "access to both parties' tables inside the room" + _holds_key(
        entry, " (the room holds the {secret})"
    )
    users = (entry.get("join") or {}).get("matched_users")
    if users is None:
        return _party("yes", needs, cost="insider access")
    return _party(
        "yes" if users else "no",
        needs,
        int(users),
        (entry.get("join") or {}).get("uploaded_rows"),
        cost="insider access: it runs the match",
        source="join matched_users",
    )


def run_matrix(results: dict[str, Any]) -> dict[str, Any]:
    """The matrix for one run's ``results.json``: a row per entry of ``schemes[]``, a
    cell per party, with the counts and seconds this run measured (join, attacks) and
    the scheme registry's reasons where nothing was measured."""
    customers = (results.get("population") or {}).get("customers")
    clean_room = any(k in results for k in CLEAN_ROOM_SECTIONS)
    rows = []
    for entry in results.get("schemes") or []:
        rows.append(
            {
                "scheme": entry.get("name"),
                "label": entry.get("label") or entry.get("name"),
                "cells": {
                    "advertiser": _advertiser(entry, customers),
                    "platform": _platform(entry),
                    "outsider with the upload": _outsider_upload(entry),
                    "outsider with a register": _outsider_register(entry),
                    "clean-room operator": _operator(entry, clean_room),
                },
            }
        )
    return {
        "parties": list(RUN_PARTIES),
        "clean_room": clean_room,
        "rows": rows,
        "domain_note": DOMAIN_NOTE,
    }
