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


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(min_value=-20.0, max_value=1e6),
            st.sampled_from(
                [0.0, -1.0, -3.0, 1e-300, 5e-324, 9.999999999999998, 10.0, np.nan, np.inf]
            ),
        ),
        min_size=0,
        max_size=40,
    ),
    st.sampled_from([0, 1]),
)
def test_kernel_shift_equals_numpy_steps(xs: list[float], which: int) -> None:
    """digamma/trigamma's numba recurrence takes numpy's steps bit for bit, on arrays
    (zeros, negatives, NaN, inf, underflowing squares included) and on scalars."""
    x = np.array(xs, dtype=np.float64)
    with np.errstate(all="ignore"):
        want_x, want_out = U._shift_up(x.copy(), TERMS[which])
        got_x, got_out = U._shift(x.copy(), bool(which))
    assert got_x.tobytes() == want_x.tobytes() and got_out.tobytes() == want_out.tobytes()
    for v in xs[:5]:
        with np.errstate(all="ignore"):
            want = U._shift_up(v, TERMS[which])
            got = U._shift(v, bool(which))
        assert got[0].tobytes() == want[0].tobytes() and got[1].tobytes() == want[1].tobytes()


def test_kernel_shift_keeps_shape() -> None:
    x = np.array([[0.5, 12.0], [3.25, 9.5]])
    got_x, got_out = U._shift(x, False)
    want_x, want_out = U._shift_up(x, TERMS[0])
    assert got_x.shape == (2, 2) and got_out.tobytes() == want_out.tobytes()
    assert got_x.tobytes() == want_x.tobytes()
