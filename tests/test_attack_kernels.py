"""The attack's fused kernels against hashlib/hmac: every algorithm, every length.

Known answers come from the standard library; the kernels share nothing with it.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.attack import Knowledge, parse_digests, reverse
from matchsim.attack.engine import _Plan
from matchsim.attack.keyspace import Mask, MaskKeyspace

ALGOS = ("md5", "sha1", "sha256", "sha512")
DIGITS = b"0123456789"


def _reference(algo: str, data: bytes, key: bytes | None = None) -> bytes:
    if key is not None:
        return hmac.new(key, data, algo).digest()
    return hashlib.new(algo, data).digest()


@pytest.mark.parametrize("algo", ALGOS)
def test_row_hasher_matches_hashlib_across_block_boundaries(algo: str) -> None:
    plan = _Plan.make(Knowledge(algo))
    rng = np.random.default_rng(7)
    # Lengths around every padding boundary of 64- and 128-byte blocks.
    for length in (0, 1, 55, 56, 63, 64, 111, 112, 119, 120, 127, 128, 129, 250):
        rows = rng.integers(0, 256, (19, length), dtype=np.uint8)  # 19: a partial lane group
        got = plan.digest_rows(rows)
        want = [_reference(algo, r.tobytes()) for r in rows]
        assert [bytes(g) for g in got] == want, (algo, length)


@settings(max_examples=40, deadline=None)
@given(
    algo=st.sampled_from(ALGOS),
    data=st.lists(st.binary(min_size=0, max_size=150), min_size=1, max_size=5),
)
def test_row_hasher_property(algo: str, data: list[bytes]) -> None:
    plan = _Plan.make(Knowledge(algo))
    for d in data:
        got = plan.digest_rows(np.frombuffer(d, np.uint8).reshape(1, -1))
        assert bytes(got[0]) == _reference(algo, d)


@settings(max_examples=10, deadline=None)
@given(key=st.binary(min_size=1, max_size=100), data=st.binary(min_size=0, max_size=100))
def test_hmac_row_hasher_property(key: bytes, data: bytes) -> None:
    plan = _Plan.make(Knowledge("sha256", hmac_key=key))
    got = plan.digest_rows(np.frombuffer(data, np.uint8).reshape(1, -1))
    assert bytes(got[0]) == _reference("sha256", data, key)


def _numbers(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return sorted({f"3161{x:05d}" for x in rng.integers(0, 10**5, n)})


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("pepper", [None, b"a-pepper-long-enough-to-cross-a-block-" * 3])
def test_scan_recovers_exactly_the_hashed_numbers(algo: str, pepper: bytes | None) -> None:
    """Every planted number is found and nothing else, including with a known pepper
    that pushes the message into a second block."""
    space = MaskKeyspace("3161?d?d?d?d?d", (Mask((b"3", b"1", b"6", b"1", *(DIGITS,) * 5)),))
    want = _numbers(300, seed=len(algo))
    tail = pepper or b""
    digests = pa.array([hashlib.new(algo, w.encode() + tail).hexdigest() for w in want])
    decoy = pa.array([hashlib.new(algo, b"316200000" + tail).hexdigest()])  # not in the space
    targets = parse_digests(pa.concat_arrays([digests, decoy]))
    result = reverse(targets, space, Knowledge(algo, pepper=pepper), stop_when_done=False)
    assert result.candidates_tried == 10**5
    assert result.recovered_distinct == len(want)
    assert sorted(v for v in result.plaintext.to_pylist() if v is not None) == want


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.binary(min_size=12, max_size=12), min_size=0, max_size=40),
    dup=st.integers(0, 5),
)
def test_unique_rows_equals_numpy_unique(rows: list[bytes], dup: int) -> None:
    """Including rows that share their first 8 bytes and differ after (the slow path)."""
    from matchsim.attack.targets import unique_rows

    rows = rows + rows[:dup] + [b"\x01" * 8 + r[8:] for r in rows[:dup]]
    raw = np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), 12)
    got, inverse = unique_rows(raw)
    want, want_inverse = np.unique(raw, axis=0, return_inverse=True)
    assert np.array_equal(got, want.reshape(-1, 12))
    assert np.array_equal(inverse, want_inverse.ravel())


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("n", [1, 2, 8, 9])
def test_scan_with_a_few_targets_recovers_exactly_them(algo: str, n: int) -> None:
    """Up to 8 targets the kernel tests all lanes against the first bitmap's few bits
    at once before the exact tests; 9 takes the bitmap path. Both find every planted
    number (first and last candidates of the space included) and nothing else."""
    space = MaskKeyspace("3161?d?d?d?d?d", (Mask((b"3", b"1", b"6", b"1", *(DIGITS,) * 5)),))
    want = sorted({"316100000", "316199999", *_numbers(n, seed=n)[: n - 2]})[:n]
    digests = [hashlib.new(algo, w.encode()).hexdigest() for w in want]
    targets = parse_digests(pa.array(digests))
    result = reverse(targets, space, Knowledge(algo), stop_when_done=False)
    assert sorted(v for v in result.plaintext.to_pylist() if v is not None) == want


def test_unique_rows_orders_keys_that_share_their_top_bits() -> None:
    """Keys equal above the bits that hold the row index and out of order below them
    (the packed sort's tie-break: index order, then put right)."""
    from matchsim.attack.targets import unique_rows

    rng = np.random.default_rng(7)
    raw = rng.integers(0, 256, (1000, 16), dtype=np.uint8)
    raw[:300, :7] = 5  # 300 rows share their first 7 bytes: ties above the low 10 bits
    raw[:300, 7] = np.arange(300)[::-1] % 256
    raw[300:310] = raw[:10]  # and some repeats
    got, inverse = unique_rows(raw)
    want, want_inverse = np.unique(raw, axis=0, return_inverse=True)
    assert np.array_equal(got, want)
    assert np.array_equal(inverse, want_inverse.ravel())
    assert np.array_equal(got[inverse], raw)


@pytest.mark.parametrize("target", ["cpu", "gpu"])
def test_unrolled_kernels_are_what_the_generator_writes(target: str) -> None:
    """The committed, generated modules may not drift from their generator."""
    from matchsim.kernels.attack import _gen_unrolled

    assert _gen_unrolled.TARGETS[target].read_text() == _gen_unrolled.render(target)


@pytest.mark.parametrize("algo", ALGOS)
def test_scan_around_the_short_candidate_boundary(algo: str) -> None:
    """Candidates of 13 to 17 bytes: up to 15 take the short block functions (words
    past 16 bytes zero), from 16 the general ones; both must find exactly the planted
    digests (with a varying position in every word the short path reads)."""
    for length in (13, 14, 15, 16, 17):
        positions = [b"ab", b"x", b"0123456789", b"y", b"12"] + [b"z"] * (length - 9)
        positions += [b"0123456789", b"57", b"c", b"0123456789"]
        mask = Mask(tuple(positions))
        assert mask.length == length
        ks = MaskKeyspace("boundary", (mask,))
        rng = np.random.default_rng(length)
        idx = rng.choice(mask.size, 12, replace=False)
        want = sorted(bytes(r).decode() for r in mask.decode(idx))
        digests = [hashlib.new(algo, w.encode()).hexdigest() for w in want]
        digests.append(hashlib.new(algo, b"not in it").hexdigest())
        result = reverse(parse_digests(pa.array(digests)), ks, Knowledge(algo),
                         stop_when_done=False)  # fmt: skip
        got = sorted(v for v in result.plaintext.to_pylist() if v is not None)
        assert got == want, (algo, length)


@pytest.mark.parametrize("algo", ALGOS)
def test_message_hasher_mixes_lengths_in_one_lane_group(algo: str) -> None:
    """The hasher behind ``hash_strings``' numba backend: rows of different lengths
    (and so different block counts) share a group of lanes."""
    from matchsim.kernels.attack import mask as K

    rng = np.random.default_rng(3)
    lengths = rng.integers(0, 300, 41).astype(np.int64)
    lengths[:6] = (0, 55, 56, 119, 120, 250)
    data = rng.integers(0, 256, int(lengths.sum()) + 1, dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    ident = K.ALGORITHMS[algo]
    words = np.zeros((41, 8), dtype=K.IVS[ident].dtype)
    K.ROW_HASHERS[ident](data, starts, lengths, 0, K.IVS[ident], np.zeros(0, np.uint32), words)
    order = ("<" if algo == "md5" else ">") + f"u{K.WORD_BYTES[ident]}"
    got = np.ascontiguousarray(words[:, : K.STATE_WORDS[ident]]).astype(order).view(np.uint8)
    for i in range(41):
        raw = data[starts[i] : starts[i] + lengths[i]].tobytes()
        assert got[i].tobytes() == _reference(algo, raw), (algo, int(lengths[i]))


def _one_block(algo: str, message: bytes) -> np.ndarray:
    """The padded single block of ``message`` as the algorithm's 16 message words."""
    wide = algo == "sha512"
    order = "little" if algo == "md5" else "big"
    length = (8 * len(message)).to_bytes(16 if wide else 8, order)
    zeros = bytes((128 if wide else 64) - len(message) - 1 - len(length))
    dtype = ("<" if algo == "md5" else ">") + ("u8" if wide else "u4")
    return np.frombuffer(message + b"\x80" + zeros + length, dtype)


@pytest.mark.parametrize("algo", ALGOS)
def test_compressions_hash_their_algorithms_lane_count(algo: str) -> None:
    """Each algorithm's compression (the one its message hasher runs) reads and writes
    lane arrays of its own lane count (``params.LANES``, by which the scan, the hasher
    and the compiled path allocate them): with a different one-block message in every
    lane, every lane's new state is hashlib's digest. A function laid out for another
    count would read and write other rows."""
    from matchsim.kernels.attack import _unrolled as U
    from matchsim.kernels.attack import mask as K
    from matchsim.kernels.attack import params, shani

    ident = K.ALGORITHMS[algo]
    lanes, n_state = params.LANES[ident], K.STATE_WORDS[ident]
    full = {
        "md5": U.md5_block_64,
        "sha1": shani.sha1_full if shani.USE_SHANI else U.sha1_block_80,
        "sha256": shani.sha256_full if shani.USE_SHANI else U.sha256_block_64,
        "sha512": U.sha512_block_80,
    }[algo]
    messages = [b"lane %d of %d" % (ln, lanes) for ln in range(lanes)]
    word = K.IVS[ident].dtype
    W = np.stack([_one_block(algo, m) for m in messages], axis=1).astype(word)
    S = np.zeros((8, lanes), word)
    S[:n_state] = K.IVS[ident][:, None]
    out = np.zeros(8 * lanes, word)
    full(W.ravel(), S.ravel(), out)
    order = ("<" if algo == "md5" else ">") + f"u{K.WORD_BYTES[ident]}"
    rows = out.reshape(8, lanes)[:n_state]
    got = [rows[:, ln].astype(order).tobytes() for ln in range(lanes)]
    assert got == [_reference(algo, m) for m in messages]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.integers(0, 2**32 - 1), st.booleans())
def test_bucket_lookup_equals_binary_search(n: int, seed: int, clustered: bool) -> None:
    from matchsim.attack.targets import TargetSet, unique_rows

    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, (n, 20), dtype=np.uint8)
    if clustered:  # many digests in one bucket, some sharing their first 8 bytes
        raw[: n // 2, :6] = 7
        raw[: n // 4, 6:8] = 1
    digests, inverse = unique_rows(raw)
    targets = TargetSet("sha1", "hex", digests, inverse, np.arange(n), n)
    cand = np.concatenate([raw[rng.integers(0, n, 200)], rng.integers(0, 256, (200, 20))])
    cand = cand.astype(np.uint8)
    cand[::3, 10:] ^= 1  # first 8 bytes right, the rest wrong
    keys = targets.keys()
    ck = cand[:, :8].copy().view(">u8").ravel().astype(np.uint64)
    pos = np.minimum(np.searchsorted(keys, ck), len(keys) - 1)
    want = np.where(np.all(digests[pos] == cand, axis=1), pos, -1)
    assert targets.lookup(cand).tolist() == want.tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.text(max_size=6), max_size=8), max_size=4),
    st.integers(1, 12),
    st.integers(0, 2**32 - 1),
)
def test_align_places_strings_like_arrow_take(chunks: list[list[str]], n: int, seed: int) -> None:
    """Recovered strings at their digest index (the later one of two), null elsewhere:
    the NumPy placement equals Arrow's take + if_else."""
    import pyarrow.compute as pc

    from matchsim.attack.engine import _align

    rng = np.random.default_rng(seed)
    values = [pa.array(c, pa.string()) for c in chunks]
    where = [rng.integers(0, n, len(c)).astype(np.int64) for c in chunks]
    got = _align(n, values, where)
    if not values or sum(len(c) for c in chunks) == 0:
        assert got.equals(pa.nulls(n, pa.string()))
        return
    vals = pa.concat_arrays(values)
    take = np.full(n, -1, dtype=np.int64)
    take[np.concatenate(where)] = np.arange(len(vals))
    missing = take < 0
    take[missing] = 0
    want = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), vals.take(pa.array(take)))
    assert got.type == pa.string()
    assert got.to_pylist() == want.to_pylist()
    got.validate(full=True)
