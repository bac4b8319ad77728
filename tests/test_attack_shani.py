"""The SHA-NI block functions (:mod:`matchsim.kernels.attack.shani`) against hashlib,
and the attack with them against the attack with the AVX2 lane functions.

Skipped where the CPU (or numba's target) lacks the SHA extensions: the instructions
cannot run there.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.attack import Knowledge, parse_digests, reverse
from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.kernels.attack import mask as K
from matchsim.kernels.attack import shani
from matchsim.kernels.attack._lanes import LANES

pytestmark = pytest.mark.skipif(not shani.HAVE_SHANI, reason="no SHA extensions here")

ALGOS = {"sha1": K.ALGO_SHA1, "sha256": K.ALGO_SHA256}
FULL = {"sha1": shani.sha1_full, "sha256": shani.sha256_full}
EARLY = {"sha1": shani.sha1_early, "sha256": shani.sha256_early}
SHORT = {"sha1": shani.sha1_short, "sha256": shani.sha256_short}


def _blocks(message: bytes) -> np.ndarray:
    """The padded message as (n_blocks, 16) big-endian words (SHA-1 and SHA-256 pad
    alike)."""
    n = len(message)
    padded = message + b"\x80" + b"\0" * ((55 - n) % 64) + (8 * n).to_bytes(8, "big")
    return np.frombuffer(padded, dtype=">u4").astype(np.uint32).reshape(-1, 16)


def _lanes(rows: np.ndarray) -> np.ndarray:
    """(lanes, k) per-lane words as the kernels' word-major lane array."""
    return np.ascontiguousarray(rows.astype(np.uint32).T).ravel()


def _digest_words(algo: str, message: bytes) -> np.ndarray:
    return np.frombuffer(hashlib.new(algo, message).digest(), dtype=">u4").astype(np.uint32)


def _run(messages: list[bytes], algo: str, early: bool) -> np.ndarray:
    """(lanes, rows) of ``out`` after hashing one equal-length message per lane (the
    algorithm's lane count of them: ``messages`` is cut to it): the full block function
    on every block, or on all but the last and the early one on that."""
    lanes = LANES[ALGOS[algo]]
    blocks = np.stack([_blocks(m) for m in messages[:lanes]])  # (lanes, n_blocks, 16)
    n_state = K.STATE_WORDS[ALGOS[algo]]
    state = np.tile(K.IVS[ALGOS[algo]], (lanes, 1))
    out = np.zeros(8 * lanes, dtype=np.uint32)
    for b in range(blocks.shape[1]):
        last = b == blocks.shape[1] - 1
        fn = EARLY[algo] if early and last else FULL[algo]
        fn(_lanes(blocks[:, b]), _lanes(np.pad(state, ((0, 0), (0, 8 - n_state)))), out)
        state = out.reshape(8, lanes).T[:, :n_state].copy()
    return out.reshape(8, lanes).T.copy()


MOST_LANES = max(LANES[a] for a in ALGOS.values())


def _same_length_messages(max_size: int) -> Any:
    """As many messages as the widest algorithm's lanes (each test cuts them to its
    algorithm's)."""
    return st.integers(0, max_size).flatmap(
        lambda n: st.lists(
            st.binary(min_size=n, max_size=n), min_size=MOST_LANES, max_size=MOST_LANES
        )
    )


@settings(max_examples=30, deadline=None)
@given(algo=st.sampled_from(sorted(ALGOS)), messages=_same_length_messages(200))
def test_full_blocks_chain_to_hashlib_digests(algo: str, messages: list[bytes]) -> None:
    """Every lane a different message of up to 4 blocks, chained block by block."""
    n_state = K.STATE_WORDS[ALGOS[algo]]
    got = _run(messages, algo, early=False)[:, :n_state]
    want = np.stack([_digest_words(algo, m) for m in messages[: LANES[ALGOS[algo]]]])
    assert np.array_equal(got, want)


@settings(max_examples=30, deadline=None)
@given(algo=st.sampled_from(sorted(ALGOS)), messages=_same_length_messages(200))
def test_early_block_gives_the_check_words(algo: str, messages: list[bytes]) -> None:
    """The early function's rows 0 and 1 are the digest's check words, on the first
    block (from the IV) and on a later one (from a chaining value)."""
    i, j = K.CHECK_WORDS[ALGOS[algo]]
    got = _run(messages, algo, early=True)[:, :2]
    want = np.stack([_digest_words(algo, m)[[i, j]] for m in messages[: LANES[ALGOS[algo]]]])
    assert np.array_equal(got, want)


@settings(max_examples=30, deadline=None)
@given(
    algo=st.sampled_from(sorted(ALGOS)),
    messages=_same_length_messages(15),
    state=st.lists(st.integers(0, 2**32 - 1), min_size=8 * MOST_LANES, max_size=8 * MOST_LANES),
)
def test_short_block_equals_the_early_one(
    algo: str, messages: list[bytes], state: list[int]
) -> None:
    """Candidates of at most 15 bytes: the function that takes words 4..14 as zero
    gives the early one's check words, from the IV (hashlib's) and from any state."""
    lanes = LANES[ALGOS[algo]]
    messages = messages[:lanes]
    blocks = _lanes(np.stack([_blocks(m)[0] for m in messages]))
    i, j = K.CHECK_WORDS[ALGOS[algo]]
    n_state = K.STATE_WORDS[ALGOS[algo]]
    iv = _lanes(np.pad(np.tile(K.IVS[ALGOS[algo]], (lanes, 1)), ((0, 0), (0, 8 - n_state))))
    for s in (np.array(state[: 8 * lanes], dtype=np.uint32), iv):
        short, early = np.zeros(8 * lanes, np.uint32), np.zeros(8 * lanes, np.uint32)
        SHORT[algo](blocks, s, short)
        EARLY[algo](blocks, s, early)
        assert np.array_equal(short[: 2 * lanes], early[: 2 * lanes])
    want = np.stack([_digest_words(algo, m)[[i, j]] for m in messages])
    assert np.array_equal(short[: 2 * lanes].reshape(2, lanes).T, want)  # from the IV


@functools.cache
def _kernels(algo: int, sha_ni: bool) -> tuple[Any, Any]:
    """The scan and the row hasher on the SHA-NI or the AVX2 lane block functions
    (whichever ``MATCHSIM_SHANI`` chose for the defaults; once per run)."""
    return K._make_scan(algo, sha_ni=sha_ni), K._make_hash_rows(algo, sha_ni=sha_ni)


DIGITS = b"0123456789"
PEPPER = b"a-pepper-long-enough-to-cross-a-block-" * 3


@pytest.mark.parametrize(
    ("algo", "knowledge"),
    [
        ("sha1", Knowledge("sha1")),
        ("sha256", Knowledge("sha256")),
        ("sha1", Knowledge("sha1", pepper=PEPPER)),
        ("sha256", Knowledge("sha256", pepper=PEPPER)),
        ("sha256", Knowledge("sha256", hmac_key=b"the advertiser's key")),
    ],
    ids=["sha1", "sha256", "sha1-pepper", "sha256-pepper", "hmac-sha256"],
)
def test_attack_recovers_the_same_with_sha_ni_and_lanes(
    algo: str, knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same planted numbers (and only they) are recovered whichever block functions
    the scan and the verification run: short single blocks, two-block messages and
    HMAC's two compressions."""
    space = MaskKeyspace("3161?d?d?d?d?d", (Mask((b"3", b"1", b"6", b"1", *(DIGITS,) * 5)),))
    rng = np.random.default_rng(5)
    want = sorted({f"3161{x:05d}" for x in rng.integers(0, 10**5, 200)} | {"316100000"})
    tail = knowledge.pepper or b""
    key = knowledge.hmac_key

    def digest(m: bytes) -> str:
        if key is not None:
            return hmac.new(key, m, algo).hexdigest()
        return hashlib.new(algo, m + tail).hexdigest()

    targets = parse_digests(pa.array([digest(w.encode()) for w in want]))
    results = []
    for sha_ni in (True, False):
        scan, rows = _kernels(ALGOS[algo], sha_ni)
        monkeypatch.setitem(K.SCANNERS, ALGOS[algo], scan)
        monkeypatch.setitem(K.ROW_HASHERS, ALGOS[algo], rows)
        result = reverse(targets, space, knowledge, stop_when_done=False)
        assert result.candidates_tried == 10**5
        results.append(sorted(v for v in result.plaintext.to_pylist() if v is not None))
    assert results[0] == results[1] == want


@pytest.mark.parametrize(("value", "used"), [("0", "False"), ("1", "True")])
def test_matchsim_shani_switch(value: str, used: str) -> None:
    """``MATCHSIM_SHANI=0`` keeps the lane functions (read at import)."""
    code = "from matchsim.kernels.attack import shani; print(shani.USE_SHANI)"
    env = {**os.environ, "MATCHSIM_SHANI": value}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert done.stdout.strip() == used
