"""The CLK schema: which fields, how they are tokenised and hashed, and the hardening.

Validated up front, reporting every problem with its location (clkhash's habit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from matchsim.errors import ConfigError
from matchsim.experiment.fields import Fields

LAYOUTS = ("field", "record")
FIELDS = ("first_name", "last_name", "dob", "postcode", "city", "gender", "email", "phone")


@dataclass(frozen=True)
class ClkField:
    """One identifier: ``q``-grams (padded with ``q-1`` spaces, as clkhash), ``k`` bits
    per token."""

    name: str
    q: int = 2
    k: int = 20

    @classmethod
    def read(cls, f: Fields) -> ClkField | None:
        """One ``fields`` entry: a name, or a table ``{name, q, k}``; None when unusable."""
        if "name" not in f:
            f.problem("name", "missing")
        name = f.name("name", None, FIELDS, "field")
        q, k = f.integer("q", cls.q, 1, 4), f.integer("k", cls.k, 1, 64)
        f.unknown()
        return None if name is None else cls(name, q=q, k=k)


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
        """Every problem of this schema, checked by the same reads as a table."""
        f = Fields({k: v for k, v in self.to_dict().items() if v is not None}, where)
        type(self).read(f)
        return f.finish()

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
    def read(cls, f: Fields) -> ClkSchema:
        """Read through the one validator; every problem goes into ``f``
        (``[clk.schema].length``)."""
        f.allow(("fields", "length", "layout", "salt_field", "balance", "xor_fold"))
        f.unknown()
        fields = _fields(f)
        schema = cls(
            fields=fields,
            length=f.integer("length", cls.length, check=_length),
            layout=f.string("layout", cls.layout, LAYOUTS),
            salt_field=f.name("salt_field", None, FIELDS, "field"),
            balance=f.boolean("balance", cls.balance),
            xor_fold=f.boolean("xor_fold", cls.xor_fold),
        )
        if schema.xor_fold and not schema.balance and schema.length < 128:
            f.problem("xor_fold", "needs length >= 128")
        return schema

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "clk") -> ClkSchema:
        """Build from a config table; ConfigError lists every problem at once."""
        f = Fields(d, where)
        schema = cls.read(f)
        ConfigError.collect(f.finish())
        return schema


def _length(v: int) -> str | None:
    if v < 64 or v & (v - 1):
        return f"must be a power of two >= 64, got {v!r}"
    return f"at most 65536 bits, got {v}" if v > 65536 else None


def _fields(f: Fields) -> tuple[ClkField, ...]:
    """``fields``: names or ``{name, q, k}`` tables, each once, at least one."""
    raw = f.sub("fields")
    if raw is None:
        return DEFAULT_FIELDS
    if not isinstance(raw, list):
        f.problem("fields", f"must be a list of field names or tables, got {raw!r}")
        return DEFAULT_FIELDS
    out: list[ClkField] = []
    for i, item in enumerate(raw):
        where = f"{f.where}.fields[{i}]"
        if not isinstance(item, str | Mapping):
            f.problems.append(f"{where}: expected a field name or a table")
            continue
        table = {"name": item} if isinstance(item, str) else item
        read = ClkField.read(Fields(table, where, f.problems))
        if read is not None:
            out.append(read)
    if not raw:
        f.problem("fields", "at least one field is needed")
    names = [x.name for x in out]
    if len(set(names)) != len(names):
        f.problem("fields", "a field is listed twice")
    return tuple(out) or DEFAULT_FIELDS


@dataclass(frozen=True)
class LinkParams:
    """Matching: Dice threshold and greedy one-to-one assignment (anonlink's solver)."""

    threshold: float = 0.85
    top_k: int = field(default=4)

    def problems(self, where: str = "clk.link") -> list[str]:
        f = Fields(vars(self), where)
        type(self).read(f)
        return f.finish()

    @classmethod
    def read(cls, f: Fields) -> LinkParams:
        f.allow(("threshold", "top_k"))
        f.unknown()
        return cls(
            threshold=f.number("threshold", cls.threshold, check=share_above_zero, as_float=False),
            top_k=f.integer("top_k", 4, 1),
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "clk.link") -> LinkParams:
        f = Fields(d, where)
        params = cls.read(f)
        ConfigError.collect(f.finish())
        return params


def share_above_zero(v: float) -> str | None:
    """A number in (0, 1] (a Dice threshold, a Jaccard similarity)."""
    return None if 0 < v <= 1 else f"must be a number in (0, 1], got {v!r}"
