"""One MD5 step as one numba intrinsic, for the generated CPU block functions.

Spelled with :mod:`matchsim.kernels.u32` operations, a step is a dozen calls, and each
call costs numba about a millisecond to type and lower: with every step of three
interleaved lane groups spelled out (:mod:`._gen_unrolled`), that was most of a
minute of cold compilation per kernel. As one intrinsic a step is one call, and its
LLVM IR, written here, is the same 32-bit arithmetic, which the caller's lane loop
vectorises as before. Writing the IR also fixes the order of the additions: the
message word and the constant are added to the old ``a`` first and the boolean
function last, so only the function, one addition, the rotation and the final
addition wait on the newest word ``b``.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

_I32 = ir.IntType(32)

KINDS = ("F", "G", "H", "H_shared", "I")
"""The boolean function of a step: MD5's F, G, H, I. ``H`` is computed as
``(b ^ c) ^ d`` and ``H_shared`` as ``b ^ (c ^ d)``: a round-3 step's ``c ^ d`` is the
step before's ``b ^ c``, so alternating the two lets LLVM compute that XOR once for
two steps (three XORs per two steps instead of four)."""


def _function(builder: Any, kind: str, b: Any, c: Any, d: Any) -> tuple[Any, bool]:
    """The step's boolean function, and whether it is to be subtracted (I, see below)."""
    if kind == "F":  # (b & c) | (~b & d)
        return builder.xor(d, builder.and_(b, builder.xor(c, d))), False
    if kind == "G":  # (b & d) | (c & ~d): disjoint bits, so an addition of both halves
        return builder.add(builder.and_(c, builder.not_(d)), builder.and_(b, d)), False
    if kind == "H":
        return builder.xor(builder.xor(b, c), d), False
    if kind == "H_shared":
        return builder.xor(b, builder.xor(c, d)), False
    # I = c ^ (b | ~d) = ~(c ^ (~b & d)), and adding ~x is subtracting x + 1: three
    # operations (and-not, xor, subtract) instead of four; the 1 goes into the constant.
    return builder.xor(c, builder.and_(builder.not_(b), d)), True


@intrinsic(prefer_literal=True)
def _md5_step(
    typingctx: Any, kind: Any, a: Any, b: Any, c: Any, d: Any, w: Any, k: Any, s: Any
) -> Any:
    if not isinstance(kind, types.StringLiteral) or kind.literal_value not in KINDS:
        return None
    if not all(isinstance(x, types.IntegerLiteral) for x in (k, s)):
        return None
    if any(x != types.uint32 for x in (a, b, c, d)):
        return None
    if w != types.uint32 and not isinstance(w, types.NoneType):
        return None
    fn, const, rot = str(kind.literal_value), int(k.literal_value), int(s.literal_value)
    if not 0 < rot < 32:
        return None
    has_w = w == types.uint32

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        va, vb, vc, vd, vw = args[1:6]
        f, negate = _function(builder, fn, vb, vc, vd)
        t = builder.add(va, ir.Constant(_I32, (const - negate) & 0xFFFFFFFF))
        if has_w:
            t = builder.add(t, vw)
        y = builder.sub(t, f) if negate else builder.add(t, f)
        left = builder.shl(y, ir.Constant(_I32, rot))
        right = builder.lshr(y, ir.Constant(_I32, 32 - rot))
        return builder.add(vb, builder.or_(left, right))

    return types.uint32(kind, a, b, c, d, w, k, s), codegen


md5_step: Any = _md5_step
"""``md5_step(kind, a, b, c, d, w, k, s)``: ``b + rotl(a + fn(b, c, d) + k + w, s)``,
the new ``b`` of an MD5 step. ``kind`` is a literal string of :data:`KINDS`, the
constant ``k`` and the rotation ``s`` literal integers; ``a``..``d`` and ``w`` uint32,
or ``w`` None for a message word known to be zero."""
