"""Batch hashing kernels over Arrow string buffers (numba, parallel, cached).

``hash_strings(values, "sha256")`` hashes every value of a string or binary Arrow array
straight from its offsets and data buffers: no Python object per row. Null rows hash as
the empty string; callers that care (the schemes) mark them invalid.

Why numba rather than a loop over :mod:`hashlib`: hashlib's per-call overhead (about
1.4 µs) dominates short inputs such as e-mail addresses, and it releases the GIL only for
inputs over 2 KiB, so threads do not help. The kernels run the compression functions
directly and split the rows over cores (``benchmarks/bench_schemes.py`` measures both).
The numba backend is the attack's message hasher
(:data:`matchsim.kernels.attack.mask.ROW_HASHERS`, 16 rows at a time through the
generated compressions of :mod:`matchsim.kernels.attack._unrolled`): one implementation
of each hash for attacking and hashing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from matchsim.errors import ConfigError

DIGEST_SIZES: dict[str, int] = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}
"""Digest size in bytes of each algorithm the kernels implement."""

_KERNELS = ("md5", "sha1", "sha256", "sha512")

# Rows per parallel work item: large enough to amortise scratch buffers, small enough to
# balance the cores.
_CHUNK = 4096


def string_buffers(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The packed bytes of ``values`` as ``(data uint8, starts int64, lengths int64)``.

    Accepts string, large_string, binary, large_binary and dictionary-encoded strings;
    null rows get length 0.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())
    t = values.type
    offset_type: type[np.integer[Any]]
    if pa.types.is_string(t) or pa.types.is_binary(t):
        offset_type = np.int32
    elif pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        offset_type = np.int64
    elif pa.types.is_null(t):
        values = pa.array([None] * len(values), pa.string())
        offset_type = np.int32
    else:
        raise TypeError(f"expected a string or binary array, got {t}")
    n = len(values)
    buffers = values.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type, count=values.offset + n + 1)
    offsets = offsets[values.offset :].astype(np.int64)
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, np.uint8)
    )
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    if values.null_count:
        lengths = np.where(values.is_null().to_numpy(zero_copy_only=False), 0, lengths)
    return data, starts, lengths


BACKENDS = ("auto", "openssl", "numba")
"""``openssl``: numba loop calling libcrypto (fastest where available); ``numba``: the
compression functions in numba; ``auto``: openssl if libcrypto loaded, else numba."""


def hash_strings(
    values: pa.Array | pa.ChunkedArray, algorithm: str, *, backend: str = "auto"
) -> np.ndarray:
    """Digest of every value's bytes (UTF-8 for strings) as an ``(n, digest_size)`` array.

    Raises:
        ConfigError: unknown ``algorithm`` or ``backend``, or ``openssl`` unavailable.
    """
    if algorithm not in _KERNELS:
        known = ", ".join(sorted(_KERNELS))
        raise ConfigError(f"unknown hash algorithm {algorithm!r}; known: {known}")
    if backend not in BACKENDS:
        raise ConfigError(f"unknown kernel backend {backend!r}; known: {', '.join(BACKENDS)}")
    from matchsim.kernels import _openssl  # numba: loaded at the first hash, not on import

    if backend == "openssl" and not _openssl.AVAILABLE:
        raise ConfigError("the openssl kernel backend needs libcrypto, which was not found")
    data, starts, lengths = string_buffers(values)
    out = np.zeros((len(starts), DIGEST_SIZES[algorithm]), dtype=np.uint8)
    if len(starts):
        if len(data) == 0:
            data = np.zeros(1, np.uint8)  # numba wants a non-empty buffer to index into
        if backend == "numba" or not _openssl.AVAILABLE:
            out[:] = _numba_digests(data, starts, lengths, algorithm)
        else:
            _openssl.digest_batch(
                data, starts, lengths, out, _CHUNK, _openssl.ALGORITHM_IDS[algorithm]
            )
    return out


def _numba_digests(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, algorithm: str
) -> np.ndarray:
    """(n, digest size) uint8 digests by the attack's message hasher (imported here:
    the OpenSSL path never loads the attack's kernels; compiled ahead of time where
    :mod:`matchsim.kernels.aot` is built)."""
    from matchsim.kernels import aot
    from matchsim.kernels.attack import params as K

    algo = K.ALGORITHMS[algorithm]
    iv = K.IVS[algo]
    words = np.zeros((starts.shape[0], 8), dtype=iv.dtype)
    no_hmac = np.zeros(0, dtype=np.uint32)
    aot.row_hasher(algo)(data, starts, lengths, 0, iv, no_hmac, words)
    order = ("<" if algo == K.ALGO_MD5 else ">") + f"u{K.WORD_BYTES[algo]}"
    return np.ascontiguousarray(words[:, : K.STATE_WORDS[algo]]).astype(order).view(np.uint8)


def hash_bytes(rows: np.ndarray, algorithm: str) -> np.ndarray:
    """Digest of each row of a fixed-width ``(n, k) uint8`` array (e.g. digests re-hashed)."""
    rows = np.ascontiguousarray(rows, dtype=np.uint8)
    n, k = rows.shape
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * k, pa.int32())
    array = pa.Array.from_buffers(pa.binary(), n, [None, offsets.buffers()[1], pa.py_buffer(rows)])
    return hash_strings(array, algorithm)


def concat(
    prefix: bytes | pa.Array | None, values: pa.Array, suffix: bytes | pa.Array | None
) -> pa.Array:
    """``prefix || value || suffix`` per row as a binary array (nulls stay null).

    ``prefix`` and ``suffix`` are constant bytes or per-row binary/string arrays.
    """
    import pyarrow.compute as pc

    parts: list[pa.Array | pa.Scalar] = []
    for part in (prefix, values, suffix):
        if part is None:
            continue
        if isinstance(part, bytes):
            parts.append(pa.scalar(part, pa.binary()))
        else:
            if pa.types.is_dictionary(part.type):
                part = part.cast(pa.string())
            parts.append(part.cast(pa.binary()))
    return pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.binary()))


__all__ = ["BACKENDS", "DIGEST_SIZES", "concat", "hash_bytes", "hash_strings", "string_buffers"]
