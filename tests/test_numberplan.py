"""Number plans from phonenumbers metadata: shapes, sizes, validity of every shape."""

from __future__ import annotations

import numpy as np
import phonenumbers
import pytest

from matchsim.errors import ConfigError
from matchsim.generate.phones import E164, render, sample_numbers
from matchsim.locale.numberplan import expand_pattern, number_plan


def test_expand_pattern_known_answers() -> None:
    assert expand_pattern(r"6[1-58]\d{2}") == [("6", "123458", "0123456789", "0123456789")]
    assert expand_pattern(r"(?:12|3)4?") == [("1", "2"), ("1", "2", "4"), ("3",), ("3", "4")]
    with pytest.raises(ValueError, match="unbounded"):
        expand_pattern(r"1\d*")


def test_nl_mobile_plan_is_the_06_range() -> None:
    plan = number_plan("NL", "mobile", (9,))
    # 6[1-58] followed by 7 free digits: six second digits x 10^7
    assert plan.size == 6 * 10**7
    assert plan.country_code == 31 and plan.national_prefix == "0"
    assert set(plan.ndc_lengths) == {1}


def test_us_plan_is_nanp_sized() -> None:
    plan = number_plan("US", "mobile")
    assert 10**9 < plan.size < 10**10
    assert set(plan.ndc_lengths) == {3}


@pytest.mark.parametrize(
    ("region", "number_type", "lengths"),
    [
        ("NL", "mobile", (9,)),
        ("NL", "fixed_line", None),
        ("US", "mobile", None),
        ("GB", "mobile", None),
        ("DE", "mobile", None),
        ("BE", "fixed_line", None),
    ],
)
def test_every_shape_yields_valid_numbers(
    region: str, number_type: str, lengths: tuple[int, ...] | None
) -> None:
    plan = number_plan(region, number_type, lengths)
    rng = np.random.default_rng(0)
    nums = sample_numbers(rng, [plan], np.zeros(3000, dtype=np.int64))
    expected = getattr(phonenumbers.PhoneNumberType, number_type.upper())
    for text in render(nums, [E164]).to_pylist():
        parsed = phonenumbers.parse(text)
        assert phonenumbers.is_valid_number_for_region(parsed, region), text
        assert phonenumbers.number_type(parsed) in (
            expected,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ), text


def test_unknown_region_and_missing_type() -> None:
    with pytest.raises(ConfigError, match="unknown region"):
        number_plan("XX")
    with pytest.raises(ConfigError, match="no personal_number"):
        number_plan("NL", "personal_number")


def test_human_formats_parse_back_to_the_same_number() -> None:
    plans = [number_plan("NL", "mobile", (9,)), number_plan("NL", "fixed_line", (9,))]
    rng = np.random.default_rng(3)
    nums = sample_numbers(rng, plans, rng.integers(0, 2, 2000))
    e164 = render(nums, [E164]).to_pylist()
    templates = [
        "{trunk}{ndc}-{sub}",
        "{trunk}{ndc} {sub_h}",
        "+{cc} ({trunk}){ndc} {sub}",
        "00{cc} {ndc} {sub}",
    ]
    for k, template in enumerate(templates):
        typed = render(nums, [template]).to_pylist()
        for t, e in zip(typed, e164, strict=True):
            parsed = phonenumbers.parse(t, "NL")
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e, (
                k,
                t,
            )
