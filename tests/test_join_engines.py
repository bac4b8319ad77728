"""The engine contract: every engine returns the same, exactly verified matches.

The ``dask`` engine runs on a real LocalCluster of 2 worker processes, started once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from matchsim.errors import ConfigError, InputError
from matchsim.join import Engine, InMemoryPlatform, KeyDigests, UploadKeys, get_engine


@pytest.fixture(scope="module", params=["local", "dask"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "local":
        with get_engine("local") as eng:
            yield eng
        return
    # A cluster of 2 worker processes reached by address, as with --scheduler.
    from distributed import LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        get_engine("dask", scheduler=cluster.scheduler_address) as eng,
    ):
        yield eng


def _digests(rng: np.random.Generator, n: int, size: int = 32) -> np.ndarray:
    return rng.integers(0, 256, size=(n, size), dtype=np.uint8)


def _reference(upload: np.ndarray, platform: np.ndarray, uids: np.ndarray) -> set[tuple[int, int]]:
    where: dict[bytes, list[int]] = {}
    for uid, d in zip(uids.tolist(), platform, strict=True):
        where.setdefault(d.tobytes(), []).append(uid)
    return {(row, uid) for row, d in enumerate(upload) for uid in where.get(d.tobytes(), [])}


def _pairs(result_pairs: tuple[np.ndarray, np.ndarray]) -> set[tuple[int, int]]:
    rows, users = result_pairs
    return set(zip(rows.tolist(), users.tolist(), strict=True))


def _case(seed: int, size: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    platform = _digests(rng, 5_000, size)
    uids = rng.permutation(10**6)[:5_000].astype(np.int64)
    upload = np.concatenate(
        [platform[rng.choice(5_000, 600, replace=False)], _digests(rng, 400, size)]
    )
    upload[10] = upload[11]  # a duplicated upload digest: both rows match
    platform[7] = platform[8]  # two users share a digest: both are matched
    upload[12] = platform[7]
    upload[13] = 0  # key word 0 is stored as 1; the full digest keeps it exact
    platform[9] = 0
    near = platform[20].copy()
    near[-1] ^= 1  # same 64-bit key, different digest: must not match
    upload[14] = near
    return upload, platform, uids


@pytest.mark.parametrize("size", [32, 16, 4, 20])
def test_matches_exactly_the_reference(engine: Engine, size: int) -> None:
    upload, platform, uids = _case(size, size)
    up = UploadKeys(len(upload), {"email": KeyDigests.from_bytes(upload, np.arange(len(upload)))})
    plat = InMemoryPlatform(
        {"email": KeyDigests.from_bytes(platform, uids)}, 10**6, chunk_rows=1_500
    )
    result = engine.match(up, plat)
    expected = _reference(upload, platform, uids)
    assert _pairs(result.pairs["email"]) == expected
    assert result.matched_rows.tolist() == sorted({r for r, _ in expected})
    assert result.matched_users.tolist() == sorted({u for _, u in expected})


def test_multi_key_counts_each_user_once(engine: Engine) -> None:
    rng = np.random.default_rng(3)
    email, phone = _digests(rng, 1_000), _digests(rng, 1_000)
    uids = np.arange(1_000, dtype=np.int64) * 3
    # rows 0-99 match by e-mail only, 100-199 by phone only, 200-299 by both
    up_email = np.concatenate([email[:100], _digests(rng, 100), email[200:300]])
    up_phone = np.concatenate([_digests(rng, 100), phone[100:200], phone[200:300]])
    rows = np.arange(300)
    up = UploadKeys(
        300,
        {
            "email": KeyDigests.from_bytes(up_email, rows),
            "phone": KeyDigests.from_bytes(up_phone, rows),
        },
    )
    plat = InMemoryPlatform(
        {"email": KeyDigests.from_bytes(email, uids), "phone": KeyDigests.from_bytes(phone, uids)},
        1_000,
        chunk_rows=256,
    )
    result = engine.match(up, plat)
    assert len(result.matched_rows) == 300
    assert result.matched_users.tolist() == (np.arange(300) * 3).tolist()
    assert result.per_key["email"].rows_matched == 200
    assert result.per_key["email"].users_only_this_key == 100
    assert result.per_key["phone"].users_only_this_key == 100
    assert result.match_rate == 1.0


def test_engines_agree_on_random_data(engine: Engine) -> None:
    # Each engine (local, dask) and the local engine without prefetch against the
    # dictionary reference: the same pairs and the same summary.
    rng = np.random.default_rng(5)
    platform = _digests(rng, 20_000)
    upload = np.concatenate([platform[rng.choice(20_000, 3_000)], _digests(rng, 2_000)])
    up = UploadKeys(len(upload), {"email": KeyDigests.from_bytes(upload, np.arange(len(upload)))})
    plat = InMemoryPlatform(
        {"email": KeyDigests.from_bytes(platform, np.arange(20_000))}, 20_000, chunk_rows=4_096
    )
    expected = _reference(upload, platform, np.arange(20_000))
    with get_engine("local", prefetch=False) as plain:
        a, b = engine.match(up, plat), plain.match(up, plat)
    assert _pairs(a.pairs["email"]) == _pairs(b.pairs["email"]) == expected
    assert a.summary() == b.summary()
    assert a.summary()["matched_rows"] == len({row for row, _ in expected})


def test_width_mismatch_is_an_input_error(engine: Engine) -> None:
    up = UploadKeys(1, {"email": KeyDigests.from_bytes(np.zeros((1, 16), np.uint8), [0])})
    plat = InMemoryPlatform({"email": KeyDigests.from_bytes(np.zeros((1, 32), np.uint8), [0])}, 1)
    with pytest.raises(InputError, match="email digests are 16 bytes in the upload but 32 bytes"):
        engine.match(up, plat)


def test_no_common_key_is_an_input_error(engine: Engine) -> None:
    up = UploadKeys(1, {"madid": KeyDigests.from_bytes(np.zeros((1, 32), np.uint8), [0])})
    plat = InMemoryPlatform({"email": KeyDigests.from_bytes(np.zeros((1, 32), np.uint8), [0])}, 1)
    with pytest.raises(InputError, match="have nothing in common"):
        engine.match(up, plat)


def test_empty_sides(engine: Engine) -> None:
    up = UploadKeys(0, {"email": KeyDigests.empty(32)})
    plat = InMemoryPlatform({"email": KeyDigests.empty(32)}, 0)
    result = engine.match(up, plat)
    assert len(result.matched_users) == 0 and result.match_rate == 0.0


def test_unknown_engine() -> None:
    with pytest.raises(ConfigError, match=r"unknown engine 'spark'; available: dask, local"):
        get_engine("spark")


def test_missing_dask_extra_names_the_pip_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real = builtins.__import__

    def fake(name: str, *args: object, **kwargs: object) -> object:
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake)
    from matchsim.errors import MissingExtraError

    with pytest.raises(MissingExtraError) as exc:
        get_engine("dask")
    assert exc.value.one_line() == (
        "dask.distributed is not installed; install it with: pip install 'matchsim[dask]'"
    )
