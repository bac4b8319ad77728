"""The platform profiles of REFERENCE.md §1, as data.

Each profile is a table: field -> (upload column, hashed?, normaliser, options). Where a
platform's documentation and its own SDK disagree, both are profiles (``meta`` and
``meta-sdk``; ``google`` and ``google-ads-legacy``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from matchsim.normalise._profile import FieldRule, Profile

GMAIL = ("gmail.com", "googlemail.com")
R = FieldRule

# Meta's SDK e-mail validation (facebook-python-business-sdk, serverside/normalize.py).
_META_SDK_EMAIL = r"^[a-z0-9_.+-]+@[a-z0-9-]+\.[a-z0-9-.]+$"

_PROFILES = [
    Profile(
        name="meta",
        title="Meta Custom Audiences / Conversions API, as documented",
        source="developers.facebook.com/docs/marketing-api/conversions-api/parameters/"
        "customer-information-parameters",
        phone_style="digits",
        fields={
            "email": R("EMAIL", True, "email"),
            "phone": R("PHONE", True, "phone", {"style": "digits"}),
            "first_name": R("FN", True, "name"),
            "last_name": R("LN", True, "name"),
            "dob": R("DOB", True, "dob"),
            "gender": R("GEN", True, "gender"),
            "city": R("CT", True, "place"),
            "state": R("ST", True, "place"),
            "postcode": R("ZIP", True, "postcode"),
            "country": R("COUNTRY", True, "country"),
            "madid": R("MADID", False, "madid"),
        },
    ),
    Profile(
        name="google",
        title="Google Data Manager API / Customer Match (current formatting guide)",
        source="developers.google.com/data-manager/api/devguides/concepts/formatting",
        phone_style="e164",
        fields={
            "email": R(
                "Email",
                True,
                "email",
                {"remove_all_whitespace": True, "dots_domains": GMAIL, "plus_domains": GMAIL},
                on_invalid="accept",
            ),
            "phone": R("Phone", True, "phone", {"style": "e164"}, on_invalid="accept"),
            "first_name": R("First Name", True, "name", {"strip_affixes": True}),
            "last_name": R("Last Name", True, "name", {"strip_affixes": True}),
            "country": R("Country", False, "country", {"case": "upper"}),
            "postcode": R("Zip", False, "postcode", {"case": "upper"}),
            "madid": R("Mobile Device ID", False, "madid"),
        },
    ),
    Profile(
        name="uid2",
        title="Unified ID 2.0 / EUID directly identifying information",
        source="unifiedid.com/docs/getting-started/gs-normalization-encoding",
        phone_style="e164",
        encoding="base64",
        fields={
            "email": R(
                "email_hash",
                True,
                "email",
                {"dots_domains": ("gmail.com",), "plus_domains": ("gmail.com",)},
            ),
            "phone": R("phone_hash", True, "phone", {"style": "e164"}),
        },
    ),
    Profile(
        name="tiktok",
        title="TikTok customer file (2025): +suffix removed on every domain",
        source="ads.tiktok.com/help (customer file formatting)",
        phone_style="digits",
        accepted_hashes=("sha256", "md5"),
        fields={
            "email": R("EMAIL_SHA256", True, "email", {"plus_domains": None}),
            "phone": R("PHONE_SHA256", True, "phone", {"style": "digits"}),
            "madid": R("MAID_SHA256", True, "madid"),
        },
    ),
    Profile(
        name="x",
        title="X (Twitter) tailored audiences user data",
        source="developer.x.com/en/docs/x-ads-api/audiences/overview/user-data",
        phone_style="digits",
        fields={
            "email": R("email", True, "email"),
            "phone": R("phone_number", True, "phone", {"parse": False, "max_zeros": None}),
        },
    ),
    Profile(
        name="linkedin",
        title="LinkedIn matched audiences (contact list)",
        source="linkedin.com/help/lms (contact list CSV template)",
        phone_style=None,
        accepted_hashes=("sha256", "sha512"),
        fields={
            "email": R("email", True, "email"),
            "first_name": R(
                "firstname", False, "name", {"lower": False, "strip_punctuation": False}
            ),
            "last_name": R("lastname", False, "name", {"lower": False, "strip_punctuation": False}),
            "country": R("country", False, "country", {"case": "upper"}),
        },
    ),
    Profile(
        name="snapchat",
        title="Snapchat Snap Audience Match",
        source="developers.snap.com/api/marketing-api/Ads-API/audience-match",
        phone_style="digits",
        fields={
            "email": R("EMAIL_SHA256", True, "email"),
            "phone": R("PHONE_SHA256", True, "phone", {"style": "digits"}),
            "madid": R("MOBILE_AD_ID_SHA256", True, "madid"),
        },
    ),
    Profile(
        name="pinterest",
        title="Pinterest customer list",
        source="help.pinterest.com (customer list formatting)",
        phone_style=None,
        accepted_hashes=("sha256", "sha1", "md5"),
        fields={
            "email": R("email", True, "email"),
            "madid": R("maid", True, "madid"),
        },
    ),
]


def derive(
    base: Profile,
    *,
    name: str,
    title: str,
    source: str,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    drop: Iterable[str] = (),
) -> Profile:
    """``base`` with other normaliser ``options`` for some fields (replacing that field's
    options; column, hashing and normaliser stay) and without the fields in ``drop``:
    a platform variant stated as the rules in which it differs."""
    changed = options or {}
    dropped = set(drop)
    unknown = (set(changed) | dropped) - set(base.fields)
    if unknown:
        raise ValueError(f"profile {name}: {base.name} has no field {sorted(unknown)}")
    fields = {
        f: replace(rule, options=changed[f]) if f in changed else rule
        for f, rule in base.fields.items()
        if f not in dropped
    }
    return replace(base, name=name, title=title, source=source, fields=fields)


_BASES = {p.name: p for p in _PROFILES}
# Variants of a platform's profile, each listed right after its base.
_VARIANTS = {
    "meta": [
        # Meta's SDK: the documented fields, each normalised the way its code does it.
        derive(
            _BASES["meta"],
            name="meta-sdk",
            title="Meta's Python business SDK normaliser (what its code does)",
            source="github.com/facebook/facebook-python-business-sdk "
            "facebook_business/adobjects/serverside/normalize.py",
            options={
                "email": {
                    "strip_outer_dots": True,
                    "pattern": _META_SDK_EMAIL,
                    "pass_hashed": True,
                },
                "phone": {"sdk": True},
                "first_name": {"strip_punctuation": False},
                "last_name": {"strip_punctuation": False},
                "gender": {"fold": False},
                "city": {"remove": r"[0-9.\s\p{Z}\-()]"},
                "state": {"remove": r"[0-9.\s\p{Z}\-()]"},
                "postcode": {"us_five": False},
                "country": {"names": False},
            },
        ),
    ],
    "google": [
        # Google Ads API samples / CM360: gmail +suffix kept, names keep punctuation, no MADID.
        derive(
            _BASES["google"],
            name="google-ads-legacy",
            title="Google Ads API samples / CM360 (gmail: dots removed, +suffix kept)",
            source="developers.google.com/google-ads/api/docs/remarketing/audience-segments/"
            "customer-match",
            options={
                "email": {"remove_all_whitespace": True, "dots_domains": GMAIL},
                "first_name": {"strip_punctuation": False},
                "last_name": {"strip_punctuation": False},
            },
            drop=("madid",),
        ),
    ],
}

PROFILES: dict[str, Profile] = {
    q.name: q for p in _PROFILES for q in (p, *_VARIANTS.get(p.name, ()))
}
