"""ECDH-PSI: RFC 9380 known answers, exact intersection, and what crosses the wire."""

from __future__ import annotations

import hashlib
import os

import pyarrow as pa
import pytest

from matchsim import psi
from matchsim.errors import ConfigError
from matchsim.generate import Population
from matchsim.psi import curve

# RFC 9380 Appendix J.7.2, suite curve25519_XMD:SHA-512_ELL2_NU_ (u0, Q.x, P.x; hex of
# field elements, big-endian as printed in the RFC).
RFC9380_DST = b"QUUX-V01-CS02-with-curve25519_XMD:SHA-512_ELL2_NU_"
RFC9380_NU = [
    (
        b"",
        "608d892b641f0328523802a6603427c26e55e6f27e71a91a478148d45b5093cd",
        "51125222da5e763d97f3c10fcc92ea6860b9ccbbd2eb1285728f566721c1e65b",
        "1bb913f0c9daefa0b3375378ffa534bda5526c97391952a7789eb976edfe4d08",
    ),
    (
        b"abc",
        "46f5b22494bfeaa7f232cc8d054be68561af50230234d7d1d63d1d9abeca8da5",
        "7d56d1e08cb0ccb92baf069c18c49bb5a0dcd927eff8dcf75ca921ef7f3e6eeb",
        "7c22950b7d900fa866334262fcaea47a441a578df43b894b4625c9b450f9a026",
    ),
]


@pytest.mark.parametrize(("msg", "u0", "qx", "px"), RFC9380_NU)
def test_hash_to_curve_matches_rfc9380_vectors(msg: bytes, u0: str, qx: str, px: str) -> None:
    fe = curve._field_elements([msg], RFC9380_DST)[0]
    assert fe == int(u0, 16)
    q = curve.map_to_u([fe])[0]
    assert q == int(qx, 16)
    assert curve.clear_cofactor_u(q) == int(px, 16)
    assert curve.encode_to_u([msg], RFC9380_DST)[0] == q.to_bytes(32, "little")


def test_elligator_lands_on_the_curve_and_a_naive_map_leaks_a_bit_through_blinding() -> None:
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )

    msgs = [f"user{i}@example.nl".encode() for i in range(64)]
    assert all(curve.on_curve(int.from_bytes(u, "little")) for u in curve.encode_to_u(msgs))
    # "SHA-256 as u": roughly half land on the twist, and blinding keeps the side.
    key = X25519PrivateKey.generate()
    naive = [hashlib.sha256(m).digest() for m in msgs]
    # X25519 ignores the top bit of u (RFC 7748), then reduces mod p
    sides = [curve.on_curve((int.from_bytes(u, "little") % 2**255) % curve.P) for u in naive]
    blinded = [key.exchange(X25519PublicKey.from_public_bytes(u)) for u in naive]
    assert 10 < sum(sides) < 54
    assert sides == [curve.on_curve(int.from_bytes(b, "little")) for b in blinded]


def _ids(prefix: str, lo: int, hi: int) -> list[str]:
    return [f"{prefix}{i}@example.nl" for i in range(lo, hi)]


@pytest.mark.parametrize("reveal", ["intersection", "cardinality"])
@pytest.mark.parametrize("receiver", ["platform", "advertiser"])
def test_psi_finds_exactly_the_plain_intersection(reveal: str, receiver: str) -> None:
    adv = [*_ids("c", 0, 300), None, "c1@example.nl"]  # null and duplicate dropped
    plat = _ids("c", 150, 700)
    r = psi.run(adv, plat, psi.PsiParams(reveal=reveal, receiver=receiver, test_seed=3))
    assert r.advertiser_items == 300 and r.platform_items == 550
    assert r.matched == r.plain_hash_matched == 150
    if reveal == "intersection":
        assert sorted(r.matched_items) == sorted(set(adv[:300]) & set(plat))
    else:
        assert r.matched_items == []
    d = r.to_dict()
    assert d["match_rate"] == d["plain_hash_match_rate"] == 0.5
    # every point crosses the wire once per blinding: |R| + (|R| + |S|) points
    n_r = 550 if receiver == "platform" else 300
    assert d["bytes_total"] == 32 * (2 * n_r + (850 - n_r))


def test_psi_on_population_matches_plain_hashing(nl_population: Population) -> None:
    adv, plat = psi.population_identifiers(nl_population, "email", "meta")
    r = psi.run(adv, plat, psi.PsiParams(test_seed=1))
    plain = set(adv.drop_null().to_pylist()) & set(plat.drop_null().to_pylist())
    assert r.matched == len(plain) > 1000
    assert set(r.matched_items) == plain
    d = r.to_dict()
    assert d["bytes"]["advertiser_to_platform"] == 32 * (r.advertiser_items + r.platform_items)
    assert d["bytes"]["platform_to_advertiser"] == 32 * r.platform_items


def test_platform_receives_nothing_a_dictionary_could_test_and_runs_are_unlinkable() -> None:
    adv = _ids("c", 0, 200)
    plat = _ids("c", 100, 400)
    # The platform as *sender* (advertiser learns): it receives the advertiser's points.
    runs = [psi.run(adv, plat, psi.PsiParams(receiver="advertiser")) for _ in range(2)]
    guesses = set()
    for v in adv + plat:
        for algo in ("sha256", "sha1", "md5", "sha512"):
            d = hashlib.new(algo, v.encode()).digest()
            guesses.update({d, d[:32], d.hex().encode()[:32]})
    guesses.update(psi.encode_to_u([f"email\x1f{v}".encode() for v in adv + plat]))
    seen = []
    for r in runs:
        got = [p for m in r.received_by("platform") for p in m.points()]
        assert len(got) == 200
        assert not set(got) & guesses
        assert not any(g[:8] in m.payload for m in r.received_by("platform") for g in guesses)
        seen.append(set(got))
    assert not seen[0] & seen[1]  # fresh scalars: no value repeats across runs
    # As receiver, the platform gets only blinded points too.
    r = psi.run(adv, plat, psi.PsiParams())
    got = {p for m in r.received_by("platform") for p in m.points()}
    assert len(got) == 300 + 200 and not got & guesses


def test_secrets_never_show(capsys: pytest.CaptureFixture[str]) -> None:
    r = psi.run(_ids("a", 0, 5), _ids("a", 2, 8), psi.PsiParams(test_seed=9))
    text = repr(r) + str(r.to_dict())
    for who in ("advertiser", "platform"):
        scalar = psi.protocol._scalar(9, who)
        assert scalar.hex() not in text and repr(scalar) not in text
    assert "@" not in str(r.to_dict())
    assert os.urandom(32) != psi.protocol._scalar(None, "platform")


def test_params_from_dict_reports_every_problem() -> None:
    with pytest.raises(ConfigError) as exc:
        psi.PsiParams.from_dict({"reveal": "all", "receiver": "nobody", "k": 1}, "scheme.psi")
    assert exc.value.problems == [
        "scheme.psi: unknown key 'k' (known keys: receiver, reveal, test_seed)",
        "scheme.psi.reveal: must be one of intersection, cardinality, got 'all'",
        "scheme.psi.receiver: must be one of advertiser, platform, got 'nobody'",
    ]
    assert psi.PsiParams.from_dict({"reveal": "cardinality"}).reveal == "cardinality"


def test_accepts_arrow_input() -> None:
    r = psi.run(pa.array(["x", "y", None]), pa.chunked_array([["y", "z"]]))
    assert r.matched == 1 and r.matched_items == ["y"]
