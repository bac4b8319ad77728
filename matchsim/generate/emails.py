"""E-mail addresses built the way people build them: patterns over their own names.

A pattern such as ``{first}.{last}{yy}`` is filled from the person's name tokens, birth
year and random digits, then joined to a domain drawn from the country's domain mix.
Patterns are compiled to small op lists and rendered for a whole chunk by one numba
kernel straight into an Arrow string buffer (two passes: lengths, then bytes).
"""

from __future__ import annotations

import re

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.errors import ConfigError

_TOKEN = re.compile(r"\{(\w+)\}")
# op codes: literal, then one per token
_LIT, _FIRST, _LAST, _F, _L, _SHORT, _YY, _YYYY, _NN, _NNN = range(10)
TOKENS = {
    "first": _FIRST,
    "last": _LAST,
    "f": _F,
    "l": _L,
    "short": _SHORT,
    "yy": _YY,
    "yyyy": _YYYY,
    "nn": _NN,
    "nnn": _NNN,
}


class CompiledPatterns:
    """Address patterns as flat op arrays for the render kernel."""

    def __init__(self, patterns: tuple[tuple[str, float], ...]) -> None:
        ops: list[int] = []
        args: list[int] = []
        starts = [0]
        literals: list[bytes] = []
        for pattern, _ in patterns:
            pos = 0
            for m in _TOKEN.finditer(pattern):
                if m.start() > pos:
                    ops.append(_LIT)
                    args.append(len(literals))
                    literals.append(pattern[pos : m.start()].encode())
                name = m.group(1)
                if name not in TOKENS:
                    raise ConfigError(
                        f"unknown e-mail pattern token {{{name}}} in {pattern!r}; "
                        f"known: {', '.join(TOKENS)}"
                    )
                ops.append(TOKENS[name])
                args.append(0)
                pos = m.end()
            if pos < len(pattern):
                ops.append(_LIT)
                args.append(len(literals))
                literals.append(pattern[pos:].encode())
            starts.append(len(ops))
        self.ops = np.asarray(ops, dtype=np.int64)
        self.args = np.asarray(args, dtype=np.int64)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.lit_off, self.lit_data = _pack(literals)
        shares = np.array([s for _, s in patterns], dtype=np.float64)
        self.cdf = np.cumsum(shares / shares.sum())

    def choose(self, rng: np.random.Generator, n: int) -> np.ndarray:
        idx = np.searchsorted(self.cdf, rng.random(n), side="right")
        return np.minimum(idx, self.cdf.shape[0] - 1).astype(np.int64)


def _pack(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in items])
    return offsets, np.frombuffer(b"".join(items) or b"\0", dtype=np.uint8).copy()


def string_table(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64, UTF-8 bytes) of an Arrow string array without nulls."""
    values = values.cast(pa.large_string())
    _, off, data = values.buffers()
    offsets = np.frombuffer(off, dtype=np.int64)[values.offset : values.offset + len(values) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, np.uint8)
    return offsets.copy(), raw.copy()


@numba.njit(cache=True, nogil=True, inline="always")
def _copy(out: np.ndarray, pos: int, src: np.ndarray, a: int, b: int) -> int:
    for j in range(a, b):
        out[pos + j - a] = src[j]
    return pos + (b - a)


@numba.njit(cache=True, nogil=True, inline="always")
def _number(out: np.ndarray, pos: int, value: int, width: int) -> int:
    for j in range(width - 1, -1, -1):
        out[pos + j] = 48 + value % 10
        value //= 10
    return pos + width


@numba.njit(cache=True, nogil=True)
def _render(
    pattern: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    year: np.ndarray,
    nn: np.ndarray,
    domain: np.ndarray,
    ops: np.ndarray,
    args: np.ndarray,
    starts: np.ndarray,
    lit_off: np.ndarray,
    lit: np.ndarray,
    f_off: np.ndarray,
    f_data: np.ndarray,
    l_off: np.ndarray,
    l_data: np.ndarray,
    d_off: np.ndarray,
    d_data: np.ndarray,
    offsets: np.ndarray,
    data: np.ndarray,
) -> int:
    """Every row's address, one after the other, into ``data`` (large enough for the
    longest address per row); row ``i`` ends at ``offsets[i + 1]``. Returns the bytes used."""
    pos = 0
    offsets[0] = 0
    for i in range(pattern.shape[0]):
        fa, fb = f_off[first[i]], f_off[first[i] + 1]
        la, lb = l_off[last[i]], l_off[last[i] + 1]
        p = pattern[i]
        for k in range(starts[p], starts[p + 1]):
            op = ops[k]
            if op == _LIT:
                a = args[k]
                pos = _copy(data, pos, lit, lit_off[a], lit_off[a + 1])
            elif op == _FIRST:
                pos = _copy(data, pos, f_data, fa, fb)
            elif op == _LAST:
                pos = _copy(data, pos, l_data, la, lb)
            elif op == _F:
                pos = _copy(data, pos, f_data, fa, min(fa + 1, fb))
            elif op == _L:
                pos = _copy(data, pos, l_data, la, min(la + 1, lb))
            elif op == _SHORT:
                pos = _copy(data, pos, f_data, fa, min(fa + 4, fb))
            elif op == _YY:
                pos = _number(data, pos, year[i] % 100, 2)
            elif op == _YYYY:
                pos = _number(data, pos, year[i], 4)
            elif op == _NN:
                pos = _number(data, pos, 1 + nn[i] % 99, 2)
            else:
                pos = _number(data, pos, 1 + nn[i] % 999, 3)
        data[pos] = 64  # '@'
        pos += 1
        pos = _copy(data, pos, d_data, d_off[domain[i]], d_off[domain[i] + 1])
        offsets[i + 1] = pos
    return pos


_WIDTH = {_F: 1, _L: 1, _SHORT: 4, _YY: 2, _YYYY: 4, _NN: 2, _NNN: 3}


def _longest(
    compiled: CompiledPatterns,
    first_tokens: tuple[np.ndarray, np.ndarray],
    last_tokens: tuple[np.ndarray, np.ndarray],
    domains: tuple[np.ndarray, np.ndarray],
) -> int:
    """An upper bound on one address's bytes: the longest pattern filled with the longest
    tokens, ``@`` and the longest domain (every number token writes a fixed width)."""
    longest = {
        _FIRST: int(np.diff(first_tokens[0]).max(initial=0)),
        _LAST: int(np.diff(last_tokens[0]).max(initial=0)),
        **_WIDTH,
    }
    lit_len = np.diff(compiled.lit_off)
    per_pattern = [
        sum(
            int(lit_len[compiled.args[k]]) if op == _LIT else longest[int(op)]
            for k, op in enumerate(compiled.ops[a:b], start=a)
        )
        for a, b in zip(compiled.starts[:-1], compiled.starts[1:], strict=True)
    ]
    return max(per_pattern, default=0) + 1 + int(np.diff(domains[0]).max(initial=0))


def render_addresses(
    compiled: CompiledPatterns,
    pattern: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    year: np.ndarray,
    nn: np.ndarray,
    domain: np.ndarray,
    first_tokens: tuple[np.ndarray, np.ndarray],
    last_tokens: tuple[np.ndarray, np.ndarray],
    domains: tuple[np.ndarray, np.ndarray],
) -> pa.Array:
    """One address per row: ``pattern``-shaped local part, ``@``, the row's domain.

    One pass into a buffer sized for the longest possible address per row (the pages
    beyond the bytes written are never touched, so they cost address space, not memory).
    """
    n = pattern.shape[0]
    offsets = np.empty(n + 1, dtype=np.int64)
    data = np.empty(max(n * _longest(compiled, first_tokens, last_tokens, domains), 1), np.uint8)
    common = (
        compiled.ops, compiled.args, compiled.starts, compiled.lit_off, compiled.lit_data,
        *first_tokens, *last_tokens, *domains,
    )  # fmt: skip
    used = _render(pattern, first, last, year, nn, domain, *common, offsets, data)
    if used < 2**31:
        return pa.StringArray.from_buffers(
            n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data[:used])
        )
    return pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(data[:used])
    ).cast(pa.string())


def join_address(local: pa.Array, domain: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(local, pa.scalar("@"), domain, "")


@numba.njit(cache=True, nogil=True)
def _suffix(
    offsets: np.ndarray, data: np.ndarray, value: np.ndarray, width: np.ndarray,
    out_off: np.ndarray, out: np.ndarray,
) -> None:  # fmt: skip
    for i in range(offsets.shape[0] - 1):
        a, b = offsets[i], offsets[i + 1]
        at = b
        for j in range(a, b):
            if data[j] == 64:
                at = j
                break
        pos = out_off[i]
        for j in range(a, at):
            out[pos] = data[j]
            pos += 1
        v = value[i]
        for j in range(width[i] - 1, -1, -1):
            out[pos + j] = 48 + v % 10
            v //= 10
        pos += width[i]
        for j in range(at, b):
            out[pos] = data[j]
            pos += 1


def suffix_digits(addresses: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Insert 2-4 random digits before the ``@``: what people do when an address is taken."""
    n = len(addresses)
    offsets, data = string_table(addresses)
    width = rng.integers(2, 5, n).astype(np.int64)
    value = rng.integers(0, 10**4, n) % (10**width)
    out_off = np.zeros(n + 1, dtype=np.int64)
    out_off[1:] = np.cumsum(np.diff(offsets) + width)
    out = np.empty(max(int(out_off[-1]), 1), dtype=np.uint8)
    _suffix(offsets, data, value, width, out_off, out)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(out_off), pa.py_buffer(out)).cast(
        pa.string()
    )
