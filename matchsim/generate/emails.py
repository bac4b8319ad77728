"""E-mail addresses built the way people build them: patterns over their own names.

A pattern such as ``{first}.{last}{yy}`` is filled from the person's name tokens, birth
year and random digits, then joined to a domain drawn from the country's domain mix. All
of it is Arrow compute over whole columns, grouped by pattern.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.errors import ConfigError

_TOKEN = re.compile(r"\{(\w+)\}")
TOKENS = ("first", "last", "f", "l", "short", "yy", "yyyy", "nn", "nnn")


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, padding="0")


def _part(
    token: str,
    first: pa.Array,
    last: pa.Array,
    year: np.ndarray,
    rng: np.random.Generator,
) -> pa.Array:
    n = len(first)
    if token == "first":
        return first
    if token == "last":
        return last
    if token == "f":
        return pc.utf8_slice_codeunits(first, 0, 1)
    if token == "l":
        return pc.utf8_slice_codeunits(last, 0, 1)
    if token == "short":
        return pc.utf8_slice_codeunits(first, 0, 4)
    if token == "yy":
        return _digits(year % 100, 2)
    if token == "yyyy":
        return _digits(year, 4)
    if token == "nn":
        return _digits(rng.integers(1, 100, n), 2)
    if token == "nnn":
        return _digits(rng.integers(1, 1000, n), 3)
    raise ConfigError(f"unknown e-mail pattern token {{{token}}}; known: {', '.join(TOKENS)}")


def fill_pattern(
    pattern: str, first: pa.Array, last: pa.Array, year: np.ndarray, rng: np.random.Generator
) -> pa.Array:
    """Local parts for one pattern, one per row of the (equal-length) inputs."""
    parts: list[pa.Array | pa.Scalar] = []
    pos = 0
    for m in _TOKEN.finditer(pattern):
        if m.start() > pos:
            parts.append(pa.scalar(pattern[pos : m.start()]))
        parts.append(_part(m.group(1), first, last, year, rng))
        pos = m.end()
    if pos < len(pattern):
        parts.append(pa.scalar(pattern[pos:]))
    if len(parts) == 1:
        only = parts[0]
        return only if isinstance(only, pa.Array) else pa.array([only.as_py()] * len(first))
    return pc.binary_join_element_wise(*parts, "")


def local_parts(
    rng: np.random.Generator,
    patterns: tuple[tuple[str, float], ...],
    first: pa.Array,
    last: pa.Array,
    year: np.ndarray,
) -> pa.Array:
    """A local part per row, each row's pattern drawn from ``patterns`` (pattern, share)."""
    n = len(first)
    shares = np.array([s for _, s in patterns], dtype=np.float64)
    choice = np.minimum(
        np.searchsorted(np.cumsum(shares / shares.sum()), rng.random(n), side="right"),
        len(patterns) - 1,
    )
    order = np.argsort(choice, kind="stable")
    bounds = np.searchsorted(choice[order], np.arange(len(patterns) + 1))
    pieces = []
    for k, (pattern, _) in enumerate(patterns):
        rows = order[bounds[k] : bounds[k + 1]]
        if rows.size:
            idx = pa.array(rows)
            pieces.append(fill_pattern(pattern, first.take(idx), last.take(idx), year[rows], rng))
    grouped = pa.concat_arrays(pieces)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return grouped.take(pa.array(inverse))


def join_address(local: pa.Array, domain: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(local, pa.scalar("@"), domain, "")


def suffix_digits(local: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Append 2-4 random digits: what people do when their address is already taken."""
    n = len(local)
    width = rng.integers(2, 5, n)
    value = rng.integers(0, 10**4, n) % (10**width)
    return pc.binary_join_element_wise(local, pc.cast(pa.array(value), pa.string()), "")
