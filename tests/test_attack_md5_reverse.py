"""MD5 against a few targets, from each target backwards
(:mod:`matchsim.kernels.attack.md5_reverse`): the table against a textbook forward
compression (``test_attack_md5_blocks``'s), the per-candidate block function lane by
lane, and the attack on masks whose layout takes that path, against the bitmap scan
and against the planted truth."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matchsim.attack.engine as engine
from matchsim.attack import Knowledge, parse_digests, reverse
from matchsim.attack.engine import _mask_layout, _Plan, scan_mask_range
from matchsim.attack.keyspace import Mask, MaskKeyspace
from matchsim.kernels.attack import md5_reverse
from matchsim.kernels.attack._lanes import LANES_MD5
from matchsim.kernels.attack._unrolled import md5_short_rev_52
from tests.test_attack_md5_blocks import md5_steps  # RFC 1321, checked against hashlib there

M32 = 0xFFFFFFFF
IV = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
DIGITS = b"0123456789"


def _short_words(rng: np.random.Generator, length: int) -> list[int]:
    """The padded single block of a random message of ``length`` <= 15 bytes."""
    message = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    block = message + b"\x80" + bytes(55 - length) + (8 * length).to_bytes(8, "little")
    return [int(w) for w in np.frombuffer(block, "<u4")]


def test_the_reference_is_md5() -> None:
    words = _short_words(np.random.default_rng(1), 11)
    message = np.array(words, "<u4").tobytes()[:11]
    _, digest = md5_steps(IV, words)
    assert np.array(digest, "<u4").tobytes() == hashlib.md5(message).digest()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(9, 15), from_iv=st.booleans(),
       n_targets=st.integers(1, 5))  # fmt: skip
def test_table_is_what_the_forward_steps_reach(seed: int, length: int, from_iv: bool,
                                               n_targets: int) -> None:  # fmt: skip
    """For every target and every word 2 value: ``U[t, j]`` is ``x55 + w1`` of the
    message whose digest target ``t`` is (from the IV or any chaining value), so the
    candidate that hashes to it reaches it, and (32 random bits) the others do not."""
    rng = np.random.default_rng(seed)
    state = IV if from_iv else [int(x) for x in rng.integers(0, 2**32, 4)]
    base = _short_words(rng, length)
    inner = rng.integers(0, 2**32, 6, dtype=np.uint32)
    template = np.array(base, np.uint32)
    template[2] = 0
    digests, reached = [], []
    for t in range(n_targets):
        words = list(base)
        words[2] = int(inner[t % 6])
        new_b, digest = md5_steps(state, words)
        digests.append(np.array(digest, "<u4").tobytes())
        reached.append((t % 6, (new_b[51] + words[1]) & M32))
    digest_bytes = np.frombuffer(b"".join(digests), np.uint8).reshape(n_targets, 16)
    table = md5_reverse.table(digest_bytes, np.array(state, np.uint32), template, inner)
    assert table.shape == (n_targets, 6) and table.dtype == np.uint32
    for t, (j, value) in enumerate(reached):
        assert int(table[t, j]) == value
        assert sum(int(table[t, k]) == value for k in range(6)) == 1


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), length=st.integers(9, 15))
def test_block_function_reaches_the_references_x55_in_every_lane(seed: int, length: int) -> None:
    """``md5_short_rev_52`` from the state after step 1 (S rows 0..3 = x2..x5), word 2
    from ``X``, writes ``x55 + w1`` for each lane's own message, in every interleaved
    lane group."""
    rng = np.random.default_rng(seed)
    W = np.zeros((16, LANES_MD5), np.uint32)
    S = np.zeros((8, LANES_MD5), np.uint32)
    want = []
    for ln in range(LANES_MD5):
        state = [int(x) for x in rng.integers(0, 2**32, 4)]
        words = _short_words(rng, length)
        W[:, ln] = words
        new_b, _ = md5_steps(state, words, 52)
        S[:4, ln] = [state[2], state[1], new_b[0], new_b[1]]  # x2, x3, x4, x5
        want.append((new_b[51] + words[1]) & M32)
    out = np.zeros(8 * LANES_MD5, np.uint32)
    X = W[2].copy()  # word 2 comes from its own row
    W[2] = 0
    md5_short_rev_52(W.ravel(), X, S.ravel(), out)
    assert out[:LANES_MD5].tolist() == want


def _nl_like(digits: int = 6) -> Mask:
    """An NL mobile number's shape, 11 bytes: ``316``, a digit of ``123458``, zeros and
    ``digits`` free digits (6 x 10^digits candidates; the inner space, the last three
    digits, in word 2)."""
    return Mask((b"3", b"1", b"6", b"123458", *(b"0",) * (7 - digits), *(DIGITS,) * digits))


def _scan_both(mask: Mask, plan: _Plan, digests: list[str], start: int, stop: int,
               monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[int]]:  # fmt: skip
    """The verified hits of the reversed scan and of the bitmap scan (its table off)."""
    targets = parse_digests(pa.array(digests))
    got, _ = scan_mask_range(mask, start, stop, plan, targets)
    with monkeypatch.context() as m:
        m.setattr(engine, "_reversal_table", lambda *a: None)
        want, _ = scan_mask_range(mask, start, stop, plan, targets)
    return sorted(got.tolist()), sorted(want.tolist())


@pytest.mark.parametrize(("head", "n_inner", "inner_size"), [(b"", 3, 1008), (b"+", 4, 10_032)])
def test_an_nl_mobile_scan_takes_the_reversed_path_and_finds_the_planted(
    monkeypatch: pytest.MonkeyPatch, head: bytes, n_inner: int, inner_size: int
) -> None:
    """Five planted numbers of a 6 x 10^6 keyspace (``316...`` and E.164 ``+316...``,
    whose inner space grows to word 2's four digits), over a range that starts and
    stops inside the inner space: the reversed scan (its table built, as the layout
    allows) finds exactly those in range, as the bitmap scan does."""
    mask = Mask((*(bytes([b]) for b in head), *_nl_like().positions))
    plan = _Plan.make(Knowledge("md5"))
    layout = _mask_layout(mask, plan)
    rng = np.random.default_rng(7)
    planted = sorted(rng.choice(mask.size, 5, replace=False).tolist())
    digests = [hashlib.md5(bytes(r)).hexdigest() for r in mask.decode(np.array(planted))]
    digests.append(hashlib.md5(b"31699999999x").hexdigest())  # not in the keyspace
    reversal = engine._reversal_table(layout, plan, parse_digests(pa.array(digests)).digests)
    assert reversal is not None
    word2, table, positions = reversal
    assert word2.shape == (inner_size,) and table.shape == (6 * inner_size,)
    assert positions == n_inner
    start, stop = 1234, mask.size - 77
    got, want = _scan_both(mask, plan, digests, start, stop, monkeypatch)
    assert got == want == [p for p in planted if start <= p < stop]


@pytest.mark.parametrize("head", [b"", b"+"])
@pytest.mark.parametrize(("start", "stop"), [(1234, 5_000_007), (48 * 21 + 1, 2 * 10**6 - 1)])
def test_a_range_keeps_its_edges_and_nothing_past_them(head: bytes, start: int,
                                                       stop: int) -> None:  # fmt: skip
    """Candidates just inside and just outside ``[start, stop)`` (whose ends fall inside
    a lane group of the inner space): the first and the last are found, their
    neighbours outside are not, though the group that holds them is hashed."""
    mask = Mask((*(bytes([b]) for b in head), *_nl_like().positions))
    plan = _Plan.make(Knowledge("md5"))
    edges = [start - 1, start, stop - 1, stop]
    rows = mask.decode(np.array(edges))
    targets = parse_digests(pa.array([hashlib.md5(bytes(r)).hexdigest() for r in rows]))
    assert engine._reversal_table(_mask_layout(mask, plan), plan, targets.digests) is not None
    got, _ = scan_mask_range(mask, start, stop, plan, targets)
    assert sorted(got.tolist()) == [start, stop - 1]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, md5_reverse.MAX_TARGETS + 3),
       head=st.sampled_from([b"", b"+", b"00", b"x" * 5]),
       tail=st.sampled_from([b"", b"!"]))  # fmt: skip
def test_attack_equals_the_bitmap_scan_and_the_truth(seed: int, n: int, head: bytes,
                                                     tail: bytes) -> None:  # fmt: skip
    """Masks around the NL one (constant bytes before and after shift the inner space
    out of word 2, or the message past 15 bytes) and target counts on both sides of
    ``MAX_TARGETS``: the attack recovers exactly the planted, whichever scan runs."""
    mask = Mask((*(bytes([b]) for b in head), *_nl_like(5).positions,
                 *(bytes([b]) for b in tail)))  # fmt: skip
    rng = np.random.default_rng(seed)
    idx = rng.choice(mask.size, min(n, mask.size), replace=False)
    want = sorted(bytes(r).decode() for r in mask.decode(idx))
    digests = [hashlib.md5(w.encode()).hexdigest() for w in want]
    result = reverse(parse_digests(pa.array(digests)), MaskKeyspace("nl", (mask,)),
                     Knowledge("md5"), stop_when_done=False)  # fmt: skip
    assert sorted(v for v in result.plaintext.to_pylist() if v is not None) == want


def test_where_it_applies() -> None:
    plan = _Plan.make(Knowledge("md5"))

    def inner(mask: Mask, n_targets: int = 1, hmac: bool = False) -> int | None:
        lay = _mask_layout(mask, plan)
        return md5_reverse.inner_positions(lay["template"], lay["var_offset"],
                                           lay["var_counts"], lay["n_inner"], hmac,
                                           n_targets)  # fmt: skip

    def applies(mask: Mask, n_targets: int = 1, hmac: bool = False) -> bool:
        return inner(mask, n_targets, hmac) is not None

    nl = _nl_like(7)
    assert not applies(Mask(nl.positions[1:]))  # 10 bytes: the inner space in words 1 and 2
    assert applies(nl) and applies(nl, md5_reverse.MAX_TARGETS)
    assert not applies(nl, 0) and not applies(nl, md5_reverse.MAX_TARGETS + 1)
    assert not applies(nl, hmac=True)
    assert inner(nl) == 3  # the layout's inner space: the last three digits
    # E.164, 12 bytes: word 2 holds four digits, the layout's inner space three of them;
    # the reversed scan takes all four.
    assert inner(Mask((b"+", *nl.positions))) == 4
    assert not applies(Mask((b"0", b"0", *nl.positions)))  # inner space in words 2 and 3
    assert not applies(Mask((*nl.positions, *(b"x",) * 5)))  # 16 bytes: words 4.. not zero
    assert not applies(Mask((*nl.positions[:4], *(DIGITS,) * 4)))  # 8 bytes: word 1
    assert not applies(Mask((*nl.positions[:3], *(b"9",) * 8)))  # a single candidate
    # Word 2 of four printable bytes: 95^4 values, a table of gigabytes; not widened
    # past the bounds (the layout's own inner space, two of the bytes, spans no outer
    # position of word 2 alone, so the general scan runs).
    printable = bytes(range(32, 127))
    wide = Mask((*(bytes([b]) for b in b"prefix01"), *(printable,) * 4))
    assert not applies(wide) and not applies(wide, md5_reverse.MAX_TARGETS)
    # Within the bounds: three letters (17,576 values) for 16 targets, but not 95^3.
    letters = b"abcdefghijklmnopqrstuvwxyz"
    assert inner(Mask((*(bytes([b]) for b in b"prefix01x"), *(letters,) * 3)), 16) == 3
    assert not applies(Mask((*(bytes([b]) for b in b"prefix01x"), *(printable,) * 3)), 16)


def test_the_table_is_kept_per_target_set_and_mask_and_the_switch_turns_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = _Plan.make(Knowledge("md5"))
    layout = _mask_layout(_nl_like(), plan)
    digests = parse_digests(pa.array([hashlib.md5(b"31610000000").hexdigest()])).digests
    first = engine._reversal_table(layout, plan, digests)
    assert first is not None
    assert engine._reversal_table(layout, plan, digests) is first  # kept for the next chunk
    other = parse_digests(pa.array([hashlib.md5(b"31610000001").hexdigest()])).digests
    made = engine._reversal_table(layout, plan, other)
    assert made is not None and not np.array_equal(made[1], first[1])
    assert engine._reversal_table(_mask_layout(_nl_like(5), plan), plan, other) is not made
    monkeypatch.setenv("MATCHSIM_MD5_REVERSE", "0")
    assert engine._reversal_table(layout, plan, digests) is None
