"""The CLK schema: which fields, how they are tokenised and hashed, and the hardening.

Validated up front, reporting every problem with its location (clkhash's habit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from matchsim.errors import ConfigError

LAYOUTS = ("field", "record")
FIELDS = ("first_name", "last_name", "dob", "postcode", "city", "gender", "email", "phone")


@dataclass(frozen=True)
class ClkField:
    """One identifier: ``q``-grams (padded with ``q-1`` spaces, as clkhash), ``k`` bits
    per token."""

    name: str
    q: int = 2
    k: int = 20

    def problems(self, where: str) -> list[str]:
        out = []
        if self.name not in FIELDS:
            out.append(f"{where}.name: unknown field {self.name!r}; known: {', '.join(FIELDS)}")
        for attr, lo, hi in (("q", 1, 4), ("k", 1, 64)):
            v = getattr(self, attr)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                out.append(f"{where}.{attr}: must be an integer in [{lo}, {hi}], got {v!r}")
        return out


DEFAULT_FIELDS = (ClkField("first_name"), ClkField("last_name"), ClkField("dob", q=2, k=10))


@dataclass(frozen=True)
class ClkSchema:
    """A CLK encoding schema.

    Attributes:
        fields: the identifiers encoded.
        length: bits per Bloom filter (per field with ``layout="field"``, per record with
            ``"record"``); a power of two >= 64 (before hardening changes it).
        layout: ``record`` ORs every field into one filter (clkhash's CLK);
            ``field`` concatenates one filter per field (attribute-level Bloom filters,
            the form most published attacks target: an attacker can slice one field).
        salt_field: harden with a record-specific salt: each token is hashed together
            with this field's value (e.g. ``dob``), so equal names in different records
            set different bits. Both parties must hold the same salt value.
        balance: append each filter's complement and permute (Schnell & Borgs 2016):
            every filter gets the same Hamming weight; doubles the length.
        xor_fold: XOR the two halves of each filter (Schnell et al. 2016); halves it.
    """

    fields: tuple[ClkField, ...] = DEFAULT_FIELDS
    length: int = 512
    layout: str = "field"
    salt_field: str | None = None
    balance: bool = False
    xor_fold: bool = False

    def problems(self, where: str = "clk") -> list[str]:
        out: list[str] = []
        if not self.fields:
            out.append(f"{where}.fields: at least one field is needed")
        names = [f.name for f in self.fields]
        for i, f in enumerate(self.fields):
            out.extend(f.problems(f"{where}.fields[{i}]"))
        if len(set(names)) != len(names):
            out.append(f"{where}.fields: a field is listed twice")
        length = self.length
        if (
            not isinstance(length, int)
            or isinstance(length, bool)
            or length < 64
            or length & (length - 1)
        ):
            out.append(f"{where}.length: must be a power of two >= 64, got {length!r}")
        elif length > 65536:
            out.append(f"{where}.length: at most 65536 bits, got {length}")
        if self.layout not in LAYOUTS:
            out.append(f"{where}.layout: must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.salt_field is not None and self.salt_field not in FIELDS:
            out.append(f"{where}.salt_field: unknown field {self.salt_field!r}")
        for flag in ("balance", "xor_fold"):
            if not isinstance(getattr(self, flag), bool):
                out.append(f"{where}.{flag}: must be true or false")
        if self.xor_fold and isinstance(length, int) and not self.balance and length < 128:
            out.append(f"{where}.xor_fold: needs length >= 128")
        return out

    @property
    def segment_bits(self) -> int:
        """Bits per filter after hardening."""
        bits = self.length * (2 if self.balance else 1)
        return bits // 2 if self.xor_fold else bits

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields) if self.layout == "field" else ("record",)

    @property
    def hardening(self) -> str:
        parts = [
            p
            for p, on in (
                (f"salt={self.salt_field}", self.salt_field),
                ("balance", self.balance),
                ("xor-fold", self.xor_fold),
            )
            if on
        ]
        return "+".join(parts) or "none"

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": [{"name": f.name, "q": f.q, "k": f.k} for f in self.fields],
            "length": self.length,
            "layout": self.layout,
            "salt_field": self.salt_field,
            "balance": self.balance,
            "xor_fold": self.xor_fold,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "clk") -> ClkSchema:
        """Build from a config table; ConfigError lists every problem at once."""
        known = ("fields", "length", "layout", "salt_field", "balance", "xor_fold")
        problems = [
            f"{where}.{k}: unknown key; known: {', '.join(known)}" for k in d if k not in known
        ]
        kwargs: dict[str, Any] = {k: v for k, v in d.items() if k in known and k != "fields"}
        fields: list[ClkField] = []
        for i, f in enumerate(d.get("fields", [])):
            loc = f"{where}.fields[{i}]"
            if isinstance(f, str):
                fields.append(ClkField(f))
            elif isinstance(f, Mapping):
                bad = [k for k in f if k not in ("name", "q", "k")]
                problems += [f"{loc}.{k}: unknown key; known: name, q, k" for k in bad]
                if "name" not in f:
                    problems.append(f"{loc}.name: missing")
                else:
                    fields.append(ClkField(**{k: v for k, v in f.items() if k not in bad}))
            else:
                problems.append(f"{loc}: expected a field name or a table")
        if "fields" in d:
            kwargs["fields"] = tuple(fields)
        schema = cls(**kwargs)
        ConfigError.collect(problems + schema.problems(where))
        return schema


@dataclass(frozen=True)
class LinkParams:
    """Matching: Dice threshold and greedy one-to-one assignment (anonlink's solver)."""

    threshold: float = 0.85
    top_k: int = field(default=4)

    def problems(self, where: str = "clk.link") -> list[str]:
        out = []
        t = self.threshold
        if not isinstance(t, int | float) or isinstance(t, bool) or not 0 < t <= 1:
            out.append(f"{where}.threshold: must be a number in (0, 1], got {t!r}")
        if not isinstance(self.top_k, int) or isinstance(self.top_k, bool) or self.top_k < 1:
            out.append(f"{where}.top_k: must be an integer >= 1, got {self.top_k!r}")
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "clk.link") -> LinkParams:
        known = ("threshold", "top_k")
        problems = [
            f"{where}.{k}: unknown key; known: {', '.join(known)}" for k in d if k not in known
        ]
        params = cls(**{k: v for k, v in d.items() if k in known})
        ConfigError.collect(problems + params.problems(where))
        return params
