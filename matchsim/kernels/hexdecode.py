"""Hex digest text -> bytes straight from Arrow's string buffers (numba, one pass, no GIL).

The same answer as :func:`matchsim.schemes.decode_text` for ``hex`` and ``HEX`` (which it
replaces on the upload path): a value decodes when it is present, exactly ``2 * size``
characters long and every character is in the encoding's alphabet (case-strict). Other
encodings go through :func:`~matchsim.schemes.decode_text`.
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa
from numba import prange

from matchsim.kernels import string_buffers
from matchsim.kernels.hextable import nibbles
from matchsim.kernels.mix import splitmix64
from matchsim.schemes import Digests, decode_text

_TABLES = {"hex": nibbles(False), "HEX": nibbles(True)}


@numba.njit(cache=True, nogil=True)
def _hex_rows(
    data: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    present: np.ndarray,
    table: np.ndarray,
    out: np.ndarray,
    ok: np.ndarray,
) -> None:  # pragma: no cover - compiled
    n, size = out.shape
    for i in range(n):  # serial: callers decode several columns on threads (nogil)
        if not present[i] or lengths[i] != 2 * size:
            ok[i] = False
            continue
        s = starts[i]
        good = True
        for j in range(size):
            hi = table[data[s + 2 * j]]
            lo = table[data[s + 2 * j + 1]]
            if hi == 255 or lo == 255:
                good = False
                break
            out[i, j] = (hi << 4) | lo
        if not good:
            for j in range(size):
                out[i, j] = 0
        ok[i] = good


def decode_digests(texts: pa.Array | pa.ChunkedArray, digest_size: int, encoding: str) -> Digests:
    """Digest text (string array) to ``(n, digest_size)`` bytes and a validity mask.

    A chunked array is decoded chunk by chunk into one output, without first copying the
    chunks together.
    """
    if encoding not in _TABLES:
        if isinstance(texts, pa.ChunkedArray):
            texts = texts.combine_chunks()
        return decode_text(texts, digest_size, encoding)
    chunks = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    n = len(texts)
    out = np.zeros((n, digest_size), dtype=np.uint8)
    ok = np.zeros(n, dtype=bool)
    at = 0
    for chunk in chunks:
        m = len(chunk)
        if m:
            data, starts, lengths = string_buffers(chunk)
            present = chunk.is_valid().to_numpy(zero_copy_only=False)
            if len(data) == 0:
                data = np.zeros(1, np.uint8)
            table = _TABLES[encoding]
            _hex_rows(data, starts, lengths, present, table, out[at : at + m], ok[at : at + m])
        at += m
    return Digests(out, ok)


@numba.njit(cache=True, nogil=True, parallel=True)
def _fold_rows(data: np.ndarray, valid: np.ndarray, h: np.ndarray) -> None:  # pragma: no cover
    """``h[i] = mix(h[i], field i's validity and bytes)``: a 64-bit fingerprint per row."""
    n, size = data.shape
    for i in prange(n):
        x = splitmix64(h[i] ^ np.uint64(valid[i]) ^ np.uint64(0x9E3779B97F4A7C15))
        if valid[i]:
            j = 0
            while j < size:
                w = np.uint64(0)
                k = 0
                while k < 8 and j < size:
                    w |= np.uint64(data[i, j]) << np.uint64(8 * k)
                    j += 1
                    k += 1
                x = splitmix64(x ^ w)
        h[i] = x


@numba.njit(cache=True, nogil=True)
def _fold_words(words: np.ndarray, valid: np.ndarray, h: np.ndarray) -> None:  # pragma: no cover
    """:func:`_fold_rows` for digests a whole number of 64-bit words wide (little-endian
    words: the same fingerprint as the byte loop)."""
    n, w = words.shape
    for i in range(n):
        x = splitmix64(h[i] ^ np.uint64(valid[i]) ^ np.uint64(0x9E3779B97F4A7C15))
        if valid[i]:
            for j in range(w):
                x = splitmix64(x ^ words[i, j])
        h[i] = x


def row_fingerprints(parts: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """A 64-bit mix of each row's ``(data, valid)`` parts; equal rows, equal fingerprints."""
    n = len(parts[0][1]) if parts else 0
    h = np.zeros(n, dtype=np.uint64)
    for data, valid in parts:
        data = np.ascontiguousarray(data, dtype=np.uint8)
        if data.shape[1] % 8 == 0 and np.little_endian:
            _fold_words(data.view(np.uint64), np.asarray(valid, bool), h)
        else:
            _fold_rows(data, np.asarray(valid, bool), h)
    return h


@numba.njit(cache=True, nogil=True)
def hex_encode(data: np.ndarray, pairs: np.ndarray) -> np.ndarray:  # pragma: no cover
    """``(n, k)`` bytes -> ``(n, 2k)`` characters, ``pairs[b]`` spelling byte ``b`` as a
    little-endian uint16 (``schemes._base._HEX_PAIRS``): one read and one write per byte."""
    n, k = data.shape
    out = np.empty((n, k), dtype=np.uint16)
    for i in range(n):
        for j in range(k):
            out[i, j] = pairs[data[i, j]]
    return out.view(np.uint8)
