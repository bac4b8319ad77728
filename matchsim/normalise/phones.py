"""Phone numbers: real-world input -> E.164, vectorised where the input allows.

Four paths:

* values already in E.164 (``+`` then 8-15 digits with a known calling code) take a
  vectorised fast path: no per-value parsing (the platform table is all E.164);
* well-formed numbers of the default region (``06-12345678``, ``+31 (0)6…``, ``0031…``)
  are parsed in bulk by :mod:`matchsim.normalise.phones_home` (Arrow kernels and the
  region's own metadata patterns; the same result ``phonenumbers`` gives, by construction
  and by test);
* everything else is deduplicated and parsed once per distinct value with
  ``phonenumbers`` given the default region, through an LRU cache shared by all calls;
* ``raw_digits`` is the naive normaliser some SDKs ship (X's docs): strip separators
  and leading ``+``/zeros with regular expressions, add no country code;
  ``meta_sdk_phone`` is Meta's Python SDK's, step for step (its zeros stripped twice).

The fast path checks structure (calling code, length), not the national number plan;
numbers that are E.164-shaped but unassigned pass, as they would through a platform's
own upload pipeline. Reasons are short phrases; the caller prefixes the field.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.normalise.phones_home import parse_home

_E164 = r"^\+[1-9][0-9]{7,14}$"


@lru_cache(maxsize=1)
def _calling_codes() -> pa.Array:
    # built when first used: an Arrow array from a Python list loads pandas, which an
    # import (validating an experiment) should not pay for
    return pa.array(sorted(str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE))


@lru_cache(maxsize=1)
def _calling_code_table() -> np.ndarray:
    """``table[c]``: whether ``c`` (1-999) is an assigned calling code."""
    table = np.zeros(1000, dtype=bool)
    table[[int(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE if 0 < int(c) < 1000]] = True
    return table


NOT_A_NUMBER = "not a phone number"
NOT_VALID = "not a valid number for region {region}"


@lru_cache(maxsize=1_000_000)
def parse_one(text: str, region: str) -> tuple[str | None, str | None]:
    """``(E.164, None)`` or ``(None, reason)`` for one value; cached."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, NOT_A_NUMBER
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or region
        return None, NOT_VALID.format(region=where)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def _known_calling_code(values: pa.Array) -> np.ndarray:
    """Whether each ``+digits`` value starts with an assigned calling code (1-3 digits)."""
    ok = np.zeros(len(values), dtype=bool)
    for width in (1, 2, 3):  # calling codes are prefix-free
        head = pc.utf8_slice_codeunits(values, 1, 1 + width)
        ok |= pc.is_in(head, value_set=_calling_codes()).to_numpy(zero_copy_only=False)
    return ok


def to_e164(values: pa.Array, region: str) -> tuple[pa.Array, pa.Array]:
    """Parse phone numbers to E.164; returns ``(e164 or null, reason or null)``.

    Null or blank input gives null in both (missing, not rejected).
    """
    n = len(values)
    text = pc.utf8_trim_whitespace(values)
    present = pc.fill_null(pc.greater(pc.utf8_length(text), 0), False)
    present_np = present.to_numpy(zero_copy_only=False)
    from matchsim.kernels.textshape import e164_known  # numba: loaded when first used

    fast = e164_known(text, _calling_code_table())  # _E164 and _known_calling_code, at once
    slow = present_np & ~fast
    out = pc.if_else(pa.array(fast), text, pa.nulls(n, pa.string()))
    reasons = pa.nulls(n, pa.string())
    if slow.any():
        out, slow = _home_region(text, region, slow, out)
    if slow.any():
        slow_rows = pa.array(slow)
        todo = text.filter(slow_rows)
        distinct = pc.unique(todo)
        parsed = [parse_one(v, region) for v in distinct.to_pylist()]
        index = pc.index_in(todo, value_set=distinct)
        e164 = pa.array([p[0] for p in parsed], pa.string()).take(index)
        why = pa.array([p[1] for p in parsed], pa.string()).take(index)
        out = pc.replace_with_mask(out, slow_rows, e164)
        reasons = pc.replace_with_mask(reasons, slow_rows, why)
    return out, reasons


def _home_region(
    text: pa.Array, region: str, slow: np.ndarray, out: pa.Array
) -> tuple[pa.Array, np.ndarray]:
    """The well-formed home-region values among ``slow`` parsed in bulk
    (:mod:`matchsim.normalise.phones_home`); returns ``out`` with them and what is left."""
    rows = np.flatnonzero(slow)
    e164, done = parse_home(text.take(pa.array(rows)), region)
    if not done.any():
        return out, slow
    mask = np.zeros(len(slow), dtype=bool)
    mask[rows[done]] = True
    out = pc.replace_with_mask(out, pa.array(mask), e164.filter(pa.array(done)))
    return out, slow & ~mask


def with_plus_where_international(values: pa.Array, region: str) -> pa.Array:
    """Give back the ``+`` to digits-only values that already carry the region's calling
    code and are valid numbers that way (``318000000`` in NL is ``+31 800 0000``).

    Digits-only platforms (Meta, TikTok) require the country code, so a value such as
    ``318000000`` is what their normaliser itself writes: reading it as a national number
    (``0318 000000``) would make normalisation not idempotent. Values that do not start
    with the region's calling code, or are not valid with it, are left as they are.
    """
    code = phonenumbers.country_code_for_region(region.upper())
    if code == 0:
        return values
    text = pc.utf8_trim_whitespace(values)
    maybe = pc.fill_null(pc.match_substring_regex(text, rf"^{code}[0-9]{{6,13}}$"), False)
    if not pc.any(maybe).as_py():
        return values
    rows = pa.array(maybe.to_numpy(zero_copy_only=False))
    plussed = pc.binary_join_element_wise("+", text.filter(rows), "")
    distinct = pc.unique(plussed)
    valid = pa.array([parse_one(v, region)[0] is not None for v in distinct.to_pylist()])
    ok = valid.take(pc.index_in(plussed, value_set=distinct))
    chosen = pc.if_else(ok, plussed, text.filter(rows))
    return pc.replace_with_mask(values.cast(pa.string()), rows, chosen)


def international_where_rejected(
    values: pa.Array, out: pa.Array, reasons: pa.Array
) -> tuple[pa.Array, pa.Array]:
    """Read a rejected digits-only value as carrying its country code (``10000000`` is
    ``+1 0000000``), for the digits-only platforms (Meta, TikTok), which require it.

    Their normaliser writes E.164 without the ``+``, and its E.164 path checks structure,
    not the number plan: ``+10000000`` is accepted and written ``10000000``. Read back as a
    national number of the default region it would be rejected, so normalising twice lost
    the value. Only values the national reading rejected get this second reading, with
    the same structural check as ``+``-prefixed input; a value valid either way (``612345678``
    in NL, also ``+61 2345678``) stays national, as a CRM's digits usually are.
    """
    if not pc.any(pc.is_valid(reasons)).as_py():
        return out, reasons
    from matchsim.kernels.textshape import e164_known

    text = pc.utf8_trim_whitespace(values)
    plussed = pc.binary_join_element_wise("+", text, "")
    rejected = reasons.is_valid().to_numpy(zero_copy_only=False)
    digits = pc.fill_null(pc.match_substring_regex(text, r"^[0-9]+$"), False)
    ok = rejected & digits.to_numpy(zero_copy_only=False)
    ok &= e164_known(plussed, _calling_code_table())
    if not ok.any():
        return out, reasons
    mask = pa.array(ok)
    return pc.if_else(mask, plussed, out), pc.if_else(mask, pa.nulls(len(ok), pa.string()), reasons)


def raw_digits(values: pa.Array, max_zeros: int | None = 2) -> tuple[pa.Array, pa.Array]:
    """The naive SDK normaliser: drop separators, a leading ``+`` and up to ``max_zeros``
    leading zeros (all of them if None); no country code is added. Values that are not
    then 7-15 digits are rejected.
    """
    text = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    text = pc.replace_substring_regex(text, r"[\s\-()./]", "")
    zeros = "0*" if max_zeros is None else f"0{{0,{max_zeros}}}"
    text = pc.replace_substring_regex(text, rf"^\+?{zeros}", "")
    ok = pc.match_substring_regex(text, r"^[0-9]{7,15}$")
    blank = pc.equal(text, "")
    bad = pc.and_(pc.invert(ok), pc.invert(blank))
    reasons = pc.if_else(bad, pa.scalar(NOT_A_NUMBER), pa.scalar(None, pa.string()))
    return pc.if_else(ok, text, pa.scalar(None, pa.string())), reasons


HEX_DIGEST = r"^(?:[0-9a-f]{32}|[0-9a-f]{64})$"
"""A lower-case MD5 or SHA-256 hex digest (what Meta's SDK passes through as hashed)."""
# Python's ``\s`` in a str pattern (what ``str.isspace`` holds), which RE2's ``\s`` is not.
_PY_SPACE = r"\t\n\v\f\r\x1c-\x1f \x85\p{Z}"
_SDK_LEAD = r"^\+?0{0,2}"
_SDK_INTERNATIONAL = r"^\p{Nd}{1,4}\(?\p{Nd}{2,3}\)?\p{Nd}{4,}$"  # Python's \d: any Nd digit


def meta_sdk_phone(values: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    r"""Meta's Python business SDK's phone normaliser, step for step
    (``Normalize.normalize_field("ph", ...)`` in facebook-python-business-sdk's
    ``serverside/normalize.py``): ``(values, reasons, prehashed)``.

    1. lower-case and strip; a value that is then an MD5 or SHA-256 hex digest passes
       through as it is (``prehashed``);
    2. remove whitespace, ``-``, ``(`` and ``)`` (not dots or slashes);
    3. remove a leading ``+`` and at most two leading zeros;
    4. ``is_international_number`` removes ``^\+?0{0,2}`` *again*: if what is left
       starts with ``0`` the value of step 3 is kept as it is (no check at all);
       else what is left is returned when it matches ``^\d{1,4}\(?\d{2,3}\)?\d{4,}$``
       (seven digits or more, no upper bound);
    5. else the SDK raises (``None.group()``): the row is rejected here.

    A blank value is missing, not rejected (the SDK returns None for an empty string;
    for a string of spaces it raises, which is not worth reproducing); a value of
    separators only (``-``) is rejected, as the SDK raises.
    """
    text = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    hashed = pc.fill_null(pc.match_substring_regex(text, HEX_DIGEST), False)
    blank = pc.fill_null(pc.equal(text, ""), True)
    text = pc.replace_substring_regex(text, rf"[{_PY_SPACE}\-()]", "")
    once = pc.replace_substring_regex(text, _SDK_LEAD, "", max_replacements=1)
    twice = pc.replace_substring_regex(once, _SDK_LEAD, "", max_replacements=1)
    zero = pc.fill_null(pc.starts_with(twice, "0"), False)
    international = pc.fill_null(pc.match_substring_regex(twice, _SDK_INTERNATIONAL), False)
    out = pc.if_else(hashed, text, pc.if_else(zero, once, twice))
    keep = pc.or_(pc.or_(hashed, zero), international)
    bad = pc.and_(pc.invert(keep), pc.invert(blank))
    reasons = pc.if_else(bad, pa.scalar(NOT_A_NUMBER), pa.scalar(None, pa.string()))
    return (
        pc.if_else(keep, out, pa.scalar(None, pa.string())),
        reasons,
        hashed.to_numpy(zero_copy_only=False),
    )


def digits_only(values: pa.Array) -> pa.Array:
    """What a client sends when it cannot parse: every non-digit dropped."""
    from matchsim.kernels.textshape import keep_digits  # numba: loaded when first used

    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array(
            [keep_digits(c.cast(pa.string())) for c in values.chunks], pa.string()
        )
    return keep_digits(values.cast(pa.string()))
