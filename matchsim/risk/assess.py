"""The library calls behind ``matchsim risk`` and the experiment results' risk section."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa

from matchsim.errors import ConfigError, InputError
from matchsim.risk.classes import (
    EquivalenceClasses,
    QIField,
    field_values,
    group,
    parse_qi,
    read_columns,
)
from matchsim.risk.expected import census_tables, expected_share_unique, keyspace
from matchsim.risk.linked import LinkedCodes
from matchsim.risk.membership import Upload, membership, read_matched
from matchsim.risk.models import SampleRisk, sample_risk, size_distribution
from matchsim.risk.uniqueness import (
    PopulationUniqueness,
    UniquesEstimate,
    estimate_uniques,
    population_uniqueness,
)

Source: TypeAlias = str | Path | pa.Table

DEFAULT_QI_SETS: tuple[tuple[str, ...], ...] = (
    ("gender",),
    ("postcode:4", "dob"),
    ("postcode", "dob", "gender"),
    ("first_name", "last_name", "dob:year"),
)
"""QI combinations the results section reports by default (coarse to fine)."""


@dataclass(frozen=True)
class QIRisk:
    """Every measure for one QI combination on one file."""

    source: str | None
    qi: list[str]
    sample: SampleRisk
    records_by_class_size: dict[str, int]
    nulls: dict[str, int]
    population: PopulationUniqueness | None
    keyspace: dict[str, int] | None
    estimate: UniquesEstimate | None = None
    expected: dict[str, Any] | None = None

    @property
    def headline(self) -> dict[str, Any] | None:
        """The population-unique share to show, and where it comes from.

        ``{"share", "interval", "source", "declined"}``: ``source`` is ``"estimate"`` (the
        sample supports the Poisson-gamma estimate), ``"census"`` (it does not; the census-
        based expectation for the locale instead, with its assumptions) or ``None`` (neither:
        ``share`` is None and ``declined`` says why). None without a population size.
        """
        est = self.estimate
        if est is None:
            return None
        if est.supported:
            return {
                "share": est.share,
                "interval": None if est.interval is None else list(est.interval),
                "source": "estimate",
                "declined": None,
            }
        declined = f"the sample cannot support a population estimate ({est.reason})"
        if self.expected is not None and "share_unique" in self.expected:
            return {
                "share": self.expected["share_unique"],
                "interval": None,
                "source": "census",
                "declined": declined,
            }
        return {"share": None, "interval": None, "source": None, "declined": declined}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "qi": self.qi}
        out.update(self.sample.to_dict())
        out["records_by_class_size"] = self.records_by_class_size
        out["nulls"] = self.nulls
        out["population_uniqueness"] = (
            None if self.population is None else self.population.to_dict()
        )
        out["population_estimate"] = None if self.estimate is None else self.estimate.to_dict()
        out["expected"] = self.expected
        out["population_unique"] = self.headline
        if self.keyspace is not None:
            size = math.prod(self.keyspace.values())
            out["keyspace"] = {"fields": self.keyspace, "size": size}
        return out


def _load(source: Source, columns: Sequence[str]) -> tuple[pa.Table, str | None]:
    if isinstance(source, pa.Table):
        if source.num_rows == 0:
            raise InputError(None, "the table has no rows")
        return source, None
    return read_columns(source, columns), str(source)


def qi_risk(
    data: Source,
    qi: str | Sequence[str],
    *,
    population: Source | None = None,
    population_size: int | None = None,
    threshold: float = 0.2,
    country: str | None = None,
) -> QIRisk:
    """Equivalence classes, k-anonymity, uniques, ARX risk models and estimators for ``qi``.

    Args:
        data: the released file (Parquet/CSV path or Arrow table), e.g. customers.parquet or
            a hashed upload whose column holds digests of the combination.
        qi: field names, ``"postcode:4,dob"`` style (see :func:`~matchsim.risk.parse_qi`).
        population: the table the attacker links with (e.g. platform.parquet), holding the
            same columns; gives journalist/marketer risk with real population class sizes.
        population_size: ``N`` for the uniqueness estimators; defaults to the population
            table's row count; without either the estimators are skipped.
        threshold: record risk above which a record counts as *at risk*.
        country: a locale code; adds the combination's keyspace (values an attacker tries).

    Raises:
        InputError: missing file or column, empty file. ConfigError: bad ``qi`` or sizes.
    """
    if not 0 < threshold <= 1:
        raise ConfigError(f"--threshold must be in (0, 1], got {threshold}")
    fields = parse_qi(qi)
    columns = [f.column for f in fields]
    table, name = _load(data, columns)
    for f in fields:  # the file's field errors before the population's (type checks only)
        field_values(table.slice(0, 0), f, name)
    pop = None if population is None else _load(population, columns)
    return _qi_risk(fields, table, name, pop, population_size, threshold, country)


def _qi_risk(
    fields: list[QIField],
    table: pa.Table,
    name: str | None,
    pop: tuple[pa.Table, str | None] | None,
    population_size: int | None,
    threshold: float,
    country: str | None,
    linked: LinkedCodes | None = None,
) -> QIRisk:
    """:func:`qi_risk` on loaded tables; ``linked`` shares column codes between QI sets."""
    values = [field_values(table, f, name) for f in fields]
    nulls = {f.name: int(v.null_count) for f, v in zip(fields, values, strict=True)}
    n = table.num_rows
    pop_sizes = None
    if pop is None:
        classes = group(values, [f.name for f in fields])
    else:
        pop_table, pop_name = pop
        # the population's fields as the joint grouping would read them (same errors)
        for f in fields:
            field_values(pop_table.slice(0, 0), f, pop_name)
        found = (linked or LinkedCodes(table, pop_table)).classes(fields)
        if found is None:  # too many combinations for one int64 key: group jointly
            pop_values = [field_values(pop_table, f, pop_name) for f in fields]
            joint = group(
                [_concat(a, b) for a, b in zip(values, pop_values, strict=True)],
                [f.name for f in fields],
            )
            found = _split(joint, n)
        classes, pop_sizes = found
        if population_size is None:
            population_size = pop_table.num_rows
    sample = sample_risk(classes.sizes, pop_sizes, threshold)
    estimate = None
    if population_size is not None:
        if population_size < n:
            raise ConfigError(
                f"--population-size ({population_size:,}) is smaller than the file ({n:,} rows)"
            )
        histogram = classes.histogram()
        estimate = population_uniqueness(histogram, float(population_size))
        decision = estimate_uniques(histogram, float(population_size))
    else:
        decision = None
    expected = None
    if country is not None and population_size is not None:
        expected = census_expectation(country, [f.name for f in fields], population_size)
    space = None
    if country is not None:
        try:
            space = keyspace([f.name for f in fields], country)
        except ConfigError:
            space = None
    return QIRisk(
        source=name,
        qi=[f.name for f in fields],
        sample=sample,
        records_by_class_size=size_distribution(classes.sizes),
        nulls=nulls,
        population=estimate,
        keyspace=space,
        estimate=decision,
        expected=expected,
    )


def population_lines(report: QIRisk) -> list[str]:
    """The population-unique share in words, for ``matchsim risk`` (empty without N)."""
    est, head = report.estimate, report.headline
    if est is None or head is None:
        return []
    where = (
        f"N={est.population:,.0f}, sampling fraction {est.sampling_fraction:.3%}, "
        f"{est.sample_pairs:,} sample pairs"
    )
    lines = []
    if head["source"] == "estimate":
        lo, hi = head["interval"]
        lines.append(
            f"  population uniques ({where}): {_pct(head['share'])} "
            f"(95 % interval {_pct(lo)}-{_pct(hi)}) by the Poisson-gamma model"
        )
    else:
        lines.append(f"  population uniques ({where}): {head['declined']}")
    exp = report.expected
    if exp is not None and "share_unique" in exp:
        label = "instead" if head["source"] == "census" else "for comparison"
        lines.append(
            f"  census-based expectation {label} ({exp['country']}, {exp['people']:,.0f} "
            f"adults, {'+'.join(exp['qi'])}): {_pct(exp['share_unique'])} unique"
        )
        lines.append(f"    assumptions: {exp['assumptions']}")
    elif exp is not None:
        lines.append(f"  census-based expectation: not available ({exp['error']})")
    elif head["source"] is None:
        lines.append("  (give --country for the census-based expectation instead)")
    return lines


def _pct(share: float) -> str:
    return f"{share:.2%}" if share < 0.01 else f"{share:.1%}"


def census_expectation(country: str, qi: Sequence[str], people: int) -> dict[str, Any]:
    """The analytic share unique for ``people`` adults of ``country`` on ``qi``.

    :func:`~matchsim.risk.expected_share_unique` with every area scaled so that the
    country's adults number ``people``. A QI the census tables do not model gives
    ``{"error": "..."}`` instead (the one-line reason).
    """
    try:
        adults = census_tables(country)
        total = float(adults.male.sum() + adults.female.sum())
        out = expected_share_unique(country, qi, "adults", scale=people / total)
    except ConfigError as exc:
        return {"country": country.upper(), "qi": list(qi), "error": exc.one_line()}
    out["scaled_to"] = people
    return out


def _concat(a: pa.Array, b: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(a.type) or pa.types.is_dictionary(b.type):
        a = a.cast(a.type.value_type) if pa.types.is_dictionary(a.type) else a
        b = b.cast(b.type.value_type) if pa.types.is_dictionary(b.type) else b
    if a.type != b.type:
        b = b.cast(a.type)
    return pa.concat_arrays([a, b])


def _split(joint: EquivalenceClasses, n: int) -> tuple[EquivalenceClasses, np.ndarray]:
    """Sample classes (renumbered) and the population size of each, from a joint grouping."""
    sample_ids = joint.row_class[:n]
    pop_counts = np.bincount(joint.row_class[n:], minlength=joint.classes)
    present, row_class = np.unique(sample_ids, return_inverse=True)
    sizes = np.bincount(row_class).astype(np.int64)
    classes = EquivalenceClasses(qi=joint.qi, row_class=row_class.astype(np.int64), sizes=sizes)
    return classes, pop_counts[present].astype(np.int64)


def risk_section(
    customers: Source,
    *,
    platform: Source | None = None,
    qi_sets: Sequence[Sequence[str]] = DEFAULT_QI_SETS,
    uploads: Sequence[Upload] = (),
    country: str | None = None,
    threshold: float = 0.2,
) -> dict[str, Any]:
    """The ``risk`` section of an experiment's results: QI risk per set, and membership.

    QI sets naming a column the file lacks are reported as skipped, not as errors, so one
    default list serves every locale and upload shape.
    """
    entries: list[dict[str, Any]] = []
    platform_rows = None
    if platform is not None and not isinstance(platform, pa.Table):
        import pyarrow.parquet as pq

        platform_rows = pq.read_metadata(platform).num_rows
    elif isinstance(platform, pa.Table):
        platform_rows = platform.num_rows
    shared = _shared_tables(customers, platform, qi_sets)
    for qi in qi_sets:
        try:
            if shared is not None and platform is not None:
                table, name, pop, linked = shared
                report = _qi_risk(parse_qi(qi), table, name, pop, None, threshold, country, linked)
            else:
                report = qi_risk(
                    customers, qi, population=platform, threshold=threshold, country=country
                )
        except InputError as exc:
            if exc.column is None:
                raise
            entries.append({"qi": list(qi), "skipped": exc.one_line()})
            continue
        entries.append(report.to_dict())
    section: dict[str, Any] = {"quasi_identifiers": entries}
    if uploads:
        section["membership"] = membership(uploads, platform_rows).to_dict()
    return section


def _shared_tables(
    customers: Source, platform: Source | None, qi_sets: Sequence[Sequence[str]]
) -> tuple[pa.Table, str | None, tuple[pa.Table, str | None], LinkedCodes] | None:
    """Both tables read once, with every column any QI set names, and their shared codes.

    None (each QI set then reads its own columns, as :func:`qi_risk` does) when there is
    no population table, or when a set names a column a file lacks or reading fails: the
    per-set path reports that set as skipped with the same message.
    """
    if platform is None:
        return None
    try:
        columns = list(dict.fromkeys(f.column for qi in qi_sets for f in parse_qi(qi)))
        table, name = _load(customers, columns)
        pop = _load(platform, columns)
    except (InputError, ConfigError):
        return None
    if any(c not in t.column_names for c in columns for t in (table, pop[0])):
        return None
    return table, name, pop, LinkedCodes(table, pop[0])


def uploads_from_files(
    paths: Sequence[str | Path], advertisers: Sequence[str], sensitive: Sequence[bool]
) -> list[Upload]:
    """:class:`Upload` records from matched.parquet files and their labels."""
    if not (len(paths) == len(advertisers) == len(sensitive)):
        raise ConfigError("membership: give one advertiser label and sensitive flag per file")
    return [
        Upload(advertiser=a, uids=read_matched(p), sensitive=s)
        for p, a, s in zip(paths, advertisers, sensitive, strict=True)
    ]
