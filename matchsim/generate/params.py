"""What determines a population: :class:`PopulationParams` and the customer file's noise
rates (:class:`Corruption`).

Kept apart from the generator (numba, Arrow) so that validating an experiment file reads
them without loading the machinery that builds a population.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matchsim.locale.paths import available_countries

MAX_ROWS = 1_000_000_000
"""Most platform users / customers one population may have (identifier sets are in memory)."""


@dataclass(frozen=True)
class Corruption:
    """Rates (0..1) of each kind of noise in the customer file, per customer row.

    Defaults are modelling assumptions for a reasonably kept CRM, chosen so that every
    kind of loss shows up in a 10 k-customer run; set them from your own data.

    Attributes:
        email_missing: no e-mail on file.
        email_stale: an older address than the platform's current one (the platform may
            still hold it as a secondary address).
        email_typo: a letter dropped or doubled in the local part.
        email_case: upper or Title case (``Jan.DeJong@Gmail.Com``).
        email_whitespace: a stray leading or trailing space.
        email_gmail_dots: among gmail/googlemail addresses, dots added or removed in the
            local part (the same mailbox to Google).
        email_plus_tag: a ``+tag`` sub-address (``jan+zorg@...``).
        phone_missing: no phone on file.
        phone_typo: one subscriber digit wrong.
        name_typo: a letter dropped or doubled in the first name.
        dob_missing: no date of birth on file.
        postcode_format: postcode typed without its space and/or in lower case.
        madid_present: the CRM holds the customer's mobile advertising id (app users).
    """

    email_missing: float = 0.05
    email_stale: float = 0.08
    email_typo: float = 0.01
    email_case: float = 0.10
    email_whitespace: float = 0.03
    email_gmail_dots: float = 0.10
    email_plus_tag: float = 0.03
    phone_missing: float = 0.15
    phone_typo: float = 0.01
    name_typo: float = 0.01
    dob_missing: float = 0.03
    postcode_format: float = 0.20
    madid_present: float = 0.10

    def problems(self) -> list[str]:
        out = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                out.append(
                    f"corruption rate {f.name} must be a number between 0 and 1, got {value!r}"
                )
        return out


@dataclass(frozen=True)
class PopulationParams:
    """Everything that determines a population; the manifest records all of it.

    Attributes:
        platform_users: accounts on the platform.
        customers: rows in the advertiser's customer file.
        country: locale of both (ISO alpha-2; see ``data/locales``).
        overlap: share of customers who have a platform account.
        seed: the run's seed; same seed and parameters give byte-identical Parquet.
        as_of: the simulated date (ages are relative to it), ``YYYY-MM-DD``.
        platform_email_share: share of accounts that registered an e-mail address.
        platform_phone_share: share of accounts that registered a phone number (an account
            has at least one of the two).
        second_email_share: share of people with an older, second address the platform
            also holds.
        chunk_size: rows per generated chunk / Parquet row group (part of the random
            streams' layout, so it is recorded too).
        corruption: the customer file's noise rates.
    """

    platform_users: int = 100_000
    customers: int = 10_000
    country: str = "NL"
    overlap: float = 0.6
    seed: int = 7
    as_of: str = "2026-01-01"
    platform_email_share: float = 0.95
    platform_phone_share: float = 0.70
    second_email_share: float = 0.15
    chunk_size: int = 1_000_000
    corruption: Corruption = field(default_factory=Corruption)

    def problems(self) -> list[str]:
        """Every problem with these parameters (empty when valid)."""
        out: list[str] = []

        def count(name: str, minimum: int) -> None:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
                out.append(f"{name} must be an integer >= {minimum}, got {v!r}")

        def share(name: str) -> None:
            v = getattr(self, name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v <= 1:
                out.append(f"{name} must be a number between 0 and 1, got {v!r}")

        count("platform_users", 1)
        count("customers", 0)
        for name in ("platform_users", "customers"):
            v = getattr(self, name)
            if isinstance(v, int) and v > MAX_ROWS:
                out.append(f"{name} must be at most {MAX_ROWS:,}, got {v:,}")
        count("chunk_size", 1)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            out.append(f"seed must be a non-negative integer, got {self.seed!r}")
        for name in (
            "overlap",
            "platform_email_share",
            "platform_phone_share",
            "second_email_share",
        ):
            share(name)
        if str(self.country).lower() not in [c.lower() for c in available_countries()]:
            out.append(
                f"unknown country {self.country!r}; available: {', '.join(available_countries())}"
            )
        try:
            np.datetime64(self.as_of, "D")
        except ValueError:
            out.append(f"as_of must be a date YYYY-MM-DD, got {self.as_of!r}")
        if not out and round(self.overlap * self.customers) > self.platform_users:
            out.append(
                f"overlap {self.overlap} of {self.customers} customers needs "
                f"{round(self.overlap * self.customers)} platform users, "
                f"but there are only {self.platform_users}"
            )
        out.extend(self.corruption.problems())
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


__all__ = ["MAX_ROWS", "Corruption", "PopulationParams"]
