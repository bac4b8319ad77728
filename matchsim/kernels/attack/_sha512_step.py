"""SHA-512's round and schedule terms as numba intrinsics, for the generated CPU block
functions.

Spelled with numba's ``uint64`` operators, a SHA-512 round is some thirty operations
and a schedule word some fifteen, and numba types and lowers each one separately
(about a millisecond apiece): 15-17 CPU-seconds of cold compilation per block
function, three of them in a scan. As intrinsics, a round is two calls and a schedule
word one; their LLVM IR, written here, is the same 64-bit arithmetic, which the
caller's lane loop vectorises as before (4 x 64-bit AVX2 lanes). The arguments may be
None for a message word known to be zero (:data:`._gen_unrolled.SHORT_ZERO`), which
drops its addition, as the spelled-out code did.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

_I64 = ir.IntType(64)


def _rotr(builder: Any, x: Any, n: int) -> Any:
    right = builder.lshr(x, ir.Constant(_I64, n))
    return builder.or_(right, builder.shl(x, ir.Constant(_I64, 64 - n)))


def _big_sigma(builder: Any, x: Any, r: tuple[int, int, int]) -> Any:
    """``rotr(x, r0) ^ rotr(x, r1) ^ rotr(x, r2)``."""
    s = builder.xor(_rotr(builder, x, r[0]), _rotr(builder, x, r[1]))
    return builder.xor(s, _rotr(builder, x, r[2]))


def _small_sigma(builder: Any, x: Any, r: tuple[int, int, int]) -> Any:
    """``rotr(x, r0) ^ rotr(x, r1) ^ (x >> r2)``."""
    s = builder.xor(_rotr(builder, x, r[0]), _rotr(builder, x, r[1]))
    return builder.xor(s, builder.lshr(x, ir.Constant(_I64, r[2])))


def _sum(builder: Any, terms: list[Any]) -> Any:
    out = terms[0]
    for t in terms[1:]:
        out = builder.add(out, t)
    return out


def _words_or_none(*xs: Any) -> bool:
    return all(x == types.uint64 or isinstance(x, types.NoneType) for x in xs)


@intrinsic(prefer_literal=True)
def _t1(typingctx: Any, e: Any, f: Any, g: Any, h: Any, w: Any, k: Any) -> Any:
    if not isinstance(k, types.IntegerLiteral) or not _words_or_none(w):
        return None
    if any(x != types.uint64 for x in (e, f, g, h)):
        return None
    const, has_w = int(k.literal_value) & (2**64 - 1), w == types.uint64

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ve, vf, vg, vh, vw = args[:5]
        ch = builder.xor(vg, builder.and_(ve, builder.xor(vf, vg)))
        # The terms that do not wait on this round's e first.
        terms = [vh, ir.Constant(_I64, const), *([vw] if has_w else [])]
        return _sum(builder, [*terms, ch, _big_sigma(builder, ve, (14, 18, 41))])

    return types.uint64(e, f, g, h, w, k), codegen


@intrinsic
def _t2(typingctx: Any, a: Any, b: Any, c: Any, t1: Any) -> Any:
    if any(x != types.uint64 for x in (a, b, c, t1)):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        va, vb, vc, vt1 = args
        maj = builder.or_(builder.and_(va, vb), builder.and_(vc, builder.or_(va, vb)))
        return _sum(builder, [vt1, maj, _big_sigma(builder, va, (28, 34, 39))])

    return types.uint64(a, b, c, t1), codegen


@intrinsic
def _schedule(typingctx: Any, x2: Any, x7: Any, x15: Any, x16: Any) -> Any:
    xs = (x2, x7, x15, x16)
    if not _words_or_none(*xs) or all(isinstance(x, types.NoneType) for x in xs):
        return None
    present = [not isinstance(x, types.NoneType) for x in xs]

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        v2, v7, v15, v16 = args
        terms = []
        if present[0]:
            terms.append(_small_sigma(builder, v2, (19, 61, 6)))
        if present[1]:
            terms.append(v7)
        if present[2]:
            terms.append(_small_sigma(builder, v15, (1, 8, 7)))
        if present[3]:
            terms.append(v16)
        return _sum(builder, terms)

    return types.uint64(*xs), codegen


sha512_t1: Any = _t1
"""``sha512_t1(e, f, g, h, w, k)``: ``h + Σ1(e) + Ch(e, f, g) + k + w`` modulo 2^64
(``k`` a literal integer, ``w`` uint64 or None for a zero word); the round's new e is
``d + t1``."""
sha512_t2: Any = _t2
"""``sha512_t2(a, b, c, t1)``: the round's new a, ``t1 + Σ0(a) + Maj(a, b, c)``."""
sha512_schedule: Any = _schedule
"""``sha512_schedule(w[t-2], w[t-7], w[t-15], w[t-16])``: schedule word ``t``,
``σ1(w[t-2]) + w[t-7] + σ0(w[t-15]) + w[t-16]``, each argument uint64 or None (a zero
word, its term dropped; not all None)."""
