"""``prefetch(array, index)``, ``prefetch_at(array, row, col)``: LLVM's software prefetch
in numba code.

A hash-table insert or lookup per row waits on a cache miss; issuing the slot's load some
rows ahead lets several misses overlap. The hint changes no result.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
    aryty = signature.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    ptr = cgutils.get_item_pointer(context, builder, aryty, ary, list(args[1:]), wraparound=False)
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
    flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
    builder.call(fn, [builder.bitcast(ptr, i8p), *flags])  # read, high locality, data cache
    return context.get_dummy_value()


@intrinsic
def prefetch(typingctx: Any, array: Any, index: Any) -> Any:
    """``llvm.prefetch`` of ``array[index]`` (of a 2-d array: the start of row ``index``):
    start the cache miss early, do not wait."""
    return types.void(array, index), _codegen


@intrinsic
def prefetch_at(typingctx: Any, array: Any, row: Any, col: Any) -> Any:
    """``llvm.prefetch`` of ``array[row, col]`` of a 2-d array."""
    return types.void(array, row, col), _codegen
