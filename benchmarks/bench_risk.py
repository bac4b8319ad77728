"""QI grouping at scale: 10 M rows x 3 fields (postcode string, date32 dob, gender).

Run: ``.venv/bin/pytest benchmarks/bench_risk.py --benchmark-only`` (not in CI).
The table is built once with realistic column types (plain strings, not pre-encoded), so
the timed call pays for hashing the strings, combining the codes and counting the classes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from matchsim.risk import equivalence_classes, qi_risk
from matchsim.risk.expected import census_tables

ROWS = 10_000_000


@pytest.fixture(scope="module")
def table() -> pa.Table:
    rng = np.random.default_rng(0)
    tables = census_tables("US")
    weights = tables.area_population / tables.area_population.sum()
    place = rng.choice(weights.size, size=ROWS, p=weights)
    postcode = pa.DictionaryArray.from_arrays(
        pa.array(place.astype(np.int32)), pa.array(tables.postcodes)
    ).cast(pa.string())
    dob = pa.array(rng.integers(-12_000, 18_000, ROWS).astype(np.int32)).cast(pa.date32())
    gender = pa.DictionaryArray.from_arrays(
        pa.array(rng.integers(0, 2, ROWS).astype(np.int8)), pa.array(["F", "M"])
    ).cast(pa.string())
    return pa.table({"postcode": postcode, "dob": dob, "gender": gender})


def test_equivalence_classes_10m_x3(benchmark, table: pa.Table) -> None:  # type: ignore[no-untyped-def]
    classes = benchmark.pedantic(
        equivalence_classes, args=(table, "postcode,dob,gender"), rounds=3, iterations=1
    )
    assert classes.records == ROWS


def test_qi_risk_10m_x3(benchmark, table: pa.Table) -> None:  # type: ignore[no-untyped-def]
    report = benchmark.pedantic(
        qi_risk,
        args=(table, "postcode,dob,gender"),
        kwargs={"population_size": 334_000_000},
        rounds=1,
        iterations=1,
    )
    assert report.sample.records == ROWS


@pytest.fixture(scope="module")
def sample_histogram() -> np.ndarray:
    """A 10 % sample's class-size histogram from 2 M people in cells of gamma rates."""
    rng = np.random.default_rng(1)
    sizes = rng.poisson(rng.gamma(0.7, 2.0, size=2_000_000))
    kept = rng.binomial(sizes[sizes > 0], 0.1)
    return np.bincount(kept[kept > 0])


def test_estimate_uniques(benchmark, sample_histogram: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """The rule risk uses (Poisson-gamma + 400 bootstrap refits), beside ARX's estimators."""
    from matchsim.risk.uniqueness import estimate_uniques

    n = float(np.dot(np.arange(sample_histogram.size), sample_histogram))
    result = benchmark(estimate_uniques, sample_histogram, n / 0.1)
    assert result.supported


def test_arx_estimators(benchmark, sample_histogram: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """Pitman, Zayatz, SNB and Dankar's rule on the same histogram (the peer)."""
    from matchsim.risk import population_uniqueness

    n = float(np.dot(np.arange(sample_histogram.size), sample_histogram))
    benchmark.pedantic(
        population_uniqueness, args=(sample_histogram, n / 0.1), rounds=3, iterations=1
    )
