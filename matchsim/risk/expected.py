"""Whole-population uniqueness from census tables, and the keyspace of a QI combination.

Sweeney's 87 % (1990) and Golle's 63 % (2000 census) are shares of the *whole US
population* unique on (5-digit ZIP, date of birth, sex); a 20 k sample says little about
them. This module computes them from the locale tables instead:

- ``data/locales/<cc>/places.csv``: people per postcode area (US: ACS 2018-2022 ZCTA
  totals, all ages; NL: PC4 populations);
- ``data/locales/<cc>/age.csv``: people per single year of age 18-100 and sex.

**Assumptions** (stated, because the result depends on them): age/sex is independent of
the area (every area has the national pyramid); birthdays are uniform over the 365.25
days of a year of age; each area's people fall into the (date of birth, sex) cells
independently. Then a person in an area of ``N_r`` people whose cell has probability
``q_c`` is unique with probability ``(1 - q_c)**(N_r - 1)``, and the expected number of
uniques is ``sum_r sum_c N_r q_c (1 - q_c)**(N_r - 1)``. Because ``q_c`` depends only on
(age, sex), the double sum runs over areas x 166 (age, sex) pairs, not over 10^9 cells.

A QI is spelled as for ``matchsim risk``: ``postcode`` or a prefix ``postcode:k`` (areas
are the places.csv codes grouped by their first ``k`` characters; NL places are PC4, which
the generator completes to PC6 "1011 AB" with two uniform letters, so the full ``postcode``
and ``postcode:6`` split each PC4 into its letter sub-areas), ``city``, ``region`` (places
grouped by those columns), ``dob`` / ``dob:year`` / ``dob:month`` and ``gender``. Without an
area field the whole country is one area. Fields the tables do not model (names, e-mail)
raise :class:`ConfigError`.

``population="adults"`` counts only people 18+ (each area's total scaled by the national
adult share), which is all the age table covers. ``population="all"`` adds ages 0-17 at
the age-18 count per year (a flat-child-pyramid assumption; the tables hold no child
counts), which is the population Golle counted. :func:`simulate_share_unique` draws the
same population person by person (vectorised, area chunks) as a check of the formula.

:func:`keyspace_size` gives the number of possible values of a QI combination: what an
attacker enumerates to reverse a hashed combination, priced like a phone-number space by
the attack stage (NL PC4 x 83 years of birth dates x 2 sexes is about 2.5 x 10^8, the
size of the whole NL mobile space, 10^8).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from matchsim.errors import ConfigError
from matchsim.locale.tables import available_countries, data_dir
from matchsim.risk.classes import QIField, parse_qi

DAYS_PER_YEAR = 365.25
_PC6_LETTERS = 20 * 20 - 3  # NL: 20 letters in each place, SA/SD/SS unused
_AREA_COLUMNS = ("postcode", "city", "region")
_MODELLED = (
    "postcode (or a prefix such as postcode:4), city, region, dob, dob:year, dob:month, gender"
)


@dataclass(frozen=True)
class CensusTables:
    """A locale's area populations and age/sex pyramid."""

    country: str
    postcodes: list[str]
    area_population: np.ndarray  # float64, people per area (all ages)
    ages: np.ndarray  # int
    male: np.ndarray  # float64
    female: np.ndarray  # float64
    cities: list[str] = _field(default_factory=list)
    regions: list[str] = _field(default_factory=list)
    # how the generator completes a places.csv code into a full postcode
    postcode_suffix: str = "none"
    postcode_letters: str = ""
    postcode_exclude: tuple[str, ...] = ()


@cache
def census_tables(country: str) -> CensusTables:
    """Read places.csv, age.csv and the postcode format of ``country`` (``"US"``, ``"NL"``)."""
    cc = country.upper()
    if cc not in available_countries():
        raise ConfigError(f"unknown country {country!r} (have: {', '.join(available_countries())})")
    folder = data_dir() / "locales" / cc.lower()
    opts = pacsv.ConvertOptions(
        column_types={"postcode": "string", "city": "string", "region": "string"}
    )
    places = pacsv.read_csv(folder / "places.csv", convert_options=opts)
    ages = pacsv.read_csv(folder / "age.csv")
    with (folder / "locale.toml").open("rb") as fh:
        postcode = tomllib.load(fh).get("postcode", {})
    names = places.column_names
    return CensusTables(
        country=cc,
        postcodes=places.column("postcode").to_pylist(),
        area_population=places.column("population").to_numpy().astype(np.float64),
        ages=ages.column("age").to_numpy().astype(np.int64),
        male=ages.column("male").to_numpy().astype(np.float64),
        female=ages.column("female").to_numpy().astype(np.float64),
        cities=places.column("city").to_pylist() if "city" in names else [],
        regions=places.column("region").to_pylist() if "region" in names else [],
        postcode_suffix=str(postcode.get("suffix", "none")),
        postcode_letters=str(postcode.get("letters", "")),
        postcode_exclude=tuple(postcode.get("exclude", ())),
    )


@dataclass(frozen=True)
class _Model:
    """A QI combination mapped onto the census tables.

    ``area_of_place`` groups the places.csv rows into the areas the QI's area fields
    (postcode prefix, city, region) can tell apart (one area if it has none);
    ``split`` is how the generator's letter suffix divides each area further
    ((probability of one sub-area, number of such sub-areas) pairs; ``[(1, 1)]`` for
    none); ``cells`` are the (date of birth, sex) cells as in :func:`_cells`.
    """

    fields: list[str]
    area_of_place: np.ndarray
    areas: int
    split: np.ndarray
    cells: np.ndarray


def _model(tables: CensusTables, qi: str | Sequence[str], population: str) -> _Model:
    fields = parse_qi(qi)
    names = [f.name for f in fields]
    bad = [
        f.name
        for f in fields
        if not (
            (f.column == "postcode" and (f.transform is None or f.transform.isdigit()))
            or (f.column in ("city", "region") and f.transform is None)
            or (f.column == "dob" and f.transform in (None, "year", "month"))
            or (f.column == "gender" and f.transform is None)
        )
    ]
    if bad:
        raise ConfigError(
            f"expected uniqueness is modelled for {_MODELLED} (from the locale's census "
            f"tables); not for {', '.join(bad)}"
        )
    base_len = max((len(p) for p in tables.postcodes), default=0)
    letters2 = tables.postcode_suffix == "letters2"
    keys: list[list[str]] = []
    split = np.array([[1.0, 1.0]])
    for f in fields:
        if f.column == "postcode":
            width = int(f.transform) if f.transform is not None else None
            keys.append([p if width is None else p[:width] for p in tables.postcodes])
            if letters2 and (width is None or width > base_len + 1):
                split = _letter_split(tables, whole=width is None or width > base_len + 2)
        elif f.column == "city":
            keys.append(tables.cities)
        elif f.column == "region":
            keys.append(tables.regions)
    if keys:
        joined = ["\x1f".join(parts) for parts in zip(*keys, strict=True)]
        codes, uniques = pd.factorize(np.asarray(joined, dtype=object))
        area_of_place, areas = codes.astype(np.int64), len(uniques)
    else:
        area_of_place, areas = np.zeros(len(tables.postcodes), dtype=np.int64), 1
    dob = next((f.transform or "day" for f in fields if f.column == "dob"), None)
    cells = _cells(tables, dob, "gender" in names, population)
    return _Model(names, area_of_place, areas, split, cells)


def _letter_split(tables: CensusTables, whole: bool) -> np.ndarray:
    """Sub-areas of a places.csv code made by the generator's two letters (uniform over the
    allowed pairs; ``whole=False``: only the first letter is kept, ``postcode:6`` in NL)."""
    letters = tables.postcode_letters
    allowed = [a + b for a in letters for b in letters if a + b not in tables.postcode_exclude]
    if whole:
        return np.array([[1.0 / len(allowed), float(len(allowed))]])
    per_first = np.array([sum(p[0] == a for p in allowed) for a in letters], dtype=np.float64)
    probs, counts = np.unique(per_first / len(allowed), return_counts=True)
    return np.column_stack([probs, counts.astype(np.float64)])


def _cells(tables: CensusTables, dob: str | None, by_sex: bool, population: str) -> np.ndarray:
    """(probability of one cell, number of such cells) pairs within an area, as (k, 2)."""
    male, female = tables.male, tables.female
    if population == "all":
        young = np.arange(0, int(tables.ages.min()))
        male = np.concatenate([np.full(young.size, male[0]), male])
        female = np.concatenate([np.full(young.size, female[0]), female])
    elif population != "adults":
        raise ConfigError(f"population must be 'adults' or 'all', not {population!r}")
    total = male.sum() + female.sum()
    if dob is None:
        per_year = np.array([male.sum(), female.sum()]) if by_sex else np.array([total])
        parts = 1.0
    else:
        per_year = np.concatenate([male, female]) if by_sex else male + female
        parts = {"day": DAYS_PER_YEAR, "month": 12.0, "year": 1.0}[dob]
    q = per_year / total / parts
    return np.column_stack([q, np.full(q.shape, parts)])


def _place_sizes(tables: CensusTables, population: str, scale: float) -> np.ndarray:
    """People per places.csv row (rounded), adults scaled by the national adult share."""
    sizes = tables.area_population
    if population == "adults":
        adults = tables.male.sum() + tables.female.sum()
        sizes = sizes * min(1.0, adults / sizes.sum())
    return np.rint(sizes * scale)


def expected_share_unique(
    country: str,
    qi: str | Sequence[str] = ("postcode", "dob", "gender"),
    population: str = "adults",
    scale: float = 1.0,
) -> dict[str, Any]:
    """Expected share of the population unique on ``qi`` (analytic; see module docstring).

    Args:
        country: a locale with places.csv and age.csv (``US``: 5-digit ZIP; ``NL``: PC4,
            which the generator completes to PC6 with two uniform letters).
        qi: any of ``postcode`` (or a prefix ``postcode:k``), ``city``, ``region``,
            ``dob`` / ``dob:year`` / ``dob:month`` and ``gender``, spelled as for ``risk``.
        population: ``"adults"`` (18+, as tabulated) or ``"all"`` (children extrapolated).
        scale: multiply every area's population (``< 1`` for a smaller country to test).

    Returns:
        ``{"country", "qi", "population", "people", "areas", "expected_unique",
        "share_unique", "assumptions"}``.

    Raises:
        ConfigError: a field the census tables do not model (names, e-mail), an unknown
            country or population.
    """
    tables = census_tables(country)
    model = _model(tables, qi, population)
    place = _place_sizes(tables, population, scale)
    sizes = np.bincount(model.area_of_place, weights=place, minlength=model.areas)
    sizes = sizes[sizes > 0]
    # every (sub-area, cell) pair: probability within its area, multiplicity
    q = np.outer(model.split[:, 0], model.cells[:, 0]).ravel()
    mult = np.outer(model.split[:, 1], model.cells[:, 1]).ravel()
    # N_r * q_c * (1 - q_c)^(N_r - 1), summed over cells (with multiplicity) and areas.
    log1m = np.log1p(-q)
    uniques = 0.0
    for lo in range(0, sizes.size, 4096):
        chunk = sizes[lo : lo + 4096]
        terms = np.exp(np.outer(chunk - 1.0, log1m)) * q * mult
        uniques += float((chunk * terms.sum(axis=1)).sum())
    people = float(sizes.sum())
    return {
        **_about(tables, model, population, people),
        "areas": int(sizes.size),
        "expected_unique": uniques,
        "share_unique": uniques / people if people else 0.0,
        "assumptions": ASSUMPTIONS,
    }


ASSUMPTIONS = (
    "people per area from the locale's census table (adults: scaled by the national adult "
    "share); age and sex independent of the area (the national pyramid everywhere); birthdays "
    "uniform within a year of age (dob:year and dob:month cells are a year of age and a "
    "twelfth of it); a letter-suffixed postcode (NL PC6) splits its PC4 uniformly; people fall "
    "into cells independently"
)
"""The model behind :func:`expected_share_unique`, in one sentence for reports."""


def _about(tables: CensusTables, model: _Model, population: str, people: float) -> dict[str, Any]:
    """What an estimate is of: the country, the fields, which people and how many."""
    return {
        "country": tables.country,
        "qi": model.fields,
        "population": population,
        "people": people,
    }


def simulate_share_unique(
    country: str,
    qi: str | Sequence[str] = ("postcode", "dob", "gender"),
    population: str = "adults",
    scale: float = 1.0,
    seed: int = 0,
    chunk_people: int = 8_000_000,
) -> dict[str, Any]:
    """The share unique in one drawn population (same assumptions, person by person).

    Areas keep their (rounded, scaled) sizes; each person draws a sub-area, an
    (age, sex) from the pyramid and a uniform part of the year (day or month). Work goes
    in chunks of whole areas, so memory stays bounded for the 3 x 10^8 people of the US.
    """
    tables = census_tables(country)
    model = _model(tables, qi, population)
    place = _place_sizes(tables, population, scale)
    sizes = np.bincount(model.area_of_place, weights=place, minlength=model.areas).astype(np.int64)
    cells = model.cells
    groups = cells[:, 0] * cells[:, 1]
    cdf = np.cumsum(groups / groups.sum())
    parts = float(cells[0, 1])
    sub_p = np.repeat(model.split[:, 0], model.split[:, 1].astype(np.int64))
    sub_cdf = np.cumsum(sub_p / sub_p.sum())
    rng = np.random.default_rng(seed)
    unique = 0
    bounds = np.searchsorted(np.cumsum(sizes), np.arange(chunk_people, sizes.sum(), chunk_people))
    starts = np.concatenate([[0], bounds + 1])
    stops = np.concatenate([bounds + 1, [sizes.size]])
    for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
        if lo >= hi:
            continue
        counts = sizes[lo:hi]
        area = np.repeat(np.arange(hi - lo, dtype=np.int64), counts)
        sub = np.minimum(
            np.searchsorted(sub_cdf, rng.random(area.size), side="right"), sub_cdf.size - 1
        )
        group = np.minimum(np.searchsorted(cdf, rng.random(area.size), side="right"), cdf.size - 1)
        # 365.25 days a year: a quarter of the years have a 366th day.
        part = np.floor(rng.random(area.size) * parts).astype(np.int64) if parts > 1 else 0
        key = ((area * sub_cdf.size + sub) * cdf.size + group) * (math.ceil(parts) + 1) + part
        _, counts_per_key = np.unique(key, return_counts=True)
        unique += int((counts_per_key == 1).sum())
    people = int(sizes.sum())
    return {
        **_about(tables, model, population, people),
        "seed": seed,
        "unique": unique,
        "share_unique": unique / people,
    }


def keyspace(qi: str | Sequence[str], country: str) -> dict[str, int]:
    """Number of possible values of each QI field, from the locale's tables.

    Date of birth spans the age table (18-100 years: 83 years of days). Fields without a
    value table (e-mail, phone) raise :class:`ConfigError`: their spaces belong to the
    attack stage's keyspaces.
    """
    tables = census_tables(country)
    years = int(tables.ages.max() - tables.ages.min() + 1)
    folder = data_dir() / "locales" / tables.country.lower()
    out: dict[str, int] = {}
    for field in parse_qi(qi):
        out[field.name] = _field_space(field, tables, years, folder)
    return out


def _field_space(field: QIField, tables: CensusTables, years: int, folder: Any) -> int:
    column, transform = field.column, field.transform
    if column == "postcode":
        if transform is not None and transform.isdigit():
            return len({p[: int(transform)] for p in tables.postcodes})
        if transform is None:
            full = _PC6_LETTERS if tables.country == "NL" else 1
            return len(set(tables.postcodes)) * full
    elif column == "dob":
        spaces = {None: round(years * DAYS_PER_YEAR), "year": years, "month": years * 12}
        if transform in spaces:
            return spaces[transform]
    elif column == "gender" and transform is None:
        return 2
    elif column in ("first_name", "last_name", "city", "region") and transform is None:
        if column in ("city", "region"):
            table = pacsv.read_csv(folder / "places.csv")
        else:
            table = pacsv.read_csv(folder / f"{column.split('_')[0]}_names.csv")
        key = column if column in ("city", "region") else "name"
        return len(pc.unique(table.column(key)))
    raise ConfigError(f"no known value space for QI field {field.name!r}")


def keyspace_size(qi: str | Sequence[str], country: str) -> int:
    """Size of the space of a QI combination: the product of :func:`keyspace`'s fields."""
    size = 1
    for value in keyspace(qi, country).values():
        size *= value
    return size
