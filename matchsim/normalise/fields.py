"""Field normalisers: small vectorised functions over Arrow string arrays.

Each takes the (NFC-normalised, trimmed) input column and keyword options from a profile
rule, and returns a :class:`Result`: the normalised values (null where missing or
invalid), a reason per invalid value, and a *fallback* - what a client that skips
validation would send anyway (used by profiles that accept such values and then never
match them, as Google documents).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.normalise import phones


@cache
def _null() -> pa.Scalar:
    # Arrow values from Python objects are made when first used: making one loads pandas,
    # which importing the normalisers (validating an experiment) should not pay for
    return pa.scalar(None, pa.string())


class Result(NamedTuple):
    """``fallback`` may be given as a function that makes it: it is then only made where
    a profile accepts invalid values and some are invalid (:meth:`Profile.normalise`)."""

    values: pa.Array
    reasons: pa.Array
    fallback: pa.Array | Callable[[], pa.Array] | None = None
    prehashed: np.ndarray | None = None


def _reason_where(mask: pa.Array | np.ndarray, reason: str, reasons: pa.Array) -> pa.Array:
    """Set ``reason`` on rows under ``mask`` that have no reason yet."""
    mask = pa.array(mask) if isinstance(mask, np.ndarray) else pc.fill_null(mask, False)
    fresh = pc.and_(mask, pc.is_null(reasons))
    return pc.if_else(fresh, pa.scalar(reason), reasons)


def _finish(values: pa.Array, reasons: pa.Array, **extra: Any) -> Result:
    return Result(pc.if_else(pc.is_null(reasons), values, _null()), reasons, **extra)


def _no_reasons(values: pa.Array) -> pa.Array:
    return pa.nulls(len(values), pa.string())


# --------------------------------------------------------------------------- e-mail

_HEX_DIGEST = phones.HEX_DIGEST


def split_at(text: pa.Array, ats: pa.Array | None = None) -> tuple[pa.Array, pa.Array]:
    """``(local, domain)`` of values holding exactly one ``@``; ``""`` for every other row.

    What ``extract_regex(fill_null(text, ""), "^(?P<local>[^@]*)@(?P<domain>[^@]*)$")``
    gives field by field (a struct's fields ignore its nulls: an unmatched row reads as
    two empty strings), by one split instead of a regular expression.
    """
    if ats is None:
        ats = pc.count_substring(text, "@")
    one = pc.if_else(pc.equal(ats, 1), text, pa.scalar(None, pa.string()))
    parts = pc.split_pattern(one, "@", max_splits=1)
    empty = pa.scalar("", pa.string())
    return (
        pc.fill_null(pc.list_element(parts, 0), empty),
        pc.fill_null(pc.list_element(parts, 1), empty),
    )


def email(
    values: pa.Array,
    region: str,
    *,
    remove_all_whitespace: bool = False,
    dots_domains: Sequence[str] = (),
    plus_domains: Sequence[str] | None = (),
    strip_outer_dots: bool = False,
    pattern: str | None = None,
    pass_hashed: bool = False,
) -> Result:
    """Trim, lower-case, then the provider rules.

    Args:
        remove_all_whitespace: also remove inner whitespace (Google).
        dots_domains: domains whose local part loses every ``.`` (gmail rules).
        plus_domains: domains whose ``+suffix`` is removed; None means every domain
            (TikTok).
        strip_outer_dots: strip leading/trailing dots (Meta's customer-file SDK).
        pattern: a regular expression the result must match (Meta's SDK validation).
        pass_hashed: a value that already looks like an MD5/SHA-256 hex digest passes
            through untouched as "already hashed" (Meta's SDK).
    """
    text = pc.utf8_lower(values)
    if remove_all_whitespace:
        text = pc.replace_substring_regex(text, r"\s+", "")
    if strip_outer_dots:
        text = pc.utf8_trim(text, ".")
    fallback = text
    prehashed = None
    if pass_hashed:
        prehashed = pc.fill_null(pc.match_substring_regex(text, _HEX_DIGEST), False)
        prehashed = prehashed.to_numpy(zero_copy_only=False)
    if dots_domains or plus_domains is None or plus_domains:
        reasons = _no_reasons(text)
        ats = pc.count_substring(text, "@")
        reasons = _reason_where(pc.equal(ats, 0), "no @", reasons)
        reasons = _reason_where(pc.greater(ats, 1), "more than one @", reasons)
        out, reasons = _email_parts(text, ats, reasons, dots_domains, plus_domains)
    else:
        out, reasons = _email_checked(text)
    if pattern is not None:
        reasons = _reason_where(
            pc.invert(pc.match_substring_regex(out, pattern)), "rejected by SDK pattern", reasons
        )
    if prehashed is not None and prehashed.any():
        keep = pa.array(prehashed)
        out = pc.if_else(keep, text, out)
        reasons = pc.if_else(keep, _null(), reasons)
    return _finish(out, reasons, fallback=fallback, prehashed=prehashed)


# --------------------------------------------------------------------------- phone


def phone(
    values: pa.Array,
    region: str,
    *,
    style: str = "e164",
    parse: bool = True,
    max_zeros: int | None = 2,
    sdk: bool = False,
) -> Result:
    """Parse to E.164 with the default region, then render ``+316…`` or ``316…``.

    Args:
        style: ``"e164"`` keeps the ``+``; ``"digits"`` drops it.
        parse: False for the naive SDK path (:func:`phones.raw_digits`), which adds no
            country code.
        max_zeros: leading zeros the naive path strips (None: all).
        sdk: Meta's Python SDK's own code instead (:func:`phones.meta_sdk_phone`: no
            parsing, no country code; digests pass through).
    """
    if sdk:
        out, reasons, prehashed = phones.meta_sdk_phone(values)
        return _finish(out, reasons, fallback=lambda: phones.digits_only(values),
                       prehashed=prehashed)  # fmt: skip
    if not parse:
        out, reasons = phones.raw_digits(values, max_zeros)
        return _finish(out, reasons, fallback=lambda: phones.digits_only(values))
    if style == "digits":
        values = phones.with_plus_where_international(values, region)
    out, reasons = phones.to_e164(values, region)
    if style == "digits":
        out, reasons = phones.international_where_rejected(values, out, reasons)
        out = pc.utf8_ltrim(out, "+")
        return _finish(out, reasons, fallback=lambda: phones.digits_only(values))
    return _finish(
        out,
        reasons,
        fallback=lambda: pc.binary_join_element_wise("+", phones.digits_only(values), ""),
    )


# --------------------------------------------------------------------------- names

_GOOGLE_AFFIXES = r"^(mr|mrs|ms|miss|dr|prof|mx)\.?\s+|\s+(jr|sr|ii|iii|iv|phd|md)\.?$"


def name(
    values: pa.Array,
    region: str,
    *,
    lower: bool = True,
    strip_punctuation: bool = True,
    strip_affixes: bool = False,
) -> Result:
    """Lower-case; optionally drop punctuation (Meta) or titles/suffixes (Google)."""
    text = pc.utf8_lower(values) if lower else values
    if strip_affixes:
        text = pc.replace_substring_regex(text, _GOOGLE_AFFIXES, "")
    if strip_punctuation:
        text = pc.replace_substring_regex(text, r"[\p{P}\p{S}]", "")
    text = pc.utf8_trim_whitespace(text)
    reasons = _reason_where(pc.equal(pc.utf8_length(text), 0), "nothing left", _no_reasons(text))
    return _finish(text, reasons)


# --------------------------------------------------------------------------- dates, codes


def dob(values: pa.Array, region: str, *, fmt: str = "%Y%m%d", min_year: int = 1900) -> Result:
    """Dates (date32, or ``YYYY-MM-DD`` / ``YYYYMMDD`` text) as ``fmt``."""
    if pa.types.is_date(values.type) or pa.types.is_timestamp(values.type):
        if pa.types.is_date64(values.type):  # milliseconds, not always whole days (Arrow
            values = values.view(pa.timestamp("ms"))  # writers' own): floored as below
        if pa.types.is_timestamp(values.type):
            if values.type.tz is not None:  # the day where it was stored, not in UTC
                values = pc.local_timestamp(values)
            values = pc.floor_temporal(values, unit="day")  # a time of day (pandas' ms) goes
        dates = values.cast(pa.timestamp("s"))
        reasons = _no_reasons(values)
    else:
        text = pc.replace_substring_regex(values, r"[\s\-/.]", "")
        dates = pc.strptime(text, format="%Y%m%d", unit="s", error_is_null=True)
        reasons = _reason_where(
            pc.and_(pc.is_valid(text), pc.is_null(dates)), "not a date", _no_reasons(values)
        )
    year = pc.year(dates)
    reasons = _reason_where(pc.less(year, min_year), f"year before {min_year}", reasons)
    out = pc.strftime(dates, format=fmt)
    return _finish(out, reasons)


_GENDERS = {"f": "f", "m": "m", "female": "f", "male": "m", "v": "f", "vrouw": "f", "man": "m"}


def gender(values: pa.Array, region: str, *, fold: bool = True) -> Result:
    """``f``/``m``. ``fold`` maps words (``female``, ``vrouw``) to letters; Meta's SDK
    does not, so its ``female`` never matches."""
    text = pc.utf8_lower(values)
    if fold:
        keys = pa.array(list(_GENDERS))
        text = pa.array(list(_GENDERS.values())).take(pc.index_in(text, value_set=keys))
        text = pc.if_else(pc.is_valid(values), text, _null())
        bad = pc.and_(pc.is_valid(values), pc.is_null(text))
    else:
        bad = pc.invert(pc.is_in(text, value_set=pa.array(["f", "m"])))
    reasons = _reason_where(bad, "not f or m", _no_reasons(values))
    return _finish(text, reasons)


def _email_parts(
    text: pa.Array,
    ats: pa.Array,
    reasons: pa.Array,
    dots_domains: Sequence[str],
    plus_domains: Sequence[str] | None,
) -> tuple[pa.Array, pa.Array]:
    """The local-part rules of :func:`email` applied to ``text`` split at its ``@``:
    ``(local@domain, reasons)``."""
    local, domain = split_at(text, ats)
    if dots_domains:
        dotted = pc.is_in(domain, value_set=pa.array(list(dots_domains)))
        local = pc.if_else(dotted, pc.replace_substring(local, ".", ""), local)
    if plus_domains is None or plus_domains:
        plussed = (
            pc.is_valid(domain)
            if plus_domains is None
            else pc.is_in(domain, value_set=pa.array(list(plus_domains)))
        )
        local = pc.if_else(plussed, pc.replace_substring_regex(local, r"\+.*$", ""), local)
    reasons = _reason_where(pc.equal(pc.utf8_length(local), 0), "empty local part", reasons)
    reasons = _reason_where(
        pc.invert(pc.match_substring_regex(domain, r"^[^.\s]+(\.[^.\s]+)+$")),
        "domain is not a host name",
        reasons,
    )
    return pc.binary_join_element_wise(local, domain, "@"), reasons


_EMAIL_REASONS = (None, "no @", "more than one @", "empty local part", "domain is not a host name")


def _email_checked(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The values and reasons of the e-mail checks with no local-part rule: what
    :func:`_email_whole` gives after the ``@`` count's two reasons (the reference path,
    kept for the tests), by one byte loop (:func:`matchsim.kernels.textshape.email_checks`)."""
    from matchsim.kernels.textshape import email_checks  # numba: loaded when first used

    codes = email_checks(text)
    return text, pa.array(_EMAIL_REASONS, pa.string()).take(pa.array(codes))


def _email_whole(text: pa.Array, reasons: pa.Array) -> tuple[pa.Array, pa.Array]:
    """What :func:`_email_parts` gives when no local-part rule applies, without splitting:
    a value with exactly one ``@`` (every row without a reason yet) rejoins to itself,
    its local part is empty iff it starts with ``@``, and its domain is what follows
    the ``@``; a null value reads as ``""`` (an empty local part), as split there."""
    whole = pc.fill_null(text, pa.scalar("", pa.string()))
    empty = pc.or_(pc.equal(whole, ""), pc.starts_with(whole, "@"))
    reasons = _reason_where(empty, "empty local part", reasons)
    host = pc.match_substring_regex(whole, r"^[^@]*@[^.\s@]+(\.[^.\s@]+)+$")
    reasons = _reason_where(pc.invert(host), "domain is not a host name", reasons)
    return text, reasons


def place(values: pa.Array, region: str, *, remove: str = r"[\s\p{Z}\p{P}\p{S}]") -> Result:
    """City / state: lower-case, remove spaces (Unicode ones too: a no-break space left at an
    edge once punctuation is gone would be trimmed on a second pass) and punctuation (or
    the ``remove`` class)."""
    text = pc.replace_substring_regex(pc.utf8_lower(values), remove, "")
    # what input trimming strips but ``remove`` keeps (\v, \x1c-\x1f, ...) left at an edge
    # once punctuation is gone: trimmed now, or a second pass would trim it
    text = pc.utf8_trim_whitespace(text)
    reasons = _reason_where(pc.equal(pc.utf8_length(text), 0), "nothing left", _no_reasons(text))
    return _finish(text, reasons)


_RE2_SPACE = "\t\n\f\r "
"""What RE2's ``\\s`` matches (not ``\\v``, not Unicode spaces)."""


def postcode(values: pa.Array, region: str, *, case: str = "lower", us_five: bool = True) -> Result:
    """Remove spaces and dashes; US ZIP codes keep their first five digits."""
    from matchsim.kernels.textshape import drop_ascii  # numba: loaded when first used

    text = drop_ascii(values.cast(pa.string()), _RE2_SPACE + "-")  # = [\s\-] in RE2
    text = pc.utf8_lower(text) if case == "lower" else pc.utf8_upper(text)
    if us_five and region == "US":
        text = pc.utf8_slice_codeunits(text, 0, 5)
    reasons = _reason_where(
        pc.invert(pc.match_substring_regex(text, r"^[0-9A-Za-z]{2,10}$")),
        "not a postal code",
        _no_reasons(text),
    )
    return _finish(text, reasons)


_COUNTRY_NAMES = {
    "netherlands": "nl", "the netherlands": "nl", "nederland": "nl", "holland": "nl",
    "united states": "us", "united states of america": "us", "usa": "us",
    "united kingdom": "gb", "uk": "gb", "great britain": "gb", "germany": "de",
    "deutschland": "de", "belgium": "be", "belgie": "be", "belgië": "be", "france": "fr",
}  # fmt: skip


@cache
def _regions() -> pa.Array:
    return pa.array(sorted(r.lower() for r in phonenumbers.SUPPORTED_REGIONS))


def country(values: pa.Array, region: str, *, names: bool = True, case: str = "lower") -> Result:
    """ISO 3166 alpha-2. ``names`` maps common country names (Meta's docs); Meta's SDK
    strips non-letters and rejects anything that is not a code."""
    text = pc.utf8_lower(values)
    if names:
        mapped = pa.array(list(_COUNTRY_NAMES.values())).take(
            pc.index_in(text, value_set=pa.array(list(_COUNTRY_NAMES)))
        )
        text = pc.coalesce(mapped, text)
    text = pc.replace_substring_regex(text, r"[^a-z]", "")
    reasons = _reason_where(
        pc.invert(pc.is_in(text, value_set=_regions())),
        "not an ISO 3166 alpha-2 code",
        _no_reasons(text),
    )
    if case == "upper":
        text = pc.utf8_upper(text)
    return _finish(text, reasons)


_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def madid(values: pa.Array, region: str) -> Result:
    """Mobile advertising ID (IDFA / AAID): lower-case UUID with hyphens."""
    from matchsim.kernels.textshape import lower_uuid  # numba: loaded when first used

    text = pc.utf8_lower(values)
    bad = text.is_valid().to_numpy(zero_copy_only=False) & ~lower_uuid(text)  # = _UUID
    reasons = _reason_where(bad, "not a UUID", _no_reasons(text))
    return _finish(text, reasons)


NORMALISERS: dict[str, Callable[..., Result]] = {
    "email": email,
    "phone": phone,
    "name": name,
    "dob": dob,
    "gender": gender,
    "place": place,
    "postcode": postcode,
    "country": country,
    "madid": madid,
}
