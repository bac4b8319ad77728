"""Writes ``_unrolled.py``: MD5, SHA-1, SHA-256 and SHA-512 over lane arrays, every
round spelled out.

With a round loop whose count is a run-time value, the working variables and schedule
live in lane arrays and go through L1 on every round. Spelled out, each round's a..h
and each schedule word is a local, the lane loop's body is straight-line code, and LLVM
vectorises the lane loop with the whole state in SIMD registers (the rates are in
:mod:`.mask`'s docstring). numba cannot unroll a loop itself, hence this
generator; the generated module is committed, and a test checks it is what this
generator writes (run ``python -m matchsim.attack.kernels._gen_unrolled`` after a
change here).
"""

from __future__ import annotations

from pathlib import Path

from matchsim.kernels import constants as C

TARGET = Path(__file__).with_name("_unrolled.py")
# Rounds (steps) after which the two check words are final (see mask.py).
EARLY_SHA256, EARLY_SHA512, EARLY_SHA1, EARLY_MD5 = 61, 77, 77, 62


def _header(name: str, rounds: int, doc: str) -> list[str]:
    return [
        "",
        "",
        "@numba.njit(cache=True, nogil=True)",
        f"def {name}_{rounds}(W: np.ndarray, S: np.ndarray, out: np.ndarray) -> None:",
        f'    """{rounds} rounds of one block per lane (message rows 0..15 of ``W``). {doc}"""',
        "    for ln in range(LANES):",
    ]


def _sha2(rounds: int, wide: bool) -> list[str]:
    """SHA-256 (``wide`` False, u32 intrinsics) or SHA-512 (native uint64) for ``rounds``.

    Every value has its own name, assigned once: ``a{k}``/``e{k}`` are a and e after
    round k - 4 (b, c, d are older a's, f, g, h older e's), so numba's SSA pass has
    nothing to rename (reassigning eight names per round made it quadratic: a minute
    per function).
    """
    full = 80 if wide else 64
    name = "sha512_block" if wide else "sha256_block"
    doc = (
        "Digest words 3 and 7 only, into out rows 0 and 1 (early rejection)."
        if rounds < full
        else "The new state S + (a..h), into out rows 0..7."
    )
    if wide:
        add = lambda *xs: " + ".join(xs)  # noqa: E731
        xor = lambda *xs: "(" + " ^ ".join(xs) + ")"  # noqa: E731
        and_ = lambda x, y: f"({x} & {y})"  # noqa: E731
        or_ = lambda x, y: f"({x} | {y})"  # noqa: E731

        def rot(x: str, n: int) -> str:
            return f"(({x} >> np.uint64({n})) | ({x} << np.uint64({64 - n})))"

        def shr(x: str, n: int) -> str:
            return f"({x} >> np.uint64({n}))"

        sig = ((19, 61, 6), (1, 8, 7), (14, 18, 41), (28, 34, 39))
        k = [f"np.uint64({v:#018x})" for v in C.SHA512_K]
    else:

        def add(*xs: str) -> str:
            out = xs[0]
            for x in xs[1:]:
                out = f"u32.add({out}, {x})"
            return out

        def xor(*xs: str) -> str:
            out = xs[0]
            for x in xs[1:]:
                out = f"u32.xor({out}, {x})"
            return out

        and_ = lambda x, y: f"u32.and_({x}, {y})"  # noqa: E731
        or_ = lambda x, y: f"u32.or_({x}, {y})"  # noqa: E731

        def rot(x: str, n: int) -> str:
            return f"u32.rotr({x}, {n})"

        def shr(x: str, n: int) -> str:
            return f"u32.shr({x}, {n})"

        sig = ((17, 19, 10), (7, 18, 3), (6, 11, 25), (2, 13, 22))
        k = [f"np.uint32({v:#010x})" for v in C.SHA256_K]
    (s1a, s1b, s1c), (s0a, s0b, s0c), (e1, e2, e3), (a1, a2, a3) = sig
    body = [f"w{t} = W[_ix({t}, ln)]" for t in range(16)]
    for t in range(16, rounds):
        x, y = f"w{t - 2}", f"w{t - 15}"
        small1 = xor(rot(x, s1a), rot(x, s1b), shr(x, s1c))
        small0 = xor(rot(y, s0a), rot(y, s0b), shr(y, s0c))
        body.append(f"w{t} = {add(small1, f'w{t - 7}', small0, f'w{t - 16}')}")
    body += [f"a{3 - i} = S[_ix({i}, ln)]" for i in range(4)]
    body += [f"e{3 - i} = S[_ix({i + 4}, ln)]" for i in range(4)]
    for t in range(rounds):
        a, b, c, d = (f"a{t + 3 - j}" for j in range(4))
        e, f, g, h = (f"e{t + 3 - j}" for j in range(4))
        big1 = xor(rot(e, e1), rot(e, e2), rot(e, e3))
        big0 = xor(rot(a, a1), rot(a, a2), rot(a, a3))
        ch = xor(g, and_(e, xor(f, g)))
        maj = or_(and_(a, b), and_(c, or_(a, b)))
        body += [
            f"p{t} = {add(h, big1, ch, k[t], f'w{t}')}",
            f"a{t + 4} = {add(f'p{t}', big0, maj)}",
            f"e{t + 4} = {add(d, f'p{t}')}",
        ]
    r = rounds
    if rounds < full:
        body += [
            f"out[_ix(0, ln)] = {add('S[_ix(3, ln)]', f'a{r + 3}')}",
            f"out[_ix(1, ln)] = {add('S[_ix(7, ln)]', f'e{r + 3}')}",
        ]
    else:
        for i in range(4):
            body.append(f"out[_ix({i}, ln)] = {add(f'S[_ix({i}, ln)]', f'a{r + 3 - i}')}")
            body.append(f"out[_ix({i + 4}, ln)] = {add(f'S[_ix({i + 4}, ln)]', f'e{r + 3 - i}')}")
    return _header(name, rounds, doc) + [f"        {line}" for line in body]


def _sha1(rounds: int) -> list[str]:
    """SHA-1; ``a{k}`` is a after round k - 5 and ``r{k}`` its rotl-30 (c, d, e are
    older r's), each assigned once."""
    early = rounds < 80
    doc = (
        "Digest words 4 and 3 only, into out rows 0 and 1 (early rejection)."
        if early
        else "The new state S + (a..e), into out rows 0..4."
    )
    body = [f"w{t} = W[_ix({t}, ln)]" for t in range(16)]
    for t in range(16, rounds):
        body.append(
            f"w{t} = u32.rotl(u32.xor(u32.xor(w{t - 3}, w{t - 8}), u32.xor(w{t - 14}, "
            f"w{t - 16})), 1)"
        )
    body += [
        "a4 = S[_ix(0, ln)]",
        "a3 = S[_ix(1, ln)]",
        "r4 = u32.rotl(a4, 30)",
        "r3 = u32.rotl(a3, 30)",
        "r2 = S[_ix(2, ln)]",
        "r1 = S[_ix(3, ln)]",
        "r0 = S[_ix(4, ln)]",
    ]
    for t in range(rounds):
        a, b, c, d, e = f"a{t + 4}", f"a{t + 3}", f"r{t + 2}", f"r{t + 1}", f"r{t}"
        if t < 20:
            f = f"u32.xor({d}, u32.and_({b}, u32.xor({c}, {d})))"
        elif 40 <= t < 60:
            f = f"u32.or_(u32.and_({b}, {c}), u32.and_({d}, u32.or_({b}, {c})))"
        else:
            f = f"u32.xor(u32.xor({b}, {c}), {d})"
        k = C.SHA1_K[t // 20]
        body += [
            f"a{t + 5} = u32.add(u32.add(u32.rotl({a}, 5), {f}), u32.add(u32.add({e}, "
            f"np.uint32({k:#010x})), w{t}))",
            f"r{t + 5} = u32.rotl(a{t + 5}, 30)",
        ]
    r = rounds
    if early:
        body += [
            f"out[_ix(0, ln)] = u32.add(S[_ix(4, ln)], r{r + 3})",
            f"out[_ix(1, ln)] = u32.add(S[_ix(3, ln)], r{r + 4})",
        ]
    else:
        final = [f"a{r + 4}", f"a{r + 3}", f"r{r + 2}", f"r{r + 1}", f"r{r}"]
        body += [f"out[_ix({i}, ln)] = u32.add(S[_ix({i}, ln)], {v})" for i, v in enumerate(final)]
    return _header("sha1_block", rounds, doc) + [f"        {line}" for line in body]


def _md5(steps: int) -> list[str]:
    """MD5; ``x{k}`` is the b that step k - 4 writes (a, d, c, b of step i are
    ``x{i}..x{i+3}``), each assigned once."""
    early = steps < 64
    doc = (
        "Digest words 0 and 3 only, into out rows 0 and 1 (early rejection)."
        if early
        else "The new state S + (a..d), into out rows 0..3."
    )
    body = [f"w{t} = W[_ix({t}, ln)]" for t in range(16)]
    body += ["x0 = S[_ix(0, ln)]", "x1 = S[_ix(3, ln)]", "x2 = S[_ix(2, ln)]", "x3 = S[_ix(1, ln)]"]
    for i in range(steps):
        a, d, c, b = f"x{i}", f"x{i + 1}", f"x{i + 2}", f"x{i + 3}"
        if i < 16:
            f = f"u32.xor({d}, u32.and_({b}, u32.xor({c}, {d})))"
        elif i < 32:
            f = f"u32.xor({c}, u32.and_({d}, u32.xor({b}, {c})))"
        elif i < 48:
            f = f"u32.xor(u32.xor({b}, {c}), {d})"
        else:
            f = f"u32.xor({c}, u32.or_({b}, u32.not_({d})))"
        body += [
            f"y{i} = u32.add(u32.add({a}, {f}), u32.add(np.uint32({C.MD5_T[i]:#010x}), "
            f"w{C.MD5_G[i]}))",
            f"x{i + 4} = u32.add({b}, u32.rotl(y{i}, {C.MD5_S[i]}))",
        ]
    n = steps
    if early:
        # After 62 steps the final a is step 60's b and the final d step 61's.
        body += [
            f"out[_ix(0, ln)] = u32.add(S[_ix(0, ln)], x{n + 2})",
            f"out[_ix(1, ln)] = u32.add(S[_ix(3, ln)], x{n + 3})",
        ]
    else:
        final = [f"x{n}", f"x{n + 3}", f"x{n + 2}", f"x{n + 1}"]
        body += [f"out[_ix({i}, ln)] = u32.add(S[_ix({i}, ln)], {v})" for i, v in enumerate(final)]
    return _header("md5_block", steps, doc) + [f"        {line}" for line in body]


def render() -> str:
    head = [
        '"""MD5, SHA-1, SHA-256 and SHA-512 over lane arrays, every round spelled out.',
        "",
        "GENERATED: do not edit.",
        "",
        "Written by :mod:`matchsim.attack.kernels._gen_unrolled`, which says why.",
        '"""',
        "",
        "# ruff: noqa: E501, F841",
        "",
        "from __future__ import annotations",
        "",
        "import numba",
        "import numpy as np",
        "",
        "from matchsim.attack.kernels._lanes import LANES, _ix",
        "from matchsim.kernels import u32",
    ]
    lines = head + _md5(EARLY_MD5) + _md5(64) + _sha1(EARLY_SHA1) + _sha1(80)
    lines += _sha2(EARLY_SHA256, False) + _sha2(64, False)
    lines += _sha2(EARLY_SHA512, True) + _sha2(80, True)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
