"""The e-mail model's guesses, in order, against a brute-force oracle.

The generator enumerates each pattern's index tuples by probability band
(:func:`best_first`), sorts each band in pieces (:func:`_descending`) and moves the bands
by how many guesses are still wanted (:func:`_next_threshold`). None of that may change
what comes out: every derivation of the model, sorted by probability descending (ties:
pattern, then index tuple), rendered, each string kept at its first occurrence, cut to
the size asked for.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matchsim.attack.keyspace as keyspace
from matchsim.attack.keyspace import Factor, _descending, _email_batches, best_first

# Probabilities from a small set, so that ties (within a factor and between products)
# are common: the cases where an order could differ.
_P = st.sampled_from([0.5, 0.25, 0.125, 0.1, 0.05, 0.03125, 0.01])


@st.composite
def _factors(draw: st.DrawFn, max_factors: int = 3) -> list[Factor]:
    out = []
    for k in range(draw(st.integers(1, max_factors))):
        probs = sorted(draw(st.lists(_P, min_size=1, max_size=6)), reverse=True)
        values = pa.array([f"{chr(97 + k)}{i}" for i in range(len(probs))])
        out.append(Factor(values, np.array(probs)))
    return out


def _brute(factors: list[Factor], weight: float, threshold: float, ceiling: float):
    rows, probs = [], []
    for combo in itertools.product(*(range(len(f.probs)) for f in factors)):
        p = weight
        for f, i in zip(factors, combo, strict=True):
            p = p * f.probs[i]  # the generator's order of multiplication
        if threshold <= p < ceiling:
            rows.append(combo)
            probs.append(p)
    idx = np.array(rows, dtype=np.int64).reshape(-1, len(factors)).T
    return idx, np.array(probs)


@settings(max_examples=200, deadline=None)
@given(
    factors=_factors(),
    weight=st.sampled_from([1.0, 0.8, 0.2]),
    lo=st.sampled_from([1e-9, 1e-4, 1e-3, 0.00125, 0.01, 0.0625]),
    hi=st.sampled_from([np.inf, 0.5, 0.1, 0.0625, 0.0125, 0.003125]),
)
def test_best_first_is_the_lexicographic_band(factors, weight, lo, hi) -> None:
    """Every index tuple with probability in [threshold, ceiling), in lexicographic
    order, with its probability; ceilings land exactly on products (ties at the edge)."""
    idx, prob = best_first(factors, weight, lo, hi)
    want_idx, want_prob = _brute(factors, weight, lo, hi)
    assert idx.shape == want_idx.shape
    assert np.array_equal(idx, want_idx)
    assert np.array_equal(prob, want_prob)


@settings(max_examples=200, deadline=None)
@given(
    prob=st.lists(_P, min_size=0, max_size=300).map(np.array),
    first=st.integers(-1, 320),
)
def test_descending_pieces_are_one_stable_sort(prob: np.ndarray, first: int) -> None:
    pieces = list(_descending(prob, first))
    got = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
    assert np.array_equal(got, np.argsort(-prob, kind="stable"))
    assert all(len(p) for p in pieces)


@st.composite
def _model(draw: st.DrawFn) -> list[keyspace._Compiled]:
    """A few patterns over shared tokens (so that two patterns can spell one string)."""
    tokens = {
        "x": Factor(pa.array(["ann", "bo", "cy", "di"]), np.array([0.4, 0.3, 0.2, 0.1])),
        "y": Factor(pa.array(["1", "22", "3"]), np.array([0.5, 0.25, 0.25])),
        "z": Factor(pa.array(["ann", "bo"]), np.array([0.5, 0.5])),
    }
    domain = Factor(pa.array(["m.nl", "k.nl", "q.com"]), np.array([0.6, 0.2, 0.2]))
    patterns = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["{x}", "{x}.{y}", "{z}{y}", "{x}{z}", "{y}{x}", "{z}"]),
                st.sampled_from([0.5, 0.25, 0.2, 0.05]),
            ),
            min_size=1,
            max_size=4,
        )
    )
    return keyspace._compile_patterns(patterns, tokens, domain, None)


def _oracle(compiled: list[keyspace._Compiled], size: int) -> list[str]:
    derivations = []
    for k, (literals, factors, share) in enumerate(compiled):
        for combo in itertools.product(*(range(len(f.probs)) for f in factors)):
            p = share
            for f, i in zip(factors, combo, strict=True):
                p = p * f.probs[i]
            parts = [str(f.values[i]) for f, i in zip(factors, combo, strict=True)]
            local = "".join(
                lit + (parts[j] if j < len(parts) - 1 else "") for j, lit in enumerate(literals)
            )
            derivations.append((-p, k, combo, f"{local}@{parts[-1]}"))
    derivations.sort(key=lambda d: (d[0], d[1], d[2]))
    out, seen = [], set()
    for *_, text in derivations:
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out[:size]


@settings(max_examples=60, deadline=None)
@given(compiled=_model(), size=st.integers(1, 200))
def test_email_guesses_equal_the_sorted_model(
    compiled: list[keyspace._Compiled], size: int
) -> None:
    derivations = sum(int(np.prod([len(f.values) for f in c[1]])) for c in compiled)
    got = [s for b in _email_batches(compiled, derivations, None, size) for s in b.to_pylist()]
    assert got == _oracle(compiled, size)


@pytest.mark.parametrize("size", [1, 17, 5_000, 60_000])
def test_nl_guesses_do_not_depend_on_the_round_schedule(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """The shipped NL model (with number suffixes) gives the same guesses whether the
    rounds step by a fixed 4 (the schedule before the adaptive one) or adaptively."""
    keyspace._EMAIL_CACHE.clear()
    adaptive = [s for b in keyspace.email_keyspace("NL", size).batches() for s in b.to_pylist()]
    keyspace._EMAIL_CACHE.clear()
    monkeypatch.setattr(keyspace, "_next_threshold", lambda history, want: history[-1][0] / 4.0)
    fixed = [s for b in keyspace.email_keyspace("NL", size).batches() for s in b.to_pylist()]
    keyspace._EMAIL_CACHE.clear()
    assert len(adaptive) == size
    assert adaptive == fixed


@pytest.mark.parametrize(
    ("weight", "p"),
    [(0.6457208955749478, 0.6355338334389747), (0.4312267487774062, 0.5782199441448538)],
)
def test_best_first_keeps_a_product_just_under_the_ceiling(weight: float, p: float) -> None:
    """``ceiling / weight`` can round to at most ``p`` while ``weight * p`` is still under
    the ceiling: the value belongs to this band, and the band's range must not start past
    it (found by searching random pairs; both are such pairs)."""
    ceiling = float(np.nextafter(weight * p, np.inf))
    assert p >= ceiling / weight and weight * p < ceiling  # the rounding this is about
    factor = Factor(pa.array(["a", "b"]), np.array([p, p / 2]))
    idx, prob = best_first([factor], weight, 1e-6, ceiling)
    assert idx.tolist() == [[0, 1]]
    assert prob.tolist() == [weight * p, weight * (p / 2)]
