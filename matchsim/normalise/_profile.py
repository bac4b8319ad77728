"""The Profile type: a declarative table of field rules, applied by field normalisers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.errors import ConfigError
from matchsim.normalise.fields import NORMALISERS

FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "dob",
    "gender",
    "city",
    "state",
    "postcode",
    "country",
    "madid",
)
"""Every identifier field a profile may take."""

ACCEPTED_NEVER_MATCHES = "accepted, never matches"


@dataclass(frozen=True)
class FieldRule:
    """How one platform takes one field.

    Attributes:
        column: the column name in the platform's upload layout.
        hashed: hashed before upload (False: sent in clear).
        normaliser: key in :data:`~matchsim.normalise.fields.NORMALISERS`.
        options: keyword options for the normaliser.
        on_invalid: ``"reject"`` (count and drop with a reason) or ``"accept"`` (the
            platform takes the badly normalised value and it never matches - Google).
    """

    column: str
    hashed: bool
    normaliser: str
    options: Mapping[str, Any] = field(default_factory=dict)
    on_invalid: str = "reject"


@dataclass(frozen=True)
class Normalised:
    """One normalised column.

    Attributes:
        values: normalised strings; null where missing or rejected.
        rejected: True where the input was present but could not be normalised.
        reasons: the reason per rejected (or accepted-but-unmatchable) row, else null.
        prehashed: True where the input already was a digest passed through (Meta SDK).
    """

    values: pa.Array
    rejected: np.ndarray
    reasons: pa.Array
    prehashed: np.ndarray

    @property
    def unmatchable(self) -> np.ndarray:
        """Accepted by the platform although invalid: it will never match."""
        return ~self.rejected & self.reasons.is_valid().to_numpy(zero_copy_only=False)


@dataclass(frozen=True)
class Profile:
    """A platform's normalisation profile.

    Attributes:
        name: registry name (``meta``, ``google``…).
        title: what it models, with the documentation it follows.
        source: where the rules come from.
        fields: field -> rule, in the platform's column order.
        phone_style: ``"e164"`` (with ``+``), ``"digits"`` (without), or None (no phone).
        encoding: how the platform wants digests written (``hex``, ``HEX``, ``base64``).
        accepted_hashes: the plain hash algorithms the platform accepts.
    """

    name: str
    title: str
    source: str
    fields: Mapping[str, FieldRule]
    phone_style: str | None
    encoding: str = "hex"
    accepted_hashes: tuple[str, ...] = ("sha256",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        for f, rule in self.fields.items():
            if f not in FIELDS or rule.normaliser not in NORMALISERS:
                raise ValueError(f"profile {self.name}: bad rule for {f!r}")

    @property
    def columns(self) -> list[str]:
        return [rule.column for rule in self.fields.values()]

    def rule(self, field_name: str) -> FieldRule:
        try:
            return self.fields[field_name]
        except KeyError:
            if field_name not in FIELDS:
                raise ConfigError(
                    f"unknown field {field_name!r}; known fields: {', '.join(FIELDS)}"
                ) from None
            raise ConfigError(
                f"profile {self.name} takes no {field_name}; it takes: {', '.join(self.fields)}"
            ) from None

    def normalise(self, field: str, values: pa.Array | pa.ChunkedArray, region: str) -> Normalised:
        """Normalise one column; never drops a row (output aligns with input).

        Missing input (null or blank) gives null with no reason. Invalid input gives null
        and a reason - unless the rule accepts it, in which case the fallback value is
        kept, the reason says it will never match, and ``rejected`` stays False.
        """
        rule = self.rule(field)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        if not (pa.types.is_date(values.type) or pa.types.is_timestamp(values.type)):
            values = values.cast(pa.string())
            values = pc.utf8_trim_whitespace(values)
            if not pc.all(pc.string_is_ascii(values), min_count=0).as_py():  # ASCII: its own NFC
                values = pc.utf8_normalize(values, form="NFC")
            values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
        present = values.is_valid().to_numpy(zero_copy_only=False)
        result = NORMALISERS[rule.normaliser](values, region.upper(), **rule.options)
        bad = present & result.reasons.is_valid().to_numpy(zero_copy_only=False)
        reasons = pc.if_else(pa.array(present), result.reasons, pa.scalar(None, pa.string()))
        out = result.values
        if rule.on_invalid == "accept" and bad.any():
            fallback = result.fallback if result.fallback is not None else values
            if callable(fallback):  # made only now that it is needed
                fallback = fallback()
            out = pc.if_else(pa.array(bad), fallback, out)
            reasons = pc.if_else(
                pa.array(bad),
                pc.binary_join_element_wise(ACCEPTED_NEVER_MATCHES, reasons, ": "),
                reasons,
            )
            rejected = np.zeros(len(values), dtype=bool)
        else:
            rejected = bad
        out = pc.if_else(pa.array(present), out, pa.scalar(None, out.type))
        prehashed = (
            result.prehashed & present
            if result.prehashed is not None
            else np.zeros(len(values), dtype=bool)
        )
        return Normalised(out.cast(pa.string()), rejected, reasons, prehashed)
