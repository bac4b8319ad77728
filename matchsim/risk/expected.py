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

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from matchsim.errors import ConfigError
from matchsim.generate.locale import available_countries, data_dir
from matchsim.risk.classes import QIField, parse_qi

DAYS_PER_YEAR = 365.25
_PC6_LETTERS = 20 * 20 - 3  # NL: 20 letters in each place, SA/SD/SS unused
_SUPPORTED = {"postcode", "dob", "dob:year", "gender"}


@dataclass(frozen=True)
class CensusTables:
    """A locale's area populations and age/sex pyramid."""

    country: str
    postcodes: list[str]
    area_population: np.ndarray  # float64, people per area (all ages)
    ages: np.ndarray  # int
    male: np.ndarray  # float64
    female: np.ndarray  # float64


@cache
def census_tables(country: str) -> CensusTables:
    """Read places.csv and age.csv of ``country`` (e.g. ``"US"``, ``"NL"``)."""
    cc = country.upper()
    if cc not in available_countries():
        raise ConfigError(f"unknown country {country!r} (have: {', '.join(available_countries())})")
    folder = data_dir() / "locales" / cc.lower()
    opts = pacsv.ConvertOptions(column_types={"postcode": "string"})
    places = pacsv.read_csv(folder / "places.csv", convert_options=opts)
    ages = pacsv.read_csv(folder / "age.csv")
    return CensusTables(
        country=cc,
        postcodes=places.column("postcode").to_pylist(),
        area_population=places.column("population").to_numpy().astype(np.float64),
        ages=ages.column("age").to_numpy().astype(np.int64),
        male=ages.column("male").to_numpy().astype(np.float64),
        female=ages.column("female").to_numpy().astype(np.float64),
    )


def _fields(qi: str | Sequence[str]) -> list[str]:
    names = [f.name for f in parse_qi(qi)]
    bad = [n for n in names if n not in _SUPPORTED]
    if bad or "postcode" not in names:
        raise ConfigError(
            f"expected uniqueness is modelled for postcode with dob, dob:year and gender; "
            f"got {', '.join(names)}"
        )
    return names


def _cells(tables: CensusTables, fields: Sequence[str], population: str) -> np.ndarray:
    """(probability of one cell, number of such cells) pairs within an area, as (k, 2)."""
    male, female = tables.male, tables.female
    if population == "all":
        young = np.arange(0, int(tables.ages.min()))
        male = np.concatenate([np.full(young.size, male[0]), male])
        female = np.concatenate([np.full(young.size, female[0]), female])
    elif population != "adults":
        raise ConfigError(f"population must be 'adults' or 'all', not {population!r}")
    total = male.sum() + female.sum()
    by_sex = "gender" in fields
    per_year = np.concatenate([male, female]) if by_sex else male + female
    days = DAYS_PER_YEAR if "dob" in fields else 1.0
    if "dob" not in fields and "dob:year" not in fields:
        per_year = np.array([male.sum(), female.sum()]) if by_sex else np.array([total])
        days = 1.0
    q = per_year / total / days
    return np.column_stack([q, np.full(q.shape, days)])


def _area_sizes(tables: CensusTables, population: str) -> np.ndarray:
    if population == "all":
        return tables.area_population
    adults = tables.male.sum() + tables.female.sum()
    return tables.area_population * min(1.0, adults / tables.area_population.sum())


def expected_share_unique(
    country: str,
    qi: str | Sequence[str] = ("postcode", "dob", "gender"),
    population: str = "adults",
    scale: float = 1.0,
) -> dict[str, Any]:
    """Expected share of the population unique on ``qi`` (analytic; see module docstring).

    Args:
        country: a locale with places.csv and age.csv (``US``: 5-digit ZIP; ``NL``: PC4).
        qi: ``postcode`` plus any of ``dob``, ``dob:year``, ``gender``.
        population: ``"adults"`` (18+, as tabulated) or ``"all"`` (children extrapolated).
        scale: multiply every area's population (``< 1`` for a smaller country to test).

    Returns:
        ``{"country", "qi", "population", "people", "areas", "expected_unique",
        "share_unique"}``.
    """
    fields = _fields(qi)
    tables = census_tables(country)
    sizes = np.rint(_area_sizes(tables, population) * scale)
    sizes = sizes[sizes > 0]
    cells = _cells(tables, fields, population)
    q, mult = cells[:, 0], cells[:, 1]
    # N_r * q_c * (1 - q_c)^(N_r - 1), summed over cells (with multiplicity) and areas.
    log1m = np.log1p(-q)
    terms = np.exp(np.outer(sizes - 1.0, log1m)) * q * mult
    uniques = float((sizes * terms.sum(axis=1)).sum())
    people = float(sizes.sum())
    return {
        "country": tables.country,
        "qi": fields,
        "population": population,
        "people": people,
        "areas": len(tables.postcodes),
        "expected_unique": uniques,
        "share_unique": uniques / people,
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

    Areas keep their (rounded, scaled) sizes; each person draws an (age, sex) from the
    pyramid and a uniform day within the year. Work goes in chunks of whole areas, so
    memory stays bounded for the 3 x 10^8 people of the US.
    """
    fields = _fields(qi)
    tables = census_tables(country)
    sizes = np.rint(_area_sizes(tables, population) * scale).astype(np.int64)
    cells = _cells(tables, fields, population)
    q, mult = cells[:, 0], cells[:, 1]
    groups = q * mult
    groups = groups / groups.sum()
    cdf = np.cumsum(groups)
    days = round(mult[0]) if mult[0] > 1 else 1
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
        group = np.minimum(np.searchsorted(cdf, rng.random(area.size), side="right"), cdf.size - 1)
        # 365.25 days a year: a quarter of the years have a 366th day.
        day = np.floor(rng.random(area.size) * DAYS_PER_YEAR).astype(np.int64) if days > 1 else 0
        key = (area * cdf.size + group) * (days + 1) + day
        _, counts_per_key = np.unique(key, return_counts=True)
        unique += int((counts_per_key == 1).sum())
    people = int(sizes.sum())
    return {
        "country": tables.country,
        "qi": fields,
        "population": population,
        "people": people,
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
