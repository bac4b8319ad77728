"""What an advertiser's CRM really holds: the corruption model of the customer file.

Each rate is the share of customer rows that receive one kind of noise. Some noise is
*cosmetic* (case, whitespace, national phone formats, gmail dots, ``+tags``): a correct
normaliser undoes it, and whether a platform does is exactly what the profiles differ
in. Some is *substantive* (a stale address, a typo, a missing value): no normaliser can
undo it, and the match is lost. Every row's noise is recorded in the truth table.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.generate import emails
from matchsim.generate.params import Corruption
from matchsim.generate.people import Persons, new_addresses, unique_addresses
from matchsim.generate.phones import Numbers, render
from matchsim.generate.strings import split_addresses
from matchsim.generate.unique import KeySet
from matchsim.locale.tables import Locale

GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
_PLUS_TAGS = ("news", "shop", "promo", "verzekering", "zorg", "health", "insurance", "spam")


def _split(addresses: pa.Array) -> tuple[pa.Array, pa.Array]:
    return split_addresses(addresses)  # extract_regex ^(?P<local>[^@]+)@(?P<domain>.+)$


def _edit(values: pa.Array, rng: np.random.Generator, start: int = 0) -> pa.Array:
    """Drop or double one character at position ``start``..``start + 2`` (clamped)."""
    n = len(values)
    op = rng.integers(0, 2, n)
    pos = rng.integers(start, start + 3, n)
    out = values
    for o in (0, 1):
        for p in range(start, start + 3):
            mask = (op == o) & (pos == p)
            if not mask.any():
                continue
            pattern = f"^(.{{{p}}})(.)"
            repl = r"\1" if o == 0 else r"\1\2\2"
            edited = pc.replace_substring_regex(
                out, pattern=pattern, replacement=repl, max_replacements=1
            )
            out = pc.if_else(pa.array(mask), edited, out)
    # Values too short for the position are edited at their last character instead.
    short = pc.equal(out, values)
    if pc.any(short).as_py():
        tail = pc.replace_substring_regex(values, pattern=r"(.)$", replacement=r"\1\1")
        out = pc.if_else(short, tail, out)
    return out


def _apply(values: pa.Array, mask: np.ndarray, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``fn`` applied to the rows under ``mask`` only; other rows unchanged."""
    if not mask.any():
        return values
    m = pa.array(mask)
    return pc.replace_with_mask(values, m, fn(values.filter(m)))


def _rows(
    rng: np.random.Generator, n: int, rate: float, eligible: np.ndarray | None = None
) -> np.ndarray:
    mask = rng.random(n) < rate
    return mask if eligible is None else mask & eligible


def _either(
    rng: np.random.Generator,
    values: pa.Array,
    mask: np.ndarray,
    first: Callable[[pa.Array], pa.Array],
    second: Callable[[pa.Array], pa.Array],
) -> pa.Array:
    """Rows under ``mask`` edited by ``first`` or ``second``, a fair coin each."""
    coin = pa.array(rng.random(int(mask.sum())) < 0.5)
    return _apply(values, mask, lambda v: pc.if_else(coin, first(v), second(v)))


def _blank(values: pa.Array, mask: np.ndarray, kind: pa.DataType) -> pa.Array:
    """Rows under ``mask`` missing (null)."""
    return pc.if_else(pa.array(mask), pa.scalar(None, kind), values)


def corrupt_customers(
    rng: np.random.Generator,
    locale: Locale,
    people: Persons,
    rates: Corruption,
    email_keys: KeySet,
) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
    """The CRM's columns for ``people`` and the truth flags of the noise applied.

    Returns:
        ``(columns, flags)``: customer-file columns by name, and one boolean (or, for the
        phone format, string) column per kind of noise.
    """
    n = len(people)
    flags: dict[str, pa.Array] = {}
    # The order of the draws is the population's seed contract: e-mail, phone, names...
    email = _crm_email(rng, locale, people, rates, email_keys, flags)
    typed = _crm_phone(rng, locale, people, rates, flags)

    first = locale.first_dict.take(pa.array(people.first))
    ntypo = _rows(rng, n, rates.name_typo)
    first = _apply(first, ntypo, lambda v: _edit(v, rng, 1))
    flags["name_typo"] = pa.array(ntypo)

    dmissing = _rows(rng, n, rates.dob_missing)
    dob = _blank(pa.array(people.dob, pa.date32()), dmissing, pa.date32())
    flags["dob_missing"] = pa.array(dmissing)

    pfmt = _rows(rng, n, rates.postcode_format)
    postcode = _either(
        rng,
        people.postcode,
        pfmt,
        lambda v: pc.utf8_lower(pc.replace_substring(v, " ", "")),
        lambda v: pc.replace_substring(v, " ", ""),
    )
    flags["postcode_format"] = pa.array(pfmt)

    has_madid = rng.random(n) < rates.madid_present
    madid = pc.if_else(pa.array(has_madid), people.madid, pa.scalar(None, pa.string()))

    place = pa.array(people.place)
    columns = {
        "email": email,
        "phone": typed,
        "first_name": first,
        "last_name": locale.last_names.values.take(pa.array(people.last)),
        "dob": dob,
        "gender": pc.if_else(pa.array(people.female), pa.scalar("F"), pa.scalar("M")),
        "postcode": postcode,
        "city": locale.cities.take(place),
        "region": locale.regions.take(place),
        "country": pa.array(np.full(n, locale.country)),
        "madid": madid,
    }
    return columns, flags


def _crm_email(
    rng: np.random.Generator,
    locale: Locale,
    people: Persons,
    rates: Corruption,
    email_keys: KeySet,
    flags: dict[str, pa.Array],
) -> pa.Array:
    """The e-mail column as the CRM holds it: stale addresses, typos, gmail dots, plus
    tags, case, stray spaces and gaps; each kind's rows are recorded in ``flags``."""
    n = len(people)
    email = people.email
    stale = _rows(rng, n, rates.email_stale)
    if stale.any():
        rows = np.flatnonzero(stale)
        has2 = ~np.asarray(people.email2.is_null().to_numpy(zero_copy_only=False))[rows]
        fresh = unique_addresses(
            rng,
            new_addresses(rng, locale, people.first[rows], people.last[rows], people.dob[rows]),
            email_keys,
        )
        old = pc.if_else(pa.array(has2), people.email2.take(pa.array(rows)), fresh)
        email = pc.replace_with_mask(email, pa.array(stale), old)
    flags["email_stale"] = pa.array(stale)

    local, domain = _split(email)
    typo = _rows(rng, n, rates.email_typo)
    local = _apply(local, typo, lambda v: _edit(v, rng, 1))
    flags["email_typo"] = pa.array(typo)

    is_gmail = np.asarray(pc.is_in(domain, pa.array(GMAIL_DOMAINS)).to_numpy(zero_copy_only=False))
    dots = _rows(rng, n, rates.email_gmail_dots, is_gmail)
    local = _apply(local, dots, _toggle_dots)
    flags["email_gmail_dots"] = pa.array(dots)

    plus = _rows(rng, n, rates.email_plus_tag)
    tags = pa.array(_PLUS_TAGS).take(pa.array(rng.integers(0, len(_PLUS_TAGS), int(plus.sum()))))
    local = _apply(local, plus, lambda v: pc.binary_join_element_wise(v, pa.scalar("+"), tags, ""))
    flags["email_plus_tag"] = pa.array(plus)

    email = emails.join_address(local, domain)
    case = _rows(rng, n, rates.email_case)
    email = _either(rng, email, case, pc.utf8_upper, pc.utf8_title)
    flags["email_case"] = pa.array(case)

    space = _rows(rng, n, rates.email_whitespace)
    email = _either(
        rng,
        email,
        space,
        lambda v: pc.binary_join_element_wise(pa.scalar(" "), v, ""),
        lambda v: pc.binary_join_element_wise(v, pa.scalar(" "), ""),
    )
    flags["email_whitespace"] = pa.array(space)

    missing = _rows(rng, n, rates.email_missing)
    email = _blank(email, missing, pa.string())
    flags["email_missing"] = pa.array(missing)
    return email


def _crm_phone(
    rng: np.random.Generator,
    locale: Locale,
    people: Persons,
    rates: Corruption,
    flags: dict[str, pa.Array],
) -> pa.Array:
    """The phone column as typed into the CRM: a digit typo after the area code, one of
    the locale's written formats, gaps; recorded in ``flags``."""
    n = len(people)
    phone = people.phone
    ptypo = _rows(rng, n, rates.phone_typo)
    if ptypo.any():
        rows = np.flatnonzero(ptypo)
        digits = phone.digits.copy()
        span = phone.lengths[rows] - phone.ndc[rows]
        pos = phone.ndc[rows] + (rng.random(rows.size) * span).astype(np.int64)
        old = digits[rows, pos].astype(np.int64) - 48
        digits[rows, pos] = ((old + rng.integers(1, 10, rows.size)) % 10 + 48).astype(np.uint8)
        phone = Numbers(digits, phone.lengths, phone.ndc, phone.country_code, phone.national_prefix)
    flags["phone_typo"] = pa.array(ptypo)
    templates = [f.template for f in locale.phone_formats]
    shares = np.array([f.share for f in locale.phone_formats])
    fmt = np.minimum(
        np.searchsorted(np.cumsum(shares), rng.random(n), side="right"), len(templates) - 1
    )
    typed = render(phone, templates, fmt)
    pmissing = _rows(rng, n, rates.phone_missing)
    typed = _blank(typed, pmissing, pa.string())
    flags["phone_format"] = pa.array(templates).take(pa.array(fmt))
    flags["phone_missing"] = pa.array(pmissing)
    return typed


def _toggle_dots(local: pa.Array) -> pa.Array:
    """Remove every dot, or add one after the first character where there is none."""
    has_dot = pc.match_substring(local, ".")
    removed = pc.replace_substring(local, ".", "")
    added = pc.replace_substring_regex(local, pattern=r"^(.)(.)", replacement=r"\1.\2")
    return pc.if_else(has_dot, removed, added)
