"""Writes the attack's hash block functions, every round spelled out, for two targets:

- ``_unrolled.py`` (CPU): MD5, SHA-1, SHA-256 and SHA-512 over lane arrays. With a round
  loop whose count is a run-time value, the working variables and schedule live in lane
  arrays and go through L1 on every round. Spelled out, each round's a..h and each
  schedule word is a local, the lane loop's body is straight-line code, and LLVM
  vectorises the lane loop with the whole state in SIMD registers (the rates are in
  :mod:`.mask`'s docstring); 32-bit words use :mod:`matchsim.kernels.u32`, an MD5
  step is one :func:`._md5_step.md5_step` call, and the scan's MD5 block functions
  hash ``MD5_GROUPS`` lane groups side by side.
- ``_unrolled_gpu.py`` (CUDA device functions for :mod:`.gpu`): the same rounds for one
  candidate per thread, 32-bit words as uint64 masked to 32 bits (the intrinsics are
  CPU-only, and numba's CUDA simulator runs this code as Python).

Each algorithm is written once below, against an arithmetic spelling (:class:`_Ops`)
and a memory layout (:class:`_Target`). numba cannot unroll a loop itself, hence this
generator; the generated modules are committed, and a test checks they are what this
generator writes (run ``python -m matchsim.kernels.attack._gen_unrolled`` after a
change here).

Every value has its own name, assigned once, so numba's SSA pass has nothing to rename
(reassigning eight names per round made it quadratic: a minute per function).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from matchsim.kernels import constants as C
from matchsim.kernels.attack import md5_reverse as R

HERE = Path(__file__).parent
TARGETS = {"cpu": HERE / "_unrolled.py", "gpu": HERE / "_unrolled_gpu.py"}
# Rounds (steps) after which the two check words are final (see mask.py).
EARLY_SHA256, EARLY_SHA512, EARLY_SHA1, EARLY_MD5 = 61, 77, 77, 62
MD5_GROUPS = 3
"""Independent lane groups each of the scan's MD5 block functions (the early-rejection
ones) hashes side by side. An MD5 step waits on the step before, about six cycles of
latency for ten vector operations: one group of 8 AVX2 lanes left the vector units
idle most of the time (47 M candidates per CPU-second on the NL mobile mask), two
groups gave 70 and three 95; four spilled registers (76). ``LANES_MD5 // MD5_GROUPS``
must stay at least 16: LLVM does not vectorise a loop of fewer iterations that needs
run-time alias checks. SHA-512 with two groups was not faster by more than the noise
and took 130 s to compile; SHA-1 and SHA-256 are left as they are."""


class _Ops:
    """How arithmetic on one word size is spelled (expressions as strings).

    ``add``, ``xor``, ``rotl``/``rotr`` and ``shr`` accept ``None`` for a word known to
    be zero (a message word of a short candidate) and drop it, returning ``None`` when
    nothing is left, so the generated code never computes with those words."""

    bits = 32

    def add(self, *xs: str | None) -> str | None:
        terms = [x for x in xs if x is not None]
        if not terms:
            return None
        out = terms[0]
        for x in terms[1:]:
            out = self._add2(out, x)
        return out

    def _add2(self, x: str, y: str) -> str:
        raise NotImplementedError

    def xor(self, *xs: str | None) -> str | None:
        terms = [x for x in xs if x is not None]
        if len(terms) <= 1:
            return terms[0] if terms else None
        return "(" + " ^ ".join(terms) + ")"

    def and_(self, x: str | None, y: str | None) -> str:
        assert x is not None and y is not None  # state words, never known zero
        return f"({x} & {y})"

    def or_(self, x: str | None, y: str | None) -> str:
        assert x is not None and y is not None
        return f"({x} | {y})"

    def not_(self, x: str) -> str:
        raise NotImplementedError

    def rotr(self, x: str | None, n: int) -> str | None:
        return self.rotl(x, self.bits - n)

    def rotl(self, x: str | None, n: int) -> str | None:
        return None if x is None else self._rotl(x, n)

    def _rotl(self, x: str, n: int) -> str:
        raise NotImplementedError

    def shr(self, x: str | None, n: int) -> str | None:
        return None if x is None else self._shr(x, n)

    def _shr(self, x: str, n: int) -> str:
        return f"({x} >> np.uint64({n}))"

    def const(self, v: int) -> str:
        raise NotImplementedError

    def md5_step(self, i: int, w: str | None) -> list[str]:
        """MD5 step ``i`` with message word ``w``: ``x{i + 4}`` from ``x{i}..x{i + 3}``
        (a, d, c, b), through ``y{i}``."""
        a, d, c, b = f"x{i}", f"x{i + 1}", f"x{i + 2}", f"x{i + 3}"
        if i < 16:
            f = self.xor(d, self.and_(b, self.xor(c, d)))
        elif i < 32:
            f = self.xor(c, self.and_(d, self.xor(b, c)))
        elif i < 48:
            f = self.xor(self.xor(b, c), d)
        else:
            f = self.xor(c, self.or_(b, self.not_(d)))
        y = self.add(self.add(a, f), self.add(self.const(C.MD5_T[i]), w))
        return [f"y{i} = {y}", f"x{i + 4} = {self.add(b, self.rotl(f'y{i}', C.MD5_S[i]))}"]


class _U32(_Ops):
    """32-bit words through :mod:`matchsim.kernels.u32` (LLVM ``i32``; CPU)."""

    def _add2(self, x: str, y: str) -> str:
        return f"u32.add({x}, {y})"

    def xor(self, *xs: str | None) -> str | None:
        terms = [x for x in xs if x is not None]
        if not terms:
            return None
        out = terms[0]
        for x in terms[1:]:
            out = f"u32.xor({out}, {x})"
        return out

    def and_(self, x: str | None, y: str | None) -> str:
        assert x is not None and y is not None
        return f"u32.and_({x}, {y})"

    def or_(self, x: str | None, y: str | None) -> str:
        assert x is not None and y is not None
        return f"u32.or_({x}, {y})"

    def not_(self, x: str) -> str:
        return f"u32.not_({x})"

    def rotr(self, x: str | None, n: int) -> str | None:
        return None if x is None else f"u32.rotr({x}, {n})"

    def _rotl(self, x: str, n: int) -> str:
        return f"u32.rotl({x}, {n})"

    def _shr(self, x: str, n: int) -> str:
        return f"u32.shr({x}, {n})"

    def const(self, v: int) -> str:
        return f"np.uint32({v:#010x})"

    def md5_step(self, i: int, w: str | None) -> list[str]:
        """One :func:`~._md5_step.md5_step` call (a dozen u32 calls spelled out)."""
        kind = ("F", "G", "H_shared" if i % 2 else "H", "I")[i // 16]
        args = f"x{i}, x{i + 3}, x{i + 2}, x{i + 1}, {w}, {C.MD5_T[i]:#010x}, {C.MD5_S[i]}"
        return [f'x{i + 4} = md5_step("{kind}", {args})']


class _Masked32(_Ops):
    """32-bit words held in uint64 and masked back to 32 bits (GPU)."""

    def _add2(self, x: str, y: str) -> str:
        return f"(({x} + {y}) & M32)"

    def not_(self, x: str) -> str:
        return f"(~{x} & M32)"

    def _rotl(self, x: str, n: int) -> str:
        return f"((({x} << np.uint64({n})) | ({x} >> np.uint64({32 - n}))) & M32)"

    def const(self, v: int) -> str:
        return f"np.uint64({v:#010x})"


class _Native64(_Ops):
    """64-bit words in native uint64, whose additions wrap (SHA-512; GPU)."""

    bits = 64
    fused = False
    """Whether a round and a schedule word are :mod:`._sha512_step` calls (CPU)."""

    def add(self, *xs: str | None) -> str | None:
        terms = [x for x in xs if x is not None]
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else "(" + " + ".join(terms) + ")"

    def _rotl(self, x: str, n: int) -> str:
        return f"(({x} << np.uint64({n})) | ({x} >> np.uint64({64 - n})))"

    def const(self, v: int) -> str:
        return f"np.uint64({v:#018x})"


class _U64(_Native64):
    """SHA-512 on the CPU: each round two :mod:`._sha512_step` intrinsics and each
    schedule word one (the same arithmetic, a fraction of the compile time)."""

    fused = True


@dataclass(frozen=True)
class _Target:
    """Where a block function reads its message and state and writes its result."""

    cpu: bool
    groups: int = 1
    lanes: str = ""
    """The name of the algorithm's lane count (:mod:`.params`; CPU)."""

    def w(self, t: int) -> str:
        return f"W[_ix({t}, ln, {self.lanes})]" if self.cpu else f"M[moff + {t}]"

    def s(self, i: int) -> str:
        return f"S[_ix({i}, ln, {self.lanes})]" if self.cpu else f"S[{i}]"

    def out(self, i: int) -> str:
        return f"out[_ix({i}, ln, {self.lanes})]" if self.cpu else f"out[{i}]"

    def function(self, name: str, rounds: int, doc: str, body: list[str],
                 arrays: str = "W, S, out") -> list[str]:  # fmt: skip
        if self.cpu:
            lanes = self.lanes if self.groups == 1 else f"{self.lanes} // {self.groups}"
            params = ", ".join(f"{a}: np.ndarray" for a in arrays.split(", "))
            return [
                "",
                "",
                "@numba.njit(cache=True, nogil=True)",
                f"def {name}_{rounds}({params}) -> None:",
                f'    """{rounds} rounds of one block per lane (message rows 0..15 of ``W``). '
                f'{doc}"""',
                f"    for ln in range({lanes}):",
                *(f"        {line}" for line in _interleave(body, self.groups, self.lanes)),
            ]
        return [
            "",
            "",
            "@cuda.jit(device=True)",
            f"def {name}_{rounds}(M: Any, moff: Any, S: Any, out: Any) -> None:",
            f'    """{rounds} rounds of one block (message words ``M[moff:moff + 16]``). {doc}"""',
            *(f"    {line}" for line in body),
        ]


_LOCAL = re.compile(r"\b([wxyaepr]\d+)\b")
"""A local of the generated bodies: a letter and a number (``w3``, ``x17``, ``a9``)."""


def _interleave(body: list[str], groups: int, lanes: str) -> list[str]:
    """``body`` for ``groups`` independent lane groups, statement by statement: group
    ``g`` works on lanes ``ln + g * lanes // groups``, its locals suffixed ``_g``. The
    statements of one step for every group sit side by side, so the out-of-order core
    always has independent work while one group's chain waits."""
    if groups == 1:
        return body
    out = []
    for line in body:
        for g in range(groups):
            lane = f"ln + {g} * {lanes} // {groups}" if g else "ln"
            named = _LOCAL.sub(rf"\g<1>_{g}", line)
            out.append(named.replace(", ln, ", f", {lane}, "))
    return out


def _result(early: bool, check: str, n_state: int, zero: frozenset[int] = frozenset()) -> str:
    if early:
        out = f"Digest words {check} only, into out 0 and 1 (early rejection)."
    else:
        out = f"The new state S + (working variables), into out 0..{n_state - 1}."
    if zero:
        out += f" Message words {', '.join(str(t) for t in sorted(zero))} are taken as zero."
    return out


SHORT_ZERO = {
    "md5": R.SHORT_ZERO,
    "sha1": frozenset(range(4, 15)),
    "sha256": frozenset(range(4, 15)),
    "sha512": frozenset(range(2, 15)),
}
"""Message words that are zero in the only block of a candidate of at most 15 bytes
(16 with the 0x80 that ends it): all but the first 16 bytes and the length word (MD5's
is word 14, little-endian; the SHAs' word 15, their word 14 being the length's high
half). The ``*_short_*`` functions take these words as zero, so their code never
touches them: schedule terms and round additions that would only add zero are gone."""


def _message(tg: _Target, zero: frozenset[int]) -> tuple[list[str], dict[int, str | None]]:
    """Lines that load message words 0..15 and each word's name (None: known zero)."""
    names: dict[int, str | None] = {t: None if t in zero else f"w{t}" for t in range(16)}
    return [f"w{t} = {tg.w(t)}" for t in range(16) if t not in zero], names


def _word(body: list[str], names: dict[int, str | None], t: int, value: str | None) -> None:
    """Name schedule word ``t`` (None if it is known to be zero)."""
    if value is None:
        names[t] = None
    else:
        body.append(f"w{t} = {value}")
        names[t] = f"w{t}"


def _sha2(tg: _Target, op: _Ops, rounds: int, zero: frozenset[int] = frozenset()) -> list[str]:
    """SHA-256 (32-bit ``op``) or SHA-512 (64-bit). ``a{k}``/``e{k}`` are a and e after
    round k - 4; b, c, d are older a's, f, g, h older e's."""
    wide = op.bits == 64
    full = 80 if wide else 64
    if wide:
        sig = ((19, 61, 6), (1, 8, 7), (14, 18, 41), (28, 34, 39))
        k = [op.const(v) for v in C.SHA512_K]
    else:
        sig = ((17, 19, 10), (7, 18, 3), (6, 11, 25), (2, 13, 22))
        k = [op.const(v) for v in C.SHA256_K]
    (s1a, s1b, s1c), (s0a, s0b, s0c), (e1, e2, e3), (a1, a2, a3) = sig
    rot = op.rotr
    body, w = _message(tg, zero)
    if isinstance(op, _Native64) and op.fused:
        return _sha512_fused(tg, op, rounds, zero, body, w)
    for t in range(16, rounds):
        x, y = w[t - 2], w[t - 15]
        small1 = op.xor(rot(x, s1a), rot(x, s1b), op.shr(x, s1c))
        small0 = op.xor(rot(y, s0a), rot(y, s0b), op.shr(y, s0c))
        _word(body, w, t, op.add(small1, w[t - 7], small0, w[t - 16]))
    body += [f"a{3 - i} = {tg.s(i)}" for i in range(4)]
    body += [f"e{3 - i} = {tg.s(i + 4)}" for i in range(4)]
    for t in range(rounds):
        a, b, c, d = (f"a{t + 3 - j}" for j in range(4))
        e, f, g, h = (f"e{t + 3 - j}" for j in range(4))
        big1 = op.xor(rot(e, e1), rot(e, e2), rot(e, e3))
        big0 = op.xor(rot(a, a1), rot(a, a2), rot(a, a3))
        ch = op.xor(g, op.and_(e, op.xor(f, g)))
        maj = op.or_(op.and_(a, b), op.and_(c, op.or_(a, b)))
        body += [
            f"p{t} = {op.add(h, big1, ch, k[t], w[t])}",
            f"a{t + 4} = {op.add(f'p{t}', big0, maj)}",
            f"e{t + 4} = {op.add(d, f'p{t}')}",
        ]
    name = ("sha512" if wide else "sha256") + ("_short" if zero else "_block")
    return _sha2_finish(tg, op, name, rounds, full, zero, body)


def _sha2_finish(tg: _Target, op: _Ops, name: str, rounds: int, full: int,
                 zero: frozenset[int], body: list[str]) -> list[str]:  # fmt: skip
    """The SHA-2 block function's output after ``rounds`` of ``full``: the check words
    (digest words 3 and 7) when it stops early, else the new state."""
    r = rounds
    early = rounds < full
    if early:
        body += [
            f"{tg.out(0)} = {op.add(tg.s(3), f'a{r + 3}')}",
            f"{tg.out(1)} = {op.add(tg.s(7), f'e{r + 3}')}",
        ]
    else:
        for i in range(4):
            body.append(f"{tg.out(i)} = {op.add(tg.s(i), f'a{r + 3 - i}')}")
            body.append(f"{tg.out(i + 4)} = {op.add(tg.s(i + 4), f'e{r + 3 - i}')}")
    return tg.function(name, rounds, _result(early, "3 and 7", 8, zero), body)


def _sha512_fused(tg: _Target, op: _Ops, rounds: int, zero: frozenset[int], body: list[str],
                  w: dict[int, str | None]) -> list[str]:  # fmt: skip
    """:func:`_sha2`'s SHA-512 with each schedule word and round half one intrinsic
    call (``None`` for a zero word): the same names and results."""
    for t in range(16, rounds):
        terms = (w[t - 2], w[t - 7], w[t - 15], w[t - 16])
        call = f"sha512_schedule({', '.join(map(str, terms))})"
        _word(body, w, t, None if all(x is None for x in terms) else call)
    body += [f"a{3 - i} = {tg.s(i)}" for i in range(4)]
    body += [f"e{3 - i} = {tg.s(i + 4)}" for i in range(4)]
    for t in range(rounds):
        a, b, c, d = (f"a{t + 3 - j}" for j in range(4))
        e, f, g, h = (f"e{t + 3 - j}" for j in range(4))
        body += [
            f"p{t} = sha512_t1({e}, {f}, {g}, {h}, {w[t]}, {C.SHA512_K[t]:#018x})",
            f"a{t + 4} = sha512_t2({a}, {b}, {c}, p{t})",
            f"e{t + 4} = {op.add(d, f'p{t}')}",
        ]
    return _sha2_finish(tg, op, "sha512" + ("_short" if zero else "_block"), rounds, 80, zero,
                        body)  # fmt: skip


def _sha1(tg: _Target, op: _Ops, rounds: int, zero: frozenset[int] = frozenset()) -> list[str]:
    """SHA-1; ``a{k}`` is a after round k - 5 and ``r{k}`` its rotl-30 (c, d, e are
    older r's)."""
    early = rounds < 80
    body, w = _message(tg, zero)
    for t in range(16, rounds):
        x = op.xor(op.xor(w[t - 3], w[t - 8]), op.xor(w[t - 14], w[t - 16]))
        _word(body, w, t, op.rotl(x, 1))
    body += [
        f"a4 = {tg.s(0)}",
        f"a3 = {tg.s(1)}",
        f"r4 = {op.rotl('a4', 30)}",
        f"r3 = {op.rotl('a3', 30)}",
        f"r2 = {tg.s(2)}",
        f"r1 = {tg.s(3)}",
        f"r0 = {tg.s(4)}",
    ]
    for t in range(rounds):
        a, b, c, d, e = f"a{t + 4}", f"a{t + 3}", f"r{t + 2}", f"r{t + 1}", f"r{t}"
        if t < 20:
            f = op.xor(d, op.and_(b, op.xor(c, d)))
        elif 40 <= t < 60:
            f = op.or_(op.and_(b, c), op.and_(d, op.or_(b, c)))
        else:
            f = op.xor(op.xor(b, c), d)
        k = op.const(C.SHA1_K[t // 20])
        body += [
            f"a{t + 5} = {op.add(op.add(op.rotl(a, 5), f), op.add(op.add(e, k), w[t]))}",
            f"r{t + 5} = {op.rotl(f'a{t + 5}', 30)}",
        ]
    r = rounds
    if early:
        body += [
            f"{tg.out(0)} = {op.add(tg.s(4), f'r{r + 3}')}",
            f"{tg.out(1)} = {op.add(tg.s(3), f'r{r + 4}')}",
        ]
    else:
        final = [f"a{r + 4}", f"a{r + 3}", f"r{r + 2}", f"r{r + 1}", f"r{r}"]
        body += [f"{tg.out(i)} = {op.add(tg.s(i), v)}" for i, v in enumerate(final)]
    name = "sha1_short" if zero else "sha1_block"
    return tg.function(name, rounds, _result(early, "4 and 3", 5, zero), body)


def _md5(tg: _Target, op: _Ops, steps: int, zero: frozenset[int] = frozenset()) -> list[str]:
    """MD5; ``x{k}`` is the b that step k - 4 writes (a, d, c, b of step i are
    ``x{i}..x{i+3}``)."""
    early = steps < 64
    body, w = _message(tg, zero)
    body += [f"x0 = {tg.s(0)}", f"x1 = {tg.s(3)}", f"x2 = {tg.s(2)}", f"x3 = {tg.s(1)}"]
    for i in range(steps):
        body += op.md5_step(i, w[C.MD5_G[i]])
    n = steps
    if early:
        # After 62 steps the final a is step 60's b and the final d step 61's.
        body += [
            f"{tg.out(0)} = {op.add(tg.s(0), f'x{n + 2}')}",
            f"{tg.out(1)} = {op.add(tg.s(3), f'x{n + 3}')}",
        ]
    else:
        final = [f"x{n}", f"x{n + 3}", f"x{n + 2}", f"x{n + 1}"]
        body += [f"{tg.out(i)} = {op.add(tg.s(i), v)}" for i, v in enumerate(final)]
    name = "md5_short" if zero else "md5_block"
    return tg.function(name, steps, _result(early, "0 and 3", 4, zero), body)


def _md5_reversed(tg: _Target, op: _Ops) -> list[str]:
    """The per-candidate steps of MD5 against a few targets (:mod:`.md5_reverse`): a
    short candidate's steps ``FIRST..CHECK - 1`` from the state after step ``FIRST - 1``
    (S rows 0..3: ``x{FIRST}..x{FIRST + 3}``), writing ``x{CHECK + 3} + w1`` (out row 0),
    the value :func:`.md5_reverse.table` gives for a target."""
    first, check = R.FIRST, R.CHECK
    body, w = _message(tg, SHORT_ZERO["md5"] | {R.WORD})
    # Word 2 (the inner space's) straight from its table: X, one value per lane.
    body.append(f"w{R.WORD} = X[_ix(0, ln, {tg.lanes})]")
    w[R.WORD] = f"w{R.WORD}"
    body += [f"x{first + i} = {tg.s(i)}" for i in range(4)]
    for i in range(first, check):
        body += op.md5_step(i, w[C.MD5_G[i]])
    body.append(f"{tg.out(0)} = {op.add(f'x{check + 3}', w[1])}")
    doc = (
        f"Steps {first}..{check - 1} of a short candidate from S rows 0..3 (the state after "
        f"step {first - 1}), word {R.WORD} from ``X`` (one row); x{check + 3} + w1 into "
        "out 0 (:mod:`.md5_reverse`)."
    )
    return tg.function("md5_short_rev", check, doc, body, "W, X, S, out")


def _functions(tg: _Target, op32: _Ops) -> list[str]:
    wide = _U64() if tg.cpu else _Native64()
    md5, sha1, sha256, sha512 = tg, tg, tg, tg
    if tg.cpu:  # each algorithm's lane count
        md5, sha1, sha256, sha512 = (
            replace(tg, lanes=f"LANES_{a.upper()}") for a in ("md5", "sha1", "sha256", "sha512")
        )
    # Only the scan's MD5 block functions interleave lane groups: the full one (batch
    # hashing, verification, the blocks before a long candidate's last) is not worth
    # its compile time.
    md5_groups = replace(md5, groups=MD5_GROUPS) if tg.cpu else md5
    lines = _md5(md5_groups, op32, EARLY_MD5) + _md5(md5, op32, 64)
    lines += _sha1(sha1, op32, EARLY_SHA1) + _sha1(sha1, op32, 80)
    lines += _sha2(sha256, op32, EARLY_SHA256) + _sha2(sha256, op32, 64)
    lines += _sha2(sha512, wide, EARLY_SHA512) + _sha2(sha512, wide, 80)
    if tg.cpu:
        # The scan's single block of a short candidate (phones, dates, postcodes).
        z = SHORT_ZERO
        lines += _md5(md5_groups, op32, EARLY_MD5, z["md5"])
        lines += _sha1(sha1, op32, EARLY_SHA1, z["sha1"])
        lines += _sha2(sha256, op32, EARLY_SHA256, z["sha256"])
        lines += _sha2(sha512, wide, EARLY_SHA512, z["sha512"])
        # The few-target scan's steps (:mod:`.md5_reverse`).
        lines += _md5_reversed(md5_groups, op32)
    return lines


def render(target: str = "cpu") -> str:
    """The source of the ``cpu`` or ``gpu`` module."""
    what = "over lane arrays" if target == "cpu" else "as CUDA device functions"
    head = [
        f'"""MD5, SHA-1, SHA-256 and SHA-512 {what}, every round spelled out.',
        "",
        "GENERATED: do not edit.",
        "",
        "Written by :mod:`matchsim.kernels.attack._gen_unrolled`, which says why.",
        '"""',
        "",
        "# ruff: noqa: E501, F841",
        "",
        "from __future__ import annotations",
        "",
    ]
    if target == "cpu":
        head += [
            "import numba",
            "import numpy as np",
            "",
            "from matchsim.kernels.attack._lanes import (",
            "    LANES_MD5,",
            "    LANES_SHA1,",
            "    LANES_SHA256,",
            "    LANES_SHA512,",
            "    _ix,",
            ")",
            "from matchsim.kernels.attack._md5_step import md5_step",
            "from matchsim.kernels.attack._sha512_step import (",
            "    sha512_schedule,",
            "    sha512_t1,",
            "    sha512_t2,",
            ")",
            "from matchsim.kernels import u32",
        ]
        return "\n".join(head + _functions(_Target(cpu=True), _U32())) + "\n"
    head += [
        "from typing import Any",
        "",
        "import numpy as np",
        "from numba import cuda",
        "",
        "M32 = np.uint64(0xFFFFFFFF)",
    ]
    return "\n".join(head + _functions(_Target(cpu=False), _Masked32())) + "\n"


if __name__ == "__main__":
    for name, path in TARGETS.items():
        path.write_text(render(name))
        print(f"wrote {path}")
