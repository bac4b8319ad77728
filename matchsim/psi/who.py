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
        {
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
        },
        {
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
        },
        {
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
        },
        {
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
        },
        {
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
        },
    ]
    return {"parties": list(PARTIES), "schemes": schemes, "domain_note": DOMAIN_NOTE}
