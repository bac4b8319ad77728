"""The platform profiles of REFERENCE.md §1, as data.

Each profile is a table: field -> (upload column, hashed?, normaliser, options). Where a
platform's documentation and its own SDK disagree, both are profiles (``meta`` and
``meta-sdk``; ``google`` and ``google-ads-legacy``).
"""

from __future__ import annotations

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
            "phone": R("PHONE", True, "phone", {"parse": False, "max_zeros": 2}),
            "first_name": R("FN", True, "name", {"strip_punctuation": False}),
            "last_name": R("LN", True, "name", {"strip_punctuation": False}),
            "dob": R("DOB", True, "dob"),
            "gender": R("GEN", True, "gender", {"fold": False}),
            "city": R("CT", True, "place", {"remove": r"[0-9.\s\-()]"}),
            "state": R("ST", True, "place", {"remove": r"[0-9.\s\-()]"}),
            "postcode": R("ZIP", True, "postcode", {"us_five": False}),
            "country": R("COUNTRY", True, "country", {"names": False}),
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

PROFILES: dict[str, Profile] = {p.name: p for p in _PROFILES}
