"""Issue 15: the faster paths of the re-identification stage give the answers of the
paths they stand beside (grouped distinct digests, hex columns decoded in one pass,
per-digest codes, the register in drawing order)."""

from __future__ import annotations

import datetime
import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.attack.targets import hex_target_set, parse_digests, unique_rows


def _numpy_unique(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    want, inverse = np.unique(raw, axis=0, return_inverse=True)
    return want.reshape(-1, raw.shape[1]), inverse.ravel()


@pytest.mark.parametrize("distinct", [1, 2, 37, 3000, 9000])
def test_unique_rows_grouped_equals_numpy(distinct: int) -> None:
    """Columns with many repeats take the hash grouping (few distinct in the sample),
    the others the sort: both are ``np.unique``."""
    rng = np.random.default_rng(distinct)
    base = rng.integers(0, 256, (distinct, 32), dtype=np.uint8)
    raw = base[rng.integers(0, distinct, 10_000)]
    got, inverse = unique_rows(raw)
    want, want_inverse = _numpy_unique(raw)
    assert np.array_equal(got, want)
    assert np.array_equal(inverse, want_inverse)


def test_unique_rows_grouped_rows_sharing_their_first_bytes() -> None:
    """Two different rows with the same first 8 bytes in one hash group: the full
    comparison sees them and the sort decides (same answer as ``np.unique``)."""
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (5, 16), dtype=np.uint8)
    base[1, :8] = base[0, :8]
    raw = base[rng.integers(0, 5, 8192)]
    got, inverse = unique_rows(raw)
    want, want_inverse = _numpy_unique(raw)
    assert np.array_equal(got, want) and np.array_equal(inverse, want_inverse)


@settings(max_examples=25, deadline=None)
@given(
    words=st.lists(st.sampled_from(["a", "b", "jan", "", "x" * 40]), min_size=1, max_size=60),
    algo=st.sampled_from(["md5", "sha1", "sha256", "sha512"]),
    reps=st.integers(1, 150),
)
def test_hex_target_set_equals_parse_digests(words: list[str], algo: str, reps: int) -> None:
    """A column of lower-case hex digests: the same distinct digests as
    :func:`parse_digests`, each row pointing at its own digest."""
    texts = [hashlib.new(algo, w.encode()).hexdigest() for w in words] * reps
    column = pa.array(texts)
    fast = hex_target_set(column)
    slow = parse_digests(column)
    assert fast is not None
    assert fast.algorithm == slow.algorithm
    assert np.array_equal(fast.digests, slow.digests)
    assert np.array_equal(fast.row_digest, slow.row_digest)
    assert [bytes(fast.digests[i]).hex() for i in fast.row_digest] == texts


@pytest.mark.parametrize(
    "texts",
    [
        ["AB" * 32, "cd" * 32],  # upper case: the general parser's
        ["ab" * 32, None],  # a null
        ["ab" * 32, " " + "ab" * 31 + " "],  # blanks
        ["ab" * 32, "ab" * 16],  # two lengths
        ["zz" * 32],  # not hex
        ["ab" * 7],  # no digest length
    ],
)
def test_hex_target_set_leaves_other_columns_to_parse_digests(texts: list[str | None]) -> None:
    assert hex_target_set(pa.array(texts, pa.string())) is None


def test_reversed_codes_match_values(nl_upload_reversed) -> None:  # type: ignore[no-untyped-def]
    """Every field's codes (per digest, from the reversal) number its values: equal
    values, equal codes, -1 exactly where null; the same classes as encoding the rows."""
    rev = nl_upload_reversed
    assert rev.codes  # the reversal filled them in per digest
    for f, values in rev.values.items():
        index, dictionary = rev.encoded(f)
        assert np.array_equal(index < 0, np.asarray(values.is_null()))
        rebuilt = dictionary.take(pa.array(np.maximum(index, 0), mask=index < 0))
        assert rebuilt.equals(values)
        assert len(pc.unique(dictionary)) == len(dictionary)


@pytest.fixture(scope="module")
def nl_upload_reversed(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from matchsim.attack.reidentify import reverse_upload
    from matchsim.attack.targets import upload_table
    from matchsim.generate import PopulationParams, population
    from matchsim.upload.write import hash_file

    root = tmp_path_factory.mktemp("fast")
    params = PopulationParams(platform_users=3000, customers=2000, country="NL", seed=4)
    pop = population(params, root / "pop")
    upload = root / "upload.csv"
    hash_file(pop.customers, profile="meta", scheme="sha256", region="NL", out=upload)
    return reverse_upload(upload_table(upload), "meta", "NL", email_guesses=20_000,
                          fields=["first_name", "gender", "postcode", "city", "country",
                                  "phone", "email"])  # fmt: skip


def test_drawn_order_register_links_the_same_people(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The experiment's register in drawing order (``shuffled=False``): the same people
    with the same register numbers as the seeded order, and an upload linked to either
    gets the same classes and names the same people."""
    from matchsim.attack.reidentify import (
        _draw_encoded,
        link,
        register_from_table,
        reverse_upload,
    )
    from matchsim.attack.targets import upload_table
    from matchsim.generate import PopulationParams, population
    from matchsim.upload.write import hash_file

    params = PopulationParams(platform_users=4000, customers=1500, country="NL", seed=8)
    pop = population(params, tmp_path / "pop")
    shuffled, person_s = _draw_encoded(pop.out, 0.9, 11)
    drawn, person_d = _draw_encoded(pop.out, 0.9, 11, shuffled=False)
    by_id_s = dict(zip(shuffled.column("id").to_pylist(), person_s.tolist(), strict=True))
    by_id_d = dict(zip(drawn.column("id").to_pylist(), person_d.tolist(), strict=True))
    assert by_id_s == by_id_d
    upload = tmp_path / "upload.csv"
    hash_file(pop.customers, profile="meta", scheme="sha256", region="NL", out=upload)
    low = ["first_name", "last_name", "dob", "gender", "postcode"]
    rev = reverse_upload(upload_table(upload), "meta", "NL", fields=low)
    got = []
    for table, person in ((shuffled, person_s), (drawn, person_d)):
        linkage = link(rev, register_from_table(table, "meta", "NL"))
        named = np.where(linkage.k == 1, person[np.maximum(linkage.match, 0)], 0)
        got.append((linkage.k, named))
    assert (got[0][0] == 1).sum() > 100
    assert np.array_equal(got[0][0], got[1][0]) and np.array_equal(got[0][1], got[1][1])


def test_date_words_decoded_at_once_equal_each_mask_decoded() -> None:
    """The date of birth keyspace (thousands of masks) decoded in one pass: the very
    words, in the same order, as decoding each mask in turn."""
    from matchsim.attack.engine import _rows_to_strings
    from matchsim.attack.keyspace import Mask, date_keyspace
    from matchsim.attack.reidentify import _as_words, _decode_all

    space = date_keyspace(1899, 2026, "%Y%m%d")
    words = pa.concat_arrays(list(_as_words(space).batches()))
    each = [_rows_to_strings(m.decode(np.arange(m.size, dtype=np.int64))) for m in space.masks]
    assert words.equals(pa.concat_arrays(each))
    days = (datetime.date(2027, 1, 1) - datetime.date(1899, 1, 1)).days
    assert len(words) == days == 46_751  # every calendar day of 128 years
    odd = [Mask((b"a", b"xyz", b"01")), Mask((b"12", b"3", b"456"))]
    got = _decode_all(odd)
    want = np.concatenate([m.decode(np.arange(m.size, dtype=np.int64)) for m in odd])
    assert np.array_equal(got, want)
