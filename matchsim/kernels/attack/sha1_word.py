"""SHA-1's scan block when a single message word varies (hashcat's optimised mask trick).

When every varying position of the scan's inner space lies in one message word ``v``
of a single-block candidate, the rest of the block is fixed per outer index, and two
things can be computed once per outer index instead of once per candidate:

- the rounds before ``v`` (they read fixed words only);
- the message schedule. It is linear over GF(2): ``w[t] = F[t] ^ V[t]``, ``F`` the
  schedule of the fixed words (word ``v`` zero) and ``V[t]`` the XOR of a few
  rotations of the varying word ``x`` (:func:`terms` says which). So each candidate
  pays a couple of dozen rotations of ``x`` and an XOR per schedule word that depends
  on it, where the full schedule is sixty-one xor-and-rotate steps; a schedule word that
  does not depend on ``x`` comes with its round constant already added.

:func:`pre` fills the per-outer-index array (:data:`PRE` words: the state after the
rounds before ``v`` in ``P[0..4]`` (a, b and the rotated c, d, e), ``F[t]`` (or ``F[t]
+ K``) in ``P[5 + t]``, chaining words 4 and 3 in ``P[82]`` and ``P[83]`` and word
``v``'s fixed bits in ``P[84]``); ``BLOCKS[v](X, P, out)`` hashes the ``LANES`` (SHA-1's lane count)
candidates whose word ``v`` is ``X[ln] | P[84]`` through 77 rounds and writes digest
words 4 and 3 (the check words, as the other SHA-1 block functions) to out rows 0
and 1.

Each block function is a numba ``@intrinsic`` that writes the LLVM IR of its lane
loop itself, on ``<8 x i32>`` vectors (AVX2), so its compile is LLVM's alone: a
function spelled out in Python the way :mod:`._unrolled`'s are took 4-5 s of numba's
typing each. On this project's Zen 3 (AVX2 and SHA-NI) this path beats both the lane
functions and SHA-NI on the same candidates, so :mod:`.mask` takes it wherever it
applies; the module docstring there has the figures.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from matchsim.kernels import constants as C
from matchsim.kernels import u32
from matchsim.kernels.attack._lanes import LANES_SHA1 as LANES
from matchsim.kernels.attack._lanes import data_pointers, u32_lane_arrays

ROUNDS = 77
"""Rounds run: digest words 4 and 3 are final after round 77 of 80 (early rejection)."""
WORDS = range(4)
"""The words ``v`` a block function exists for: those of a short candidate's block (at
most 15 bytes: phones, dates, postcodes), where the scan's inner space lives."""
PRE = 85
"""Words of the per-outer-index array :func:`pre` fills."""
VEC = 8
"""32-bit lanes per vector (AVX2)."""

if LANES % VEC:
    raise ImportError(f"LANES ({LANES}) must be a multiple of {VEC}")


def terms(v: int, rounds: int = ROUNDS) -> list[frozenset[int]]:
    """Per schedule word ``t < rounds``, the rotations ``r`` with ``w[t] = F[t] ^ XOR of
    rotl(x, r)`` when only word ``v`` (value ``x``) varies: each step of the schedule
    XORs four earlier words and rotates by one, and a rotation that reaches a word an
    even number of times cancels (the sets' symmetric difference)."""
    out = [frozenset({0}) if t == v else frozenset() for t in range(16)]
    for t in range(16, rounds):
        x = out[t - 3] ^ out[t - 8] ^ out[t - 14] ^ out[t - 16]
        out.append(frozenset((r + 1) % 32 for r in x))
    return out


@numba.njit(cache=True, inline="always")
def pre(base: np.ndarray, v: int, S0: np.ndarray, w: np.ndarray, m: np.ndarray,
        P: np.ndarray) -> None:  # fmt: skip
    """Fill ``P`` (module docstring) from an outer index's 16 message words ``base``
    (word ``v`` holding only its fixed bits), the chaining value ``S0`` and scratch
    ``w`` and ``m`` (``ROUNDS`` words each)."""
    for t in range(16):
        w[t] = base[t]
        m[t] = np.uint32(1 if t == v else 0)
    w[v] = np.uint32(0)
    for t in range(16, ROUNDS):
        w[t] = u32.rotl(u32.xor(u32.xor(w[t - 3], w[t - 8]), u32.xor(w[t - 14], w[t - 16])), 1)
        # Bit r of m[t]: rotl(x, r) is part of w[t] (the sets of :func:`terms`).
        m[t] = u32.rotl(u32.xor(u32.xor(m[t - 3], m[t - 8]), u32.xor(m[t - 14], m[t - 16])), 1)
    for t in range(ROUNDS):
        P[5 + t] = u32.add(w[t], np.uint32(C.SHA1_K[t // 20])) if m[t] == 0 else w[t]
    a, b, c, d, e = S0[0], S0[1], S0[2], S0[3], S0[4]
    for t in range(v):  # the rounds before word v (v < 20: the first round function)
        f = u32.xor(d, u32.and_(b, u32.xor(c, d)))
        k = np.uint32(C.SHA1_K[0])
        a, b, c, d, e = (u32.add(u32.add(u32.rotl(a, 5), f), u32.add(u32.add(e, k), w[t])),
                         a, u32.rotl(b, 30), c, d)  # fmt: skip
    P[0], P[1], P[2], P[3], P[4] = a, b, c, d, e
    P[82], P[83], P[84] = S0[4], S0[3], base[v]


_I32, _I64 = ir.IntType(32), ir.IntType(64)
_V = ir.VectorType(_I32, VEC)


class _Lanes:
    """Writes ``<VEC x i32>`` arithmetic (one candidate per element)."""

    def __init__(self, builder: ir.IRBuilder) -> None:
        self.b = builder

    def splat(self, x: ir.Value) -> ir.Value:
        v = self.b.insert_element(ir.Constant(_V, None), x, ir.Constant(_I32, 0))
        zero = ir.Constant(_V, [ir.Constant(_I32, 0)] * VEC)
        return self.b.shuffle_vector(v, ir.Constant(_V, None), zero)

    def const(self, k: int) -> ir.Value:
        return ir.Constant(_V, [ir.Constant(_I32, k)] * VEC)

    def rotl(self, x: ir.Value, n: int) -> ir.Value:
        b = self.b
        return b.or_(b.shl(x, self.const(n)), b.lshr(x, self.const(32 - n)))

    def xor(self, *xs: ir.Value) -> ir.Value:
        out = xs[0]
        for x in xs[1:]:
            out = self.b.xor(out, x)
        return out


def _emit(b: ir.IRBuilder, v: int, x_ptr: ir.Value, p_ptr: ir.Value, out_ptr: ir.Value) -> None:
    """The lane loop of ``BLOCKS[v]``: 77 rounds for ``LANES`` candidates, ``VEC`` at a
    time."""
    op = _Lanes(b)
    p = [op.splat(b.load(b.gep(p_ptr, [ir.Constant(_I64, i)]))) for i in range(PRE)]
    rows = terms(v)
    lo, hi, step = (ir.Constant(_I64, n) for n in (0, LANES, VEC))
    with cgutils.for_range_slice(b, lo, hi, step) as (ln, _):

        def vec(ptr: ir.Value, row: int) -> ir.Value:
            at = b.gep(ptr, [b.add(ln, ir.Constant(_I64, row * LANES))])
            return b.bitcast(at, _V.as_pointer())

        x = b.or_(b.load(vec(x_ptr, 0), align=4), p[84])
        rot: dict[int, ir.Value] = {0: x}
        a, bb, c, d, e = p[0:5]
        for t in range(v, ROUNDS):
            if t < 20:
                f = b.xor(d, b.and_(bb, b.xor(c, d)))
            elif 40 <= t < 60:
                f = b.or_(b.and_(bb, c), b.and_(d, b.or_(bb, c)))
            else:
                f = op.xor(bb, c, d)
            if not rows[t]:
                ekw = b.add(e, p[5 + t])  # F[t] + K, added once per outer index
            else:
                for r in rows[t]:
                    if r not in rot:
                        rot[r] = op.rotl(x, r)
                xv = op.xor(*(rot[r] for r in sorted(rows[t])))
                w = xv if t == v else b.xor(p[5 + t], xv)
                ekw = b.add(b.add(e, op.const(C.SHA1_K[t // 20])), w)
            a, bb, c, d, e = b.add(b.add(op.rotl(a, 5), f), ekw), a, op.rotl(bb, 30), c, d
        # After round 76, b is a after round 75: digest word 4 is S4 + rotl(b, 30).
        b.store(b.add(p[82], op.rotl(bb, 30)), vec(out_ptr, 0), align=4)
        b.store(b.add(p[83], op.rotl(a, 30)), vec(out_ptr, 1), align=4)


def _block(v: int) -> Any:
    """The ``@intrinsic`` ``(X, P, out)`` of word ``v`` (module docstring)."""

    @intrinsic
    def block(typingctx: Any, x: Any, p: Any, out: Any) -> Any:
        if not u32_lane_arrays(x, p, out):
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            _emit(builder, v, *data_pointers(context, builder, signature, args))
            return context.get_dummy_value()

        return types.none(x, p, out), codegen

    return block


BLOCKS = tuple(_block(v) for v in WORDS)
"""``BLOCKS[v](X, P, out)`` for ``v`` in :data:`WORDS`."""

_b0, _b1, _b2, _b3 = BLOCKS


@numba.njit(cache=True, nogil=True)
def block(v: int, X: np.ndarray, P: np.ndarray, out: np.ndarray) -> None:
    """``BLOCKS[v](X, P, out)``: one compiled function for every ``v`` (numba caches it
    once, and the scan calls it rather than holding each block's code itself)."""
    if v == 0:
        _b0(X, P, out)
    elif v == 1:
        _b1(X, P, out)
    elif v == 2:
        _b2(X, P, out)
    else:
        _b3(X, P, out)
