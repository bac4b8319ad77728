"""Numba implementations of MD5, SHA-1, SHA-256 and SHA-512 over packed byte strings.

Each ``*_batch`` function hashes ``data[starts[i] : starts[i] + lengths[i]]`` for every
row ``i`` into ``out[i]``. Rows are split into chunks processed in parallel (``prange``);
each chunk allocates its scratch buffers once, so no allocation happens per row.

Arithmetic: numba widens integer arithmetic to 64 bits, so the 32-bit algorithms run on
int64 values and mask with ``& 0xFFFFFFFF`` after every addition and rotation (values stay
below 2**63, so nothing overflows before the mask). SHA-512 runs on uint64, where every
constant and shift count is a ``np.uint64`` so that numba never mixes signed and unsigned
operands (which it would promote to float).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from matchsim.kernels import constants as C

_M32 = 0xFFFFFFFF

_K256 = np.array(C.SHA256_K, dtype=np.int64)
_H256 = np.array(C.SHA256_IV, dtype=np.int64)
_H1 = np.array(C.SHA1_IV, dtype=np.int64)
_S_MD5 = np.array(C.MD5_S, dtype=np.int64)
_T_MD5 = np.array(C.MD5_T, dtype=np.int64)
_G_MD5 = np.array(C.MD5_G, dtype=np.int64)

_K512 = np.array(C.SHA512_K, dtype=np.uint64)
_H512 = np.array(C.SHA512_IV, dtype=np.uint64)


@njit(cache=True, inline="always")
def _rotl32(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _M32


@njit(cache=True, inline="always")
def _rotr32(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & _M32


@njit(cache=True)
def _pad_tail(
    data: np.ndarray, start: int, length: int, buf: np.ndarray, block: int, big_endian: bool
) -> int:
    """Write the message's last partial block plus padding into ``buf``; return its blocks.

    The length field is 8 bytes (MD5, SHA-1, SHA-256) or 16 (SHA-512, ``block == 128``),
    big-endian except for MD5.
    """
    len_field = 16 if block == 128 else 8
    full = length // block
    rest = length - full * block
    src = start + full * block
    for j in range(rest):
        buf[j] = data[src + j]
    buf[rest] = 0x80
    nblocks = 1 if rest + 1 + len_field <= block else 2
    end = nblocks * block
    for j in range(rest + 1, end):
        buf[j] = 0
    bits = length * 8
    for j in range(8):  # messages here are far below 2**61 bytes: the high 8 bytes stay 0
        byte = (bits >> (8 * j)) & 0xFF
        if big_endian:
            buf[end - 1 - j] = byte
        else:
            buf[end - 8 + j] = byte
    return nblocks


# --------------------------------------------------------------------------- SHA-256


@njit(cache=True)
def _sha256_block(h: np.ndarray, src: np.ndarray, pos: int, w: np.ndarray) -> None:
    for t in range(16):
        p = pos + 4 * t
        w[t] = (
            (np.int64(src[p]) << 24)
            | (np.int64(src[p + 1]) << 16)
            | (np.int64(src[p + 2]) << 8)
            | np.int64(src[p + 3])
        )
    for t in range(16, 64):
        x = w[t - 15]
        y = w[t - 2]
        s0 = _rotr32(x, 7) ^ _rotr32(x, 18) ^ (x >> 3)
        s1 = _rotr32(y, 17) ^ _rotr32(y, 19) ^ (y >> 10)
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) & _M32
    a, b, c, d, e, f, g, hh = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    for t in range(64):
        s1 = _rotr32(e, 6) ^ _rotr32(e, 11) ^ _rotr32(e, 25)
        ch = (e & f) ^ ((~e & _M32) & g)
        t1 = (hh + s1 + ch + _K256[t] + w[t]) & _M32
        s0 = _rotr32(a, 2) ^ _rotr32(a, 13) ^ _rotr32(a, 22)
        maj = (a & b) ^ (a & c) ^ (b & c)
        t2 = (s0 + maj) & _M32
        hh = g
        g = f
        f = e
        e = (d + t1) & _M32
        d = c
        c = b
        b = a
        a = (t1 + t2) & _M32
    h[0] = (h[0] + a) & _M32
    h[1] = (h[1] + b) & _M32
    h[2] = (h[2] + c) & _M32
    h[3] = (h[3] + d) & _M32
    h[4] = (h[4] + e) & _M32
    h[5] = (h[5] + f) & _M32
    h[6] = (h[6] + g) & _M32
    h[7] = (h[7] + hh) & _M32


# --------------------------------------------------------------------------- SHA-1


@njit(cache=True)
def _sha1_block(h: np.ndarray, src: np.ndarray, pos: int, w: np.ndarray) -> None:
    for t in range(16):
        p = pos + 4 * t
        w[t] = (
            (np.int64(src[p]) << 24)
            | (np.int64(src[p + 1]) << 16)
            | (np.int64(src[p + 2]) << 8)
            | np.int64(src[p + 3])
        )
    for t in range(16, 80):
        w[t] = _rotl32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1)
    a, b, c, d, e = h[0], h[1], h[2], h[3], h[4]
    for t in range(80):
        if t < 20:
            f = (b & c) | ((~b & _M32) & d)
            k = 0x5A827999
        elif t < 40:
            f = b ^ c ^ d
            k = 0x6ED9EBA1
        elif t < 60:
            f = (b & c) | (b & d) | (c & d)
            k = 0x8F1BBCDC
        else:
            f = b ^ c ^ d
            k = 0xCA62C1D6
        tmp = (_rotl32(a, 5) + f + e + k + w[t]) & _M32
        e = d
        d = c
        c = _rotl32(b, 30)
        b = a
        a = tmp
    h[0] = (h[0] + a) & _M32
    h[1] = (h[1] + b) & _M32
    h[2] = (h[2] + c) & _M32
    h[3] = (h[3] + d) & _M32
    h[4] = (h[4] + e) & _M32


# --------------------------------------------------------------------------- MD5


@njit(cache=True)
def _md5_block(h: np.ndarray, src: np.ndarray, pos: int, w: np.ndarray) -> None:
    for t in range(16):  # little-endian words
        p = pos + 4 * t
        w[t] = (
            np.int64(src[p])
            | (np.int64(src[p + 1]) << 8)
            | (np.int64(src[p + 2]) << 16)
            | (np.int64(src[p + 3]) << 24)
        )
    a, b, c, d = h[0], h[1], h[2], h[3]
    for t in range(64):
        if t < 16:
            f = (b & c) | ((~b & _M32) & d)
        elif t < 32:
            f = (d & b) | ((~d & _M32) & c)
        elif t < 48:
            f = b ^ c ^ d
        else:
            f = c ^ (b | (~d & _M32))
        f = (f + a + _T_MD5[t] + w[_G_MD5[t]]) & _M32
        a = d
        d = c
        c = b
        b = (b + _rotl32(f, _S_MD5[t])) & _M32
    h[0] = (h[0] + a) & _M32
    h[1] = (h[1] + b) & _M32
    h[2] = (h[2] + c) & _M32
    h[3] = (h[3] + d) & _M32


# ---------------------------------------------------------- batch driver, 32-bit words

_MD5, _SHA1, _SHA256 = range(3)
_H_MD5 = np.array(C.MD5_IV, dtype=np.int64)


@njit(cache=True, inline="always")
def _block(algo: int, h: np.ndarray, src: np.ndarray, pos: int, w: np.ndarray) -> None:
    if algo == _MD5:
        _md5_block(h, src, pos, w)
    elif algo == _SHA1:
        _sha1_block(h, src, pos, w)
    else:
        _sha256_block(h, src, pos, w)


def _make_batch32(algo: int) -> Any:
    """The batch driver of one 32-bit-word hash (MD5, SHA-1, SHA-256).

    The closure holds only the algorithm number (an int, so numba's on-disk cache key is
    stable across processes); the branches on it compare constants and are pruned before
    typing, so each driver compiles its own block function only.
    """
    words = (4, 5, 8)[algo]
    schedule = (16, 80, 64)[algo]
    big_endian = algo != _MD5

    @njit(cache=True, parallel=True)
    def batch(  # type: ignore[no-untyped-def]
        data, starts, lengths, out, chunk
    ):
        n = starts.shape[0]
        for c in prange((n + chunk - 1) // chunk):
            h = np.empty(words, np.int64)
            w = np.empty(schedule, np.int64)
            buf = np.empty(128, np.uint8)
            for i in range(c * chunk, min(n, (c + 1) * chunk)):
                if algo == _MD5:
                    h[:] = _H_MD5
                elif algo == _SHA1:
                    h[:] = _H1
                else:
                    h[:] = _H256
                start = starts[i]
                length = lengths[i]
                for b in range(length // 64):
                    _block(algo, h, data, start + 64 * b, w)
                for b in range(_pad_tail(data, start, length, buf, 64, big_endian)):
                    _block(algo, h, buf, 64 * b, w)
                for j in range(words):
                    for k in range(4):
                        shift = 24 - 8 * k if big_endian else 8 * k
                        out[i, 4 * j + k] = (h[j] >> shift) & 0xFF

    return batch


md5_batch = _make_batch32(_MD5)
sha1_batch = _make_batch32(_SHA1)
sha256_batch = _make_batch32(_SHA256)


# --------------------------------------------------------------------------- SHA-512

_U = np.uint64


@njit(cache=True, inline="always")
def _rotr64(x: np.uint64, n: np.uint64) -> np.uint64:
    return (x >> n) | (x << (_U(64) - n))


@njit(cache=True)
def _sha512_block(h: np.ndarray, src: np.ndarray, pos: int, w: np.ndarray) -> None:
    for t in range(16):
        p = pos + 8 * t
        v = _U(0)
        for k in range(8):
            v = (v << _U(8)) | _U(src[p + k])
        w[t] = v
    for t in range(16, 80):
        x = w[t - 15]
        y = w[t - 2]
        s0 = _rotr64(x, _U(1)) ^ _rotr64(x, _U(8)) ^ (x >> _U(7))
        s1 = _rotr64(y, _U(19)) ^ _rotr64(y, _U(61)) ^ (y >> _U(6))
        w[t] = w[t - 16] + s0 + w[t - 7] + s1
    a, b, c, d, e, f, g, hh = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    for t in range(80):
        s1 = _rotr64(e, _U(14)) ^ _rotr64(e, _U(18)) ^ _rotr64(e, _U(41))
        ch = (e & f) ^ (~e & g)
        t1 = hh + s1 + ch + _K512[t] + w[t]
        s0 = _rotr64(a, _U(28)) ^ _rotr64(a, _U(34)) ^ _rotr64(a, _U(39))
        maj = (a & b) ^ (a & c) ^ (b & c)
        t2 = s0 + maj
        hh = g
        g = f
        f = e
        e = d + t1
        d = c
        c = b
        b = a
        a = t1 + t2
    h[0] += a
    h[1] += b
    h[2] += c
    h[3] += d
    h[4] += e
    h[5] += f
    h[6] += g
    h[7] += hh


@njit(cache=True, parallel=True)
def sha512_batch(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, out: np.ndarray, chunk: int
) -> None:
    n = starts.shape[0]
    for c in prange((n + chunk - 1) // chunk):
        h = np.empty(8, np.uint64)
        w = np.empty(80, np.uint64)
        buf = np.empty(256, np.uint8)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            h[:] = _H512
            start = starts[i]
            length = lengths[i]
            for b in range(length // 128):
                _sha512_block(h, data, start + 128 * b, w)
            for b in range(_pad_tail(data, start, length, buf, 128, True)):
                _sha512_block(h, buf, 128 * b, w)
            for j in range(8):
                for k in range(8):
                    out[i, 8 * j + k] = (h[j] >> _U(56 - 8 * k)) & _U(0xFF)
