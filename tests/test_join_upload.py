"""Upload parsing: the vectorised decoders give exactly the reference answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.generate import Population
from matchsim.join import upload as upload_mod
from matchsim.join.upload import _duplicate_rows, _duplicate_rows_exact
from matchsim.kernels.hexdecode import decode_digests
from matchsim.schemes import Digests, decode_text

_HEXISH = st.text(alphabet="0123456789abcdefABCDEFxyz=+/ ", min_size=0, max_size=10)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), _HEXISH), min_size=0, max_size=40),
    st.sampled_from(["hex", "HEX"]),
    st.integers(1, 5),
    st.integers(1, 3),
)
def test_hex_decoder_equals_reference(
    values: list[str | None], encoding: str, size: int, pieces: int
) -> None:
    whole = pa.array(values, pa.string())
    cut = [whole.slice(i * len(values) // pieces, len(values) // pieces) for i in range(pieces)]
    cut[-1] = whole.slice((pieces - 1) * (len(values) // pieces))
    chunked = pa.chunked_array(cut, pa.string())
    want = decode_text(whole, size, encoding)
    for texts in (whole, chunked, whole.slice(0)):
        got = decode_digests(texts, size, encoding)
        assert np.array_equal(got.valid, want.valid)
        assert np.array_equal(got.data, want.data)


def test_hex_decoder_known_answer() -> None:
    texts = pa.array(["00ff10", "00FF10", "00ff1", None, "0gff10", "a0b1c2"])
    got = decode_digests(texts, 3, "hex")
    assert got.valid.tolist() == [True, False, False, False, False, True]
    assert got.data[0].tolist() == [0, 255, 16] and got.data[5].tolist() == [0xA0, 0xB1, 0xC2]
    assert decode_digests(texts, 3, "HEX").valid.tolist() == [
        False, True, False, False, False, False,
    ]  # fmt: skip


def _fields(rows: list[tuple[int, int]]) -> dict[str, Digests]:
    """Two one-byte fields; value -1 means absent."""
    out = {}
    for j, name in enumerate(("a", "b")):
        vals = np.array([r[j] for r in rows], dtype=np.int64)
        valid = vals >= 0
        data = np.where(valid, vals, 0).astype(np.uint8)[:, None]
        out[name] = Digests(data, valid)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 3), st.integers(-1, 3)), min_size=1, max_size=60))
def test_duplicate_rows_equals_exact(rows: list[tuple[int, int]]) -> None:
    fields = _fields(rows)
    got = _duplicate_rows(fields)
    assert np.array_equal(got, _duplicate_rows_exact(fields))
    seen: set[tuple[int, int]] = set()
    for i, r in enumerate(rows):  # the definition, row by row
        assert got[i] == (r in seen)
        seen.add(r)


def test_duplicate_rows_survives_a_fingerprint_collision(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fields = _fields([(1, 2), (2, 1), (1, 2), (3, 3), (2, 1)])
    monkeypatch.setattr(upload_mod, "row_fingerprints", lambda parts: np.zeros(5, np.uint64))
    assert _duplicate_rows(fields).tolist() == [False, False, True, False, True]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 60)), max_size=80),
    st.sampled_from([0, 10**6, 2**40]),
)
def test_row_user_pairs_are_the_distinct_sorted_pairs(
    pairs: list[tuple[int, int]], offset: int
) -> None:
    from matchsim.join.result import MatchResult

    rows = np.array([r for r, _ in pairs], dtype=np.int64)
    users = np.array([u for _, u in pairs], dtype=np.int64) + offset
    half = len(pairs) // 2
    result = MatchResult.from_pairs(
        {"a": (rows[:half], users[:half]), "b": (rows[half:], users[half:])}, 41, 41, {}
    )
    got_rows, got_users = result.row_user_pairs()
    want = sorted(set(zip(rows.tolist(), users.tolist(), strict=True)))
    assert list(zip(got_rows.tolist(), got_users.tolist(), strict=True)) == want


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([8, 16, 32]), st.integers(1, 40))
def test_duplicate_rows_whole_word_digests(seed: int, width: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 256, (3, width), dtype=np.uint8)  # few values: many repeats
    fields = {
        name: Digests(pool[rng.integers(0, 3, n)], rng.random(n) > 0.3) for name in ("a", "b")
    }
    assert np.array_equal(_duplicate_rows(fields), _duplicate_rows_exact(fields))


def test_upload_read_in_many_batches_equals_one(
    nl_population: Population, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reader decodes batch by batch (never holding the upload's text); the result must
    # not depend on where the batches fall: digests, refusals, duplicates.
    from matchsim import io
    from matchsim.join.upload import read_upload
    from matchsim.normalise import get_profile
    from matchsim.schemes import get_scheme
    from matchsim.upload.write import hash_file

    up = tmp_path / "up.csv"
    hash_file(Path(nl_population.out) / "customers.parquet", profile="meta", scheme="sha256",
              region="NL", out=up)  # fmt: skip
    with up.open("a") as fh:  # a repeated row and a broken one
        fh.write(up.read_text().splitlines()[1] + "\n" + "zz," * 10 + "\n")
    prof, sch = get_profile("meta"), get_scheme("sha256")
    one, rep_one = read_upload(up, prof, sch, "NL")
    monkeypatch.setattr(io, "BLOCK_BYTES", 1 << 16)
    assert len(list(io.open_table(up).batches)) > 10
    many, rep_many = read_upload(up, prof, sch, "NL")
    assert rep_one == rep_many
    assert rep_one.rejected["duplicate row"] >= 1
    assert one.keys.keys() == many.keys.keys()
    for key in one.keys:
        assert np.array_equal(one.keys[key].words, many.keys[key].words)
        assert np.array_equal(one.keys[key].ids, many.keys[key].ids)
    assert np.array_equal(one.rejected_rows, many.rejected_rows)
