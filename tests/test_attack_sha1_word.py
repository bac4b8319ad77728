"""SHA-1 with one varying message word (:mod:`matchsim.kernels.attack.sha1_word`)
against hashlib: the block functions on real padded messages, the schedule terms
against the schedule itself, and the attack on masks whose inner space takes that path."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.attack import Knowledge, parse_digests, reverse
from matchsim.attack.engine import _mask_layout, _Plan
from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.kernels.attack import sha1_word
from matchsim.kernels.attack._lanes import LANES_SHA1 as LANES
from matchsim.kernels.attack.params import SHA1_IV


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF if n else x


@settings(max_examples=40, deadline=None)
@given(v=st.sampled_from(list(sha1_word.WORDS)), x=st.integers(0, 2**32 - 1),
       fixed=st.lists(st.integers(0, 2**32 - 1), min_size=16, max_size=16))  # fmt: skip
def test_terms_are_the_schedule_of_the_varying_word(v: int, x: int, fixed: list[int]) -> None:
    """w[t] of the whole block = w[t] of the fixed words (word v zero) XOR the
    rotations of x that :func:`sha1_word.terms` names."""

    def schedule(words: list[int]) -> list[int]:
        w = list(words)
        for t in range(16, sha1_word.ROUNDS):
            w.append(_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1))
        return w

    fixed = list(fixed)
    fixed[v] = 0
    whole = schedule([x if t == v else fixed[t] for t in range(16)])
    parts = schedule(fixed)
    for t, rots in enumerate(sha1_word.terms(v)):
        var = 0
        for r in rots:
            var ^= _rotl(x, r)
        assert whole[t] == parts[t] ^ var, t


@settings(max_examples=40, deadline=None)
@given(
    v=st.sampled_from(list(sha1_word.WORDS)),
    length=st.integers(16, 55),
    seed=st.integers(0, 2**32 - 1),
    fixed_bits=st.integers(0, 2**32 - 1),
)
def test_block_gives_hashlibs_check_words(v: int, length: int, seed: int, fixed_bits: int) -> None:
    """Digest words 4 and 3 of ``LANES`` one-block messages that differ in word v only
    (some of its bits fixed, in ``P``, the others per lane), as hashlib has them."""
    rng = np.random.default_rng(seed)
    message = bytearray(rng.integers(0, 256, length, dtype=np.uint8).tobytes())
    lane_words = rng.integers(0, 2**32, LANES, dtype=np.uint32)
    padded = bytes(message) + b"\x80" + b"\0" * (55 - length) + (8 * length).to_bytes(8, "big")
    base = np.frombuffer(padded, dtype=">u4").astype(np.uint32)
    base[v] &= np.uint32(fixed_bits)
    X = lane_words & np.uint32(~fixed_bits & 0xFFFFFFFF)
    P = np.zeros(sha1_word.PRE, dtype=np.uint32)
    scratch = np.zeros(80, dtype=np.uint32), np.zeros(80, dtype=np.uint32)
    sha1_word.pre(base, v, SHA1_IV, *scratch, P)
    out = np.zeros(8 * LANES, dtype=np.uint32)
    sha1_word.block(v, X, P, out)
    for ln in range(LANES):
        msg = bytearray(message)
        msg[4 * v : 4 * v + 4] = int(base[v] | X[ln]).to_bytes(4, "big")
        digest = np.frombuffer(hashlib.sha1(bytes(msg)).digest(), dtype=">u4")
        assert (out[ln], out[LANES + ln]) == (digest[4], digest[3]), ln


DIGITS = b"0123456789"


@st.composite
def _word_masks(draw: st.DrawFn) -> Mask:
    """A mask of at most 15 bytes whose positions in its last word vary (at least 256
    candidates there: the scan's inner space is that word), with up to two varying
    positions before them."""
    length = draw(st.sampled_from([3, 6, 7, 8, 10, 11, 12, 14, 15]))
    inner = (length - 1) // 4 * 4  # the first byte of the last word
    alphabet = DIGITS if length - inner >= 3 else b"abcdefghijklmnopqrstuvwxyz"
    positions = []
    for i in range(length):
        if i >= inner:
            positions.append(alphabet)
        elif draw(st.booleans()) and sum(len(p) > 1 for p in positions) < 2:
            positions.append(draw(st.sampled_from([b"12", b"123458", b"+0"])))
        else:
            positions.append(bytes([draw(st.integers(0x21, 0x7E))]))
    return Mask(tuple(positions))


@settings(max_examples=25, deadline=None)
@given(mask=_word_masks(), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40))
def test_attack_on_a_word_mask_finds_exactly_the_planted(mask: Mask, seed: int, n: int) -> None:
    """The attack (its scan on the one-word path, as the layout shows) recovers exactly
    the planted plaintexts, with a few targets (the scan's few-bits pre-test) and with
    more."""
    layout = _mask_layout(mask, _Plan.make(Knowledge("sha1")))
    offsets = layout["var_offset"][len(layout["var_offset"]) - layout["n_inner"] :]
    assert len({int(o) // 4 for o in offsets}) == 1  # one word: the path under test
    rng = np.random.default_rng(seed)
    idx = rng.choice(mask.size, min(n, mask.size), replace=False)
    want = sorted(bytes(r).decode() for r in mask.decode(idx))
    digests = [hashlib.sha1(w.encode()).hexdigest() for w in want]
    digests.append(hashlib.sha1(b"not in it").hexdigest())
    ks = MaskKeyspace("word", (mask,))
    result = reverse(parse_digests(pa.array(digests)), ks, Knowledge("sha1"),
                     stop_when_done=False)  # fmt: skip
    got = sorted(v for v in result.plaintext.to_pylist() if v is not None)
    assert got == want
