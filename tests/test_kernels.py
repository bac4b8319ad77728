"""Batch hash kernels: FIPS 180 / RFC 1321 known answers and hashlib equivalence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.errors import ConfigError
from matchsim.kernels import BACKENDS, _openssl, hash_bytes, hash_strings

VECTORS = json.loads((Path(__file__).parent / "vectors" / "digests.json").read_text())
ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
BACKEND_IDS = [b for b in BACKENDS if b != "openssl" or _openssl.AVAILABLE]


@pytest.mark.parametrize("backend", BACKEND_IDS)
@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["algorithm"])
def test_known_answers(vector: dict[str, str], backend: str) -> None:
    out = hash_strings(pa.array([vector["message"]]), vector["algorithm"], backend=backend)
    assert out[0].tobytes().hex() == vector["digest"]


@pytest.mark.parametrize("backend", BACKEND_IDS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_padding_boundaries_match_hashlib(algorithm: str, backend: str) -> None:
    # Lengths around the one/two-block padding boundaries of 64- and 128-byte blocks.
    lengths = [0, 1, 54, 55, 56, 57, 63, 64, 65, 111, 112, 113, 127, 128, 129, 300]
    values = ["é" * (n // 2) + "x" * (n % 2) for n in lengths]
    out = hash_strings(pa.array(values), algorithm, backend=backend)
    for row, value in zip(out, values, strict=True):
        assert row.tobytes() == hashlib.new(algorithm, value.encode()).digest()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=150)), max_size=30), st.sampled_from(ALGORITHMS)
)
def test_numba_kernels_equal_hashlib(values: list[str | None], algorithm: str) -> None:
    array = pa.array(values, pa.string())
    for backend in BACKEND_IDS:
        out = hash_strings(array, algorithm, backend=backend)
        for row, value in zip(out, values, strict=True):
            expected = hashlib.new(algorithm, (value or "").encode()).digest()
            assert row.tobytes() == expected


def test_sliced_large_and_dictionary_arrays() -> None:
    values = pa.array(["a", "bb", "ccc", "dddd"])
    sliced = hash_strings(values.slice(1, 2), "sha256")
    assert sliced[0].tobytes() == hashlib.sha256(b"bb").digest()
    large = hash_strings(values.cast(pa.large_string()), "md5")
    assert large[3].tobytes() == hashlib.md5(b"dddd").digest()
    dictionary = hash_strings(values.dictionary_encode(), "sha1")
    assert dictionary[2].tobytes() == hashlib.sha1(b"ccc").digest()


def test_hash_bytes_rehashes_fixed_width_rows() -> None:
    rows = np.arange(64, dtype=np.uint8).reshape(2, 32)
    out = hash_bytes(rows, "sha256")
    assert out[1].tobytes() == hashlib.sha256(rows[1].tobytes()).digest()


def test_unknown_algorithm_and_backend() -> None:
    with pytest.raises(ConfigError, match="unknown hash algorithm 'sha3'; known: md5, sha1"):
        hash_strings(pa.array(["a"]), "sha3")
    with pytest.raises(ConfigError, match="unknown kernel backend 'gpu'"):
        hash_strings(pa.array(["a"]), "sha256", backend="gpu")


def test_first_kernel_call_leaves_scipy_linalg_unimported_and_blas_working() -> None:
    """The attack kernels' first dispatch in a fresh process does not import SciPy's
    linear algebra (numba's BLAS probe is deferred: 0.2-0.4 s of start-up), numba still
    believes BLAS is there when SciPy is installed, and a kernel using ``np.dot`` still
    compiles and gives NumPy's answer."""
    import subprocess
    import sys

    code = """
import importlib.util, sys
import numpy as np
from matchsim.kernels.attack import mask as K
from matchsim.kernels import hash_strings
import pyarrow as pa
got = hash_strings(pa.array(["a"]), "md5", backend="numba")
assert bytes(got[0]).hex() == "0cc175b9c0f1b6a831c399e269772661", got
assert "scipy.linalg" not in sys.modules
import numba.np.arraymath as am
assert am._HAVE_BLAS == (importlib.util.find_spec("scipy.linalg") is not None)
import numba
@numba.njit
def dot(a, b):
    return np.dot(a, b)
a = np.arange(6.0).reshape(2, 3)
assert np.allclose(dot(a, a.T), a @ a.T)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_mix_into_first_is_mix_rows_of_the_other_words() -> None:
    from matchsim.kernels.join import mix_rows
    from matchsim.kernels.mix import mix_into_first

    rng = np.random.default_rng(4)
    for w in (2, 5, 17):
        words = rng.integers(0, 2**63, (500, w), dtype=np.int64).astype(np.uint64)
        want = mix_rows(np.ascontiguousarray(words[:, 1:]))
        mix_into_first(words)
        assert np.array_equal(words[:, 0], want)
        assert len(np.unique(want)) == len(want)
