"""E-mail guesses with appended numbers: the suffix model, the stream's size and order,
and its recall against addresses the generator made unique by appending digits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from matchsim.attack import email_keyspace, parse_digests, reverse
from matchsim.attack.keyspace import (
    EMAIL_SUFFIX_FAMILIES,
    EMAIL_SUFFIX_SHARE,
    Factor,
    email_suffix_factor,
)
from matchsim.generate.people import generate_persons, unique_addresses
from matchsim.generate.unique import KeySet
from matchsim.locale.tables import load_locale


def _stream(n: int, **kwargs: object) -> pa.Array:
    return pa.concat_arrays(list(email_keyspace("NL", n, **kwargs).batches()))  # type: ignore[arg-type]


def test_suffix_factor_is_the_documented_mixture() -> None:
    years = pa.array(["1985", "1990"])
    yyyy = Factor(years, np.array([0.75, 0.25]))
    yy = Factor(pa.array(["85", "90"]), np.array([0.75, 0.25]))
    f = email_suffix_factor(yy, yyyy)
    values = f.values.to_pylist()
    # Every 1-4 digit string once: 10 + 100 + 1,000 + 10,000 (years are among them).
    assert len(values) == len(set(values)) == 11_110
    assert f.probs.sum() == pytest.approx(1.0)
    assert np.all(np.diff(f.probs) <= 0)
    share = dict(EMAIL_SUFFIX_FAMILIES)
    p = dict(zip(values, f.probs, strict=True))
    assert p["7"] == pytest.approx(share["d"] / 10)
    assert p["85"] == pytest.approx(share["dd"] / 100 + share["yy"] * 0.75)
    assert p["42"] == pytest.approx(share["dd"] / 100)
    assert p["042"] == pytest.approx(share["ddd"] / 1000)
    assert p["1990"] == pytest.approx(share["dddd"] / 10**4 + share["yyyy"] * 0.25)
    assert p["4821"] == pytest.approx(share["dddd"] / 10**4)
    assert values[:2] == ["1985", "85"]  # the likeliest birth year beats any other number


def test_stream_size_is_what_it_yields_each_guess_once(tmp_path: Path) -> None:
    ks = email_keyspace("NL", 150_000)
    got = pa.concat_arrays(list(ks.batches()))
    assert ks.size == len(got) == 150_000
    assert len(pc.unique(got)) == len(got)
    # A wordlist goes first, deduplicated, and the model does not guess its entries again.
    first = got.slice(0, 3).to_pylist()
    words = tmp_path / "words.txt"
    words.write_text("\n".join(["x.y@example.org", first[1], "x.y@example.org", first[0]]) + "\n")
    ks = email_keyspace("NL", 150_000, wordlist=words)
    with_words = pa.concat_arrays(list(ks.batches()))
    assert ks.size == len(with_words) == 150_000
    assert with_words.slice(0, 3).to_pylist() == ["x.y@example.org", first[1], first[0]]
    assert len(pc.unique(with_words)) == len(with_words)
    assert (
        with_words.slice(3).to_pylist()
        == [v for v in got.to_pylist() if v not in first[:2]][: 150_000 - 3]
    )
    # A wordlist longer than the budget is cut to it.
    many = tmp_path / "many.txt"
    many.write_text("".join(f"user{i}@example.org\n" for i in range(500)))
    ks = email_keyspace("NL", 200, wordlist=many)
    assert ks.size == sum(len(b) for b in ks.batches()) == 200


def test_suffixed_variants_are_guessed_only_with_suffixes() -> None:
    # ``first.last`` + one digit is no locale pattern: only the suffix model makes it.
    shape = r"^[a-z]+\.[a-z]+[0-9]@"
    plain = _stream(1_000_000, suffixes=False)
    suffixed = _stream(1_000_000)
    assert pc.sum(pc.match_substring_regex(plain, shape)).as_py() == 0
    assert pc.sum(pc.match_substring_regex(suffixed, shape)).as_py() > 0
    # The variants are less likely than the plain guesses: they are a small share early.
    early = pc.is_in(suffixed.slice(0, 300_000), plain).to_numpy(zero_copy_only=False)
    assert 0.99 < early.mean() < 1.0


@pytest.fixture(scope="module")
def made_unique() -> tuple[pa.Array, np.ndarray]:
    """100 k Dutch addresses as the generator makes them, and which of them it had to
    make unique by appending digits (the ground truth; the attack never sees it)."""
    rng = np.random.default_rng(7)
    people = generate_persons(
        rng, load_locale("NL"), 100_000, as_of=np.datetime64("2025-01-01"), second_email_share=0
    )
    unique = unique_addresses(rng, people.email, KeySet(100_000))
    return unique, pc.not_equal(unique, people.email).to_numpy(zero_copy_only=False)


def _ranks(addresses: pa.Array, stream: pa.Array) -> np.ndarray:
    """Guess number of each address in ``stream`` (int64 max where never guessed)."""
    at = pc.index_in(addresses, stream)
    found = at.is_valid().to_numpy(zero_copy_only=False)
    return np.where(found, at.fill_null(0).to_numpy().astype(np.int64), np.iinfo(np.int64).max)


@pytest.mark.slow
def test_suffixes_recover_more_made_unique_addresses(
    made_unique: tuple[pa.Array, np.ndarray],
) -> None:
    addresses, suffixed = made_unique
    assert 2000 < suffixed.sum() < 4000  # ~3 % of 100 k addresses were taken
    n = 10_000_000
    plain, with_suffixes = _stream(n, suffixes=False), _stream(n)
    r_plain, r_suffix = _ranks(addresses, plain), _ranks(addresses, with_suffixes)
    # Addresses made unique with digits: more are recovered within the same budget.
    got_plain = int((r_plain[suffixed] < n).sum())
    got_suffix = int((r_suffix[suffixed] < n).sum())
    assert got_suffix > 1.1 * got_plain > 600
    # The others lose only the guesses spent on suffixed variants: within any budget, the
    # suffix model recovers what the plain model recovers with the plain guesses it made.
    is_plain = np.cumsum(pc.is_in(with_suffixes, plain).to_numpy(zero_copy_only=False))
    for budget in (300_000, 3_000_000, n):
        plain_guesses = int(is_plain[budget - 1])
        assert plain_guesses > (1 - EMAIL_SUFFIX_SHARE / 10) * budget
        assert (r_suffix[~suffixed] < budget).sum() >= (r_plain[~suffixed] < plain_guesses).sum()


def test_reverse_recovers_suffixed_addresses_from_their_hashes(
    made_unique: tuple[pa.Array, np.ndarray],
) -> None:
    addresses, suffixed = made_unique
    taken = addresses.filter(pa.array(suffixed)).to_pylist()
    targets = parse_digests(pa.array([hashlib.sha256(a.encode()).hexdigest() for a in taken]))
    n = 2_000_000
    plain = reverse(targets, email_keyspace("NL", n, suffixes=False), stop_when_done=False)
    with_suffixes = reverse(targets, email_keyspace("NL", n), stop_when_done=False)
    truth = pa.array(taken)
    # Scored against the truth: every recovered address is right, and the guess number
    # of each equals its position in the stream (what the guesswork curve reports).
    for result, stream in ((plain, _stream(n, suffixes=False)), (with_suffixes, _stream(n))):
        assert result.score(truth)["precision"] == 1.0
        ranks = _ranks(truth, stream)
        assert sorted(result.guesses_at.tolist()) == sorted(ranks[ranks < n].tolist())
    assert with_suffixes.recovered_distinct > plain.recovered_distinct > 300
