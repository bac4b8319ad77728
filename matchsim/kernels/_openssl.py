"""Batched OpenSSL: a numba loop that calls libcrypto's one-block-at-a-time digest API.

The per-row cost is three direct C calls (``*_Init``, ``*_Update``, ``*_Final``), with no
Python object and no EVP lookup per row, and OpenSSL picks its fastest code for the CPU
(SHA-NI where present). The functions are bound by symbol name
(``types.ExternalFunction``), so the compiled kernel is cacheable; :data:`AVAILABLE` is
False where no libcrypto exporting the low-level API can be loaded, and the pure numba
kernels (:data:`matchsim.kernels.attack.mask.ROW_HASHERS`) are used instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import numpy as np
from numba import njit, prange, types

ALGORITHM_IDS = {"md5": 0, "sha1": 1, "sha256": 2, "sha512": 3}
_SYMBOLS = ("MD5", "SHA1", "SHA256", "SHA512")


def _load() -> bool:
    import llvmlite.binding as llvm

    candidates = [ctypes.util.find_library("crypto"), "libcrypto.so.3", "libcrypto.so"]
    for name in candidates:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            if not all(hasattr(lib, f"{s}_{op}") for s in _SYMBOLS for op in ("Init", "Final")):
                continue
            llvm.load_library_permanently(name)
        except (OSError, RuntimeError):
            continue
        return True
    return False


AVAILABLE = _load()

_sig_init = types.intc(types.voidptr)
_sig_update = types.intc(types.voidptr, types.voidptr, types.size_t)
_sig_final = types.intc(types.voidptr, types.voidptr)
_md5_init: Any = types.ExternalFunction("MD5_Init", _sig_init)
_md5_update: Any = types.ExternalFunction("MD5_Update", _sig_update)
_md5_final: Any = types.ExternalFunction("MD5_Final", _sig_final)
_sha1_init: Any = types.ExternalFunction("SHA1_Init", _sig_init)
_sha1_update: Any = types.ExternalFunction("SHA1_Update", _sig_update)
_sha1_final: Any = types.ExternalFunction("SHA1_Final", _sig_final)
_sha256_init: Any = types.ExternalFunction("SHA256_Init", _sig_init)
_sha256_update: Any = types.ExternalFunction("SHA256_Update", _sig_update)
_sha256_final: Any = types.ExternalFunction("SHA256_Final", _sig_final)
_sha512_init: Any = types.ExternalFunction("SHA512_Init", _sig_init)
_sha512_update: Any = types.ExternalFunction("SHA512_Update", _sig_update)
_sha512_final: Any = types.ExternalFunction("SHA512_Final", _sig_final)


@njit(cache=True, parallel=True)
def digest_batch(
    data: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    out: np.ndarray,
    chunk: int,
    algorithm: int,
) -> None:
    n = starts.shape[0]
    base = data.ctypes.data
    for c in prange((n + chunk - 1) // chunk):
        ctx = np.empty(256, np.uint8)  # larger than any of the *_CTX structs (SHA512: 216)
        p = ctx.ctypes.data
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            src = base + starts[i]
            dst = out[i].ctypes.data
            if algorithm == 2:
                _sha256_init(p)
                _sha256_update(p, src, lengths[i])
                _sha256_final(dst, p)
            elif algorithm == 0:
                _md5_init(p)
                _md5_update(p, src, lengths[i])
                _md5_final(dst, p)
            elif algorithm == 1:
                _sha1_init(p)
                _sha1_update(p, src, lengths[i])
                _sha1_final(dst, p)
            else:
                _sha512_init(p)
                _sha512_update(p, src, lengths[i])
                _sha512_final(dst, p)


@njit(cache=True, parallel=True)
def hmac_sha256_batch(
    data: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    ipad: np.ndarray,
    opad: np.ndarray,
    out: np.ndarray,
    chunk: int,
) -> None:
    """HMAC-SHA256 (RFC 2104) of every message: the contexts after the key's ipad and
    opad blocks are built once per chunk and copied per row (a ``SHA256_CTX`` is a plain
    struct), so each row costs its own blocks plus one outer block, and no
    ``pad || message`` strings are built. ``ipad``/``opad`` are the 64-byte padded key
    XOR 0x36/0x5c."""
    n = starts.shape[0]
    base = data.ctypes.data
    for c in prange((n + chunk - 1) // chunk):
        inner_ctx = np.empty(256, np.uint8)
        outer_ctx = np.empty(256, np.uint8)
        ctx = np.empty(256, np.uint8)
        inner = np.empty(32, np.uint8)
        _sha256_init(inner_ctx.ctypes.data)
        _sha256_update(inner_ctx.ctypes.data, ipad.ctypes.data, 64)
        _sha256_init(outer_ctx.ctypes.data)
        _sha256_update(outer_ctx.ctypes.data, opad.ctypes.data, 64)
        p = ctx.ctypes.data
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            ctx[:] = inner_ctx
            _sha256_update(p, base + starts[i], lengths[i])
            _sha256_final(inner.ctypes.data, p)
            ctx[:] = outer_ctx
            _sha256_update(p, inner.ctypes.data, 32)
            _sha256_final(out[i].ctypes.data, p)


@njit(cache=True, parallel=True)
def salted_sha256_batch(
    data: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    salts: np.ndarray,
    out: np.ndarray,
    chunk: int,
) -> None:
    """``out[i] = salts[i] || SHA-256(salts[i] || message i)``: the salt fed to the hash
    before the message, no ``salt || message`` strings built. ``salts`` is (n, s) uint8,
    ``out`` (n, s + 32) uint8, both C-contiguous."""
    n = starts.shape[0]
    width = salts.shape[1]
    base = data.ctypes.data
    for c in prange((n + chunk - 1) // chunk):
        ctx = np.empty(256, np.uint8)
        p = ctx.ctypes.data
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            out[i, :width] = salts[i]
            _sha256_init(p)
            _sha256_update(p, salts[i].ctypes.data, width)
            _sha256_update(p, base + starts[i], lengths[i])
            _sha256_final(out[i, width:].ctypes.data, p)
