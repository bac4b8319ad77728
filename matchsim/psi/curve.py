"""Hash-to-curve for X25519: RFC 9380 ``curve25519_XMD:SHA-512_ELL2_NU_``, u-coordinate only.

ECDH-PSI needs a hash ``H`` onto the prime-order group so that blinded values
``a·H(x)`` are pseudorandom (DDH). Two shortcuts are wrong in instructive ways:

* *"SHA-256 the identifier and use the 32 bytes as u"*: about half of all u are on the
  **twist**, not the curve. X25519 happily multiplies twist points, and scalar
  multiplication keeps a point on its own curve, so every blinded value still says which
  of the two its identifier landed on: a one-bit leak per record that a dictionary
  attacker can test (``tests/test_psi.py`` shows the bit surviving blinding). The twist
  also has small subgroups; clamping (the scalar is a multiple of 8) clears those, so
  the leak is the one bit, not the scalar.
* Low-order u (0, 1, …) give an all-zero shared value, which OpenSSL refuses.

So we map with Elligator 2 (RFC 9380 §6.7.1), which always lands on the curve. X25519
only needs the u-coordinate, so the map skips the square root and needs one quadratic
character per element (``gmpy2.legendre`` when gmpy2 is installed, ~1.4 µs; Python's
``pow`` otherwise, ~60–100 µs) and one field inversion, batched with Montgomery's trick.
The cofactor is cleared by X25519's clamping, so :func:`encode_to_u` does not multiply
by 8; :func:`clear_cofactor_u` does, for the RFC's known-answer vectors.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Sequence
from typing import Any

P = 2**255 - 19
A = 486662
Z = 2
_L = 48  # bytes per field element: ceil((ceil(log2(p)) + k) / 8), k = 128

PROTOCOL_DST = b"MATCHSIM-V01-PSI-with-curve25519_XMD:SHA-512_ELL2_NU_"
"""Domain separation tag of matchsim's PSI (its own, so its points are its own)."""

try:  # optional accelerator: GMP's Legendre symbol is ~70x faster than pow()
    _gmpy2: Any = importlib.import_module("gmpy2")

    def _is_square(x: int) -> bool:
        return x == 0 or int(_gmpy2.legendre(x, P)) == 1

except ImportError:  # pragma: no cover - exercised where gmpy2 is absent

    def _is_square(x: int) -> bool:
        return x == 0 or pow(x, (P - 1) // 2, P) == 1


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512."""
    if len(dst) > 255:
        raise ValueError("DST longer than 255 bytes")
    ell = -(-length // 64)
    if ell > 255:
        raise ValueError("requested length too large")
    dst_prime = dst + bytes([len(dst)])
    b0 = hashlib.sha512(bytes(128) + msg + length.to_bytes(2, "big") + b"\0" + dst_prime).digest()
    b = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    out = [b]
    for i in range(2, ell + 1):
        mixed = bytes(x ^ y for x, y in zip(b0, b, strict=True))
        b = hashlib.sha512(mixed + bytes([i]) + dst_prime).digest()
        out.append(b)
    return b"".join(out)[:length]


def _field_elements(msgs: Sequence[bytes], dst: bytes) -> list[int]:
    """hash_to_field(msg, count=1) for each message, with a shared precomputed prefix."""
    dst_prime = dst + bytes([len(dst)])
    suffix = _L.to_bytes(2, "big") + b"\0" + dst_prime
    head = hashlib.sha512(bytes(128))
    tail = b"\x01" + dst_prime
    out = []
    for m in msgs:
        h = head.copy()
        h.update(m + suffix)
        b1 = hashlib.sha512(h.digest() + tail).digest()
        out.append(int.from_bytes(b1[:_L], "big") % P)
    return out


def _batch_inverse(xs: list[int]) -> list[int]:
    """inv0 of every element (0 -> 0) with one modular inversion (Montgomery's trick)."""
    prefix = []
    acc = 1
    for x in xs:
        prefix.append(acc)
        if x:
            acc = acc * x % P
    inv = pow(acc, -1, P)
    out = [0] * len(xs)
    for i in range(len(xs) - 1, -1, -1):
        x = xs[i]
        if x:
            out[i] = inv * prefix[i] % P
            inv = inv * x % P
    return out


def map_to_u(us: list[int]) -> list[int]:
    """Elligator 2 (RFC 9380 §6.7.1, J = A, K = 1, Z = 2): field elements -> curve u."""
    dens = [(1 + Z * u * u) % P for u in us]
    invs = _batch_inverse(dens)
    out = []
    for inv in invs:
        x1 = (-A * inv) % P
        if x1 == 0:
            x1 = -A % P
        gx1 = (x1 * x1 % P * x1 + A * x1 * x1 + x1) % P
        out.append(x1 if _is_square(gx1) else (-x1 - A) % P)
    return out


def encode_to_u(msgs: Sequence[bytes], dst: bytes = PROTOCOL_DST) -> list[bytes]:
    """encode_to_curve (NU) of each message, as X25519 u-coordinates (32 bytes, LE).

    The cofactor is *not* cleared here: X25519's clamped scalars are multiples of 8.
    """
    return [u.to_bytes(32, "little") for u in map_to_u(_field_elements(msgs, dst))]


def _xdbl(u: int) -> int:
    """x-only doubling on Montgomery curve25519 (u of 2·P); 0 for points of order <= 2."""
    num = (u * u - 1) ** 2 % P
    den = 4 * u * (u * u + A * u + 1) % P
    return num * pow(den, -1, P) % P if den else 0


def clear_cofactor_u(u: int) -> int:
    """u of 8·P (three doublings), as in the RFC's encode_to_curve output."""
    for _ in range(3):
        u = _xdbl(u)
    return u


def on_curve(u: int) -> bool:
    """True if u is the u-coordinate of a curve25519 point (False: a twist point)."""
    return _is_square((u * u % P * u + A * u * u + u) % P)
