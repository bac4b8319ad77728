"""Phone numbers: drawn uniformly from a number plan, rendered as people type them.

Numbers are held as a digit matrix (one row per person, ASCII digits, padded) plus the
shape they came from, so every human format (``06-12345678``, ``+31 (0)6 12345678``,
``(650) 555-1212``) is one numba pass over the matrix, never a Python call per number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa

from matchsim.errors import ConfigError
from matchsim.locale.numberplan import NumberPlan

# Template op codes for the render kernel.
_LIT, _NDC, _SUB, _SUB_H, _SUB_3, _SUB_4, _NSN = range(7)
_TOKEN_OPS = {
    "ndc": _NDC,
    "sub": _SUB,
    "sub_h": _SUB_H,
    "sub_3": _SUB_3,
    "sub_4": _SUB_4,
    "nsn": _NSN,
}
_TOKEN = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Numbers:
    """National significant numbers of n people, as a padded ASCII digit matrix."""

    digits: np.ndarray  # (n, L) uint8 ASCII, zero-padded on the right
    lengths: np.ndarray  # (n,) int64 national-number length
    ndc: np.ndarray  # (n,) int64 length of the national destination code
    country_code: int
    national_prefix: str

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    def keys(self) -> np.ndarray:
        """One uint64 per number (its digits as an integer, tagged with the length)."""
        return _digit_keys(self.digits, self.lengths)

    def take(self, idx: np.ndarray) -> Numbers:
        return Numbers(
            self.digits[idx],
            self.lengths[idx],
            self.ndc[idx],
            self.country_code,
            self.national_prefix,
        )


@numba.njit(cache=True, nogil=True)
def _digit_keys(digits: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    out = np.empty(lengths.shape[0], dtype=np.uint64)
    for i in range(lengths.shape[0]):
        k = np.uint64(0)
        for j in range(lengths[i]):
            k = k * np.uint64(10) + np.uint64(digits[i, j] - 48)
        out[i] = k * np.uint64(32) + np.uint64(lengths[i])
    return out


@numba.njit(cache=True, nogil=True)
def decode_indices(
    index: np.ndarray,
    cum_sizes: np.ndarray,
    choices: np.ndarray,
    counts: np.ndarray,
    shape_lengths: np.ndarray,
    out: np.ndarray,
    shape_out: np.ndarray,
) -> None:
    """Number ``index[i]`` of a plan (0 <= index < plan size) -> its digits in ``out[i]``.

    The plan is the concatenation of its shapes; within a shape, digits are a mixed-radix
    number with the last position varying fastest. ``cum_sizes`` is the exclusive
    cumulative size per shape (``cum_sizes[0] == 0``, length S + 1).
    """
    n_shapes = cum_sizes.shape[0] - 1
    for i in range(index.shape[0]):
        x = index[i]
        lo, hi = 0, n_shapes
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if cum_sizes[mid] <= x:
                lo = mid
            else:
                hi = mid
        s = lo
        # unsigned: the offset is never negative, and an unsigned divide needs none of
        # the sign fix-ups of Python's floor division (~1.6x faster here)
        off = np.uint64(x - cum_sizes[s])
        for j in range(shape_lengths[s] - 1, -1, -1):
            c = np.uint64(counts[s, j])
            q = off // c
            out[i, j] = choices[s, j, off - q * c]
            off = q
        shape_out[i] = s


def sample_numbers(
    rng: np.random.Generator, plans: list[NumberPlan], plan_idx: np.ndarray
) -> Numbers:
    """Draw one valid number per row from ``plans[plan_idx[row]]``, uniform within a plan.

    Every number is valid for its plan's region under phonenumbers' metadata (the shapes
    come from it); the tests check this with ``phonenumbers.is_valid_number``.
    """
    n = int(plan_idx.shape[0])
    width = max(p.max_length for p in plans)
    digits = np.zeros((n, width), dtype=np.uint8)
    lengths = np.zeros(n, dtype=np.int64)
    ndc = np.zeros(n, dtype=np.int64)
    for k, plan in enumerate(plans):
        rows = np.flatnonzero(plan_idx == k)
        if rows.size == 0:
            continue
        plen, choices, counts = plan.digit_table_cached
        cum = np.zeros(len(plan.shapes) + 1, dtype=np.int64)
        cum[1:] = np.cumsum(plan.sizes.astype(np.int64))
        index = rng.integers(0, plan.size, size=rows.size, dtype=np.int64)
        block = np.zeros((rows.size, width), dtype=np.uint8)
        shape = np.empty(rows.size, dtype=np.int64)
        decode_indices(index, cum, choices, counts, plen, block, shape)
        digits[rows] = block
        lengths[rows] = plen[shape]
        ndc[rows] = np.asarray(plan.ndc_lengths, dtype=np.int64)[shape]
    cc = {p.country_code for p in plans}
    trunk = {p.national_prefix for p in plans}
    if len(cc) != 1 or len(trunk) != 1:
        raise ConfigError("phone plans of one population must share a country code")
    return Numbers(digits, lengths, ndc, cc.pop(), trunk.pop())


def _compile(
    template: str, country_code: int, trunk: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Template -> (op codes, literal offsets, literal bytes)."""
    ops: list[int] = []
    lits: list[bytes] = []
    pos = 0

    def literal(text: str) -> None:
        if text:
            ops.append(_LIT)
            lits.append(text.encode())

    for m in _TOKEN.finditer(template):
        literal(template[pos : m.start()])
        name = m.group(1)
        if name == "cc":
            literal(str(country_code))
        elif name == "trunk":
            literal(trunk)
        elif name in _TOKEN_OPS:
            ops.append(_TOKEN_OPS[name])
            lits.append(b"")
        else:
            raise ConfigError(f"unknown phone format token {{{name}}} in {template!r}")
        pos = m.end()
    literal(template[pos:])
    offsets = np.zeros(len(lits) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in lits])
    return (
        np.asarray(ops, dtype=np.int64),
        offsets,
        np.frombuffer(b"".join(lits) or b"\0", dtype=np.uint8),
    )


@numba.njit(cache=True, nogil=True, inline="always")
def _emit(out: np.ndarray, pos: int, write: bool, src: np.ndarray, a: int, b: int) -> int:
    if write:
        for j in range(a, b):
            out[pos + j - a] = src[j]
    return pos + (b - a)


@numba.njit(cache=True, nogil=True, inline="always")
def _emit_row(
    out: np.ndarray, pos: int, write: bool, digits: np.ndarray, i: int, a: int, b: int
) -> int:
    if write:
        for j in range(a, b):
            out[pos + j - a] = digits[i, j]
    return pos + (b - a)


@numba.njit(cache=True, nogil=True)
def _render(
    digits: np.ndarray,
    lengths: np.ndarray,
    ndc: np.ndarray,
    ops: np.ndarray,
    lit_off: np.ndarray,
    lit: np.ndarray,
    rows: np.ndarray,
    offsets: np.ndarray,
    data: np.ndarray,
    write: bool,
) -> None:
    for r in range(rows.shape[0]):
        i = rows[r]
        pos = offsets[i]
        n = lengths[i]
        d = ndc[i]
        for k in range(ops.shape[0]):
            op = ops[k]
            if op == _LIT:
                pos = _emit(data, pos, write, lit, lit_off[k], lit_off[k + 1])
            elif op == _NDC:
                pos = _emit_row(data, pos, write, digits, i, 0, d)
            elif op == _SUB:
                pos = _emit_row(data, pos, write, digits, i, d, n)
            elif op == _SUB_H:
                half = d + (n - d) // 2
                pos = _emit_row(data, pos, write, digits, i, d, half)
                if write:
                    data[pos] = 32
                pos += 1
                pos = _emit_row(data, pos, write, digits, i, half, n)
            elif op == _SUB_3:
                pos = _emit_row(data, pos, write, digits, i, d, max(d, n - 4))
            elif op == _SUB_4:
                pos = _emit_row(data, pos, write, digits, i, max(d, n - 4), n)
            else:
                pos = _emit_row(data, pos, write, digits, i, 0, n)
        if not write:
            offsets[i + 1] = pos - offsets[i]


def render(
    numbers: Numbers, templates: list[str], template_idx: np.ndarray | None = None
) -> pa.Array:
    """Render each number with ``templates[template_idx[row]]`` (default: the first).

    Tokens: ``{cc}`` calling code, ``{trunk}`` national prefix, ``{ndc}`` destination
    code, ``{sub}`` subscriber number, ``{sub_h}`` subscriber number in two halves,
    ``{sub_3}``/``{sub_4}`` subscriber number without/only its last four digits,
    ``{nsn}`` national significant number. ``"+{cc}{nsn}"`` is E.164.
    """
    n = len(numbers)
    if template_idx is None:
        template_idx = np.zeros(n, dtype=np.int64)
    compiled = [_compile(t, numbers.country_code, numbers.national_prefix) for t in templates]
    groups = [np.flatnonzero(template_idx == k) for k in range(len(templates))]
    offsets = np.zeros(n + 1, dtype=np.int64)
    scratch = np.zeros(1, dtype=np.uint8)
    # First pass: lengths (stored at offsets[i + 1]); second pass: bytes.
    for (ops, lo, lit), rows in zip(compiled, groups, strict=True):
        _render(
            numbers.digits,
            numbers.lengths,
            numbers.ndc,
            ops,
            lo,
            lit,
            rows,
            offsets,
            scratch,
            False,
        )
    np.cumsum(offsets, out=offsets)
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    for (ops, lo, lit), rows in zip(compiled, groups, strict=True):
        _render(
            numbers.digits, numbers.lengths, numbers.ndc, ops, lo, lit, rows, offsets, data, True
        )
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )


E164 = "+{cc}{nsn}"


@numba.njit(cache=True, nogil=True)
def _e164(
    digits: np.ndarray, lengths: np.ndarray, prefix: np.ndarray, offsets: np.ndarray,
    data: np.ndarray,
) -> None:  # fmt: skip
    p = prefix.shape[0]
    for i in range(lengths.shape[0]):
        pos = offsets[i]
        for j in range(p):
            data[pos + j] = prefix[j]
        pos += p
        for j in range(lengths[i]):
            data[pos + j] = digits[i, j]


def render_e164(numbers: Numbers) -> pa.Array:
    """``render(numbers, [E164])`` in one pass: ``+``, the calling code, the national
    number (every row the same template, so the offsets are a cumulative sum)."""
    n = len(numbers)
    prefix = np.frombuffer(f"+{numbers.country_code}".encode(), dtype=np.uint8)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(numbers.lengths + prefix.size, out=offsets[1:])
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    _e164(numbers.digits, numbers.lengths, prefix, offsets, data)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )
