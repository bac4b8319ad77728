"""Bulk scheme kernels equal their definitions: HMAC-SHA256 from precomputed pad states
against ``cryptography``'s HMAC (libcrypto contexts copied per row; the numba compressions
from the pad states), and salted SHA-256 without ``salt || value`` strings."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from hypothesis import given, settings
from hypothesis import strategies as st

from matchsim.kernels import string_buffers
from matchsim.schemes.keyed import _hmac_by_compressions, hmac_sha256


def _reference(key: bytes, message: bytes) -> bytes:
    mac = crypto_hmac.HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


def _pads(key: bytes) -> tuple[bytes, bytes]:
    key = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _by_compressions(key: bytes, values: pa.Array) -> np.ndarray:
    data, starts, lengths = string_buffers(values)
    if len(data) == 0:
        data = np.zeros(1, np.uint8)
    return _hmac_by_compressions(data, starts, lengths, *_pads(key))


KEYS = st.binary(max_size=150)
MESSAGES = st.lists(st.binary(max_size=300), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(KEYS, MESSAGES)
def test_hmac_equals_cryptography(key: bytes, messages: list[bytes]) -> None:
    expected = [_reference(key, m) for m in messages]
    values = pa.array(messages, pa.binary())
    assert [bytes(r) for r in hmac_sha256(key, values)] == expected
    assert [bytes(r) for r in _by_compressions(key, values)] == expected


@settings(max_examples=60, deadline=None)
@given(KEYS, st.lists(st.text(max_size=80) | st.none(), min_size=1, max_size=40))
def test_null_rows_keep_the_digest_of_a_null_pad_string(
    key: bytes, texts: list[str | None]
) -> None:
    """Valid rows are the HMAC of their UTF-8; a null row is SHA-256(opad || SHA-256(""))
    (what hashing the null ``ipad || value`` string gave before)."""
    _, opad = _pads(key)
    null_digest = hashlib.sha256(opad + hashlib.sha256(b"").digest()).digest()
    got = [bytes(r) for r in hmac_sha256(key, pa.array(texts, pa.string()))]
    assert got == [null_digest if t is None else _reference(key, t.encode()) for t in texts]


@pytest.mark.parametrize("length", [0, 1, 55, 56, 63, 64, 119, 120, 128, 1000])
def test_block_boundaries(length: int) -> None:
    key = bytes(range(40))
    message = bytes((7 * i) % 256 for i in range(length))
    values = pa.array([message], pa.binary())
    assert bytes(hmac_sha256(key, values)[0]) == _reference(key, message)
    assert bytes(_by_compressions(key, values)[0]) == _reference(key, message)


def test_sliced_and_chunked_input() -> None:
    key = b"k" * 32
    texts = [f"user{i}@example.com" for i in range(10_000)]
    expected = [_reference(key, t.encode()) for t in texts[3:]]
    sliced = pa.array(texts).slice(3)
    chunked = pa.chunked_array([pa.array(texts[3:5000]), pa.array(texts[5000:])])
    assert [bytes(r) for r in hmac_sha256(key, sliced)] == expected
    assert [bytes(r) for r in hmac_sha256(key, chunked)] == expected  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=90), min_size=1, max_size=50), st.integers(0, 2**32))
def test_salted_digest_is_salt_then_sha256_of_salt_and_value(texts: list[str], seed: int) -> None:
    """``salt || SHA-256(salt || value)`` with the salts the scheme's seeded stream draws
    (the salt fed to libcrypto before the value gives the same bytes as the old strings)."""
    from matchsim.schemes import get_scheme

    got = get_scheme("salted-sha256", seed=seed).encode(pa.array(texts, pa.string()))
    salts = np.random.default_rng(seed).integers(0, 256, size=(len(texts), 16), dtype=np.uint8)
    expected = [
        bytes(s) + hashlib.sha256(bytes(s) + t.encode()).digest()
        for s, t in zip(salts, texts, strict=True)
    ]
    assert [bytes(r) for r in got.data] == expected
    assert got.valid.all()
