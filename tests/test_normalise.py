"""Platform profiles: published examples, rejection reasons, properties."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.errors import ConfigError
from matchsim.generate import CUSTOMERS_FILE, PLATFORM_FILE, Population
from matchsim.normalise import FIELDS, INPUT_COLUMNS, PROFILES, get_profile
from matchsim.normalise.phones import parse_one
from matchsim.schemes import get_scheme

PLATFORMS = json.loads((Path(__file__).parent / "vectors" / "platforms.json").read_text())


@pytest.mark.parametrize(
    "v", PLATFORMS["vectors"], ids=lambda v: f"{v['profile']}-{v['field']}-{v['input']}"
)
def test_published_examples(v: dict[str, str | None]) -> None:
    profile = get_profile(str(v["profile"]))
    out = profile.normalise(str(v["field"]), pa.array([v["input"]]), str(v["region"]))
    assert out.values[0].as_py() == v["normalised"]
    if "rejected" in v:
        assert out.rejected[0] and out.reasons[0].as_py() == v["rejected"]
    if v["hash"] is not None:
        scheme = get_scheme("sha256", encoding=profile.encoding)
        assert scheme.to_text(scheme.encode(out.values))[0].as_py() == v["hash"]


@pytest.mark.parametrize("d", PLATFORMS["digests"], ids=lambda d: d["normalised"])
def test_published_digests(d: dict[str, str]) -> None:
    scheme = get_scheme("sha256", encoding=d["encoding"])
    assert scheme.to_text(scheme.encode(pa.array([d["normalised"]])))[0].as_py() == d["hash"]


def test_registry_and_contract_shape() -> None:
    assert list(PROFILES) == [
        "meta", "meta-sdk", "google", "google-ads-legacy", "uid2", "tiktok", "x",
        "linkedin", "snapchat", "pinterest",
    ]  # fmt: skip
    for p in PROFILES.values():
        assert set(p.fields) <= set(FIELDS)
        assert p.phone_style in ("e164", "digits", None)
        assert (p.phone_style is None) == ("phone" not in p.fields)
    assert get_profile("meta").fields["madid"].hashed is False
    assert get_profile("google").fields["country"].hashed is False
    assert get_profile("linkedin").fields["first_name"].hashed is False
    assert get_profile("meta").columns[:4] == ["EMAIL", "PHONE", "FN", "LN"]
    assert get_profile("google").columns[:4] == ["Email", "Phone", "First Name", "Last Name"]


def test_unknown_profile_and_field() -> None:
    with pytest.raises(ConfigError, match=r"^unknown profile 'myspace'; known profiles: meta, "):
        get_profile("myspace")
    with pytest.raises(ConfigError, match=r"^profile uid2 takes no first_name; it takes: email"):
        get_profile("uid2").normalise("first_name", pa.array(["a"]), "NL")
    with pytest.raises(ConfigError, match=r"^unknown field 'shoe_size'"):
        get_profile("meta").normalise("shoe_size", pa.array(["a"]), "NL")


def test_dutch_phone_formats_and_styles() -> None:
    typed = ["06-12345678", "+31 (0)6 12345678", "0031 6 12345678", "06 1234 5678",
             "+31612345678", "0612345678"]  # fmt: skip
    meta = get_profile("meta").normalise("phone", pa.array(typed), "NL")
    google = get_profile("google").normalise("phone", pa.array(typed), "NL")
    assert set(meta.values.to_pylist()) == {"31612345678"}
    assert set(google.values.to_pylist()) == {"+31612345678"}
    sdk = get_profile("meta-sdk").normalise("phone", pa.array(typed), "NL")
    assert sdk.values.to_pylist()[0] == "612345678"  # no country code: never matches
    x = get_profile("x").normalise("phone", pa.array(["06-12345678", "0031612345678"]), "NL")
    assert x.values.to_pylist() == ["612345678", "31612345678"]


def test_rejections_carry_reasons_and_missing_is_not_rejected() -> None:
    meta = get_profile("meta")
    out = meta.normalise(
        "email", pa.array(["a@b.nl", "no-at-sign", None, "  ", "a@@b.nl", "@b.nl"]), "NL"
    )
    assert out.values.to_pylist() == ["a@b.nl", None, None, None, None, None]
    assert out.rejected.tolist() == [False, True, False, False, True, True]
    assert out.reasons.to_pylist() == [
        None,
        "no @",
        None,
        None,
        "more than one @",
        "empty local part",
    ]
    phone = meta.normalise("phone", pa.array(["12", "+31 6 1234", "bellen!"]), "NL")
    assert phone.rejected.all()
    invalid = "not a valid number for region NL"
    assert phone.reasons.to_pylist() == [invalid, invalid, "not a phone number"]


def test_google_accepts_bad_values_that_never_match() -> None:
    google = get_profile("google")
    out = google.normalise("phone", pa.array(["12", "06-12345678"]), "NL")
    assert not out.rejected.any()
    assert out.values.to_pylist() == ["+12", "+31612345678"]
    assert out.unmatchable.tolist() == [True, False]
    assert out.reasons[0].as_py() == "accepted, never matches: not a valid number for region NL"


def test_email_rules_differ_per_platform() -> None:
    value = pa.array([" Jan.de.Jong+zorg@GoogleMail.com ", "jan.dejong+zorg@hotmail.com"])
    got = {p: get_profile(p).normalise("email", value, "NL").values.to_pylist() for p in
           ("meta", "google", "google-ads-legacy", "uid2", "tiktok")}  # fmt: skip
    assert got["meta"] == ["jan.de.jong+zorg@googlemail.com", "jan.dejong+zorg@hotmail.com"]
    assert got["google"] == ["jandejong@googlemail.com", "jan.dejong+zorg@hotmail.com"]
    assert got["google-ads-legacy"] == [
        "jandejong+zorg@googlemail.com",
        "jan.dejong+zorg@hotmail.com",
    ]
    assert got["uid2"] == ["jan.de.jong+zorg@googlemail.com", "jan.dejong+zorg@hotmail.com"]
    assert got["tiktok"] == ["jan.de.jong@googlemail.com", "jan.dejong@hotmail.com"]


def test_meta_sdk_passes_digests_and_does_not_fold_gender() -> None:
    sdk = get_profile("meta-sdk")
    digest = hashlib.sha256(b"a@b.nl").hexdigest()
    out = sdk.normalise("email", pa.array([digest.upper(), ".a@b.nl."]), "NL")
    assert out.values.to_pylist() == [digest, "a@b.nl"]
    assert out.prehashed.tolist() == [True, False]
    assert sdk.normalise("gender", pa.array(["Female"]), "NL").rejected[0]
    assert (
        get_profile("meta").normalise("gender", pa.array(["Female"]), "NL").values[0].as_py() == "f"
    )
    assert sdk.normalise("country", pa.array(["Netherlands"]), "NL").rejected[0]
    assert (
        get_profile("meta").normalise("country", pa.array(["Netherlands"]), "NL").values[0].as_py()
        == "nl"
    )


def test_other_meta_fields() -> None:
    meta = get_profile("meta")
    assert meta.normalise("postcode", pa.array(["94035-1234"]), "US").values[0].as_py() == "94035"
    assert meta.normalise("postcode", pa.array(["3134 VM"]), "NL").values[0].as_py() == "3134vm"
    assert meta.normalise("city", pa.array(["Menlo Park"]), "US").values[0].as_py() == "menlopark"
    assert meta.normalise("dob", pa.array(["1997-02-16"]), "US").values[0].as_py() == "19970216"
    assert meta.normalise("dob", pa.array(["16-02-1997"]), "US").rejected[0]
    madid = meta.normalise("madid", pa.array(["AB3E5F2A-1C4D-4E6F-8A9B-0C1D2E3F4A5B", "x"]), "US")
    assert madid.values.to_pylist() == ["ab3e5f2a-1c4d-4e6f-8a9b-0c1d2e3f4a5b", None]


def test_nfc_before_hashing() -> None:
    nfd = unicodedata.normalize("NFD", "Valéry")
    out = get_profile("meta").normalise("first_name", pa.array([nfd]), "NL")
    assert out.values[0].as_py() == unicodedata.normalize("NFC", "valéry")


@pytest.mark.parametrize("profile", list(PROFILES))
def test_populations_normalise_without_surprises(profile: str, nl_population: Population) -> None:
    prof = get_profile(profile)
    for name in (CUSTOMERS_FILE, PLATFORM_FILE):
        table = pq.read_table(nl_population.out / name)
        for f in prof.fields:
            out = prof.normalise(f, table[INPUT_COLUMNS[f]], "NL")
            assert len(out.values) == table.num_rows
            if name == PLATFORM_FILE and f in ("email", "phone"):
                assert not out.rejected.any(), (profile, f)  # the platform's data is clean


def test_us_platform_phones_take_the_fast_path(us_population: Population) -> None:
    parse_one.cache_clear()
    phones = pq.read_table(us_population.out / PLATFORM_FILE)["phone"]
    out = get_profile("google").normalise("phone", phones, "US")
    assert parse_one.cache_info().currsize == 0  # every E.164 value skipped the parser
    assert (
        out.values.is_valid().to_numpy(zero_copy_only=False) == phones.is_valid().to_numpy()
    ).all()


# ----------------------------------------------------------------------- properties

_phone = st.from_regex(r"\+?[0-9 ()\-]{6,16}", fullmatch=True)
_email = st.from_regex(r"[A-Za-z0-9._+ -]{1,12}@[A-Za-z]{1,8}\.(com|nl|gmail\.com)", fullmatch=True)
_FIELD_STRATEGY = {
    "email": st.one_of(
        _email, st.sampled_from(["x@gmail.com", " A.B+c@GMail.com "]), st.text(max_size=20)
    ),
    "phone": st.one_of(_phone, st.text(max_size=12)),
    "first_name": st.text(max_size=15),
    "last_name": st.text(max_size=15),
    "city": st.text(max_size=15),
    "state": st.text(max_size=5),
    "postcode": st.text(max_size=8),
    "country": st.sampled_from(["NL", "nl", "Netherlands", "us", "xx", ""]),
    "gender": st.sampled_from(["F", "m", "female", "x"]),
    "madid": st.uuids().map(str),
}  # fmt: skip
# meta-sdk's phone rule is the SDK's own code, which is not idempotent (see
# test_the_meta_sdk_phone_rule_is_not_idempotent): left out of the property.
_NOT_IDEMPOTENT = {("meta-sdk", "phone")}
_CASES = [
    (p, f)
    for p in PROFILES
    for f in PROFILES[p].fields
    if f in _FIELD_STRATEGY and (p, f) not in _NOT_IDEMPOTENT
]


def _also_national(value: str | None, region: str) -> bool:
    """A digits-only phone that a second pass reads as a valid national number of
    ``region`` other than itself (``612345678``: ``+61 2345678`` or NL ``06 12345678``):
    digits without a ``+`` are ambiguous, and the national reading wins (documented in
    :func:`matchsim.normalise.phones.international_where_rejected`)."""
    if value is None:
        return False
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return False
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.is_valid_number(number) and e164 != "+" + value


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_normalisation_is_idempotent(data: st.DataObject) -> None:
    profile, field = data.draw(st.sampled_from(_CASES))
    values = data.draw(st.lists(_FIELD_STRATEGY[field], min_size=1, max_size=6))
    prof = get_profile(profile)
    once = prof.normalise(field, pa.array(values, pa.string()), "NL")
    twice = prof.normalise(field, once.values, "NL")
    kept = ~once.rejected & ~once.unmatchable & ~once.prehashed
    if field == "phone" and prof.phone_style == "digits":
        kept &= ~np.array([_also_national(v, "NL") for v in once.values.to_pylist()], bool)
    a = np.array(once.values.to_pylist(), dtype=object)[kept]
    b = np.array(twice.values.to_pylist(), dtype=object)[kept]
    assert a.tolist() == b.tolist(), (profile, field)
    assert not twice.rejected[kept].any()


@pytest.mark.parametrize("profile", ["meta", "tiktok"])
def test_digits_with_the_country_code_are_read_as_international(profile: str) -> None:
    """``318000000`` is what a digits-only profile writes for NL ``0800 0000``; reading it
    back as the national ``0318 000000`` made normalisation not idempotent (found by
    hypothesis)."""
    prof = get_profile(profile)
    once = prof.normalise("phone", pa.array(["8000000", "0318000000"], pa.string()), "NL")
    assert once.values.to_pylist() == ["318000000", "31318000000"]
    twice = prof.normalise("phone", once.values, "NL")
    assert twice.values.to_pylist() == once.values.to_pylist()


@pytest.mark.parametrize("profile", ["meta", "tiktok"])
def test_digits_rejected_nationally_are_read_with_their_country_code(profile: str) -> None:
    """``+10000000`` passes the E.164 path (structure, not the number plan) and is written
    ``10000000``; read back as a Dutch number it was rejected, so a second pass lost it
    (found by hypothesis). Digits valid both ways stay national: ``+612345678`` is written
    ``612345678``, which a second pass reads as NL ``06 12345678``."""
    prof = get_profile(profile)
    once = prof.normalise("phone", pa.array(["+10000000", "10000000", "+612345678"]), "NL")
    assert once.values.to_pylist() == ["10000000", "10000000", "612345678"]
    assert not once.rejected.any()
    twice = prof.normalise("phone", once.values, "NL")
    assert twice.values.to_pylist() == ["10000000", "10000000", "31612345678"]
    assert _also_national("612345678", "NL") and not _also_national("10000000", "NL")


def test_the_meta_sdk_phone_rule_is_not_idempotent() -> None:
    """Meta's Python SDK strips a ``+`` and at most two leading zeros, and then up to two
    more in ``is_international_number`` (keeping the first result unchecked when a zero
    is still left), so each pass strips more; the profile reproduces that, which is why
    the idempotence property leaves it out."""
    sdk = get_profile("meta-sdk")
    once = sdk.normalise("phone", pa.array(["000000000", "+0031612345678"]), "NL")
    assert once.values.to_pylist() == ["0000000", "31612345678"]
    twice = sdk.normalise("phone", once.values, "NL")
    assert twice.values.to_pylist() == ["00000", "31612345678"]
    assert twice.rejected.tolist() == [False, False]


def _sdk_reference(value: str) -> str | None:
    """The SDK's phone steps restated with Python's ``re`` (the oracle for
    :func:`matchsim.normalise.phones.meta_sdk_phone`); None where the SDK raises."""
    data = value.lower().strip()
    if re.match(r"^[a-f0-9]{32}$", data) or re.match(r"^[a-f0-9]{64}$", data):
        return data
    data = re.sub(r"[\s\-()]", "", data)
    data = re.sub(r"^\+?0{0,2}", "", data)
    again = re.sub(r"^\+?0{0,2}", "", data)
    if again.startswith("0"):
        return data
    found = re.compile(r"^\d{1,4}\(?\d{2,3}\)?\d{4,}$").match(again)
    return found.group() if found else None


_SDK_CASES = [
    ("06-12345678", "612345678"),
    ("+1 (650) 555-1212", "16505551212"),
    ("650.555.1212", None),  # the SDK keeps the dots, then fails its own check
    ("000612345678", "612345678"),  # three zeros: two, then one more
    ("0000612345678", "612345678"),
    ("00000612345678", "000612345678"),  # a zero still left: kept unchecked
    ("++31612345678", "31612345678"),
    ("12345678901234567890", "12345678901234567890"),  # no upper bound
    ("00000x", "000x"),
    ("abc", None),
]


@pytest.mark.parametrize(("typed", "want"), _SDK_CASES)
def test_meta_sdk_phone_known_answers(typed: str, want: str | None) -> None:
    assert _sdk_reference(typed) == want  # the oracle says what the SDK says
    out = get_profile("meta-sdk").normalise("phone", pa.array([typed]), "NL")
    assert out.values.to_pylist() == [want]
    assert out.rejected.tolist() == [want is None]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789+-() .x\t\xa0\u2003\u0663ab", max_size=16),
                max_size=30))  # fmt: skip
def test_meta_sdk_phone_is_the_sdk_code(values: list[str]) -> None:
    out = get_profile("meta-sdk").normalise("phone", pa.array(values, pa.string()), "NL")
    for typed, got, rejected in zip(values, out.values.to_pylist(), out.rejected, strict=True):
        if typed.strip() == "":
            assert got is None and not rejected  # missing, not rejected
            continue
        want = _sdk_reference(typed)
        assert (got, bool(rejected)) == (want, want is None), typed


def test_a_no_break_space_is_a_space_in_places() -> None:
    # Hypothesis found "0\xa0:": punctuation removed left a no-break space at the edge,
    # which the second pass trimmed ("0\xa0" then "0"). Unicode spaces are removed too.
    meta = get_profile("meta")
    once = meta.normalise("city", pa.array(["0\xa0:", "Den\xa0Haag"], pa.string()), "NL")
    assert once.values.to_pylist() == ["0", "denhaag"]
    twice = meta.normalise("city", once.values, "NL")
    assert twice.values.to_pylist() == ["0", "denhaag"]


@pytest.mark.parametrize(
    ("profile", "values", "want"),
    [
        ("meta", ["0\x1f:", "\va.b\v"], ["0", "ab"]),
        ("meta-sdk", ["\vab.\v", "x(\x1f)"], ["ab", "x"]),
    ],
)
def test_place_trims_what_is_left_at_an_edge(
    profile: str, values: list[str], want: list[str]
) -> None:
    """A control "space" (\\x1f, \\v) left at an edge once punctuation is gone is trimmed in
    the first pass, as the second would trim it (hypothesis found ``'0\\x1f:'``)."""
    prof = get_profile(profile)
    once = prof.normalise("city", pa.array(values, pa.string()), "NL")
    twice = prof.normalise("city", once.values, "NL")
    assert once.values.to_pylist() == twice.values.to_pylist() == want
