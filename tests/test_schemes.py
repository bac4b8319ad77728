"""Schemes: standard known answers (RFC 4231/6070/7914/9106), encodings, properties."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.errors import ConfigError, SecretError
from matchsim.schemes import (
    SCHEMES,
    Digests,
    NotEnumerable,
    get_scheme,
    kdf,
    scheme_from_config,
)
from matchsim.schemes.keyed import hmac_sha256
from matchsim.schemes.salted import SALT_BYTES
from matchsim.schemes.uid2 import UID2, bucket_of, linkability
from matchsim.secrets import Secret

VECTORS = Path(__file__).parent / "vectors"
RFC4231 = json.loads((VECTORS / "rfc4231_hmac_sha256.json").read_text())
KDF = json.loads((VECTORS / "kdf.json").read_text())
KEY = Secret(b"k" * 32, "test")
FAST = {"pbkdf2-sha256": {"iterations": 10}, "scrypt": {"n": 16}, "argon2id": {"memory": 8}}
CANONICAL = {
    "md5", "sha1", "sha256", "sha512", "pepper-sha256", "hmac-sha256", "salted-sha256",
    "pbkdf2-sha256", "scrypt", "argon2id", "truncated-sha256", "uid2",
}  # fmt: skip


def make(name: str, secret: Secret | None = KEY, **params: object):  # type: ignore[no-untyped-def]
    cls = SCHEMES[name]
    return get_scheme(
        name, secret=secret if cls.needs_secret else None, **{**FAST.get(name, {}), **params}
    )


def available(name: str) -> bool:
    return name != "argon2id" or kdf.argon2_available()


def test_registry_holds_the_canonical_names() -> None:
    assert set(SCHEMES) == CANONICAL
    for cls in SCHEMES.values():
        assert cls.threat, cls.name
        assert cls.__module__ and (cls.weak == cls.__module__.startswith("matchsim.schemes.weak"))


@pytest.mark.parametrize("vector", RFC4231["vectors"], ids=lambda v: f"case{v['case']}")
def test_rfc4231_hmac_sha256(vector: dict[str, str]) -> None:
    key = bytes.fromhex(vector["key_hex"])
    out = hmac_sha256(key, pa.array([bytes.fromhex(vector["data_hex"])], pa.binary()))
    assert out[0].tobytes().hex() == vector["mac"]
    scheme = get_scheme("hmac-sha256", secret=Secret(key))
    data = pa.array([bytes.fromhex(vector["data_hex"]).decode("latin-1")]).cast(pa.string())
    if data[0].as_py().isascii():
        assert scheme.to_text(scheme.encode(data))[0].as_py() == vector["mac"]


@pytest.mark.parametrize(
    "vector", KDF["pbkdf2_sha256"]["vectors"], ids=lambda v: str(v["iterations"])
)
def test_rfc7914_pbkdf2_sha256(vector: dict[str, object]) -> None:
    key = kdf.pbkdf2_sha256(
        str(vector["password"]).encode(), str(vector["salt"]).encode(),
        int(vector["iterations"]), int(vector["length"]),  # type: ignore[call-overload]
    )  # fmt: skip
    assert key.hex() == vector["key"]


@pytest.mark.parametrize(
    "vector", KDF["pbkdf2_sha256"]["vectors"], ids=lambda v: str(v["iterations"])
)
def test_pbkdf2_scheme_reproduces_rfc7914(vector: dict[str, object]) -> None:
    # The whole scheme path (secret as salt, dedupe, derive, scatter back), not only the
    # primitive: PBKDF2's first 32-byte block is the first half of the 64-byte vector.
    password = str(vector["password"])
    scheme = get_scheme(
        "pbkdf2-sha256",
        secret=Secret(str(vector["salt"]).encode(), "test"),
        iterations=int(vector["iterations"]),  # type: ignore[call-overload]
    )
    digests = scheme.encode(pa.array([password, password + "!", password])).data
    expected = str(vector["key"])[:64]
    assert [bytes(d).hex() for d in digests[[0, 2]]] == [expected, expected]
    assert bytes(digests[1]).hex() != expected


@pytest.mark.parametrize("vector", KDF["scrypt"]["vectors"], ids=lambda v: str(v["n"]))
def test_rfc7914_scrypt(vector: dict[str, object]) -> None:
    key = kdf.scrypt(
        str(vector["password"]).encode(), str(vector["salt"]).encode(), int(vector["n"]),  # type: ignore[call-overload]
        int(vector["r"]), int(vector["p"]), int(vector["length"]),  # type: ignore[call-overload]
    )  # fmt: skip
    assert key.hex() == vector["key"]


@pytest.mark.skipif(not kdf.argon2_available(), reason="cryptography < 44 has no Argon2id")
def test_rfc9106_argon2id() -> None:
    v = KDF["argon2id"]["vectors"][0]
    key = kdf.argon2id(
        bytes.fromhex(v["password_hex"]), bytes.fromhex(v["salt_hex"]), v["memory"],
        v["iterations"], v["lanes"], v["length"], bytes.fromhex(v["secret_hex"]),
        bytes.fromhex(v["ad_hex"]),
    )  # fmt: skip
    assert key.hex() == v["key"]


def test_plain_schemes_match_hashlib_in_every_encoding() -> None:
    values = pa.array(["user@example.com", None, "valéry"])
    for name in ("md5", "sha1", "sha256", "sha512"):
        for encoding in ("hex", "HEX", "base64"):
            scheme = get_scheme(name, encoding=encoding)
            text = scheme.to_text(scheme.encode(values)).to_pylist()
            raw = hashlib.new(name, b"user@example.com").digest()
            expected = {"hex": raw.hex(), "HEX": raw.hex().upper()}.get(
                encoding, base64.b64encode(raw).decode()
            )
            assert text[0] == expected
            assert text[1] is None
            back = scheme.from_text(pa.array(text))
            assert back.valid.tolist() == [True, False, True]
            assert back.data[0].tobytes() == raw


def test_from_text_rejects_malformed_digests() -> None:
    hex_ = get_scheme("sha256")
    good = hashlib.sha256(b"x").hexdigest()
    texts = pa.array([good, good.upper(), good[:-1], "z" * 64, None, good + "0"])
    assert hex_.from_text(texts).valid.tolist() == [True, False, False, False, False, False]
    b64 = get_scheme("sha256", encoding="base64")
    ok = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    bad_pad = ok[:-1] + "A"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    # Same 256 bits, but one of the two unused low bits of the last character set.
    non_canonical = ok[:-2] + alphabet[alphabet.index(ok[-2]) ^ 1] + "="
    checks = b64.from_text(pa.array([ok, bad_pad, "!" * 44, non_canonical]))
    assert checks.valid.tolist() == [True, False, False, False]


def test_pepper_and_hmac_known_constructions() -> None:
    secret = Secret(b"pepper")
    value = pa.array(["31612345678"])
    append = get_scheme("pepper-sha256", secret=secret)
    prepend = get_scheme("pepper-sha256", secret=secret, position="prepend")
    assert append.encode(value).data[0].tobytes() == hashlib.sha256(b"31612345678pepper").digest()
    assert prepend.encode(value).data[0].tobytes() == hashlib.sha256(b"pepper31612345678").digest()
    keyed = get_scheme("hmac-sha256", secret=secret)
    expected = hmac.new(b"pepper", b"31612345678", "sha256").digest()
    assert keyed.encode(value).data[0].tobytes() == expected


def test_truncated_keeps_k_bits_and_collides() -> None:
    scheme = get_scheme("truncated-sha256", bits=12)
    assert scheme.digest_size == 2
    out = scheme.encode(pa.array(["a"])).data[0]
    full = hashlib.sha256(b"a").digest()
    assert out[0] == full[0] and out[1] == full[1] & 0xF0
    tiny = get_scheme("truncated-sha256", bits=8)
    phones = [f"+3161234{i:04d}" for i in range(1000)]
    digests = tiny.encode(pa.array(phones)).data
    # 1000 phones into 256 buckets: every phone gets its SHA-256's first byte, so
    # distinct phones share a digest (collisions).
    first = [hashlib.sha256(p.encode()).digest()[0] for p in phones]
    assert digests.shape == (1000, 1) and digests[:, 0].tolist() == first


def test_kdf_schemes_are_deterministic_and_follow_the_salt() -> None:
    values = pa.array(["a@x.nl", "b@x.nl", "a@x.nl"])
    for name in ("pbkdf2-sha256", "scrypt", "argon2id"):
        if not available(name):
            continue
        one = make(name).encode(values).data
        assert (one[0] == one[2]).all() and not (one[0] == one[1]).all()
        other_salt = make(name, salt="another-salt").encode(values).data
        assert not (one[0] == other_salt[0]).all()
    expected = kdf.pbkdf2_sha256(b"a@x.nl", kdf.DEFAULT_SALT.encode(), 10)
    assert make("pbkdf2-sha256").encode(values).data[0].tobytes() == expected


def test_salted_scheme_never_matches_but_verifies() -> None:
    scheme = get_scheme("salted-sha256")
    values = pa.array(["a@x.nl"] * 50)
    first, second = scheme.encode(values), scheme.encode(values)
    assert not (first.data == second.data).all(axis=1).any()
    assert len({row.tobytes() for row in first.data}) == 50
    salt = first.data[0, :SALT_BYTES].tobytes()
    assert first.data[0, SALT_BYTES:].tobytes() == hashlib.sha256(salt + b"a@x.nl").digest()
    assert scheme.verify(first, values).all()  # type: ignore[attr-defined]
    assert not scheme.verify(first, pa.array(["b@x.nl"] * 50)).any()  # type: ignore[attr-defined]


def test_uid2_derivation_follows_the_operator_recipe() -> None:
    salt = b"first-level-salt"
    scheme = get_scheme("uid2", secret=Secret(salt))
    assert isinstance(scheme, UID2)
    value = "user@example.com"
    identity = base64.b64encode(hashlib.sha256(value.encode()).digest())
    assert identity == b"tMmiiTI7IaAcPpQPFQ65uMVCWH8av9jw4cwf/F5HVRQ="
    first = hashlib.sha256(identity + salt).digest()
    fl = scheme.first_level(pa.array([value]))
    assert fl[0].tobytes() == first
    bucket = (first[0] << 12) | (first[1] << 4) | (first[2] & 0x0F)
    assert bucket_of(fl)[0] == bucket
    bucket_salt = scheme.schedule.salts(np.array([bucket]), np.array([0]))[0].as_py()
    raw = hashlib.sha256(base64.b64encode(first) + bucket_salt.encode()).digest()
    text = scheme.to_text(scheme.encode(pa.array([value])))[0].as_py()
    assert text == base64.b64encode(raw).decode() and len(text) == 44


def test_uid2_rotation_linkability_is_measured() -> None:
    scheme = get_scheme("uid2", secret=Secret(b"s"), bucket_bits=12)
    values = pa.array([f"person{i}@example.com" for i in range(4000)])
    report = linkability(scheme, values, [0, 1, 90, 180, 365])  # type: ignore[arg-type]
    assert report.same_raw_id[0] == 1.0 and report.same_raw_id[-1] == 0.0
    assert report.same_raw_id[2] == pytest.approx(1 - 90 / 365, abs=0.03)
    assert report.same_raw_id[3] == pytest.approx(1 - 180 / 365, abs=0.03)
    assert report.resolvable[2] == 1.0  # rotated within the 90-day grace period
    assert report.resolvable[3] == pytest.approx(report.same_raw_id[2], abs=0.03)
    assert report.relinked_by_first_level == (1.0,) * 5
    assert report.rotated_buckets_per_day == pytest.approx(1 / 365, rel=0.3)


def test_unknown_scheme_parameter_and_missing_secret() -> None:
    with pytest.raises(ConfigError, match=r"unknown scheme 'rot13'; known schemes: argon2id"):
        get_scheme("rot13")
    with pytest.raises(ConfigError, match=r"scheme sha256: unknown parameter\(s\) rounds"):
        get_scheme("sha256", rounds=3)
    with pytest.raises(ConfigError, match="encoding must be one of hex, HEX, base64"):
        get_scheme("sha256", encoding="b32")
    with pytest.raises(SecretError, match="scheme hmac-sha256 needs a secret key"):
        get_scheme("hmac-sha256")
    with pytest.raises(ConfigError, match="n must be a power of two"):
        get_scheme("scrypt", n=1000)


def test_scheme_from_toml_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHSIM_KEY", "topsecret")
    scheme = scheme_from_config({"name": "hmac-sha256", "key_env": "MATCHSIM_KEY"})
    out = scheme.encode(pa.array(["x"])).data[0].tobytes()
    assert out == hmac.new(b"topsecret", b"x", "sha256").digest()
    assert "topsecret" not in repr(scheme) and "topsecret" not in str(scheme.describe())
    monkeypatch.delenv("MATCHSIM_KEY")
    with pytest.raises(SecretError, match=r"^environment variable MATCHSIM_KEY holding the key"):
        scheme_from_config({"name": "hmac-sha256", "key_env": "MATCHSIM_KEY"})
    with pytest.raises(SecretError, match="needs a secret: set key_file or key_env"):
        scheme_from_config({"name": "pepper-sha256"})
    assert scheme_from_config({"name": "pbkdf2-sha256", "iterations": 5}).params["iterations"] == 5


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_null_input_gives_invalid_zero_rows(name: str) -> None:
    if not available(name):
        pytest.skip("cryptography < 44 has no Argon2id")
    digests = make(name).encode(pa.array([None, "a@b.nl"], pa.string()))
    assert isinstance(digests, Digests)
    assert digests.valid.tolist() == [False, True]
    assert not digests.data[0].any()
    assert digests.data.shape == (2, make(name).digest_size)


# ----------------------------------------------------------------------- properties

_texts = st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=8)
_DETERMINISTIC = sorted(n for n in CANONICAL if SCHEMES[n].deterministic and available(n))


@settings(max_examples=25, deadline=None)
@given(_texts, st.sampled_from(_DETERMINISTIC))
def test_encoding_is_deterministic_per_key(values: list[str], name: str) -> None:
    array = pa.array(values)
    a, b = make(name).encode(array), make(name).encode(array)
    assert (a.data == b.data).all()
    scheme = make(name)
    assert (scheme.from_text(scheme.to_text(a)).data == a.data).all()


@settings(max_examples=25, deadline=None)
@given(_texts, st.sampled_from([n for n in _DETERMINISTIC if SCHEMES[n].needs_secret]))
def test_two_keys_give_unlinkable_outputs(values: list[str], name: str) -> None:
    array = pa.array(values)
    one = make(name, secret=Secret(b"key-one")).encode(array).data
    two = make(name, secret=Secret(b"key-two")).encode(array).data
    shared = {r.tobytes() for r in one} & {r.tobytes() for r in two}
    assert not shared


@settings(max_examples=25, deadline=None)
@given(_texts)
def test_per_record_salt_never_matches(values: list[str]) -> None:
    scheme = get_scheme("salted-sha256")
    a = {r.tobytes() for r in scheme.encode(pa.array(values)).data}
    b = {r.tobytes() for r in scheme.encode(pa.array(values)).data}
    assert not a & b


# --- what the registry tells other stages ---------------------------------------------

KIND = {"md5": "plain", "sha1": "plain", "sha256": "plain", "sha512": "plain",
        "truncated-sha256": "plain", "pepper-sha256": "keyed", "hmac-sha256": "keyed",
        "salted-sha256": "salted", "pbkdf2-sha256": "kdf", "scrypt": "kdf", "argon2id": "kdf",
        "uid2": "operator"}  # fmt: skip


def test_every_scheme_says_what_it_is() -> None:
    from matchsim.schemes import KINDS

    assert {name: cls.kind for name, cls in SCHEMES.items()} == KIND
    assert set(KIND.values()) == set(KINDS)


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_upload_encoding_is_the_profiles_unless_the_scheme_has_its_own(name: str) -> None:
    cls = SCHEMES[name]
    own = "base64" if name == "uid2" else None
    assert cls.own_encoding == own
    assert cls.upload_params({}, "HEX") == {"encoding": own or "HEX"}
    assert cls.upload_params({"encoding": "hex", "x": 1}, "HEX") == {"encoding": "hex", "x": 1}


def _reversed(scheme_name: str, knows_secret: bool, **params: object) -> list[str | None]:
    """Hash three values under the scheme; reverse them with the scheme's attacker view."""
    from matchsim.attack import parse_digests, reverse, words_keyspace

    scheme = make(scheme_name, **params)
    values = pa.array(["31612345678", "31687654321", "31600000000"])
    digests = scheme.encode(values)
    view = scheme.attacker_view(knows_secret)
    assert not isinstance(view, NotEnumerable)
    targets = parse_digests(scheme.to_text(digests))
    guesses = words_keyspace("guesses", pa.array(["x", "31687654321", "31612345678"]))
    result = reverse(targets, guesses, view)
    plain = dict(zip(targets.rows.tolist(), result.row_plaintext().to_pylist(), strict=True))
    return [plain.get(i) for i in range(3)]


@pytest.mark.parametrize(
    ("name", "params"),
    [("sha256", {}), ("md5", {}), ("hmac-sha256", {}), ("pepper-sha256", {}),
     ("pepper-sha256", {"position": "prepend"})],
)  # fmt: skip
def test_attacker_view_reverses_with_the_secret(name: str, params: dict[str, object]) -> None:
    assert _reversed(name, True, **params) == ["31612345678", "31687654321", None]


@pytest.mark.parametrize("name", ["hmac-sha256", "pepper-sha256", "uid2"])
def test_without_the_secret_the_attacker_recovers_nothing(name: str) -> None:
    assert _reversed(name, False) == [None, None, None]


@pytest.mark.parametrize("name", ["salted-sha256", "pbkdf2-sha256", "scrypt", "argon2id"])
def test_schemes_enumeration_cannot_reverse_say_why(name: str) -> None:
    if not available(name):
        pytest.skip(f"{name} not available")
    for knows in (False, True):
        view = make(name).attacker_view(knows)
        assert isinstance(view, NotEnumerable) and view.reason


def test_no_stage_outside_schemes_tests_a_scheme_name() -> None:
    import ast

    root = Path(__file__).resolve().parent.parent / "matchsim"

    def strings(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [s for e in node.elts for s in strings(e)]
        return []

    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("schemes/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                for side in (node.left, *node.comparators):
                    found += [(rel, s, node.lineno) for s in strings(side) if s in SCHEMES]
    assert found == []


def test_one_reference_scheme_and_the_kernel_names_its_algorithm() -> None:
    from matchsim.kernels.attack import mask

    assert [name for name, cls in SCHEMES.items() if cls.reference] == ["sha256"]
    assert mask.ALGORITHMS[SCHEMES["sha256"].algorithm] == mask.ALGO_SHA256  # type: ignore[attr-defined]


def test_every_scheme_prices_itself_and_the_catalogue_covers_the_registry() -> None:
    from matchsim.attack.cost import CATALOGUE, Rates

    assert sorted(CATALOGUE) == sorted(SCHEMES)
    rates = Rates(measure=False, measured={"sha256": 2e7, "pbkdf2-sha256": 10.0})
    for name, cls in SCHEMES.items():
        price = cls.price(rates, {**cls.defaults, "iterations": 1000, "n": 16384})
        assert price.scheme == name
        assert price.reversible == (cls.kind not in ("salted", "operator")), name
        assert price.reversible or price.reason
    pb = SCHEMES["pbkdf2-sha256"].price(rates, {"iterations": 999})
    assert pb.measured_rate == 10.0
    assert pb.reference["RTX 4090 (hashcat 6.2.6)"] == pytest.approx(8.87e6)
