"""Ground truth: the join matches whom it should, and loses what mismatches must lose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from matchsim.generate import Population
from matchsim.join.evaluate import MISMATCH, SALT, TRUNCATION
from matchsim.join.run import JoinRun, join_files
from matchsim.normalise import get_profile
from matchsim.schemes import get_scheme
from matchsim.secrets import load_secret
from matchsim.upload.write import hash_file


def _join(
    pop: Population,
    tmp: Path,
    advertiser: str,
    platform: str,
    scheme: str = "sha256",
    engine: str = "local",
) -> JoinRun:
    upload = tmp / f"{advertiser}-{scheme}.csv"
    if not upload.exists():
        hash_file(pop.customers, profile=advertiser, scheme=scheme, region="NL", out=upload)
    return join_files(
        pop.out,
        upload,
        profile=platform,
        scheme=scheme,
        out=tmp / f"j-{platform}-{engine}",
        engine=engine,
        force=True,
    )


def _normalised(profile: str, field: str, values: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(
        get_profile(profile).normalise(field, values, "NL").values.to_numpy(zero_copy_only=False),
        dtype=object,
    )


def _matchable(pop: Population, profile: str) -> np.ndarray:
    """Oracle: on-platform customers with a key whose normalised value equals the user's."""
    customers = pq.read_table(pop.customers)
    truth = pq.read_table(pop.truth)
    uid = truth["uid"].fill_null(-1).to_numpy()
    users = pq.read_table(pop.platform)
    on = uid >= 0
    user_rows = users.take(pa.array(np.where(on, uid, 0)))
    ok = np.zeros(len(uid), dtype=bool)
    for field, platform_columns in (
        ("email", ("email", "email2")),
        ("phone", ("phone",)),
        ("madid", ("madid",)),
    ):
        mine = _normalised(profile, field, customers[field])
        for column in platform_columns:
            theirs = _normalised(profile, field, user_rows[column])
            ok |= (mine == theirs) & pd_notnull(mine) & pd_notnull(theirs)
    combo = np.ones(len(uid), dtype=bool)
    for field, column in (
        ("first_name", "first_name"),
        ("last_name", "last_name"),
        ("postcode", "postcode"),
        ("dob", "dob"),
    ):
        mine = _normalised(profile, field, customers[field])
        theirs = _normalised(profile, field, user_rows[column])
        combo &= (mine == theirs) & pd_notnull(mine) & pd_notnull(theirs)
    return on & (ok | combo)


def pd_notnull(values: np.ndarray) -> np.ndarray:
    return np.array([v is not None for v in values], dtype=bool)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("join")


def test_identical_profiles_match_every_matchable_customer(
    nl_population: Population, tmp: Path
) -> None:
    run = _join(nl_population, tmp, "meta", "meta")
    ev = run.evaluation
    assert ev is not None
    matchable = _matchable(nl_population, "meta")
    truth_uid = pq.read_table(nl_population.truth)["uid"].fill_null(-1).to_numpy()
    rows, users = run.result.row_user_pairs()
    matched_true = np.zeros(len(truth_uid), dtype=bool)
    matched_true[rows[users == truth_uid[rows]]] = True
    assert matchable.sum() > 0.9 * ev.on_platform
    assert np.array_equal(matched_true, matchable)  # every matchable one, and no other
    assert ev.false_matches == 0 and ev.precision == 1.0
    assert ev.true_matches == int(matchable.sum())
    assert ev.missed == ev.on_platform - ev.true_matches
    assert sum(ev.missed_by_reason.values()) == ev.missed
    matched = pq.read_table(run.out / "matched.parquet")
    assert matched.schema.field("uid").type == pa.int64()
    assert matched["uid"].to_pylist() == run.result.matched_users.tolist()


def test_google_rules_on_a_meta_platform_lose_every_phone(
    nl_population: Population, tmp: Path
) -> None:
    same = _join(nl_population, tmp, "meta", "meta")
    mixed = _join(nl_population, tmp, "google", "meta")
    assert (
        same.result.per_key["phone"].rows_matched
        > 0.4 * nl_population.manifest["counts"]["customers_on_platform"]
    )
    # "+31612345678" (Google, E.164) never equals "31612345678" (Meta, digits)
    assert mixed.result.per_key["phone"].rows_matched == 0
    assert "name_postcode_dob" not in mixed.result.per_key or (
        mixed.result.per_key["name_postcode_dob"].rows_matched == 0
    )
    assert mixed.evaluation is not None and same.evaluation is not None
    assert mixed.evaluation.recall < same.evaluation.recall
    assert mixed.evaluation.missed_by_reason[MISMATCH] > same.evaluation.missed_by_reason.get(
        MISMATCH, 0
    )
    # Google folds gmail dots and +tags: a folded address can be another Meta user's.
    assert mixed.evaluation.precision > 0.99


def test_per_record_salt_matches_nobody_by_a_hashed_key(
    nl_population: Population, tmp: Path
) -> None:
    run = _join(nl_population, tmp, "meta", "meta", scheme="salted-sha256")
    ev = run.evaluation
    assert ev is not None
    per_key = run.result.per_key
    assert [per_key[k].rows_matched for k in ("email", "phone", "name_postcode_dob")] == [0, 0, 0]
    # Meta takes the MADID in clear: the salt does not protect it, and it still matches.
    assert len(run.result.matched_users) == per_key["madid"].users_matched > 0
    assert ev.true_matches == per_key["madid"].rows_matched
    assert ev.missed_by_reason == {SALT: ev.on_platform - ev.true_matches}


def test_dask_engine_gives_the_same_join(nl_population: Population, tmp: Path) -> None:
    local = _join(nl_population, tmp, "meta", "meta")
    dask = _join(nl_population, tmp, "meta", "meta", engine="dask")
    assert dask.result.summary() == local.result.summary()
    assert dask.result.matched_users.tolist() == local.result.matched_users.tolist()


def test_join_never_reads_the_truth(nl_population: Population, tmp: Path) -> None:
    blind = tmp / "blind"
    blind.mkdir(exist_ok=True)
    for name in ("platform.parquet",):
        (blind / name).write_bytes((nl_population.out / name).read_bytes())
    upload = tmp / "meta-sha256.csv"
    if not upload.exists():
        hash_file(nl_population.customers, profile="meta", scheme="sha256", region="NL", out=upload)
    run = join_files(blind, upload, profile="meta", out=tmp / "j-blind", force=True)
    seen = _join(nl_population, tmp, "meta", "meta")
    assert run.evaluation is None and "evaluation" not in run.report
    assert run.result.matched_users.tolist() == seen.result.matched_users.tolist()
    assert pc.sum(pa.array(run.result.matched_rows)).as_py() > 0


def test_truncated_digests_collide_into_false_matches(nl_population: Population, tmp: Path) -> None:
    upload = tmp / "truncated.csv"
    hash_file(
        nl_population.customers, profile="meta", scheme=get_scheme("truncated-sha256", bits=16),
        region="NL", out=upload,
    )  # fmt: skip
    run = join_files(
        nl_population.out, upload, profile="meta", scheme="truncated-sha256",
        scheme_params={"bits": 16}, out=tmp / "j-truncated", force=True,
    )  # fmt: skip
    ev = run.evaluation
    assert ev is not None
    # 2**16 buckets for ~20-40 k platform digests per key: many rows also hit someone else
    assert ev.false_by_reason[TRUNCATION] == ev.false_matches > 0.5 * ev.true_matches
    assert ev.precision < 0.7
    assert ev.recall >= _join(nl_population, tmp, "meta", "meta").evaluation.recall  # type: ignore[union-attr]


def test_keyed_scheme_needs_the_shared_key(
    nl_population: Population, tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOIN_KEY", "advertiser-and-platform")
    monkeypatch.setenv("OTHER_KEY", "someone-else")
    upload = tmp / "hmac.csv"
    hash_file(
        nl_population.customers, profile="meta",
        scheme=get_scheme("hmac-sha256", secret=load_secret(env="JOIN_KEY")),
        region="NL", out=upload,
    )  # fmt: skip
    runs = {
        env: join_files(
            nl_population.out,
            upload,
            profile="meta",
            scheme="hmac-sha256",
            key_env=env,
            out=tmp / f"j-{env}",
            force=True,
        )
        for env in ("JOIN_KEY", "OTHER_KEY")
    }
    same = _join(nl_population, tmp, "meta", "meta").result.summary()
    assert runs["JOIN_KEY"].result.summary()["matched_users"] == same["matched_users"]
    wrong = runs["OTHER_KEY"].result.per_key
    assert [wrong[k].rows_matched for k in ("email", "phone", "name_postcode_dob")] == [0, 0, 0]
