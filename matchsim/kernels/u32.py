"""32-bit integer operations that stay 32-bit in numba-compiled code.

numba types ``uint32 + uint32`` (and every other integer operation) at 64 bits. Masking
the result back to 32 bits is correct, and LLVM narrows scalar code again, but loops it
vectorises keep their 64-bit lanes: half as many candidates per SIMD instruction. These
intrinsics emit the LLVM ``i32`` instruction itself, so a lane loop written with them
vectorises into 8 x 32-bit AVX2 lanes (16 with AVX-512). Measured on this project's
2-core machine, the attack's SHA-256 enumeration went from 25.9 to 56.7 M candidates/s
when its lane loops moved from masked 64-bit arithmetic to these
(``pytest benchmarks/bench_attack.py -s -k raw_rate``, before and after).

Every operand must be typed ``uint32`` (take values from uint32 arrays or wrap them in
``np.uint32``). Shift and rotate amounts are literal integers, except :func:`rotl_by`.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

_I32 = ir.IntType(32)
_U32 = types.uint32


def _binary(op: str) -> Any:
    @intrinsic
    def fn(typingctx: Any, a: Any, b: Any) -> Any:
        if a != _U32 or b != _U32:
            return None
        sig = _U32(_U32, _U32)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return getattr(builder, op)(args[0], args[1])

        return sig, codegen

    return fn


add = _binary("add")
"""``a + b`` modulo 2^32."""
xor = _binary("xor")
and_ = _binary("and_")
or_ = _binary("or_")


@intrinsic
def _not(typingctx: Any, a: Any) -> Any:
    """``~a`` (32 bits)."""
    if a != _U32:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.not_(args[0])

    return _U32(_U32), codegen


not_: Any = _not


def _shift(kind: str) -> Any:
    @intrinsic
    def fn(typingctx: Any, x: Any, n: Any) -> Any:
        if x != _U32 or not isinstance(n, types.IntegerLiteral):
            return None
        k = int(n.literal_value)
        if not 0 < k < 32:
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            v = args[0]
            left = builder.shl(v, ir.Constant(_I32, k if kind != "rotr" else 32 - k))
            right = builder.lshr(v, ir.Constant(_I32, k if kind != "rotl" else 32 - k))
            if kind == "shr":
                return right
            if kind == "shl":
                return left
            return builder.or_(left, right)  # LLVM recognises the rotate

        return _U32(_U32, n), codegen

    return fn


shr = _shift("shr")
"""``x >> k`` for a literal ``k``."""
shl = _shift("shl")
rotr = _shift("rotr")
"""Rotate right by a literal ``k``."""
rotl = _shift("rotl")


@intrinsic
def _rotl_by(typingctx: Any, x: Any, n: Any) -> Any:
    """Rotate left by a uint32 amount in 1..31 known only at run time (MD5's table)."""
    if x != _U32 or n != _U32:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        v, k = args
        back = builder.sub(ir.Constant(_I32, 32), k)
        return builder.or_(builder.shl(v, k), builder.lshr(v, back))

    return _U32(_U32, _U32), codegen


rotl_by: Any = _rotl_by
