"""ECDH private set intersection on X25519, both parties simulated, messages as bytes.

Threat model (semi-honest parties). The *receiver* learns the output; the *sender* learns
only the receiver's set size. Each party holds a secret scalar (X25519 private key,
drawn from the OS RNG; a seeded derivation exists **for tests only**, because a
predictable scalar is no secret). With ``H`` = Elligator 2 hash-to-curve
(:mod:`matchsim.psi.curve`):

1. receiver -> sender: ``[a·H(r) for r in R]`` in the receiver's private order.
2. sender -> receiver: ``[b·(a·H(r))]`` (same order; shuffled in the cardinality
   variant) followed by ``[b·H(s) for s in S]`` shuffled.
3. the receiver computes ``a·(b·H(s))`` and compares: with the order kept it learns
   *which* of its records are in S; shuffled, only *how many*.

What crosses the wire are 32-byte X25519 u-coordinates. Under DDH on curve25519, a
blinded value is indistinguishable from a random point to anyone without the scalar, so
a dictionary attacker holding a message gets nothing per guess: unlike a plain hash,
there is nothing to test a guess against. Fresh scalars per run make runs unlinkable.

Cost: every element costs each party one hash-to-curve (two SHA-512 and a Legendre
symbol) and scalar multiplications, one OpenSSL ``X25519`` call (~30–60 µs with the
Python call overhead) each. That per-element Python call is the one hot loop matchsim
does not vectorise: there is no batch X25519 API in ``cryptography``.
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from matchsim.errors import ConfigError
from matchsim.experiment.fields import Fields
from matchsim.psi.curve import PROTOCOL_DST, encode_to_u

POINT_BYTES = 32
REVEALS = ("intersection", "cardinality")
PARTIES = ("advertiser", "platform")


@dataclass(frozen=True)
class PsiParams:
    """How the PSI is run.

    Attributes:
        reveal: ``intersection`` (the receiver learns which of its records match) or
            ``cardinality`` (only how many).
        receiver: the party that learns the output: ``platform`` (a custom audience: the
            platform must know whom to target) or ``advertiser`` (OpenMined-PSI style).
        test_seed: derive scalars and shuffles from this seed. **Tests only**: it makes
            the secrets predictable. None (default) uses the OS RNG.
    """

    reveal: str = "intersection"
    receiver: str = "platform"
    test_seed: int | None = None

    def problems(self, where: str = "psi") -> list[str]:
        """Every problem of these parameters, checked by the same reads as a table."""
        f = Fields({k: v for k, v in vars(self).items() if v is not None}, where)
        type(self).read(f)
        return f.finish()

    @classmethod
    def read(cls, f: Fields) -> PsiParams:
        """Read through the one validator; every problem goes into ``f`` (``[psi].reveal``)."""
        f.allow(("reveal", "receiver", "test_seed"))
        f.unknown()
        return cls(
            reveal=f.string("reveal", cls.reveal, REVEALS),
            receiver=f.string("receiver", cls.receiver, PARTIES),
            test_seed=f.integer("test_seed", None, 0),  # type: ignore[arg-type]
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "psi") -> PsiParams:
        """Build from a config table; ConfigError lists every problem as ``where.key: ...``."""
        f = Fields(d, where)
        params = cls.read(f)
        ConfigError.collect(f.finish())
        return params


@dataclass(frozen=True)
class Message:
    """One message as it crosses the wire."""

    sender: str
    receiver: str
    label: str
    payload: bytes = field(repr=False)

    def points(self) -> list[bytes]:
        p = self.payload
        return [p[i : i + POINT_BYTES] for i in range(0, len(p), POINT_BYTES)]


@dataclass
class PsiResult:
    """What one PSI run produced, cost, and revealed.

    ``matched_items`` is the receiver's output: its own matching items (intersection
    variant) or empty (cardinality). ``transcript`` holds every message.
    """

    params: PsiParams
    advertiser_items: int
    platform_items: int
    matched: int
    matched_items: list[str] = field(repr=False)
    transcript: list[Message] = field(repr=False)
    seconds: dict[str, float]
    plain_hash_matched: int | None = None

    def bytes_sent(self, sender: str) -> int:
        return sum(len(m.payload) for m in self.transcript if m.sender == sender)

    def received_by(self, party: str) -> list[Message]:
        return [m for m in self.transcript if m.receiver == party]

    @property
    def match_rate(self) -> float:
        return self.matched / self.advertiser_items if self.advertiser_items else 0.0

    def learns(self) -> dict[str, str]:
        """What each party learns, in words."""
        rcv = self.params.receiver
        snd = "advertiser" if rcv == "platform" else "platform"
        own = {"platform": "its users", "advertiser": "its customers"}
        if self.params.reveal == "intersection":
            got = f"which of {own[rcv]} are in the other set (the intersection)"
        else:
            got = "the intersection size only"
        return {rcv: f"{got}; the {snd}'s set size", snd: f"the {rcv}'s set size only"}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary for the scheme comparison (no secrets, no identifiers)."""
        total = self.seconds.get("total", 0.0)
        n = self.advertiser_items + self.platform_items
        a2p = self.bytes_sent("advertiser")
        p2a = self.bytes_sent("platform")
        return {
            "scheme": "psi-ecdh"
            if self.params.reveal == "intersection"
            else "psi-ecdh-cardinality",
            "group": "X25519 (curve25519, RFC 9380 ELL2_NU hash-to-curve)",
            "reveal": self.params.reveal,
            "receiver": self.params.receiver,
            "advertiser_items": self.advertiser_items,
            "platform_items": self.platform_items,
            "matched": self.matched,
            "match_rate": self.match_rate,
            "plain_hash_match_rate": (
                None
                if self.plain_hash_matched is None or not self.advertiser_items
                else self.plain_hash_matched / self.advertiser_items
            ),
            "bytes": {"advertiser_to_platform": a2p, "platform_to_advertiser": p2a},
            "bytes_total": a2p + p2a,
            "seconds": dict(self.seconds),
            "us_per_element": 1e6 * total / n if n else 0.0,
            "learns": self.learns(),
            "attacker_cost": "no offline test of a guess: each blinded value needs the "
            "party's scalar (discrete log on curve25519, ~2^126 operations)",
            "baseline_plain_hash": {
                "bytes_advertiser_to_platform": POINT_BYTES * self.advertiser_items,
                "platform_learns": "the intersection, and every customer's hash: a "
                "dictionary test per guess at hash speed",
            },
        }


class _Party:
    """One side of the protocol: its items and its secret scalar (never shown)."""

    def __init__(self, name: str, items: list[str], scalar: bytes, rng: random.Random) -> None:
        self.name = name
        self.items = items
        self._key = X25519PrivateKey.from_private_bytes(scalar)
        self.rng = rng
        self.seconds = 0.0

    def __repr__(self) -> str:
        return f"_Party({self.name}, {len(self.items)} items)"

    def hash_points(self, field_name: str) -> list[bytes]:
        t = time.perf_counter()
        msgs = [f"{field_name}\x1f{v}".encode() for v in self.items]
        out = encode_to_u(msgs, PROTOCOL_DST)
        self.seconds += time.perf_counter() - t
        return out

    def blind(self, points: Iterable[bytes]) -> list[bytes]:
        t = time.perf_counter()
        exchange = self._key.exchange
        load = X25519PublicKey.from_public_bytes
        out = [exchange(load(p)) for p in points]
        self.seconds += time.perf_counter() - t
        return out


def _scalar(test_seed: int | None, who: str) -> bytes:
    """A party's secret scalar: OS RNG, or (tests only) derived from ``test_seed``."""
    if test_seed is None:
        return os.urandom(32)
    return hashlib.sha512(f"matchsim-psi-TEST-ONLY|{test_seed}|{who}".encode()).digest()[:32]


def _rng(test_seed: int | None, who: str) -> random.Random:
    if test_seed is None:
        return random.SystemRandom()
    return random.Random(f"{test_seed}|{who}")


def _distinct(values: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> list[str]:
    """Distinct non-null values, in first-seen order (a PSI works on sets)."""
    if isinstance(values, pa.Array | pa.ChunkedArray):
        values = values.to_pylist()
    return list(dict.fromkeys(v for v in values if v is not None and v != ""))


def run(
    advertiser: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    platform: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    params: PsiParams | None = None,
    *,
    field_name: str = "email",
    evaluate: bool = True,
) -> PsiResult:
    """Run ECDH-PSI between an advertiser's and a platform's normalised identifiers.

    Args:
        advertiser, platform: normalised identifier strings (nulls and duplicates are
            dropped: the protocol works on sets).
        params: protocol options (defaults: the platform learns the intersection).
        field_name: domain-separates the hash per identifier kind.
        evaluate: also count the plain-hash intersection (evaluation only: the protocol
            never looks at the other party's plaintext).
    """
    params = params or PsiParams()
    ConfigError.collect(params.problems())
    adv_items, plat_items = _distinct(advertiser), _distinct(platform)
    seed = params.test_seed
    parties = {
        who: _Party(who, items, _scalar(seed, who), _rng(seed, who))
        for who, items in (("advertiser", adv_items), ("platform", plat_items))
    }
    rcv = parties[params.receiver]
    snd = parties["advertiser" if params.receiver == "platform" else "platform"]
    transcript: list[Message] = []
    t0 = time.perf_counter()

    # 1. receiver -> sender: a·H(r), in the receiver's own order.
    r_blinded = rcv.blind(rcv.hash_points(field_name))
    transcript.append(Message(rcv.name, snd.name, "a·H(receiver)", b"".join(r_blinded)))

    # 2. sender -> receiver: b·a·H(r) (shuffled for cardinality) and b·H(s), shuffled.
    got = transcript[-1].points()
    double = snd.blind(got)
    if params.reveal == "cardinality":
        snd.rng.shuffle(double)
    s_blinded = snd.blind(snd.hash_points(field_name))
    snd.rng.shuffle(s_blinded)
    transcript.append(Message(snd.name, rcv.name, "b·a·H(receiver)", b"".join(double)))
    transcript.append(Message(snd.name, rcv.name, "b·H(sender)", b"".join(s_blinded)))

    # 3. receiver: a·b·H(s), compare.
    theirs = set(rcv.blind(transcript[-1].points()))
    t = time.perf_counter()
    hits = [p in theirs for p in transcript[-2].points()]
    matched = sum(hits)
    matched_items = (
        [item for item, h in zip(rcv.items, hits, strict=True) if h]
        if params.reveal == "intersection"
        else []
    )
    rcv.seconds += time.perf_counter() - t
    total = time.perf_counter() - t0
    plain = len(set(adv_items) & set(plat_items)) if evaluate else None
    return PsiResult(
        params=params,
        advertiser_items=len(adv_items),
        platform_items=len(plat_items),
        matched=matched,
        matched_items=matched_items,
        transcript=transcript,
        seconds={
            "advertiser": parties["advertiser"].seconds,
            "platform": parties["platform"].seconds,
            "total": total,
        },
        plain_hash_matched=plain,
    )


def population_identifiers(
    pop: str | os.PathLike[str] | Any, field_name: str = "email", profile: str = "meta"
) -> tuple[pa.Array, pa.Array]:
    """The advertiser's and the platform's identifiers of ``field_name``, normalised with
    ``profile`` (rejected values dropped); the platform contributes ``email2`` too."""
    from matchsim.generate import CUSTOMERS_FILE, PLATFORM_FILE
    from matchsim.io import population_manifest, read_parquet
    from matchsim.normalise import get_profile

    out = Path(getattr(pop, "out", pop))

    region = population_manifest(out)["parameters"]["country"]
    prof = get_profile(profile)
    cust = read_parquet(out / CUSTOMERS_FILE, [field_name]).column(field_name)
    plat_cols = [field_name, "email2"] if field_name == "email" else [field_name]
    plat = read_parquet(out / PLATFORM_FILE, plat_cols)
    plat_values = pa.chunked_array(
        [c for name in plat_cols for c in plat.column(name).chunks], type=pa.string()
    )
    return (
        prof.normalise(field_name, cust, region).values,
        prof.normalise(field_name, plat_values, region).values,
    )


def run_population(
    pop: str | os.PathLike[str] | Any,
    params: PsiParams | None = None,
    *,
    field_name: str = "email",
    profile: str = "meta",
) -> PsiResult:
    """:func:`run` on a generated population's customers and platform users."""
    adv, plat = population_identifiers(pop, field_name, profile)
    return run(adv, plat, params, field_name=field_name)
