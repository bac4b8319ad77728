"""PAIR (Publisher Advertiser Identity Reconciliation) on matchsim's X25519 PSI, with rotations.

The flow of the IAB Tech Lab PAIR specification, two clean rooms (DCRs), one per party:

1. The publisher holds a secret ``Ks`` (the "salt", shared with the advertiser's DCR,
   rotated every 30 days) and an X25519 scalar ``Kp``; the advertiser holds ``Ka``
   (scalars rotated every 180 days). ``H(x) = hash_to_curve(HMAC-SHA-256(Ks, x))``.
2. advertiser -> publisher: ``Ka·H(y)`` for its normalised e-mails (shuffled);
   publisher -> advertiser: ``Kp·H(x)`` for its users (the *publisher IDs*, shuffled).
3. Each side applies its own scalar to the other's list: ``Kp·Ka·H(y)`` and
   ``Ka·Kp·H(x)`` are the PAIR IDs; the lists are exchanged and intersected.
4. The advertiser's DCR keeps the matched publisher IDs ``Kp·H(x)`` (it knows which of
   the publisher's list they are without inverting a scalar) and hands them to its DSP;
   the publisher sends ``Kp·H(x)`` in bid requests. Both sides see the **match rate**.

Only the X25519 exchange of ``cryptography`` and the RFC 9380 hash-to-curve of
:mod:`matchsim.psi.curve` are used: no hand-written group arithmetic.

What this module measures (``pair_experiment``), as the parties see it:

* the match count each upload reveals (the intersection size, exactly);
* differencing: two uploads that differ by one person reveal that person's membership
  on the publisher; the harness scores the guesses afterwards;
* linkability: whether a user's publisher ID on day ``t`` equals the one on day
  ``t + gap`` (what a DSP or any bid-stream observer can link), and whether the
  advertiser still recognises its own customers after a rotation (it re-matches its
  plaintext list every epoch, so rotation never hides them from it).
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from matchsim.psi.curve import encode_to_u
from matchsim.rng import Stream, stream

if TYPE_CHECKING:
    from matchsim.oracle.promises import Setting

PAIR_DST = b"MATCHSIM-V01-PAIR-with-curve25519_XMD:SHA-512_ELL2_NU_"
SALT_DAYS = 30
KEY_DAYS = 180
UID2_PREVIOUS_DAYS = 90


def _hmac(key: bytes, value: str) -> bytes:
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(value.encode())
    return h.finalize()


class _Secrets:
    """One party's secrets per epoch, from the OS RNG (never shown, never seeded)."""

    def __repr__(self) -> str:
        return f"_Secrets(rotated every {self.days} days)"

    def __init__(self, days: int) -> None:
        self.days = days
        self._by_epoch: dict[int, Any] = {}

    def at(self, day: int, make: Any) -> Any:
        epoch = day // self.days
        if epoch not in self._by_epoch:
            self._by_epoch[epoch] = make()
        return self._by_epoch[epoch]


@dataclass
class PairParty:
    """A DCR holding one party's list, its scalar (per key epoch) and caches per epoch."""

    name: str
    items: list[str] = field(repr=False)
    _keys: _Secrets = field(default_factory=lambda: _Secrets(KEY_DAYS), repr=False)
    _cache: dict[tuple[int, int, str], bytes] = field(default_factory=dict, repr=False)
    operations: int = 0

    def key(self, day: int) -> X25519PrivateKey:
        k: X25519PrivateKey = self._keys.at(
            day, lambda: X25519PrivateKey.from_private_bytes(os.urandom(32))
        )
        return k

    def blind_own(self, values: Sequence[str], salt: bytes, day: int) -> list[bytes]:
        """``K·H_s(v)`` for own values, cached within one salt and key epoch."""
        epoch = (day // SALT_DAYS, day // KEY_DAYS)
        todo = [v for v in values if (*epoch, v) not in self._cache]
        if todo:
            points = encode_to_u([_hmac(salt, v) for v in todo], PAIR_DST)
            blinded = self.blind(points, day)
            for v, b in zip(todo, blinded, strict=True):
                self._cache[(*epoch, v)] = b
        return [self._cache[(*epoch, v)] for v in values]

    def blind(self, points: Sequence[bytes], day: int) -> list[bytes]:
        key = self.key(day)
        self.operations += len(points)
        return [key.exchange(X25519PublicKey.from_public_bytes(p)) for p in points]


@dataclass
class PairRun:
    """One PAIR match as it crossed the wire, and what each side saw."""

    day: int
    advertiser_items: int
    publisher_items: int
    matched: int
    bytes_advertiser_to_publisher: int
    bytes_publisher_to_advertiser: int
    matched_items: list[str] = field(repr=False, default_factory=list)
    """Inside the advertiser's DCR: which of its own records matched (the PAIR lists
    are exchanged, so the DCR can tell; the advertiser's analysts see the rate)."""

    @property
    def match_rate(self) -> float:
        return self.matched / self.advertiser_items if self.advertiser_items else 0.0


class PairSession:
    """Publisher and advertiser DCRs over time; ``match(list, day)`` runs the flow."""

    def __init__(self, publisher_items: list[str], seed: int = 0) -> None:
        self.publisher = PairParty("publisher", list(dict.fromkeys(publisher_items)))
        self.advertiser = PairParty("advertiser", [])
        self._salts = _Secrets(SALT_DAYS)
        self._shuffle = random.Random(seed)  # message order only; no secret depends on it
        self._pair_cache: dict[tuple[int, int], list[bytes]] = {}

    def salt(self, day: int) -> bytes:
        s: bytes = self._salts.at(day, lambda: os.urandom(32))
        return s

    def publisher_ids(self, day: int) -> list[bytes]:
        """``Kp·H_s(x)`` for every publisher user, in the publisher's own order."""
        return self.publisher.blind_own(self.publisher.items, self.salt(day), day)

    def match(self, advertiser_items: Sequence[str], day: int) -> PairRun:
        salt = self.salt(day)
        adv = list(dict.fromkeys(advertiser_items))
        # 2. both lists blinded by their owner and sent (the advertiser's in an order
        # only it knows, the publisher IDs shuffled).
        a_msg = self.advertiser.blind_own(adv, salt, day)
        p_ids = self.publisher_ids(day)
        p_msg = self._shuffled(p_ids)
        # 3. each side applies its scalar to the other's list and returns it (PAIR
        # lists are exchanged: step 6 of the spec); the advertiser's pass over the
        # publisher list is cached within an epoch, as a DCR keeps it.
        pair_of_adv = self.publisher.blind(a_msg, day)
        epoch = (day // SALT_DAYS, day // KEY_DAYS)
        if epoch not in self._pair_cache:
            self._pair_cache[epoch] = self.advertiser.blind(p_msg, day)
        pair_of_pub = set(self._pair_cache[epoch])
        hits = [pair in pair_of_pub for pair in pair_of_adv]
        return PairRun(
            day=day,
            advertiser_items=len(adv),
            publisher_items=len(p_msg),
            matched=sum(hits),
            bytes_advertiser_to_publisher=32 * (len(a_msg) + len(p_msg)),
            bytes_publisher_to_advertiser=32 * (len(p_msg) + len(a_msg)),
            matched_items=[v for v, h in zip(adv, hits, strict=True) if h],
        )

    def _shuffled(self, xs: list[bytes]) -> list[bytes]:
        out = list(xs)
        self._shuffle.shuffle(out)
        return out


def _normalised(emails: Sequence[str]) -> list[str]:
    return [e.strip().lower() for e in emails]


def pair_experiment(
    s: Setting, *, list_size: int, rounds: int, seed: int, publisher_size: int = 2000
) -> dict[str, Any]:
    """PAIR between the attacker (advertiser) and a publisher: set size, differencing,
    linkability across salt and key rotations. ``s`` supplies the attacker's list and the
    targets (with truth, read only when scoring)."""
    from matchsim.oracle.tactics import score

    publisher = _publisher(s, stream(seed, Stream.PAIR_WORLD), list_size, publisher_size)
    session = PairSession(publisher, seed)
    base = _normalised(s.pool[:list_size])

    # Set size: what one upload tells the advertiser.
    first = session.match(base, day=0)
    dcr_sees = session.match(_normalised(s.targets), day=0)  # per-record, inside the DCR
    dcr_guess = set(dcr_sees.matched_items)
    dcr_scored = score([t in dcr_guess for t in _normalised(s.targets)], s.truth)
    differencing = _differencing(session, base, s)
    link = _linkability(session, rounds)
    # The advertiser re-matches its plaintext list after each rotation: it recognises the
    # same customers every epoch (matched count over time).
    over_time = []
    for r in range(rounds):
        run = session.match(base, day=SALT_DAYS * r)
        over_time.append({"day": SALT_DAYS * r, "matched": run.matched, "rate": run.match_rate})
    return {
        "protocol": "PAIR (IAB Tech Lab), two DCRs, X25519 + RFC 9380 hash-to-curve, "
        "HMAC-SHA-256 salt",
        "publisher_users": len(session.publisher.items),
        "advertiser_list": first.advertiser_items,
        "set_size": {
            "advertiser_learns": "the exact intersection size (match count) per upload",
            "publisher_learns": "the advertiser's list size (message length)",
            "advertiser_learns_publisher_size": first.publisher_items,
            "matched": first.matched,
            "match_rate": first.match_rate,
            "bytes": first.bytes_advertiser_to_publisher + first.bytes_publisher_to_advertiser,
        },
        "differencing": differencing,
        "inside_advertiser_dcr": {
            "learns": "which of the advertiser's own records are publisher users",
            **dcr_scored,
        },
        "linkability": link,
        "advertiser_rematch": over_time,
        "advertiser_links_own_customers_across_rotations": len({r["matched"] for r in over_time})
        == 1,
        "x25519_operations": session.publisher.operations + session.advertiser.operations,
    }


def _publisher(
    s: Setting, rng: np.random.Generator, list_size: int, publisher_size: int
) -> list[str]:
    """The publisher: logged-in users of one site, a sample of the platform's accounts
    with an e-mail, always including the member targets (they are "on the platform"),
    and half the advertiser's list."""
    members = [t for t, m in zip(s.targets, s.truth, strict=True) if m]
    pool_set = set(s.pool)
    others = [e for e in s.platform_emails if e not in pool_set and e not in set(members)]
    take = rng.permutation(len(others))[: max(0, publisher_size - len(members))]
    return _normalised(members + [others[int(i)] for i in take] + s.pool[: list_size // 2])


def _differencing(session: PairSession, base: list[str], s: Setting) -> dict[str, Any]:
    """One upload per target, day after day within the salt epoch, then on; a target is
    a member when adding it raises the match count by one."""
    from matchsim.oracle.tactics import score

    guesses: list[bool | None] = []
    day = 1
    for t in _normalised(s.targets):
        run = session.match([*base, t], day=day)
        again = session.match(base, day=day)  # same epoch: the base count for comparison
        guesses.append(run.matched - again.matched == 1)
        day += 1
    scored = score(guesses, s.truth)
    return {
        "tactic": "match-rate differencing",
        **scored,
        "uploads": 2 * len(s.targets) + 1,
        "days": float(day - 1),
    }


def _linkability(session: PairSession, rounds: int) -> list[dict[str, Any]]:
    """Linkability of publisher IDs (what a DSP or bid-stream observer can link) across
    gaps either side of each salt and key rotation."""
    gaps = sorted(
        {
            1,
            SALT_DAYS - 1,
            SALT_DAYS,
            KEY_DAYS - 1,
            KEY_DAYS,
            *(SALT_DAYS * r for r in range(1, rounds)),
        }
    )
    start = 0
    ids0 = session.publisher_ids(start)
    link = []
    for gap in gaps:
        ids = session.publisher_ids(start + gap)
        same = float(np.mean([a == b for a, b in zip(ids0, ids, strict=True)]))
        link.append(
            {
                "gap_days": gap,
                "salt_rotated": (start + gap) // SALT_DAYS != start // SALT_DAYS,
                "keys_rotated": (start + gap) // KEY_DAYS != start // KEY_DAYS,
                "publisher_ids_unchanged": same,
            }
        )
    return link


def uid2_linkability(s: Setting, *, seed: int, buckets: int = 64) -> dict[str, Any]:
    """UID2-style raw identifiers: SHA-256 of the e-mail keyed by a per-bucket salt that
    rotates; a participant maps its own register through the operator and joins.

    The operator's salts come from the OS RNG. The participant (the attacker) holds its
    customer list; the "bid stream" holds the raw UID2s of the platform's users. Measured:
    the share of the participant's register found in the stream (re-identified), and how
    long an old raw UID2 stays linkable to the new one after its bucket rotates (the
    operator returns the previous raw UID2 for 90 days: documented).
    """
    salts = [os.urandom(32) for _ in range(buckets)]

    def bucket(email: str) -> int:
        return int.from_bytes(_hmac(b"bucket", email)[:4], "big") % buckets

    def raw(email: str) -> bytes:
        return _hmac(salts[bucket(email)], email)

    on_platform = set(_normalised(s.platform_emails))
    stream = {raw(e) for e in on_platform}
    register = _normalised(s.pool)
    mapped = [raw(e) for e in register]  # POST /identity/map, as the participant may
    found = sum(m in stream for m in mapped)
    in_stream = sum(e in on_platform for e in register)  # evaluation: the truth
    return {
        "scheme": "raw UID2 = keyed SHA-256 per salt bucket (modelled)",
        "register": len(register),
        "map_calls": -(-len(register) // 5000),
        "reidentified": found,
        "register_in_stream": in_stream,
        "reidentified_share_of_register": found / in_stream if in_stream else 0.0,
        "link_window_days": UID2_PREVIOUS_DAYS,
        "who_can_map": "any UID2 participant with an API key (advertisers, data providers)",
    }
