"""A register column's codes both ways, side by side in one process: the three-pass
coding of round 9 (encode the raw column, normalise its dictionary, ``unique`` and
``index_in``) against :func:`matchsim.attack.reidentify._normalised_codes` (one hashing
pass over the normalised values; nearly distinct columns normalised row by row; short
text as packed integers), on a population's ``platform.parquet`` as ``matchsim
reidentify --population`` reads it. Each round runs both, alternating which goes first;
the results are checked equal first.

    python benchmarks/register_codes.py POPULATION_DIR [ROUNDS] [FIELD ...]

Prints per field the wall seconds of each round both ways, then the sums of the
per-field minima and medians.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("MIMALLOC_PURGE_DELAY", "-1")  # as the CLI runs (matchsim._allocator)

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matchsim.attack.reidentify import _normalised_codes
from matchsim.normalise import get_profile

# round 9's coding: the definition the one-pass coding is tested against, kept there
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from test_reidentify_register_codes import _three_pass as three_pass  # type: ignore[import-not-found]

PROFILE = get_profile("meta")
FIELDS = {"email": "email", "phone": "phone", "postcode": "postcode",
          "first_name": "first_name", "last_name": "last_name", "dob": "dob"}  # fmt: skip


def one_pass(field: str, column: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    return _normalised_codes(PROFILE, field, column, "NL")


def main(pop: str, rounds: int, fields: list[str]) -> None:
    table = pq.read_table(os.path.join(pop, "platform.parquet"), columns=fields)
    ways = {"three passes": three_pass, "one pass": one_pass}
    best: dict[str, float] = dict.fromkeys(ways, 0.0)
    median: dict[str, float] = dict.fromkeys(ways, 0.0)
    for field in fields:
        column = table.column(FIELDS[field])
        a, b = three_pass(field, column), one_pass(field, column)
        assert np.array_equal(a[0], b[0]) and a[1].equals(b[1]), field
        del a, b
        times: dict[str, list[float]] = {w: [] for w in ways}
        for r in range(rounds):
            order = list(ways) if r % 2 == 0 else list(ways)[::-1]
            for way in order:
                t = time.perf_counter()
                ways[way](field, column)
                times[way].append(time.perf_counter() - t)
        line = "; ".join(f"{w} {', '.join(f'{s:.2f}' for s in ts)}" for w, ts in times.items())
        print(f"{field} ({len(column):,} rows): {line}", flush=True)
        for w, ts in times.items():
            best[w] += min(ts)
            median[w] += float(np.median(ts))
    for w in ways:
        print(f"{w}: sum of minima {best[w]:.2f} s, of medians {median[w]:.2f} s")
    print(f"ratio (one pass / three passes): minima {best['one pass'] / best['three passes']:.2f}, "
          f"medians {median['one pass'] / median['three passes']:.2f}")  # fmt: skip


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    n = int(args[1]) if len(args) > 1 else 3
    main(args[0], n, args[2:] or list(FIELDS))
