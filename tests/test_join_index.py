"""The platform's on-disk digest index: a join through it equals a fresh join, exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import matchsim.join.index as index_module
from matchsim.generate import Population
from matchsim.join.index import ensure_index, index_root
from matchsim.join.platform import ParquetPlatform
from matchsim.join.run import JoinRun, join_files
from matchsim.schemes import get_scheme
from matchsim.secrets import load_secret
from matchsim.upload.write import hash_file


def _same(a: JoinRun, b: JoinRun) -> None:
    """Match sets, per-key counts, pairs and evaluation all equal."""
    assert a.result.summary() == b.result.summary()
    assert np.array_equal(a.result.matched_users, b.result.matched_users)
    assert np.array_equal(a.result.matched_rows, b.result.matched_rows)
    for key in a.result.pairs:
        pa_ = np.unique(np.stack(a.result.pairs[key], axis=1), axis=0)
        pb_ = np.unique(np.stack(b.result.pairs[key], axis=1), axis=0)
        assert np.array_equal(pa_, pb_), key
    assert (a.evaluation is None) == (b.evaluation is None)
    if a.evaluation is not None and b.evaluation is not None:
        assert a.evaluation.to_dict() == b.evaluation.to_dict()


@pytest.fixture(scope="module")
def own_population(nl_population: Population, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the NL population, so that rewriting it disturbs no other test."""
    out = tmp_path_factory.mktemp("indexed") / "pop"
    shutil.copytree(nl_population.out, out)
    return out


@pytest.mark.parametrize("profile", ["meta", "google"])
def test_indexed_join_equals_fresh_join(
    own_population: Path, tmp_path: Path, profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An index folder of its own: the copy has the original's bytes and mtimes, so an
    # index another test built for the original is (rightly) reused, not built.
    monkeypatch.setenv("MATCHSIM_INDEX_DIR", str(tmp_path / "index"))
    upload = tmp_path / "up.csv"
    hash_file(own_population / "customers.parquet", profile=profile, scheme="sha256",
              region="NL", out=upload)  # fmt: skip
    fresh = join_files(own_population, upload, profile=profile, out=tmp_path / "f", index=False)
    built = join_files(own_population, upload, profile=profile, out=tmp_path / "b")
    reused = join_files(own_population, upload, profile=profile, out=tmp_path / "r")
    assert fresh.report["platform_index"] == {"status": "off"}
    assert built.report["platform_index"]["status"] == "built"
    assert reused.report["platform_index"]["status"] == "reused"
    assert fresh.result.summary()["matched_users"] > 1000
    _same(fresh, built)
    _same(fresh, reused)


def test_indexed_chunks_equal_computed_chunks(own_population: Path) -> None:
    source = ParquetPlatform(own_population / "platform.parquet", "meta", "sha256", {})
    folder = ensure_index(source)
    assert folder is not None and source.index_dir == folder
    assert source.n_chunks == 4
    for i in range(source.n_chunks):
        read, computed = source.chunk(i), source._compute_chunk(i)
        assert set(read) == set(computed)
        for key in computed:
            assert np.array_equal(read[key].words, computed[key].words), key
            assert np.array_equal(read[key].ids, computed[key].ids), key
            assert read[key].digest_size == computed[key].digest_size


def test_read_ahead_chunks_equal_plain_chunks(own_population: Path) -> None:
    """Chunks computed ahead on threads are the chunks computed one at a time, in any
    order asked; a pickled source (a Dask worker's) computes none ahead."""
    import pickle

    plain = ParquetPlatform(own_population / "platform.parquet", "meta", "sha256", {})
    ahead = ParquetPlatform(own_population / "platform.parquet", "meta", "sha256", {}, read_ahead=2)
    try:
        for i in [0, 1, 2, 3, 1, 0]:
            got, want = ahead.chunk(i), plain._compute_chunk(i)
            assert set(got) == set(want)
            for key in want:
                assert np.array_equal(got[key].words, want[key].words), (i, key)
                assert np.array_equal(got[key].ids, want[key].ids), (i, key)
        assert ahead._pool is not None
        worker = pickle.loads(pickle.dumps(ahead))
        assert worker.read_ahead == 0 and worker._pool is None and not worker._pending
    finally:
        ahead.close()
    assert ahead._pool is None and not ahead._pending


def test_keyed_scheme_index_holds_no_secret_and_is_per_key(
    own_population: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "a-platform-key-that-must-not-leak"
    monkeypatch.setenv("IDX_KEY", secret)
    monkeypatch.setenv("IDX_OTHER", "another-key-entirely")
    upload = tmp_path / "hmac.csv"
    hash_file(own_population / "customers.parquet", profile="meta",
              scheme=get_scheme("hmac-sha256", secret=load_secret(env="IDX_KEY")),
              region="NL", out=upload)  # fmt: skip
    runs = {
        (env, index): join_files(
            own_population,
            upload,
            profile="meta",
            scheme="hmac-sha256",
            key_env=env,
            out=tmp_path / f"{env}-{index}",
            index=index,
        )
        for env in ("IDX_KEY", "IDX_OTHER")
        for index in (False, True)
    }
    _same(runs["IDX_KEY", False], runs["IDX_KEY", True])
    _same(runs["IDX_OTHER", False], runs["IDX_OTHER", True])
    assert runs["IDX_KEY", True].result.summary()["matched_users"] > 1000
    folders = {runs[e, True].report["platform_index"]["folder"] for e in ("IDX_KEY", "IDX_OTHER")}
    assert len(folders) == 2  # another key never reads this key's index
    for folder in folders:
        for f in (index_root() / folder).iterdir():
            assert secret.encode() not in f.read_bytes(), f


def test_salted_scheme_gets_no_index(own_population: Path, tmp_path: Path) -> None:
    upload = tmp_path / "salted.csv"
    hash_file(own_population / "customers.parquet", profile="meta", scheme="salted-sha256",
              region="NL", out=upload)  # fmt: skip
    run = join_files(own_population, upload, scheme="salted-sha256", out=tmp_path / "j")
    assert run.report["platform_index"] == {
        "status": "none",
        "why": "a salted scheme: each digest has its own salt, so there is nothing to keep",
    }


def test_changed_population_invalidates_its_index(own_population: Path, tmp_path: Path) -> None:
    pop = tmp_path / "pop"
    shutil.copytree(own_population, pop, copy_function=shutil.copy)  # a new mtime: its own index
    upload = tmp_path / "up.csv"
    hash_file(pop / "customers.parquet", profile="meta", scheme="sha256", region="NL", out=upload)
    first = join_files(pop, upload, out=tmp_path / "1")
    old = first.report["platform_index"]["folder"]
    assert (index_root() / old).is_dir()
    # The platform loses its first 3000 users: the same file name, other content.
    table = pq.read_table(pop / "platform.parquet")
    pq.write_table(table.slice(3000), pop / "platform.parquet", row_group_size=5000)
    second = join_files(pop, upload, out=tmp_path / "2")
    fresh = join_files(pop, upload, out=tmp_path / "3", index=False)
    assert second.report["platform_index"]["status"] == "built"
    assert second.report["platform_index"]["folder"] != old
    assert not (index_root() / old).exists()  # the stale index is gone
    _same(fresh, second)
    assert second.result.summary()["matched_users"] < first.result.summary()["matched_users"]
    meta = json.loads((index_root() / second.report["platform_index"]["folder"] / "index.json")
                      .read_text())  # fmt: skip
    assert meta["population"] == str((pop / "platform.parquet").resolve())


def test_in_memory_key_is_not_indexed_but_joins_the_same(
    own_population: Path, tmp_path: Path
) -> None:
    from matchsim.secrets import Secret

    secret = Secret(b"k" * 32, "generated for this run")
    upload = tmp_path / "hmac.csv"
    hash_file(own_population / "customers.parquet", profile="meta",
              scheme=get_scheme("hmac-sha256", secret=secret), region="NL", out=upload)  # fmt: skip
    fresh = join_files(own_population, upload, scheme="hmac-sha256", secret=secret,
                       out=tmp_path / "f", index=False)  # fmt: skip
    hashed = join_files(own_population, upload, scheme="hmac-sha256", secret=secret,
                        out=tmp_path / "h")  # fmt: skip
    assert hashed.report["platform_index"] == {
        "status": "none",
        "why": "the key is held only in memory: no later join could name it again",
    }
    _same(fresh, hashed)  # hashed from the normalised layer, not from the raw platform


def test_normalised_layer_feeds_every_scheme(own_population: Path) -> None:
    from matchsim.join.index import ensure_normalised

    raw = ParquetPlatform(own_population / "platform.parquet", "meta", "sha1", {})
    cached = ParquetPlatform(own_population / "platform.parquet", "meta", "sha1", {})
    folder = ensure_normalised(cached)
    assert cached.norm_dir == folder and folder.name.startswith("meta-normalised-")
    for i in range(raw.n_chunks):
        a, b = raw._compute_chunk(i), cached._compute_chunk(i)
        for key in a:
            assert np.array_equal(a[key].words, b[key].words), key
            assert np.array_equal(a[key].ids, b[key].ids), key


def _no_separate_pass(*args: object) -> None:
    raise AssertionError("normalised in a pass of its own")


def test_join_writes_the_normalised_layer_as_it_goes(
    own_population: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``index="normalised"`` on the local engine: the first join writes the layer from
    its own pass (no pass of its own first), the same file ``ensure_normalised`` writes;
    the second join reads it; both join as a join without any index does."""
    from matchsim.join.index import ensure_normalised

    monkeypatch.setenv("MATCHSIM_INDEX_DIR", str(tmp_path / "cache"))
    upload = tmp_path / "up.csv"
    hash_file(own_population / "customers.parquet", profile="meta", scheme="sha256",
              region="NL", out=upload)  # fmt: skip
    plain = join_files(own_population, upload, out=tmp_path / "plain", index=False)
    with monkeypatch.context() as m:  # the layer must come from the join's own pass
        m.setattr(index_module, "ensure_normalised", _no_separate_pass)
        first = join_files(own_population, upload, out=tmp_path / "first", index="normalised")
    assert first.report["platform_index"]["status"] == "normalised only"
    layers = list((tmp_path / "cache").glob("meta-normalised-*"))
    assert len(layers) == 1 and not list((tmp_path / "cache").glob(".partial*"))
    second = join_files(own_population, upload, out=tmp_path / "second", index="normalised")
    _same(plain, first)
    _same(plain, second)
    teed = pq.read_table(layers[0] / "normalised.parquet")
    shutil.rmtree(layers[0])
    built = ensure_normalised(ParquetPlatform(own_population / "platform.parquet", "meta",
                                              "sha256", {}))  # fmt: skip
    assert built == layers[0]
    assert pq.read_table(built / "normalised.parquet").equals(teed)
    assert pq.ParquetFile(built / "normalised.parquet").metadata.num_row_groups == 4


def test_a_failed_join_leaves_no_normalised_layer(
    own_population: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATCHSIM_INDEX_DIR", str(tmp_path / "cache"))
    upload = tmp_path / "up.csv"
    hash_file(own_population / "customers.parquet", profile="meta", scheme="sha256",
              region="NL", out=upload)  # fmt: skip
    calls = []
    real = ParquetPlatform._chunk

    def failing(self: ParquetPlatform, index: int) -> object:
        calls.append(index)
        if index == 2:
            raise OSError("disk gone")
        return real(self, index)

    monkeypatch.setattr(ParquetPlatform, "_chunk", failing)
    with pytest.raises(OSError, match="disk gone"):
        join_files(own_population, upload, out=tmp_path / "j", index="normalised")
    assert 2 in calls
    assert not list((tmp_path / "cache").glob("meta-normalised-*"))
    assert not list((tmp_path / "cache").glob(".partial*"))


def test_code_stamp_reads_every_part() -> None:
    # A part moved away by a refactor must fail here, not turn the index off silently.
    from matchsim.join.index import _CODE_PARTS, code_stamp

    root = Path(__file__).resolve().parent.parent / "matchsim"
    for part in _CODE_PARTS:
        assert (root / part).exists(), part
    assert len(code_stamp()) == 64


def test_an_index_that_cannot_be_written_says_why_and_joins_the_same(
    own_population: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cache "folder" below a plain file: every write fails (even for root, unlike modes).
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("MATCHSIM_INDEX_DIR", str(tmp_path / "a-file" / "index"))
    upload = tmp_path / "up.csv"
    hash_file(own_population / "customers.parquet", profile="meta", scheme="sha256",
              region="NL", out=upload)  # fmt: skip
    fresh = join_files(own_population, upload, profile="meta", out=tmp_path / "f", index=False)
    unwritable = join_files(own_population, upload, profile="meta", out=tmp_path / "u")
    info = unwritable.report["platform_index"]
    assert info["status"] == "none"
    assert "digest index not written in " in info["why"] and "Not a directory" in info["why"]
    _same(fresh, unwritable)


def test_normalised_layer_reads_back_as_parquet_defaults_would(
    own_population: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layer is written without statistics and with Parquet dictionaries only for
    dictionary columns: each chunk reads back as the normalised table written with
    Parquet's defaults does (the same values, types and dictionaries)."""
    from matchsim.join.index import ensure_normalised, read_normalised
    from matchsim.join.platform import normalised_table

    monkeypatch.setenv("MATCHSIM_INDEX_DIR", str(tmp_path / "cache"))
    source = ParquetPlatform(own_population / "platform.parquet", "meta", "sha256", {})
    folder = ensure_normalised(source)
    raw = pq.ParquetFile(source.path)
    for i in range(source.n_chunks):
        table = normalised_table(raw.read_row_group(i), source._profile(), source.path)
        plain = tmp_path / f"plain-{i}.parquet"
        pq.write_table(table, plain, compression="none", row_group_size=table.num_rows)
        assert read_normalised(folder, i).equals(pq.read_table(plain)), i
    meta = pq.ParquetFile(folder / "normalised.parquet").metadata
    assert meta.row_group(0).column(1).statistics is None  # email: no min/max written
