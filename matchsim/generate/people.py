"""Synthetic people, a chunk at a time, as columns (never a Python object per person).

Each person gets sex and age from the country's age pyramid, a first name of that sex
and a surname from the published frequency tables, a place (postcode, city, region)
weighted by population, a valid phone number from the number plan, e-mail addresses
built from their own name on the country's domain mix, and a MADID (UUID v4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.generate import emails
from matchsim.generate.phones import Numbers, render_e164, sample_numbers
from matchsim.generate.unique import KeySet, arrow_string_keys
from matchsim.locale.tables import Locale

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


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


@numba.njit(cache=True, nogil=True)
def _uuid4_text(words: np.ndarray) -> np.ndarray:
    n = words.shape[0]
    out = np.empty(n * 36, dtype=np.uint8)
    for i in range(n):
        hi = words[i, 0]
        lo = words[i, 1]
        # version 4 and the RFC 4122 variant
        hi = (hi & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x0000000000004000)
        lo = (lo & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
        base = i * 36
        k = 0
        for j in range(32):
            if j == 8 or j == 12 or j == 16 or j == 20:
                out[base + k] = 45  # '-'
                k += 1
            word = hi if j < 16 else lo
            shift = np.uint64(60 - 4 * (j % 16))
            out[base + k] = _HEX[(word >> shift) & np.uint64(15)]
            k += 1
    return out


def madids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random UUID v4 strings, lowercase with hyphens, as mobile advertising ids are."""
    words = rng.integers(0, 2**64 - 1, size=(n, 2), dtype=np.uint64, endpoint=True)
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(_uuid4_text(words)))


def _fixed_strings(chars: np.ndarray) -> pa.Array:
    n, width = chars.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes()))


@numba.njit(cache=True, nogil=True)
def _suffixed(
    b_off: np.ndarray, b_data: np.ndarray, place: np.ndarray, pick: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's place code, a space and its two letters (one pass, int64 offsets)."""
    n = place.shape[0]
    out_off = np.empty(n + 1, dtype=np.int64)
    out_off[0] = 0
    for i in range(n):
        out_off[i + 1] = out_off[i] + b_off[place[i] + 1] - b_off[place[i]] + 3
    out = np.empty(max(int(out_off[n]), 1), dtype=np.uint8)
    for i in range(n):
        pos = out_off[i]
        for j in range(b_off[place[i]], b_off[place[i] + 1]):
            out[pos] = b_data[j]
            pos += 1
        out[pos] = 32
        out[pos + 1] = pick[i, 0]
        out[pos + 2] = pick[i, 1]
    return out_off, out


def postcodes(rng: np.random.Generator, locale: Locale, place: np.ndarray) -> pa.Array:
    """Full postcodes: the place's code plus, where the country uses one, a letter suffix."""
    if locale.postcode_suffix != "letters2":
        return locale.postcodes.take(pa.array(place))
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
    # what binary_join_element_wise(code, " ", letters) gives, without taking the codes
    # into a string array of their own first
    out_off, out = _suffixed(*locale.postcode_table, np.asarray(place, np.int64), pick)
    if out_off[-1] >= 2**31:
        return pc.binary_join_element_wise(
            locale.postcodes.take(pa.array(place)), pa.scalar(" "), _fixed_strings(pick), ""
        )
    return pa.StringArray.from_buffers(
        place.shape[0], pa.py_buffer(out_off.astype(np.int32)), pa.py_buffer(out)
    )


def phone_plan_choice(rng: np.random.Generator, locale: Locale, n: int) -> np.ndarray:
    """0 = mobile, 1 = fixed line, per person."""
    return (rng.random(n) >= locale.mobile_share).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def _civil_years(days: np.ndarray) -> np.ndarray:
    """The proleptic Gregorian year of each day number since 1970-01-01 (Hinnant's
    ``civil_from_days``; ``//`` floors, as in Python)."""
    out = np.empty(days.shape[0], dtype=np.int64)
    for i in range(days.shape[0]):
        z = days[i] + 719468
        era = z // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        out[i] = yoe + era * 400 + (1 if mp >= 10 else 0)  # January and February: next year
    return out


def birth_years(dob: np.ndarray) -> np.ndarray:
    """``dob.astype("datetime64[Y]") + 1970`` as int64 in one pass (no NaT here)."""
    return _civil_years(np.ascontiguousarray(dob, dtype="datetime64[D]").view(np.int64))


def new_addresses(
    rng: np.random.Generator,
    locale: Locale,
    first: np.ndarray,
    last: np.ndarray,
    dob: np.ndarray,
) -> pa.Array:
    """An e-mail address per person from their own names, on the country's domain mix."""
    n = first.shape[0]
    year = birth_years(dob)
    return emails.render_addresses(
        locale.email_compiled,
        locale.email_compiled.choose(rng, n),
        first,
        last,
        year,
        np.asarray(rng.integers(0, 2**31, n, dtype=np.int64)),
        locale.domains.sample(rng, n),
        locale.first_token_table,
        locale.last_token_table,
        locale.domain_table,
    )


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
    days = np.ceil(age * 365.2425).astype(np.int64) + (rng.random(n) * 365).astype(np.int64)
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
    rows2 = np.flatnonzero(has2)
    email2 = pc.replace_with_mask(
        pa.nulls(n, pa.string()),
        pa.array(has2),
        new_addresses(rng, locale, first[rows2], last[rows2], dob[rows2]),
    )
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
    email = unique_addresses(rng, persons.email, email_keys)
    email2 = unique_addresses(rng, persons.email2, email_keys)
    return replace(persons, phone=phone, email=email, email2=email2)


def unique_addresses(rng: np.random.Generator, addresses: pa.Array, keys: KeySet) -> pa.Array:
    """Claim every address; a taken one gets digits before the ``@`` until it is free."""
    valid = ~np.asarray(addresses.is_null().to_numpy(zero_copy_only=False))
    taken = keys.claim(arrow_string_keys(addresses), valid)
    if not taken.any():
        return addresses
    rows = np.flatnonzero(taken)
    fresh = addresses.take(pa.array(rows))
    pending = np.ones(rows.size, dtype=bool)
    while pending.any():
        redo = np.flatnonzero(pending)
        again = emails.suffix_digits(fresh.take(pa.array(redo)), rng)
        pending[redo] = keys.claim(arrow_string_keys(again))
        mask = np.zeros(rows.size, dtype=bool)
        mask[redo] = True
        fresh = pc.replace_with_mask(fresh, pa.array(mask), again)
    # replace_with_mask takes the replacements in mask order (rows ascending)
    return pc.replace_with_mask(addresses, pa.array(taken), fresh)


def e164(numbers: Numbers) -> pa.Array:
    return render_e164(numbers)
