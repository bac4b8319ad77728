"""The CPU MD5 block functions lane by lane, against a textbook MD5 compression.

The scan's MD5 block functions hash interleaved lane groups through one intrinsic per
step (:mod:`matchsim.kernels.attack._md5_step`, with rewritten boolean functions); every
lane of every group is checked here, from the MD5 IV (then against hashlib) and from
arbitrary chaining values (against RFC 1321's compression, written out below and itself
checked against hashlib).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.kernels.attack import _unrolled as U
from matchsim.kernels.attack._lanes import LANES_MD5
from matchsim.kernels.attack.mask import MD5_IV

M32 = 0xFFFFFFFF
# RFC 1321, section 3.4, spelled independently of matchsim.kernels.constants.
T = [int(abs(math.sin(i + 1)) * 2**32) & M32 for i in range(64)]
SHIFTS = [[7, 12, 17, 22], [5, 9, 14, 20], [4, 11, 16, 23], [6, 10, 15, 21]]


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & M32


def md5_steps(state: list[int], words: list[int], n: int = 64) -> tuple[list[int], list[int]]:
    """The first ``n`` MD5 steps of 16 little-endian message words from ``state``: the
    ``b`` each step writes, and (for ``n`` = 64) the compression's new state."""
    a, b, c, d = state
    new_b = []
    for i in range(n):
        r = i // 16
        if r == 0:
            f, g = (b & c) | (~b & d), i
        elif r == 1:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif r == 2:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | (~d & M32)), (7 * i) % 16
        rotated = _rotl((a + f + T[i] + words[g]) & M32, SHIFTS[r][i % 4])
        a, d, c, b = d, c, b, (b + rotated) & M32
        new_b.append(b)
    return new_b, [(s + v) & M32 for s, v in zip(state, (a, b, c, d), strict=True)]


def _compress(state: list[int], words: list[int]) -> list[int]:
    """One MD5 compression of 16 little-endian message words from ``state``."""
    return md5_steps(state, words)[1]


def _padded_words(message: bytes) -> list[int]:
    """The single padded block of a message of at most 55 bytes."""
    block = message + b"\x80" + bytes(55 - len(message)) + (8 * len(message)).to_bytes(8, "little")
    return list(np.frombuffer(block, "<u4").astype(int))


def _lanes(messages: list[bytes], states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Message rows (16 x LANES_MD5) and state rows (8 x LANES_MD5) of one lane array each."""
    W = np.zeros((16, LANES_MD5), np.uint32)
    for ln, m in enumerate(messages):
        W[:, ln] = _padded_words(m)
    S = np.zeros((8, LANES_MD5), np.uint32)
    S[:4] = states.T
    return W.ravel(), S.ravel()


def _messages(rng: np.random.Generator, longest: int) -> list[bytes]:
    lengths = rng.integers(0, longest + 1, LANES_MD5)
    return [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in lengths]


def test_reference_compression_is_md5() -> None:
    for message in (b"", b"abc", b"31612345678", bytes(range(55))):
        state = _compress(list(MD5_IV.astype(int)), _padded_words(message))
        digest = np.array(state, "<u4").tobytes()
        assert digest == hashlib.md5(message).digest()


def _check(fn: object, longest: int, seed: int, from_iv: bool) -> None:
    rng = np.random.default_rng(seed)
    messages = _messages(rng, longest)
    if from_iv:
        states = np.tile(MD5_IV, (LANES_MD5, 1))
    else:
        states = rng.integers(0, 2**32, (LANES_MD5, 4), dtype=np.uint32)
    W, S = _lanes(messages, states)
    out = np.zeros(8 * LANES_MD5, np.uint32)
    fn(W, S, out)  # type: ignore[operator]
    rows = out.reshape(8, LANES_MD5)
    full = fn is U.md5_block_64
    for ln, m in enumerate(messages):
        want = _compress([int(s) for s in states[ln]], _padded_words(m))
        if from_iv:
            assert np.array(want, "<u4").tobytes() == hashlib.md5(m).digest()
        got = [int(v) for v in rows[:4, ln]] if full else [int(rows[0, ln]), int(rows[1, ln])]
        assert got == (want if full else [want[0], want[3]]), (fn, ln, m)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), from_iv=st.booleans())
def test_md5_block_functions_match_the_reference_in_every_lane(seed: int, from_iv: bool) -> None:
    """All three CPU MD5 block functions, every lane (so every interleaved group):
    the full compression, the early-rejection one (digest words 0 and 3), and the short
    one (candidates of at most 15 bytes)."""
    _check(U.md5_block_64, 55, seed, from_iv)
    _check(U.md5_block_62, 55, seed, from_iv)
    _check(U.md5_short_62, 15, seed, from_iv)
