"""The policy catalogue of real products (``data/platform-policies.toml``), validated.

Every product carries its documented figures (value, unit, source URL, date, and whether
matchsim's maintainers confirmed it on the vendor's own page: ``verified``,
``secondary`` or ``unverified``) and a ``simulate`` table: the observable the advertiser
gets (``status``, ``count``, ``ranges``, ``match-rate``, ``identifier``) and the
reporting rules, turned into a :class:`~matchsim.oracle.policy.Policy` by
:meth:`Product.policy`. Whatever the simulation assumes beyond the figures is listed in
``simulate.assumed`` and reported with the results.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from matchsim.errors import ConfigError, InputError
from matchsim.oracle._validate import Fields
from matchsim.oracle.policy import NOISES, PERIODS, Policy

T = TypeVar("T")

STATUSES = ("verified", "secondary", "unverified")
OBSERVABLES = ("status", "count", "ranges", "match-rate", "identifier")
CATALOGUE_FILE = "platform-policies.toml"
STATUS_RANGES = 1e12
"""Range ratio that makes every size above the floor one bucket: only "usable or not"."""


@dataclass(frozen=True)
class Figure:
    """One documented number and where it comes from."""

    name: str
    value: Any
    unit: str
    source: str
    documented: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "source": self.source,
            "documented": self.documented,
            "status": self.status,
        }


@dataclass(frozen=True)
class Product:
    """One product's promise and how matchsim simulates what it shows."""

    id: str
    name: str
    family: str
    claim: str
    figures: tuple[Figure, ...]
    observable: str
    floor: int
    ranges: float = 0.0
    noise: str = "none"
    epsilon: float = 1.0
    budget: float = float("inf")
    period: str = "day"
    difference_check: bool = False
    upload_hours: float = 24.0
    minimum_spend_usd: float = 0.0
    assumed: tuple[str, ...] = ()

    def policy(self) -> Policy:
        """The reporting rules the simulated platform applies for this product."""
        ranges = STATUS_RANGES if self.observable == "status" else self.ranges
        return Policy(
            name=self.id,
            granularity=1,
            floor=self.floor,
            ranges=ranges,
            noise=self.noise,
            epsilon=self.epsilon,
            budget=self.budget,
            period=self.period,
            difference_check=self.difference_check,
        )

    @property
    def unverified(self) -> list[Figure]:
        return [f for f in self.figures if f.status != "verified"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "family": self.family,
            "claim": self.claim,
            "figures": [f.to_dict() for f in self.figures],
            "observable": self.observable,
            "policy": self.policy().to_dict(),
            "upload_hours": self.upload_hours,
            "minimum_spend_usd": self.minimum_spend_usd,
            "assumed": list(self.assumed),
        }


def _figure(d: Any, where: str) -> tuple[Figure, list[str]]:
    f = Fields(d, where)
    present, value = f._get("value")
    if not present:
        f.problem("value", "missing")
    fig = Figure(
        name=f.string("name", ""),
        value=value,
        unit=f.string("unit", ""),
        source=f.string("source", ""),
        documented=f.string("documented", "undated"),
        status=f.string("status", "unverified", STATUSES),
    )
    if not fig.name:
        f.problem("name", "missing")
    if fig.status == "verified" and not fig.source.startswith("https://"):
        f.problem("source", "a verified figure needs its https:// source")
    return fig, f.finish()


def _each(
    f: Fields,
    key: str,
    table: str,
    parse: Callable[[Any, str], tuple[T | None, list[str]]],
    where: str,
) -> tuple[list[T], list[str]]:
    """Every table of the array ``key`` (at least one) parsed by ``parse``, and the
    problems found in them, each located as ``where[i]``."""
    raw = f.sub(key)
    if not isinstance(raw, list) or not raw:
        f.problem(key, f"needs at least one {table}")
        raw = []
    items: list[T] = []
    problems: list[str] = []
    for i, item in enumerate(raw):
        parsed, errs = parse(item, f"{where}[{i}]")
        problems.extend(errs)
        if parsed is not None:
            items.append(parsed)
    return items, problems


def _product(d: Any, where: str) -> tuple[Product | None, list[str]]:
    f = Fields(d, where)
    figures, problems = _each(f, "figure", "[[product.figure]]", _figure, f"{where}.figure")
    s = Fields(f.sub("simulate"), f"{where}.simulate")
    product = Product(
        id=f.string("id", ""),
        name=f.string("name", ""),
        family=f.string("family", ""),
        claim=f.string("claim", ""),
        figures=tuple(figures),
        observable=s.string("observable", "count", OBSERVABLES),
        floor=s.integer("floor", 0, 0),
        ranges=s.number("ranges", 0.0, 0.0),
        noise=s.string("noise", "none", NOISES),
        epsilon=s.number("epsilon", 1.0, positive=True),
        budget=s.number("budget", float("inf"), positive=True),
        period=s.string("period", "day", tuple(PERIODS)),
        difference_check=s.boolean("difference_check", False),
        upload_hours=s.number("upload_hours", 24.0, 0.0),
        minimum_spend_usd=s.number("minimum_spend_usd", 0.0, 0.0),
        assumed=s.strings("assumed", ()),
    )
    if not product.id:
        f.problem("id", "missing")
    if product.observable == "ranges" and product.ranges <= 1:
        s.problem("ranges", "ranges need an edge ratio > 1")
    return product, f.finish() + problems + s.finish()


def load_catalogue(path: str | Path | None = None) -> list[Product]:
    """Read and validate the catalogue (default: the one shipped in ``data/``).

    Raises:
        InputError: the file is missing or not TOML.
        ConfigError: every problem, each as ``file: product[i].key: message``.
    """
    if path is None:
        from matchsim.locale.paths import data_dir

        path = data_dir() / CATALOGUE_FILE
    path = Path(path)
    try:
        tree = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"is not valid TOML: {exc}") from None
    top = Fields(tree, "catalogue")
    if top.integer("version", 0) != 1:
        top.problem("version", "must be 1")
    top.string("checked", "")
    products, problems = _each(top, "product", "[[product]]", _product, "product")
    ids = [p.id for p in products]
    if len(set(ids)) != len(ids):
        problems.append("product: ids must be unique")
    all_problems = top.finish() + problems
    ConfigError.collect(f"{path}: {p}" for p in all_problems)
    return products
