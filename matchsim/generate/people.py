"""Synthetic people, a chunk at a time, as columns (never a Python object per person).

Each person gets sex and age from the country's age pyramid, a first name of that sex
and a surname from the published frequency tables, a place (postcode, city, region)
weighted by population, a valid phone number from the number plan, e-mail addresses
built from their own name on the country's domain mix, and a MADID (UUID v4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.generate import emails
from matchsim.generate.locale import Locale
from matchsim.generate.phones import E164, Numbers, render, sample_numbers
from matchsim.generate.unique import KeySet, arrow_string_keys

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_DASHES = (8, 13, 18, 23)


@dataclass(frozen=True)
class Persons:
    """A chunk of people: numpy/Arrow columns of equal length."""

    female: np.ndarray  # bool
    dob: np.ndarray  # datetime64[D]
    first: np.ndarray  # int32 index into locale.first_dict
    last: np.ndarray  # int32 index into locale.last_names.values
    place: np.ndarray  # int32 index into locale.places
    postcode: pa.Array  # string
    email: pa.Array  # string: the person's current address
    email2: pa.Array  # string or null: an older address the platform also holds
    phone: Numbers  # the person's number
    madid: pa.Array  # string, UUID v4 lowercase

    def __len__(self) -> int:
        return int(self.female.shape[0])

    def take(self, idx: np.ndarray) -> Persons:
        ia = pa.array(idx, pa.int64())
        return Persons(
            female=self.female[idx],
            dob=self.dob[idx],
            first=self.first[idx],
            last=self.last[idx],
            place=self.place[idx],
            postcode=self.postcode.take(ia),
            email=self.email.take(ia),
            email2=self.email2.take(ia),
            phone=self.phone.take(idx),
            madid=self.madid.take(ia),
        )

    @staticmethod
    def concat(parts: list[Persons]) -> Persons:
        first = parts[0]
        ph = first.phone
        width = max(p.phone.digits.shape[1] for p in parts)

        def pad(d: np.ndarray) -> np.ndarray:
            return np.pad(d, ((0, 0), (0, width - d.shape[1])))

        return Persons(
            female=np.concatenate([p.female for p in parts]),
            dob=np.concatenate([p.dob for p in parts]),
            first=np.concatenate([p.first for p in parts]),
            last=np.concatenate([p.last for p in parts]),
            place=np.concatenate([p.place for p in parts]),
            postcode=pa.concat_arrays([p.postcode for p in parts]),
            email=pa.concat_arrays([p.email for p in parts]),
            email2=pa.concat_arrays([p.email2 for p in parts]),
            phone=Numbers(
                np.concatenate([pad(p.phone.digits) for p in parts]),
                np.concatenate([p.phone.lengths for p in parts]),
                np.concatenate([p.phone.ndc for p in parts]),
                ph.country_code,
                ph.national_prefix,
            ),
            madid=pa.concat_arrays([p.madid for p in parts]),
        )


def madids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random UUID v4 strings, lowercase with hyphens, as mobile advertising ids are."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[raw >> 4]
    hexed[:, 1::2] = _HEX[raw & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    src = 0
    dst = 0
    for stop in (*_UUID_DASHES, 36):
        width = stop - dst
        out[:, dst:stop] = hexed[:, src : src + width]
        src += width
        dst = stop + 1
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out.tobytes()))


def _fixed_strings(chars: np.ndarray) -> pa.Array:
    n, width = chars.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


def postcodes(rng: np.random.Generator, locale: Locale, place: np.ndarray) -> pa.Array:
    """Full postcodes: the place's code plus, where the country uses one, a letter suffix."""
    base = locale.postcodes.take(pa.array(place))
    if locale.postcode_suffix != "letters2":
        return base
    letters = np.frombuffer(locale.postcode_letters.encode(), dtype=np.uint8)
    n = place.shape[0]
    pick = letters[rng.integers(0, letters.size, size=(n, 2))]
    banned = {tuple(x.encode()) for x in locale.postcode_exclude}
    while banned:
        bad = np.zeros(n, dtype=bool)
        for a, b in banned:
            bad |= (pick[:, 0] == a) & (pick[:, 1] == b)
        if not bad.any():
            break
        pick[bad] = letters[rng.integers(0, letters.size, size=(int(bad.sum()), 2))]
    return pc.binary_join_element_wise(base, pa.scalar(" "), _fixed_strings(pick), "")


def phone_plan_choice(rng: np.random.Generator, locale: Locale, n: int) -> np.ndarray:
    """0 = mobile, 1 = fixed line, per person."""
    return (rng.random(n) >= locale.mobile_share).astype(np.int64)


def new_addresses(
    rng: np.random.Generator,
    locale: Locale,
    first: np.ndarray,
    last: np.ndarray,
    dob: np.ndarray,
) -> pa.Array:
    """An e-mail address per person from their own names, on the country's domain mix."""
    n = first.shape[0]
    year = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    local = emails.local_parts(
        rng,
        locale.email_patterns,
        locale.first_tokens.take(pa.array(first)),
        locale.last_tokens.take(pa.array(last)),
        year,
    )
    domain = locale.domains.values.take(pa.array(locale.domains.sample(rng, n)))
    return emails.join_address(local, domain)


def generate_persons(
    rng: np.random.Generator,
    locale: Locale,
    n: int,
    *,
    as_of: np.datetime64,
    second_email_share: float,
) -> Persons:
    """``n`` new people of ``locale``; identifiers not yet checked for uniqueness."""
    age_sex = locale.age_sex.sample(rng, n)
    female = (age_sex & 1).astype(bool)
    age = locale.ages[age_sex >> 1]
    days = (age * 365.2425 + rng.random(n) * 365.2425).astype(np.int64)
    dob = as_of - days.astype("timedelta64[D]")
    first = np.empty(n, dtype=np.int32)
    for g, mask in (("F", female), ("M", ~female)):
        table = locale.first_names[g]
        first[mask] = table.values.to_numpy()[table.sample(rng, int(mask.sum()))]
    last = locale.last_names.sample(rng, n)
    place = locale.places.sample(rng, n)
    phone = sample_numbers(
        rng, [locale.mobile_plan, locale.fixed_plan], phone_plan_choice(rng, locale, n)
    )
    email = new_addresses(rng, locale, first, last, dob)
    has2 = rng.random(n) < second_email_share
    email2_all = new_addresses(rng, locale, first, last, dob)
    email2 = pc.if_else(pa.array(has2), email2_all, pa.scalar(None, pa.string()))
    return Persons(
        female=female,
        dob=dob,
        first=first,
        last=last,
        place=place,
        postcode=postcodes(rng, locale, place),
        email=email,
        email2=email2,
        phone=phone,
        madid=madids(rng, n),
    )


def make_unique(
    rng: np.random.Generator,
    locale: Locale,
    persons: Persons,
    email_keys: KeySet,
    phone_keys: KeySet,
) -> Persons:
    """Claim every person's identifiers; redraw those already taken, until all are unique.

    A taken e-mail gets digits appended (as a mail provider makes people do); a taken
    phone number is redrawn from the same plan.
    """
    # Phones.
    phone = persons.phone
    taken = phone_keys.claim(phone.keys())
    while taken.any():
        rows = np.flatnonzero(taken)
        fresh = sample_numbers(
            rng, [locale.mobile_plan, locale.fixed_plan], phone_plan_choice(rng, locale, rows.size)
        )
        digits = phone.digits.copy()
        digits[rows, : fresh.digits.shape[1]] = fresh.digits
        lengths = phone.lengths.copy()
        ndc = phone.ndc.copy()
        lengths[rows] = fresh.lengths
        ndc[rows] = fresh.ndc
        phone = Numbers(digits, lengths, ndc, phone.country_code, phone.national_prefix)
        again = phone_keys.claim(fresh.keys())
        taken = np.zeros_like(taken)
        taken[rows] = again
    # E-mails: primary first, then secondary, in row order.
    email = _unique_addresses(rng, persons.email, email_keys)
    email2 = _unique_addresses(rng, persons.email2, email_keys)
    return replace(persons, phone=phone, email=email, email2=email2)


def _unique_addresses(rng: np.random.Generator, addresses: pa.Array, keys: KeySet) -> pa.Array:
    valid = ~np.asarray(addresses.is_null().to_numpy(zero_copy_only=False))
    taken = keys.claim(arrow_string_keys(addresses), valid)
    while taken.any():
        rows = np.flatnonzero(taken)
        subset = addresses.take(pa.array(rows))
        parts = pc.extract_regex(subset, r"^(?P<local>[^@]+)@(?P<domain>.+)$")
        local = emails.suffix_digits(parts.field("local"), rng)
        fresh = emails.join_address(local, parts.field("domain"))
        again = keys.claim(arrow_string_keys(fresh))
        mask = np.zeros(len(addresses), dtype=bool)
        mask[rows] = True
        # scatter: replace_with_mask takes the replacements in mask order (rows ascending)
        addresses = pc.replace_with_mask(addresses, pa.array(mask), fresh)
        taken = np.zeros_like(taken)
        taken[rows] = again
    return addresses


def e164(numbers: Numbers) -> pa.Array:
    return render(numbers, [E164])
