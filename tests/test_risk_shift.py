"""The scalar path of the digamma/trigamma recurrence takes the same IEEE steps as the
array path (the Pitman fit's figures stay bit for bit)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.risk import uniqueness as U

TERMS: list[Callable[[np.ndarray], np.ndarray]] = [lambda v: -1.0 / v, lambda v: 1.0 / (v * v)]


def _by_arrays(x: float, term: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, ...]:
    """The array path on a one-element array (what a scalar went through before)."""
    got = U._shift_up(np.array([x]), term)
    return got[0][0], got[1][0]


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=0.0, max_value=1e6, allow_nan=False), st.sampled_from([0, 1]))
def test_scalar_shift_equals_array_shift(x: float, which: int) -> None:
    with np.errstate(all="ignore"):
        sx, sout = U._shift_up(x, TERMS[which])
        ax, aout = _by_arrays(x, TERMS[which])
    assert sx.shape == () and sout.shape == ()
    assert sx.tobytes() == ax.tobytes() and sout.tobytes() == aout.tobytes()


@pytest.mark.parametrize("x", [1e-300, 0.5, 1.0, 9.999999999, 10.0, 123.5])
def test_digamma_trigamma_scalars_match_arrays(x: float) -> None:
    assert U.digamma(x).tobytes() == U.digamma(np.array([x]))[0].tobytes()
    assert U.trigamma(x).tobytes() == U.trigamma(np.array([x]))[0].tobytes()
