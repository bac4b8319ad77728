"""SHA-256 and SHA-1 block functions on the x86 SHA extensions (SHA-NI).

Same arguments and results as the lane functions of :mod:`._unrolled` (``(W, S, out)``
over lane arrays, ``W[w * lanes + ln]``), but each lane's compression runs on the
SHA instructions instead of in AVX2 lanes: ``sha256rnds2`` does two SHA-256 rounds on
a whole state held in two XMM registers, ``sha1rnds4`` four SHA-1 rounds, and
``sha256msg1/2``, ``sha1msg1/2`` and ``sha1nexte`` the message schedule. One lane is
one latency-bound chain of round instructions, so :data:`INTERLEAVE` lanes are
emitted step by step together and their chains overlap in the core.

numba has no 128-bit vector type, so each block function is one numba ``@intrinsic``
whose code generator writes the LLVM IR of the whole compression (LLVM's
``llvm.x86.sha*`` intrinsics on ``<4 x i32>``): a loop over the lane groups, scalar
loads of the lane arrays into vectors, the rounds, scalar stores. numba compiles for
the host CPU (its features, ``+sha`` among them, are the module's target features),
so this code may only be called where :data:`HAVE_SHANI` is true; :mod:`.mask`
chooses it by a closure constant.

Early rejection at the instructions' granularity: SHA-256's check words 3 and 7 are
the final d and h, which are a and e after round 61; after 31 ``sha256rnds2`` (62
rounds) they are the b and f of the state. SHA-1's check words 4 and 3 are the final
e and d, ``rotl(a, 30)`` after rounds 76 and 77: 19 ``sha1rnds4`` give the first,
and round 77 is one scalar round.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numba
from llvmlite import binding as llvm
from llvmlite import ir
from numba.core import cgutils, config, types
from numba.extending import intrinsic

from matchsim.kernels import constants as C
from matchsim.kernels.attack._lanes import (
    LANES_SHA1,
    LANES_SHA256,
    data_pointers,
    u32_lane_arrays,
)


def _codegen_has_sha() -> bool:
    """Whether this CPU has the SHA extensions and numba compiles for them: numba's
    JIT targets the host CPU's features unless ``NUMBA_CPU_FEATURES`` names others
    (without ``+sha``, LLVM could not select the instructions)."""
    if not llvm.get_host_cpu_features().get("sha", False):
        return False
    features = getattr(config, "CPU_FEATURES", None)  # set from the environment
    return features is None or "+sha" in str(features).split(",")


HAVE_SHANI = _codegen_has_sha()
"""Whether these functions can run here."""
USE_SHANI = HAVE_SHANI and os.environ.get("MATCHSIM_SHANI", "1") != "0"
"""Whether the attack kernels use these functions: on a CPU with SHA-NI unless
``MATCHSIM_SHANI=0`` (read once, at import: the lane functions, for A/B and tests)."""

INTERLEAVE = 2
"""Lanes whose compressions are emitted together. Measured on Zen 3: ``sha1rnds4``
has a latency of 6 cycles and issues every 2, ``sha256rnds2`` 4 and 1, so one lane
leaves the unit idle; but a lane keeps six XMM registers live (state, previous state,
four schedule words), and with 3 or 4 lanes LLVM spills them: both measured slower
than 2 (SHA-1 blocks 40-56 M/s against 54-56, SHA-256 34-45 against 46-49)."""

_I8, _I32, _I64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)
_V4 = ir.VectorType(_I32, 4)

Vec = list[ir.Value]
"""One value per interleaved lane."""


class _Emitter:
    """Writes the IR of one lane group's compressions (each operation on every
    interleaved lane at once, so the lanes' instructions alternate)."""

    def __init__(self, builder: ir.IRBuilder, w: ir.Value, s: ir.Value, out: ir.Value,
                 lanes: Sequence[ir.Value], width: int) -> None:  # fmt: skip
        self.b = builder
        self.w, self.s, self.out = w, s, out
        self.lanes = list(lanes)
        self.width = width  # lanes per row of the lane arrays

    def _fn(self, name: str, args: Sequence[ir.Type]) -> ir.Function:
        ty = ir.FunctionType(_V4, list(args))
        return cgutils.get_or_insert_function(self.b.module, ty, f"llvm.x86.{name}")

    def call(self, name: str, *xs: Vec, imm: int | None = None) -> Vec:
        """An ``llvm.x86.<name>`` intrinsic on each lane's vectors (``imm``: a last
        i8 immediate operand)."""
        extra = [] if imm is None else [ir.Constant(_I8, imm)]
        fn = self._fn(name, [_V4] * len(xs) + [_I8] * len(extra))
        return [self.b.call(fn, [*args, *extra]) for args in zip(*xs, strict=True)]

    def _ptr(self, base: ir.Value, row: int, lane: ir.Value) -> ir.Value:
        return self.b.gep(base, [self.b.add(lane, ir.Constant(_I64, row * self.width))])

    def load_rows(self, base: ir.Value, rows: Sequence[int | None]) -> Vec:
        """Per lane, a vector whose element i is row ``rows[i]`` of ``base`` (None:
        zero)."""
        out = []
        for lane in self.lanes:
            v = ir.Constant(_V4, None)
            for i, row in enumerate(rows):
                if row is not None:
                    x = self.b.load(self._ptr(base, row, lane))
                    v = self.b.insert_element(v, x, ir.Constant(_I32, i))
            out.append(v)
        return out

    def store(self, row: int, xs: Vec) -> None:
        for lane, x in zip(self.lanes, xs, strict=True):
            self.b.store(x, self._ptr(self.out, row, lane))

    def add(self, xs: Vec, ys: Vec) -> Vec:
        return [self.b.add(x, y) for x, y in zip(xs, ys, strict=True)]

    def xor(self, xs: Vec, ys: Vec) -> Vec:
        return [self.b.xor(x, y) for x, y in zip(xs, ys, strict=True)]

    def const(self, values: Sequence[int]) -> Vec:
        return [ir.Constant(_V4, [ir.Constant(_I32, v) for v in values])] * len(self.lanes)

    def scalar(self, v: int) -> Vec:
        return [ir.Constant(_I32, v)] * len(self.lanes)

    def shuffle(self, xs: Vec, ys: Vec, mask: Sequence[int]) -> Vec:
        m = ir.Constant(_V4, [ir.Constant(_I32, i) for i in mask])
        return [self.b.shuffle_vector(x, y, m) for x, y in zip(xs, ys, strict=True)]

    def element(self, xs: Vec, i: int) -> Vec:
        return [self.b.extract_element(x, ir.Constant(_I32, i)) for x in xs]

    def rotl(self, xs: Vec, n: int) -> Vec:
        b = self.b
        k, back = ir.Constant(_I32, n), ir.Constant(_I32, 32 - n)
        return [b.or_(b.shl(x, k), b.lshr(x, back)) for x in xs]


def _sha256(e: _Emitter, early: bool, zero: frozenset[int]) -> None:
    """SHA-256 of one block per lane: the new state into out rows 0..7, or (``early``)
    digest words 3 and 7 into rows 0 and 1. Message words in ``zero`` are taken as 0."""
    # sha256rnds2 holds the state as (a, b, e, f) and (c, d, g, h), a and c in element 3.
    abef0 = e.load_rows(e.s, (5, 4, 1, 0))
    cdgh0 = e.load_rows(e.s, (7, 6, 3, 2))
    msg = [e.load_rows(e.w, [None if t in zero else t for t in range(4 * g, 4 * g + 4)])
           for g in range(4)]  # fmt: skip
    abef, cdgh = abef0, cdgh0
    pairs = 31 if early else 32  # 62 rounds: the final d and h are then b and f
    for g in range((pairs + 1) // 2):
        if g >= 4:  # w[t..t+3] from w[t-16..t-1], four words per step
            m0, m1, m2, m3 = msg[g - 4 : g]
            x = e.add(e.call("sha256msg1", m0, m1), e.shuffle(m2, m3, (1, 2, 3, 4)))
            msg.append(e.call("sha256msg2", x, m3))
        wk = e.add(msg[g], e.const(C.SHA256_K[4 * g : 4 * g + 4]))
        cdgh = e.call("sha256rnds2", cdgh, abef, wk)  # the new (a, b, e, f)
        cdgh, abef = abef, cdgh
        if 2 * g + 1 < pairs:
            hi = e.shuffle(wk, wk, (2, 3, 2, 3))
            cdgh = e.call("sha256rnds2", cdgh, abef, hi)
            cdgh, abef = abef, cdgh
    if early:
        e.store(0, e.add(e.element(cdgh0, 2), e.element(abef, 2)))  # S[3] + a61
        e.store(1, e.add(e.element(cdgh0, 0), e.element(abef, 0)))  # S[7] + e61
        return
    abef, cdgh = e.add(abef, abef0), e.add(cdgh, cdgh0)
    for row, (v, i) in enumerate(((abef, 3), (abef, 2), (cdgh, 3), (cdgh, 2),
                                  (abef, 1), (abef, 0), (cdgh, 1), (cdgh, 0))):  # fmt: skip
        e.store(row, e.element(v, i))


def _sha1(e: _Emitter, early: bool, zero: frozenset[int]) -> None:
    """SHA-1 of one block per lane: the new state into out rows 0..4, or (``early``)
    digest words 4 and 3 into rows 0 and 1."""
    # sha1rnds4 holds (a, b, c, d) with a in element 3, and e in element 3 of another.
    abcd0 = e.load_rows(e.s, (3, 2, 1, 0))
    e0 = e.load_rows(e.s, (None, None, None, 4))
    msg = [e.load_rows(e.w, [None if t in zero else t for t in range(4 * g + 3, 4 * g - 1, -1)])
           for g in range(4)]  # fmt: skip
    states = [abcd0]
    for g in range(20):
        if g >= 4:  # w[t..t+3] from w[t-16..t-1]
            m0, m1, m2, m3 = msg[g - 4 : g]
            msg.append(e.call("sha1msg2", e.xor(e.call("sha1msg1", m0, m1), m2), m3))
        if early and g == 19:
            break
        # e of this group: rotl(a before the previous group, 30) (+ its message word).
        ew = e.add(e0, msg[0]) if g == 0 else e.call("sha1nexte", states[g - 1], msg[g])
        states.append(e.call("sha1rnds4", states[g], ew, imm=g // 5))
    if not early:
        e.store(4, e.element(e.call("sha1nexte", states[19], e0), 3))
        abcd = e.add(states[20], abcd0)
        for row in range(4):
            e.store(row, e.element(abcd, 3 - row))
        return
    # Round 77 (t = 76) by hand from the state after 76 rounds.
    s = states[19]
    a, b, c, d = (e.element(s, i) for i in (3, 2, 1, 0))
    ew = e.element(e.call("sha1nexte", states[18], msg[19]), 3)  # e + w[76]
    f = e.xor(e.xor(b, c), d)
    a77 = e.add(e.add(e.rotl(a, 5), f), e.add(ew, e.scalar(C.SHA1_K[3])))
    e.store(0, e.add(e.element(e0, 3), e.rotl(a, 30)))
    e.store(1, e.add(e.element(abcd0, 0), e.rotl(a77, 30)))


def _block_intrinsic(emit: Callable[[_Emitter, bool, frozenset[int]], None], lanes: int,
                     early: bool, zero: frozenset[int] = frozenset()) -> Any:  # fmt: skip
    """An ``@intrinsic`` ``(W, S, out)`` that runs ``emit``'s compression on every lane
    of lane arrays of ``lanes`` lanes (the algorithm's, :mod:`.params`)."""

    @intrinsic
    def block(typingctx: Any, w: Any, s: Any, out: Any) -> Any:
        if not u32_lane_arrays(w, s, out):
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            w_ptr, s_ptr, out_ptr = data_pointers(context, builder, signature, args)
            start, stop = ir.Constant(_I64, 0), ir.Constant(_I64, lanes)
            step = ir.Constant(_I64, INTERLEAVE)
            with cgutils.for_range_slice(builder, start, stop, step) as (ln, _):
                group = [builder.add(ln, ir.Constant(_I64, j)) for j in range(INTERLEAVE)]
                emit(_Emitter(builder, w_ptr, s_ptr, out_ptr, group, lanes), early, zero)
            return context.get_dummy_value()

        return types.none(w, s, out), codegen

    return block


SHORT_ZERO = frozenset(range(4, 15))
"""Message words that are zero in a short candidate's only block (as in
:data:`._gen_unrolled.SHORT_ZERO` for the SHAs)."""

_sha256_early = _block_intrinsic(_sha256, LANES_SHA256, early=True)
_sha256_short = _block_intrinsic(_sha256, LANES_SHA256, early=True, zero=SHORT_ZERO)
_sha256_full = _block_intrinsic(_sha256, LANES_SHA256, early=False)
_sha1_early = _block_intrinsic(_sha1, LANES_SHA1, early=True)
_sha1_short = _block_intrinsic(_sha1, LANES_SHA1, early=True, zero=SHORT_ZERO)
_sha1_full = _block_intrinsic(_sha1, LANES_SHA1, early=False)


@numba.njit(cache=True, nogil=True)
def sha256_early(W: Any, S: Any, out: Any) -> None:
    """Digest words 3 and 7 of one block per lane into out rows 0 and 1."""
    _sha256_early(W, S, out)


@numba.njit(cache=True, nogil=True)
def sha256_short(W: Any, S: Any, out: Any) -> None:
    """:func:`sha256_early` with message words 4..14 taken as zero."""
    _sha256_short(W, S, out)


@numba.njit(cache=True, nogil=True)
def sha256_full(W: Any, S: Any, out: Any) -> None:
    """The new state of one block per lane into out rows 0..7."""
    _sha256_full(W, S, out)


@numba.njit(cache=True, nogil=True)
def sha1_early(W: Any, S: Any, out: Any) -> None:
    """Digest words 4 and 3 of one block per lane into out rows 0 and 1."""
    _sha1_early(W, S, out)


@numba.njit(cache=True, nogil=True)
def sha1_short(W: Any, S: Any, out: Any) -> None:
    """:func:`sha1_early` with message words 4..14 taken as zero."""
    _sha1_short(W, S, out)


@numba.njit(cache=True, nogil=True)
def sha1_full(W: Any, S: Any, out: Any) -> None:
    """The new state of one block per lane into out rows 0..4."""
    _sha1_full(W, S, out)
