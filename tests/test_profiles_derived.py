"""Profile variants derive from their base (``meta-sdk`` from ``meta``,
``google-ads-legacy`` from ``google``) and equal, row for row, the tables they replaced."""

from __future__ import annotations

import pytest

from matchsim.normalise import PROFILES
from matchsim.normalise._profile import FieldRule, Profile
from matchsim.normalise.profiles import GMAIL, derive

R = FieldRule
_META_SDK_EMAIL = r"^[a-z0-9_.+-]+@[a-z0-9-]+\.[a-z0-9-.]+$"

# The two profiles as they were written out in full before they were derived.
WRITTEN_OUT = [
    Profile(
        name="meta-sdk",
        title="Meta's Python business SDK normaliser (what its code does)",
        source="github.com/facebook/facebook-python-business-sdk "
        "facebook_business/adobjects/serverside/normalize.py",
        phone_style="digits",
        fields={
            "email": R(
                "EMAIL",
                True,
                "email",
                {"strip_outer_dots": True, "pattern": _META_SDK_EMAIL, "pass_hashed": True},
            ),
            "phone": R("PHONE", True, "phone", {"sdk": True}),
            "first_name": R("FN", True, "name", {"strip_punctuation": False}),
            "last_name": R("LN", True, "name", {"strip_punctuation": False}),
            "dob": R("DOB", True, "dob"),
            "gender": R("GEN", True, "gender", {"fold": False}),
            "city": R("CT", True, "place", {"remove": r"[0-9.\s\p{Z}\-()]"}),
            "state": R("ST", True, "place", {"remove": r"[0-9.\s\p{Z}\-()]"}),
            "postcode": R("ZIP", True, "postcode", {"us_five": False}),
            "country": R("COUNTRY", True, "country", {"names": False}),
            "madid": R("MADID", False, "madid"),
        },
    ),
    Profile(
        name="google-ads-legacy",
        title="Google Ads API samples / CM360 (gmail: dots removed, +suffix kept)",
        source="developers.google.com/google-ads/api/docs/remarketing/audience-segments/"
        "customer-match",
        phone_style="e164",
        fields={
            "email": R(
                "Email",
                True,
                "email",
                {"remove_all_whitespace": True, "dots_domains": GMAIL},
                on_invalid="accept",
            ),
            "phone": R("Phone", True, "phone", {"style": "e164"}, on_invalid="accept"),
            "first_name": R("First Name", True, "name", {"strip_punctuation": False}),
            "last_name": R("Last Name", True, "name", {"strip_punctuation": False}),
            "country": R("Country", False, "country", {"case": "upper"}),
            "postcode": R("Zip", False, "postcode", {"case": "upper"}),
        },
    ),
]


def _rows(p: Profile) -> list[object]:
    return [p.name, p.title, p.source, p.phone_style, p.encoding, p.accepted_hashes,
            list(p.fields.items())]  # fmt: skip


@pytest.mark.parametrize("old", WRITTEN_OUT, ids=lambda p: p.name)
def test_derived_profile_equals_the_written_out_table(old: Profile) -> None:
    assert _rows(PROFILES[old.name]) == _rows(old)
    assert PROFILES[old.name] == old


def test_variants_come_right_after_their_base() -> None:
    names = list(PROFILES)
    assert names[names.index("meta") + 1] == "meta-sdk"
    assert names[names.index("google") + 1] == "google-ads-legacy"


def test_derive_changes_only_what_it_names() -> None:
    base = PROFILES["google"]
    variant = derive(base, name="v", title="t", source="s", options={"phone": {"style": "x"}},
                     drop=("madid",))  # fmt: skip
    assert "madid" not in variant.fields and list(variant.fields) == list(base.fields)[:-1]
    assert variant.fields["phone"].options == {"style": "x"}
    assert variant.fields["phone"].column == base.fields["phone"].column
    assert variant.fields["phone"].on_invalid == "accept"
    assert variant.fields["email"] is base.fields["email"]
    with pytest.raises(ValueError, match="has no field"):
        derive(base, name="v", title="t", source="s", drop=("dob",))
