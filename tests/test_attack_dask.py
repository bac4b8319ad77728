"""Mask enumeration mapped over a Dask cluster: the same recovered set as one process.

A LocalCluster of two single-threaded worker processes, reached by address (what
``matchsim attack --scheduler ADDRESS`` does), on a small keyspace.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from matchsim.attack import Knowledge, parse_digests, phone_keyspace, reverse
from matchsim.attack.engine import dask_chunk_size
from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.errors import ConfigError

distributed = pytest.importorskip("distributed")


def _keyspace() -> MaskKeyspace:
    """NL mobiles 3161[2-3]*: 2 x 10^6 candidates in two masks, plus a date-like mask."""
    (mask,) = phone_keyspace("NL", lengths=(9,)).masks
    masks = tuple(Mask((*mask.positions[:3], b"1", d, *mask.positions[5:])) for d in (b"2", b"3"))
    return MaskKeyspace("NL mobile 3161[23]*", (*masks, Mask((b"1", b"9", b"0123456789"))))


def _secret(ks: MaskKeyspace, n: int) -> list[str]:
    rng = np.random.default_rng(11)
    out = []
    for m in ks.masks:
        idx = rng.choice(m.size, min(n, m.size), replace=False)
        out += [bytes(r).decode() for r in m.decode(idx)]
    return out


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"NUMBA_NUM_THREADS": "1"},
    ) as cluster:
        yield cluster.scheduler_address


def test_cluster_recovers_what_one_process_recovers(scheduler: str) -> None:
    ks = _keyspace()
    secret = _secret(ks, 300)
    for algo in ("sha256", "md5"):
        digests = [hashlib.new(algo, s.encode()).hexdigest() for s in secret]
        digests.append(hashlib.new(algo, b"31699999999").hexdigest())  # outside
        targets = parse_digests(pa.array(digests))
        local = reverse(targets, ks, Knowledge(algo), stop_when_done=False)
        remote = reverse(targets, ks, Knowledge(algo), scheduler=scheduler, chunk_size=1 << 18)
        assert remote.engine == "dask"
        assert remote.candidates_tried == ks.size
        assert remote.plaintext.to_pylist() == local.plaintext.to_pylist()
        assert set(pc.drop_null(remote.plaintext).to_pylist()) == set(secret)


def test_cli_scheduler_option(run_cli, tmp_path: Path, scheduler: str) -> None:  # type: ignore[no-untyped-def]
    secret = _secret(_keyspace(), 50)[:50]
    upload = tmp_path / "up.txt"
    upload.write_text("".join(hashlib.sha256(s.encode()).hexdigest() + "\n" for s in secret))
    out = tmp_path / "found.csv"
    code, stdout, err = run_cli("attack", upload, "--lengths", "9", "--no-cost", "--json",
                                "--scheduler", scheduler, "--out", out)  # fmt: skip
    assert code == 0, err
    assert '"engine": "dask"' in stdout
    with out.open() as fh:
        found = {row["plaintext"] for row in csv.DictReader(fh)}
    assert found == set(secret)


def test_unreachable_scheduler_is_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    upload = tmp_path / "up.txt"
    upload.write_text(hashlib.sha256(b"31612345678").hexdigest() + "\n")
    code, _, err = run_cli("attack", upload, "--scheduler", "tcp://127.0.0.1:9", "--no-cost")
    assert code == 1
    assert err.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(ConfigError, match="not both"):
        reverse(parse_digests(pa.array(["0" * 64])), _keyspace(), client=object(),
                scheduler="tcp://127.0.0.1:9")  # fmt: skip


def test_chunks_are_sized_to_the_keyspace() -> None:
    assert dask_chunk_size(6 * 10**7, 2) == 3_750_000
    assert dask_chunk_size(6 * 10**7, 2, inner=1000) == 3_750_000
    assert dask_chunk_size(10**3, 2) == 1 << 20  # small keyspaces: one task
    assert dask_chunk_size(10**10, 4) == 1 << 28
    assert dask_chunk_size(6 * 10**7, 2, inner=7) % 7 == 0
