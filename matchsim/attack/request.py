"""What an attack enumerates, decided once for every verb.

``matchsim attack``, ``matchsim attack-table`` and ``matchsim run`` ask this module for
their keyspace, so the same question gets the same answer whichever verb asks it:

- :func:`phone_style_for`: how a platform profile writes a phone number before hashing;
- :func:`people_lengths`: the national-number lengths people's phones have (matchsim's
  locale narrows phonenumbers' metadata: NL mobiles are the 9-digit ``06`` range, not the
  11-digit ``097`` machine-to-machine range);
- :func:`phone_space` and :func:`keyspace_for`: the keyspace itself.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from matchsim.attack.keyspace import (
    MaskKeyspace,
    WordKeyspace,
    date_keyspace,
    email_keyspace,
    nl_postcode_keyspace,
    phone_keyspace,
    phone_lengths,
    wordlist_keyspace,
)
from matchsim.errors import ConfigError

KINDS = ("phone", "email", "date", "postcode", "wordlist")
"""What an attack can enumerate."""

LengthsFrom = Literal["given", "locale", "phonenumbers"]


def people_lengths(region: str, number_type: str) -> tuple[int, ...] | None:
    """National-number lengths of the ``number_type`` numbers people carry in ``region``.

    Read from matchsim's locale (``data/locales/<cc>/locale.toml``, ``[phone]
    <number_type>_lengths``), the table the generator draws people's numbers from. None
    where matchsim has no locale for ``region`` or the locale does not narrow the type:
    then every length phonenumbers allows is enumerated.
    """
    from matchsim.locale.tables import data_dir

    toml = data_dir() / "locales" / region.strip().lower() / "locale.toml"
    if not toml.is_file():
        return None
    with toml.open("rb") as fh:
        phone = tomllib.load(fh).get("phone", {})
    lengths = tuple(int(n) for n in phone.get(f"{number_type}_lengths", ()))
    return lengths or None


def phone_style_for(profile: str | None, style: str | None = None) -> str:
    """The phone format hashed: ``style`` if given, else the profile's, else ``digits``.

    Raises:
        ConfigError: unknown profile, or a profile that takes no phone numbers (LinkedIn,
            Pinterest) without an explicit ``style``.
    """
    if style:
        return style
    if profile is None:
        return "digits"
    from matchsim.normalise import get_profile

    prof = get_profile(profile)
    if prof.phone_style is None or "phone" not in prof.fields:
        takes = ", ".join(prof.fields)
        raise ConfigError(
            f"profile {prof.name} takes no phone numbers (it takes {takes}); "
            "attack its e-mails (--kind email) or give the phone format (--style)"
        )
    return str(prof.phone_style)


def default_kind(profile: str | None) -> str:
    """What an attack enumerates when not told: phones, or e-mails for a profile that
    takes no phone numbers."""
    if profile is None:
        return "phone"
    from matchsim.normalise import get_profile

    return "phone" if "phone" in get_profile(profile).fields else "email"


@dataclass(frozen=True)
class PhoneSpace:
    """A phone keyspace and the national-number lengths it covers.

    Attributes:
        keyspace: the masks enumerated.
        lengths: national-number length -> valid numbers of that length enumerated.
        lengths_from: ``given`` (by the caller), ``locale`` (people's numbers per
            matchsim's locale) or ``phonenumbers`` (every length its metadata allows).
        left_out: lengths phonenumbers allows that the locale leaves out, with counts.
    """

    keyspace: MaskKeyspace
    lengths: dict[int, int]
    lengths_from: LengthsFrom
    left_out: dict[int, int]


def phone_space(
    region: str,
    number_type: str = "mobile",
    style: str = "digits",
    lengths: tuple[int, ...] | None = None,
) -> PhoneSpace:
    """The phone keyspace every verb enumerates: ``lengths`` if given, else people's
    lengths (:func:`people_lengths`), else every length phonenumbers allows."""
    lengths_from: LengthsFrom = "given"
    if not lengths:
        lengths = people_lengths(region, number_type)
        lengths_from = "locale" if lengths else "phonenumbers"
    counts = phone_lengths(region, number_type, lengths)
    left_out: dict[int, int] = {}
    if lengths_from == "locale":
        every = phone_lengths(region, number_type)
        left_out = {n: c for n, c in every.items() if n not in counts}
    return PhoneSpace(
        phone_keyspace(region, number_type, style, lengths), counts, lengths_from, left_out
    )


def keyspace_for(
    kind: str,
    *,
    region: str = "NL",
    number_type: str = "mobile",
    style: str = "digits",
    lengths: tuple[int, ...] | None = None,
    max_guesses: int = 10_000_000,
    wordlist: Path | None = None,
) -> MaskKeyspace | WordKeyspace:
    """The keyspace of an attack on ``kind`` (phone, email, date, postcode, wordlist).

    Raises:
        ConfigError: unknown kind, region, number type or style; wordlist without a file.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    if kind == "phone":
        return phone_space(region, number_type, style, lengths).keyspace
    if kind == "email":
        return email_keyspace(region, max_guesses, wordlist)
    if kind == "date":
        return date_keyspace()
    if kind == "postcode":
        return nl_postcode_keyspace()
    if wordlist is None:
        raise ConfigError("--kind wordlist needs --wordlist FILE")
    return wordlist_keyspace(wordlist)
