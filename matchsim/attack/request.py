"""What an attack enumerates, decided once for every verb.

``matchsim attack``, ``matchsim attack-table`` and ``matchsim run`` ask this module for
their keyspace, so the same question gets the same answer whichever verb asks it:

- :func:`phone_style_for`: how a platform profile writes a phone number before hashing;
- :func:`people_lengths`: the national-number lengths people's phones have (matchsim's
  locale narrows phonenumbers' metadata: NL mobiles are the 9-digit ``06`` range, not the
  11-digit ``097`` machine-to-machine range);
- :func:`phone_space` and :func:`keyspace_for`: the keyspace itself;
- :class:`KeyspaceRequest`, :class:`AttackRequest` and :class:`TableRequest`: what a user
  asks ``matchsim attack`` and ``attack-table`` for, checked once
  (:mod:`matchsim.attack.run` carries them out).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from matchsim.attack import keyspace as ks
from matchsim.attack.engine import Knowledge
from matchsim.attack.keyspace import MaskKeyspace, WordKeyspace
from matchsim.errors import ConfigError

KINDS = ("phone", "email", "date", "postcode", "wordlist")
"""What an attack can enumerate."""

TABLE_KINDS = ("phone", "date", "postcode")
"""The kinds with a mask keyspace: tabulated, looked up, written as hashcat masks."""

ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
"""The hash algorithms a lookup table is built with."""

DEVICES = ("cpu", "gpu")

LengthsFrom = Literal["given", "locale", "phonenumbers"]


def people_lengths(region: str, number_type: str) -> tuple[int, ...] | None:
    """National-number lengths of the ``number_type`` numbers people carry in ``region``.

    Read from matchsim's locale (``data/locales/<cc>/locale.toml``, ``[phone]
    <number_type>_lengths``), the table the generator draws people's numbers from. None
    where matchsim has no locale for ``region`` or the locale does not narrow the type:
    then every length phonenumbers allows is enumerated.
    """
    from matchsim.locale.paths import data_dir

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
    counts = ks.phone_lengths(region, number_type, lengths)
    left_out: dict[int, int] = {}
    if lengths_from == "locale":
        every = ks.phone_lengths(region, number_type)
        left_out = {n: c for n, c in every.items() if n not in counts}
    return PhoneSpace(
        ks.phone_keyspace(region, number_type, style, lengths), counts, lengths_from, left_out
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
        return ks.email_keyspace(region, max_guesses, wordlist)
    if kind == "date":
        return ks.date_keyspace()
    if kind == "postcode":
        return ks.nl_postcode_keyspace()
    if wordlist is None:
        raise ConfigError("--kind wordlist needs --wordlist FILE")
    return ks.wordlist_keyspace(wordlist)


@dataclass(frozen=True)
class KeyspaceRequest:
    """The keyspace a user describes; None is "not given" (the default applies).

    Attributes:
        kind: one of :data:`KINDS` (default: :func:`default_kind` of the profile).
        region: country of the numbers or names (default NL).
        number_type: phonenumbers' type name (default mobile).
        lengths: national-number lengths (default: :func:`people_lengths`).
        profile: platform profile whose phone format is hashed.
        style: phone format, overriding the profile's.
    """

    kind: str | None = None
    region: str | None = None
    number_type: str | None = None
    lengths: tuple[int, ...] | None = None
    profile: str | None = None
    style: str | None = None

    @property
    def given(self) -> bool:
        """Whether any part of the keyspace was described."""
        return any(v is not None for v in vars(self).values())

    @property
    def where(self) -> tuple[str, str]:
        """``(region, number_type)`` with their defaults."""
        return self.region or "NL", self.number_type or "mobile"

    def resolved_kind(self) -> str:
        return self.kind or default_kind(self.profile)

    def build(
        self, kind: str, max_guesses: int = 10_000_000, wordlist: Path | None = None
    ) -> tuple[MaskKeyspace | WordKeyspace, PhoneSpace | None]:
        """The keyspace of ``kind`` and, for phones, the lengths it covers."""
        region, number_type = self.where
        if kind == "phone":
            style = phone_style_for(self.profile, self.style)
            space = phone_space(region, number_type, style, self.lengths)
            return space.keyspace, space
        keyspace = keyspace_for(
            kind, region=region, number_type=number_type, lengths=self.lengths,
            max_guesses=max_guesses, wordlist=wordlist,
        )  # fmt: skip
        return keyspace, None

    def masks(self, kind: str) -> tuple[MaskKeyspace, PhoneSpace | None]:
        """:meth:`build` for a kind of :data:`TABLE_KINDS` (a mask keyspace)."""
        keyspace, phones = self.build(kind)
        assert isinstance(keyspace, MaskKeyspace)
        return keyspace, phones


def _one_of(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"unknown {option} {value!r}; choose from {', '.join(allowed)}")


@dataclass(frozen=True)
class AttackRequest:
    """What ``matchsim attack`` is asked: reverse ``upload`` by enumerating ``space`` (or
    by looking it up in ``table``), price every scheme, write what was recovered.

    Secrets are named (a file, a variable), never held: :meth:`knowledge` loads them.
    """

    upload: Path
    space: KeyspaceRequest = field(default_factory=KeyspaceRequest)
    column: str | None = None
    wordlist: Path | None = None
    max_guesses: int = 10_000_000
    device: str = "cpu"
    scheduler: str | None = None
    table: Path | None = None
    pepper_file: Path | None = None
    hmac_key_file: Path | None = None
    hmac_key_env: str | None = None
    out: Path | None = None
    force: bool = False
    cost: bool = True
    emit_hcmask: Path | None = None

    def check(self) -> str:
        """Refuse options that contradict each other or write over an input; the kind.

        Raises:
            ConfigError, OutputError: naming the options.
        """
        from matchsim.attack.output import plaintexts_written_here
        from matchsim.io import check_files, check_paths

        kind = self.space.resolved_kind()
        _one_of("--kind", kind, KINDS)
        table = self.table is not None
        if table and kind not in TABLE_KINDS:
            raise ConfigError(
                f"--table holds a mask keyspace ({', '.join(TABLE_KINDS)}); "
                f"--kind {kind} is enumerated, not looked up"
            )
        if self.device not in DEVICES:
            raise ConfigError(f"unknown --device {self.device!r}; choose cpu or gpu")
        if table and self.wordlist is not None:
            raise ConfigError("--wordlist cannot be used with --table")
        if table and self.device != "cpu":
            raise ConfigError(
                f"--device {self.device} does not apply to --table (a lookup runs on the "
                "CPU); drop --device or --table"
            )
        check_paths({"--out": self.out}, {
            "the upload": self.upload, "the --table": self.table,
            "the --wordlist": self.wordlist, "the --pepper-file": self.pepper_file,
            "the --hmac-key-file": self.hmac_key_file,
        })  # fmt: skip
        check_files({"--out": self.out}, self.force, plaintexts_written_here)
        if self.scheduler is not None and (table or self.device != "cpu"):
            raise ConfigError("--scheduler enumerates on a Dask cluster; drop --table or --device")
        return kind

    def knowledge(self, algorithm: str) -> Knowledge:
        """What the attacker knows: the algorithm, and the HMAC key or pepper named."""
        from matchsim.secrets import given_secret

        held = known_hmac(self.hmac_key_file, self.hmac_key_env)
        pepper = given_secret(self.pepper_file, None, "pepper", "--pepper-file", "--pepper-env")
        return Knowledge(
            algorithm,
            pepper=None if pepper is None else pepper.value,
            hmac_key=None if held is None else held.hmac_key,
        )


def known_hmac(file: Path | None, env: str | None) -> Knowledge | None:
    """An attacker who holds the HMAC-SHA256 key in ``file`` or ``env``; None if neither
    is named (``--hmac-key-file``/``--hmac-key-env`` of ``attack`` and ``reidentify``)."""
    from matchsim.secrets import given_secret

    key = given_secret(file, env, "HMAC key", "--hmac-key-file", "--hmac-key-env")
    return None if key is None else Knowledge("sha256", hmac_key=key.value)


@dataclass(frozen=True)
class TableRequest:
    """What ``matchsim attack-table`` is asked: hash ``space`` once with ``algorithm``
    into the lookup table ``out`` (replaced only with ``force``)."""

    out: Path
    space: KeyspaceRequest = field(default_factory=KeyspaceRequest)
    algorithm: str = "sha256"
    force: bool = False

    def check(self) -> str:
        """The kind tabulated.

        Raises:
            ConfigError: a kind without a mask keyspace, an unknown algorithm.
            OutputError: ``out`` is a folder, exists without ``force``, or is not a
                lookup table matchsim wrote.
        """
        from matchsim.attack.table import is_lookup_table
        from matchsim.io import check_files

        kind = self.space.resolved_kind()
        if kind not in TABLE_KINDS:
            raise ConfigError(
                f"--kind {kind!r} cannot be tabulated; choose from {', '.join(TABLE_KINDS)}"
            )
        _one_of("--algorithm", self.algorithm, ALGORITHMS)
        check_files({"--out": self.out}, self.force, is_lookup_table)
        return kind
