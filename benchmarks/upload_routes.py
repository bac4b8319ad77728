"""A hashed upload's columns into target sets, the two ways matchsim can read them,
alternating in one process (wall and CPU seconds of each round):

* ``text``: every column as text (:func:`matchsim.attack.targets.upload_table`), then
  each digest column decoded from its text (:func:`~matchsim.attack.targets.hex_target_set`),
  as re-identification read an upload before round 9;
* ``decoded``: one scan of the file's bytes with the digest columns decoded on the way
  (:func:`~matchsim.attack.targets.decoded_upload`), then each column's targets
  (:func:`~matchsim.attack.targets.digest_column_targets`).

    python benchmarks/upload_routes.py UPLOAD.csv [ROUNDS]

``UPLOAD.csv``: an upload in a platform's layout, e.g. ``uploads/00-*.csv`` of
``matchsim run experiments/nl-health-insurer.toml`` (1 M rows, eleven columns). The
target sets of both ways are checked equal before timing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from matchsim.attack import targets as T


def text_route(path: Path) -> list[T.TargetSet | None]:
    table = T.upload_table(path)
    return [
        T.hex_target_set(table.column(c).combine_chunks().drop_null()) for c in table.column_names
    ]


def decoded_route(path: Path) -> list[T.TargetSet | None]:
    table = T.decoded_upload(path)
    if table is None:
        raise SystemExit(f"{path}: not a file the scan reads")
    return [
        T.digest_column_targets(table.column(c).combine_chunks().drop_null())
        if T.is_digest_column(table, c)
        else None
        for c in table.column_names
    ]


def _forget() -> None:
    T._LAST_READ.clear()
    T._LAST_DECODED.clear()


def main(path: Path, rounds: int) -> None:
    for a, b in zip(text_route(path), decoded_route(path), strict=True):
        if b is not None:
            assert a is not None and np.array_equal(a.digests, b.digests)
            assert np.array_equal(a.row_digest, b.row_digest)
    times: dict[str, list[tuple[float, float]]] = {"text": [], "decoded": []}
    routes = {"text": text_route, "decoded": decoded_route}
    for _ in range(rounds):
        for name, route in routes.items():
            _forget()
            wall, cpu = time.perf_counter(), time.process_time()
            route(path)
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    for name, got in times.items():
        walls = " ".join(f"{w:.2f}" for w, _ in got)
        cpus = " ".join(f"{c:.2f}" for _, c in got)
        print(f"{name:8s} wall {walls}   cpu {cpus}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 4)
