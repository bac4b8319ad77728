"""A per-record-salted join hashes only the platform rows whose salt some upload digest
carries (:func:`matchsim.join.platform.salt_filter`), and finds exactly what hashing every
row finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import matchsim.join.run as join_run
from matchsim.generate import Population
from matchsim.join.platform import ParquetPlatform
from matchsim.join.run import JoinRun, join_files
from matchsim.join.salted import SaltSet
from matchsim.join.upload import read_upload
from matchsim.normalise import get_profile
from matchsim.schemes import get_scheme
from matchsim.upload.write import hash_file
from tests.test_join_index import _same  # match sets, counts, pairs, evaluation


def _both(
    monkeypatch: pytest.MonkeyPatch, platform: Path, upload: Path, out: Path, params: dict[str, int]
) -> tuple[JoinRun, JoinRun]:
    """The join with the salt filter, and the same join hashing every platform row."""
    kwargs = {"scheme": "salted-sha256", "scheme_params": params, "index": False}
    filtered = join_files(platform, upload, out=out / "filtered", **kwargs)  # type: ignore[arg-type]
    with monkeypatch.context() as m:
        m.setattr(join_run, "salt_filter", lambda *a: None)
        every = join_files(platform, upload, out=out / "every", **kwargs)  # type: ignore[arg-type]
    return filtered, every


@pytest.fixture(scope="module")
def mirrored(nl_population: Population, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A platform whose users are the customers, in order, in one row group: with a seeded
    salt both sides draw the same salt for the same present value, so digests match."""
    out = tmp_path_factory.mktemp("mirrored") / "pop"
    out.mkdir()
    customers = pq.read_table(nl_population.customers)
    names = ["uid" if c == "cid" else c for c in customers.column_names]
    platform = customers.rename_columns(names)
    pq.write_table(platform, out / "platform.parquet", row_group_size=1 << 20)
    pq.write_table(customers, out / "customers.parquet")
    return out


def test_seeded_salts_match_the_same_rows_filtered_or_not(
    mirrored: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = tmp_path / "up.csv"
    scheme = get_scheme("salted-sha256", seed=5)
    hash_file(mirrored / "customers.parquet", profile="meta", scheme=scheme, region="NL",
              out=upload)  # fmt: skip
    filtered, every = _both(monkeypatch, mirrored, upload, tmp_path, {"seed": 5})
    _same(filtered, every)
    per_key = filtered.result.summary()["per_key"]
    for key in ("email", "phone", "name_postcode_dob", "madid"):
        assert per_key[key]["rows_matched"] > 0, key  # the test can fail: there are matches


def test_random_salts_hash_no_platform_row_and_match_the_same(
    nl_population: Population, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = tmp_path / "up.csv"
    hash_file(nl_population.customers, profile="meta", scheme="salted-sha256", region="NL",
              out=upload)  # fmt: skip
    filtered, every = _both(monkeypatch, nl_population.out, upload, tmp_path, {})
    _same(filtered, every)
    summary = filtered.result.summary()["per_key"]
    assert summary["madid"]["rows_matched"] > 0  # keyed in clear: not salted, still matches
    assert summary["email"]["rows_matched"] == 0
    # The platform side: salted keys hold (almost surely) no candidate row; madid all of them.
    prof, sch = get_profile("meta"), get_scheme("salted-sha256")
    keys, _ = read_upload(upload, prof, sch, "NL")
    source = ParquetPlatform(nl_population.platform, "meta", "salted-sha256")
    source.salt_filter = join_run.salt_filter(keys, prof, sch)
    chunk = source.chunk(0)
    assert len(chunk["email"]) == 0 and len(chunk["name_postcode_dob"]) == 0
    madids = pq.ParquetFile(nl_population.platform).read_row_group(0, columns=["madid"])
    assert len(chunk["madid"]) == len(madids) - madids["madid"].null_count


def test_salt_set_is_first_word_membership() -> None:
    rng = np.random.default_rng(1)
    salts = rng.integers(0, 256, (1000, 16), dtype=np.uint8)
    first = salts[:, :8].copy().view(np.uint64)[:, 0]
    wanted = np.unique(first[::7])
    got = SaltSet.of(first[::7]).holds(salts)
    assert np.array_equal(got, np.isin(first, wanted))
    assert got.sum() == len(wanted)
    assert not SaltSet.of(np.zeros(0, np.uint64)).holds(salts).any()
    # a salt whose top bits share a bucket with a wanted one but differs below is refused
    near = salts[:1].copy()
    near[0, 0] ^= 1  # little-endian: the lowest byte of the first word
    assert SaltSet.of(first[:1]).holds(np.concatenate([salts[:1], near])).tolist() == [True, False]
