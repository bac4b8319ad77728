"""Locales: the frequency tables and number-plan settings of one country, read from data/.

A locale is a folder ``data/locales/<cc>/`` (see data/README.md), so adding a country is
adding data, not code. Tables are read once and held as Arrow arrays with cumulative
weights for vectorised sampling (``searchsorted`` over a CDF).
"""

from __future__ import annotations

import hashlib
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from matchsim.errors import ConfigError
from matchsim.locale.numberplan import NumberPlan, number_plan
from matchsim.locale.paths import available_countries, data_dir

if TYPE_CHECKING:
    from matchsim.generate.emails import CompiledPatterns


def ascii_token(name: str) -> str:
    """A name as people put it in an e-mail address: ``'van der Berg'`` -> ``'vanderberg'``."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


@numba.njit(cache=True)
def _alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias method: O(1) sampling from a discrete distribution of k outcomes."""
    k = p.shape[0]
    scaled = p * k
    accept = np.ones(k, dtype=np.float64)
    alias = np.arange(k).astype(np.int32)
    small = np.empty(k, dtype=np.int64)
    large = np.empty(k, dtype=np.int64)
    ns = nl = 0
    for i in range(k):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        accept[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    return accept, alias


@dataclass(frozen=True)
class Weighted:
    """A categorical distribution over the rows of a table, sampled by the alias method.

    The alias method costs two random numbers and two table lookups per draw, whatever
    the table size (10^5 surnames); ``searchsorted`` over a CDF costs log2(k) cache
    misses per draw and was the generator's largest cost.
    """

    values: pa.Array
    p: np.ndarray  # float64 probabilities, sum 1
    accept: np.ndarray
    alias: np.ndarray

    @classmethod
    def from_counts(cls, values: pa.Array, counts: np.ndarray) -> Weighted:
        counts = np.asarray(counts, dtype=np.float64)
        if len(values) == 0 or not np.all(counts > 0):
            raise ConfigError("a frequency table is empty or has non-positive counts")
        p = counts / counts.sum()
        accept, alias = _alias_table(p)
        return cls(values=values, p=p, accept=accept, alias=alias)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Row indices drawn with the table's weights (int32)."""
        k = self.p.shape[0]
        u = rng.random(n) * k
        idx = u.astype(np.int32)
        np.minimum(idx, k - 1, out=idx)
        keep = (u - idx) < self.accept[idx]
        return np.where(keep, idx, self.alias[idx])

    def probabilities(self) -> np.ndarray:
        return self.p


@dataclass(frozen=True)
class PhoneFormat:
    template: str
    share: float


@dataclass(frozen=True)
class Locale:
    """Everything the generator needs to know about one country."""

    country: str
    name: str
    folder: Path
    first_names: dict[str, Weighted]  # by gender "F"/"M"; values index first_dict
    first_dict: pa.Array  # every first name once (a name given to both sexes too)
    first_tokens: pa.Array  # e-mail-ready forms, aligned with first_dict
    last_names: Weighted
    last_tokens: pa.Array
    places: Weighted  # values: row index; columns below
    postcodes: pa.Array
    cities: pa.Array  # city of each place (repeats)
    regions: pa.Array  # region of each place (repeats)
    city_dict: pa.Array  # each city once; city_of_place indexes it
    city_of_place: np.ndarray
    region_dict: pa.Array
    region_of_place: np.ndarray
    domains: Weighted
    ages: np.ndarray  # ages, aligned with age_sex
    age_sex: Weighted  # values: index into (age, sex) pairs: 2*i -> male, 2*i+1 -> female
    postcode_suffix: str
    postcode_letters: str
    postcode_exclude: tuple[str, ...]
    mobile_share: float
    mobile_plan: NumberPlan
    fixed_plan: NumberPlan
    phone_formats: tuple[PhoneFormat, ...]
    email_patterns: tuple[tuple[str, float], ...]
    checksums: dict[str, str] = field(default_factory=dict)

    @cached_property
    def email_compiled(self) -> CompiledPatterns:
        from matchsim.generate.emails import CompiledPatterns  # generation-only; avoids a cycle

        return CompiledPatterns(self.email_patterns)

    @cached_property
    def first_token_table(self) -> tuple[np.ndarray, np.ndarray]:
        from matchsim.generate.emails import string_table

        return string_table(self.first_tokens)

    @cached_property
    def last_token_table(self) -> tuple[np.ndarray, np.ndarray]:
        from matchsim.generate.emails import string_table

        return string_table(self.last_tokens)

    @cached_property
    def postcode_table(self) -> tuple[np.ndarray, np.ndarray]:
        from matchsim.generate.emails import string_table

        return string_table(self.postcodes)

    @cached_property
    def domain_table(self) -> tuple[np.ndarray, np.ndarray]:
        from matchsim.generate.emails import string_table

        return string_table(self.domains.values)


def _read_csv(path: Path, columns: dict[str, pa.DataType]) -> pa.Table:
    if not path.is_file():
        raise ConfigError(f"locale table {path} is missing")
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=columns, include_columns=list(columns), strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, KeyError) as exc:
        raise ConfigError(f"locale table {path} is unreadable: {exc}") from exc
    return table


def _factorised(name: str, values: pa.Array) -> dict[str, Any]:
    """``{name}_dict`` (distinct values) and ``{name}_of_place`` (index of each row's value).

    Dictionary columns must have distinct dictionary values: Parquet writers are free to
    encode duplicates differently from run to run, which would break byte-identical output.
    """
    distinct = pc.unique(values)
    return {
        f"{name}_dict": distinct,
        f"{name}_of_place": pc.index_in(values, value_set=distinct).to_numpy().astype(np.int32),
    }


def _tokens(names: pa.Array) -> pa.Array:
    """E-mail-ready forms of a name table; a name with no ASCII letters keeps a placeholder.

    :func:`ascii_token` of every name: pure-ASCII names (nearly all; their NFKD form is
    themselves) in Arrow, lower-cased with everything but ``[a-z0-9]`` dropped; only the
    others through Python's ``unicodedata``.
    """
    names = names.cast(pa.string())
    tokens = pc.replace_substring_regex(pc.ascii_lower(names), "[^a-z0-9]", "")
    tokens = pc.if_else(pc.equal(pc.utf8_length(tokens), 0), "x", tokens)
    other = np.flatnonzero(~np.asarray(pc.string_is_ascii(names).to_numpy(zero_copy_only=False)))
    if other.size:
        folded = pa.array(
            [ascii_token(n) or "x" for n in names.take(pa.array(other)).to_pylist()], pa.string()
        )
        mask = np.zeros(len(names), dtype=bool)
        mask[other] = True
        tokens = pc.replace_with_mask(tokens, pa.array(mask), folded)
    return tokens


def _shares(section: dict[str, object], where: str) -> list[tuple[str, float]]:
    items = [(str(k), float(v)) for k, v in section.items()]  # type: ignore[arg-type]
    total = sum(v for _, v in items)
    if not items or total <= 0:
        raise ConfigError(f"{where} must list at least one entry with a positive share")
    return [(k, v / total) for k, v in items]


@cache
def load_locale(country: str) -> Locale:
    """Read and validate the locale of ``country`` (ISO alpha-2, case-insensitive).

    Raises:
        ConfigError: unknown country, or a malformed locale folder.
    """
    from matchsim.kernels.attack._numba_start import defer_blas_check

    defer_blas_check()  # the first numba dispatch (the alias tables) without SciPy's linalg
    code = country.strip().lower()
    folder = data_dir() / "locales" / code
    if not folder.is_dir():
        raise ConfigError(
            f"unknown country {country!r}; available: {', '.join(available_countries())}"
        )
    with (folder / "locale.toml").open("rb") as fh:
        conf = tomllib.load(fh)
    region = conf.get("country", code.upper())
    postcode = conf.get("postcode", {})
    return Locale(
        country=str(region).upper(),
        name=str(conf.get("name", region)),
        folder=folder,
        **_name_fields(folder),
        **_place_fields(folder),
        **_age_and_domain_fields(folder),
        postcode_suffix=str(postcode.get("suffix", "none")),
        postcode_letters=str(postcode.get("letters", "")),
        postcode_exclude=tuple(postcode.get("exclude", ())),
        **_phone_fields(conf.get("phone", {}), region, folder),
        email_patterns=tuple(
            _shares(
                conf.get("email", {}).get("patterns", {}), f"{folder}/locale.toml [email.patterns]"
            )
        ),
        checksums={
            p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())
            if p.suffix in (".csv", ".toml")
        },
    )


def _name_fields(folder: Path) -> dict[str, Any]:
    """First names per gender (ids into one dictionary of names) and last names."""
    first = _read_csv(
        folder / "first_names.csv",
        {"name": pa.string(), "gender": pa.string(), "count": pa.float64()},
    )
    last = _read_csv(folder / "last_names.csv", {"name": pa.string(), "count": pa.float64()})
    first_names: dict[str, Weighted] = {}
    genders = np.asarray(first.column("gender").to_numpy(zero_copy_only=False))
    all_names = first.column("name").combine_chunks()
    first_dict = pc.unique(all_names)
    in_dict = pc.index_in(all_names, value_set=first_dict).to_numpy()
    for g in ("F", "M"):
        mask = genders == g
        counts = first.column("count").to_numpy()[mask]
        first_names[g] = Weighted.from_counts(pa.array(in_dict[mask], pa.int32()), counts)
    last_names = last.column("name").combine_chunks()
    return {
        "first_names": first_names,
        "first_dict": first_dict,
        "first_tokens": _tokens(first_dict),
        "last_names": Weighted.from_counts(last_names, last.column("count").to_numpy()),
        "last_tokens": _tokens(last_names),
    }


def _place_fields(folder: Path) -> dict[str, Any]:
    """Places weighted by population, with their postcodes, cities and regions."""
    places = _read_csv(
        folder / "places.csv",
        {
            "postcode": pa.string(),
            "city": pa.string(),
            "region": pa.string(),
            "population": pa.float64(),
        },
    )
    return {
        "places": Weighted.from_counts(
            pa.array(np.arange(places.num_rows)), places.column("population").to_numpy()
        ),
        "postcodes": places.column("postcode").combine_chunks(),
        "cities": places.column("city").combine_chunks(),
        "regions": places.column("region").combine_chunks(),
        **_factorised("city", places.column("city").combine_chunks()),
        **_factorised("region", places.column("region").combine_chunks()),
    }


def _age_and_domain_fields(folder: Path) -> dict[str, Any]:
    """E-mail domains by share, and ages with the (age, sex) distribution."""
    domains = _read_csv(
        folder / "email_domains.csv", {"domain": pa.string(), "share": pa.float64()}
    )
    ages = _read_csv(
        folder / "age.csv", {"age": pa.int64(), "male": pa.float64(), "female": pa.float64()}
    )
    age_counts = np.stack(
        [ages.column("male").to_numpy(), ages.column("female").to_numpy()], axis=1
    )
    return {
        "domains": Weighted.from_counts(
            domains.column("domain").combine_chunks(), domains.column("share").to_numpy()
        ),
        "ages": ages.column("age").to_numpy(),
        "age_sex": Weighted.from_counts(pa.array(np.arange(age_counts.size)), age_counts.ravel()),
    }


def _phone_fields(phone: dict[str, Any], region: str, folder: Path) -> dict[str, Any]:
    """The mobile share, the mobile and fixed-line number plans, the written formats."""
    mobile_lengths = tuple(phone.get("mobile_lengths", ())) or None
    fixed_lengths = tuple(phone.get("fixed_line_lengths", ())) or None
    return {
        "mobile_share": float(phone.get("mobile_share", 0.85)),
        "mobile_plan": number_plan(region, "mobile", mobile_lengths),
        "fixed_plan": number_plan(region, "fixed_line", fixed_lengths),
        "phone_formats": tuple(
            PhoneFormat(t, s)
            for t, s in _shares(
                phone.get("formats", {"+{cc}{nsn}": 1.0}), f"{folder}/locale.toml [phone.formats]"
            )
        ),
    }
