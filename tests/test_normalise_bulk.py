"""The bulk normalising paths (home-region phones, the e-mail split) give exactly what
the per-value or regular-expression paths they replace give."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from matchsim.normalise import phones
from matchsim.normalise.phones_home import home_plan, parse_home

REGIONS = ["NL", "DE", "FR", "BE", "GB", "US", "IT", "AR", "MX", "CH", "AT", "SE"]
SEPARATORS = ["", " ", "-", ".", "(", ")", " (0)", "  ", "--"]


def _without_bulk_path(text: pa.Array, region: str) -> tuple[pa.Array, np.ndarray]:
    return pa.nulls(len(text), pa.string()), np.zeros(len(text), dtype=bool)


def _check(values: list[str | None], region: str) -> None:
    """Same E.164 and reasons as with every non-E.164 value parsed by ``phonenumbers``."""
    array = pa.array(values, pa.string())
    out, why = phones.to_e164(array, region)
    with patch.object(phones, "parse_home", _without_bulk_path):
        ref_out, ref_why = phones.to_e164(array, region)
    assert out.to_pylist() == ref_out.to_pylist()
    assert why.to_pylist() == ref_why.to_pylist()


@st.composite
def typed_numbers(draw: st.DrawFn) -> str:
    """Numbers as people type them: a lead (``+CC``, ``00CC``, ``0``, nothing), digits,
    separators anywhere between them."""
    lead = draw(st.sampled_from(["+31", "0031", "0", "", "+", "00", "+49", "0049", "+44", "000"]))
    digits = draw(st.text("0123456789", min_size=1, max_size=13))
    parts = [lead]
    for d in digits:
        parts.append(draw(st.sampled_from(SEPARATORS)) if draw(st.booleans()) else "")
        parts.append(d)
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["", " ", "#", " x12", ",", ";ext=1", ")"])))
    return "".join(parts)


def _examples(region: str) -> list[str]:
    """Real numbers of every type for the region, in each written format."""
    out = []
    for kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.VOIP,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
    ):
        number = phonenumbers.example_number_for_type(region, kind)
        if number is None:
            continue
        for fmt in (
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.E164,
        ):
            text = phonenumbers.format_number(number, fmt)
            out += [text, text.replace(" ", ""), text.replace(" ", "-"), "00" + text.lstrip("+")]
    return out


@pytest.mark.parametrize("region", REGIONS)
def test_real_numbers_of_every_type_match_phonenumbers(region: str) -> None:
    _check(_examples(region), region)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(typed_numbers(), min_size=1, max_size=40), st.sampled_from(REGIONS))
@example(["06-12345678", "+31 (0)6 12345678", "0031 6 12345678", "0800 1234"], "NL")
@example(["0031 0612345678", "+31 0 6 12345678", "00031612345678", "+310612345678"], "NL")
@example(["31612345678", "0612345678 x12", "06 1234 5678#", "+31612345678;ext=1"], "NL")
@example(["0612345678", "(06) 12345678", "06--12345678", "1234567890"], "NL")
def test_typed_numbers_match_phonenumbers(values: list[str], region: str) -> None:
    _check(values, region)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text("0123456789+-(). x#", max_size=20) | st.none(), min_size=1, max_size=30),
    st.sampled_from(REGIONS),
)
def test_adversarial_text_matches_phonenumbers(values: list[str | None], region: str) -> None:
    _check(values, region)


def test_well_formed_home_numbers_take_the_vectorised_path() -> None:
    """The bulk path is used (not only correct): every shape the NL locale writes."""
    values = ["06-12345678", "06 12 34 56 78", "0612345678", "+31 (0)6 12345678",
              "0031 6 12345678", "+31 6 12345678", "020-1234567"]  # fmt: skip
    e164, done = parse_home(pa.array(values), "NL")
    assert done.all()
    assert e164.to_pylist()[0] == "+31612345678"


def test_regions_where_the_bulk_parse_could_differ_have_no_plan() -> None:
    assert home_plan("NL") is not None
    assert home_plan("US") is None  # +1 is shared by many regions
    assert home_plan("GB") is None  # +44 is shared with GG, IM, JE
    assert home_plan("nl") is None  # not a region code phonenumbers knows as such
    assert home_plan("ZZ") is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text("ab@.\n +é") | st.none(), min_size=1, max_size=30))
def test_email_split_equals_the_regex_it_replaced(values: list[str | None]) -> None:
    """``fields.split_at`` gives what the e-mail normaliser's regular expression gave,
    field by field (empty strings where it did not match, nulls included)."""
    import pyarrow.compute as pc

    from matchsim.normalise.fields import split_at

    text = pa.array(values, pa.string())
    parts = pc.extract_regex(pc.fill_null(text, ""), r"^(?P<local>[^@]*)@(?P<domain>[^@]*)$")
    local, domain = split_at(text)
    assert local.to_pylist() == parts.field("local").to_pylist()
    assert domain.to_pylist() == parts.field("domain").to_pylist()


_EMAIL_ALPHABET = "aZ0@.+-_ \t\n\x0b\x0c\r\u00a0\u2003éİ"


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(_EMAIL_ALPHABET, max_size=12) | st.none(), min_size=1, max_size=30))
@example(["@", "", "a@", "@b.c", "a@@b.c", "a@b", "a@b.", "a@.b", "a@b..c", "a@b c.d", None])
@example(["a@b.c", "x@b\u00a0c.d", "x@b\u2003.d", "x@b\x0b.c", "İ@a.b", ".@a.b", "a@b.c\n"])
def test_email_without_local_rules_equals_the_split_path(values: list[str | None]) -> None:
    """With no local-part rule (Meta), ``_email_whole`` gives the values and reasons the
    split-and-rejoin path (``_email_parts`` with no rules; Google's path) gives, on
    random and adversarial input (whitespace RE2 does and does not count as ``\\s``,
    letters that lower-case to another length, nulls)."""
    import pyarrow.compute as pc

    from matchsim.normalise import fields, get_profile

    text = pc.utf8_lower(pa.array(values, pa.string()))
    reasons = fields._no_reasons(text)
    ats = pc.count_substring(text, "@")
    reasons = fields._reason_where(pc.equal(ats, 0), "no @", reasons)
    reasons = fields._reason_where(pc.greater(ats, 1), "more than one @", reasons)
    ref_out, ref_why = fields._email_parts(text, ats, reasons, (), ())
    out, why = fields._email_whole(text, reasons)
    assert why.to_pylist() == ref_why.to_pylist()
    assert (
        fields._finish(out, why).values.to_pylist()
        == fields._finish(ref_out, ref_why).values.to_pylist()
    )
    # the byte loop (the path the normaliser takes) gives both, nulls and types too
    fast_out, fast_why = fields._email_checked(text)
    assert fast_why.equals(why) and fast_why.type == why.type
    assert fast_out.equals(out)
    assert fields._email_checked(text.slice(1))[1].equals(why.slice(1))  # an offset buffer
    raw = pa.array(values, pa.string())
    for profile in ("meta", "meta-sdk"):  # the whole normaliser, with the old path patched in
        got = get_profile(profile).normalise("email", raw, "NL")
        with patch.object(fields, "_email_checked", _split_checked):
            ref = get_profile(profile).normalise("email", raw, "NL")
        assert got.values.to_pylist() == ref.values.to_pylist()
        assert got.reasons.to_pylist() == ref.reasons.to_pylist()
        assert got.rejected.tolist() == ref.rejected.tolist()
        assert got.prehashed.tolist() == ref.prehashed.tolist()


def _split_checked(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The split-and-rejoin path with the ``@`` count's reasons, as before the byte loop."""
    import pyarrow.compute as pc

    from matchsim.normalise import fields

    reasons = fields._no_reasons(text)
    ats = pc.count_substring(text, "@")
    reasons = fields._reason_where(pc.equal(ats, 0), "no @", reasons)
    reasons = fields._reason_where(pc.greater(ats, 1), "more than one @", reasons)
    return _split_path(text, reasons)


def _split_path(text: pa.Array, reasons: pa.Array) -> tuple[pa.Array, pa.Array]:
    import pyarrow.compute as pc

    from matchsim.normalise import fields

    return fields._email_parts(text, pc.count_substring(text, "@"), reasons, (), ())


@st.composite
def near_uuids(draw: st.DrawFn) -> str | None:
    """UUIDs and near misses: one character changed, cut, grown, upper-cased, a
    multi-byte or newline character in it; random text and nulls too."""
    import uuid

    base = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))
    how = draw(st.sampled_from(["same", "change", "cut", "grow", "upper", "text", "none"]))
    if how == "none":
        return None
    if how == "text":
        return draw(st.text("0123456789abcdefgABCDEF-\n é", max_size=40))
    if how == "change":
        at = draw(st.integers(0, 35))
        ch = draw(st.sampled_from("0af9g-A\né/:`@G"))
        return base[:at] + ch + base[at + 1 :]
    if how == "cut":
        return base[: draw(st.integers(0, 35))]
    if how == "grow":
        return base + draw(st.sampled_from(["\n", "0", "-", "é"]))
    return base.upper() if how == "upper" else base


@settings(max_examples=400, deadline=None)
@given(st.lists(near_uuids(), min_size=1, max_size=40), st.integers(0, 5))
def test_uuid_kernel_equals_the_regex(values: list[str | None], skip: int) -> None:
    """``kernels.textshape.lower_uuid`` gives what RE2 matching the MADID pattern gives
    (nulls as False), on sliced arrays too."""
    import pyarrow.compute as pc

    from matchsim.kernels.textshape import lower_uuid
    from matchsim.normalise.fields import _UUID

    array = pa.array(["x"] * skip + values, pa.string()).slice(skip)
    ref = pc.fill_null(pc.match_substring_regex(array, _UUID), False)
    assert lower_uuid(array).tolist() == ref.to_pylist()


_POSTCODE_ALPHABET = "1aZ -\t\n\x0b\x0c\r\x1c\x85\u00a0\u2003\u2010é_."


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.text(_POSTCODE_ALPHABET, max_size=12) | st.none(), min_size=1, max_size=30),
    st.integers(0, 9),
)
@example(["", None, " - ", "1234 AB", "1234-ab", "\x0b1\x85", "\u00a02\u2003"], 0)
def test_drop_ascii_equals_the_regex_it_replaced(values: list[str | None], skip: int) -> None:
    """``kernels.textshape.drop_ascii`` with RE2's ``\\s`` and ``-`` gives what the
    postcode normaliser's ``replace_substring_regex(values, "[\\s\\-]", "")`` gave, on
    whitespace RE2 does not count (``\\v``, Unicode spaces), nulls and sliced arrays."""
    import pyarrow.compute as pc

    from matchsim.kernels.textshape import drop_ascii
    from matchsim.normalise.fields import _RE2_SPACE

    array = pa.array([None, "x"] * skip + values, pa.string()).slice(2 * skip)
    got = drop_ascii(array, _RE2_SPACE + "-")
    got.validate(full=True)
    ref = pc.replace_substring_regex(array, r"[\s\-]", "")
    assert got.to_pylist() == ref.to_pylist()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(max_size=14) | st.text("0123456789 +-()٣", max_size=14) | st.none(),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 9),
)
@example(["", None, "06-1234 5678", "+31 (0)6 12", "٣٣\u00a01\U0001f4de2", "abc"], 3)
def test_keep_digits_equals_the_regex_it_replaced(values: list[str | None], skip: int) -> None:
    """``kernels.textshape.keep_digits`` gives what the phone normalisers'
    ``replace_substring_regex(values, "[^0-9]", "")`` gave: other scripts' digits and
    multi-byte characters go, nulls stay, sliced arrays are read at their offset."""
    import pyarrow.compute as pc

    from matchsim.kernels.textshape import keep_digits

    array = pa.array([None, "x1"] * skip + values, pa.string()).slice(2 * skip)
    got = keep_digits(array)
    got.validate(full=True)
    assert got.to_pylist() == pc.replace_substring_regex(array, r"[^0-9]", "").to_pylist()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.text("+0123456789 -é", max_size=18)
        | st.integers(0, 10**16).map(lambda n: f"+{n}")
        | st.sampled_from(["+31612345678", "+1", "+999123456789", "+0031612345678", "+2121234567"])
        | st.none(),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 5),
)
def test_e164_kernel_equals_the_regex_and_calling_codes(
    values: list[str | None], skip: int
) -> None:
    """``kernels.textshape.e164_known`` gives what the E.164 regex and the calling-code
    prefix test gave together (nulls as False), on sliced arrays too."""
    import pyarrow.compute as pc

    from matchsim.kernels.textshape import e164_known

    array = pa.array(["x"] * skip + values, pa.string()).slice(skip)
    ref = pc.fill_null(pc.match_substring_regex(array, phones._E164), False).to_numpy(
        zero_copy_only=False
    )
    ref = ref & phones._known_calling_code(pc.fill_null(array, ""))
    assert e164_known(array, phones._calling_code_table()).tolist() == ref.tolist()
