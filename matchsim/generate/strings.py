"""Splitting e-mail addresses at their ``@`` in one numba pass.

The customer file is built last, when nothing else is left to overlap it, so its Arrow
calls are the generator's tail; the regular expression that splits every address there
was the largest of them. :func:`split_addresses` returns exactly what that
``extract_regex`` returns (the tests compare them) and falls back to it for any input
outside its fast case (nulls, large strings, an address the pattern does not match).
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_ADDRESS = r"^(?P<local>[^@]+)@(?P<domain>.+)$"


def _buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(int32 offsets, bytes) of a string array without nulls (offsets not rebased)."""
    _, off, data = values.buffers()
    offsets = np.frombuffer(off, dtype=np.int32)[values.offset : values.offset + len(values) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(1, np.uint8)
    return offsets, raw


def _plain(values: pa.Array) -> bool:
    return isinstance(values, pa.StringArray) and values.null_count == 0


def _array(offsets: np.ndarray, data: np.ndarray) -> pa.Array:
    return pa.StringArray.from_buffers(
        offsets.shape[0] - 1, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)
    )


@numba.njit(cache=True, nogil=True)
def _split_at(offsets: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, bool]:
    """Each string's first ``@`` (absolute byte index); ``ok`` is False as soon as one
    string does not match ``^[^@]+@.+$`` (no ``@``, empty local part or domain, or a
    newline in the domain, which ``.`` does not match)."""
    n = offsets.shape[0] - 1
    at = np.empty(n, dtype=np.int64)
    for i in range(n):
        a, b = offsets[i], offsets[i + 1]
        p = -1
        for j in range(a, b):
            if data[j] == 64:
                p = j
                break
        if p <= a or p + 1 >= b:
            return at, False
        for j in range(p + 1, b):
            if data[j] == 10:
                return at, False
        at[i] = p
    return at, True


@numba.njit(cache=True, nogil=True)
def _parts(
    offsets: np.ndarray, data: np.ndarray, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = offsets.shape[0] - 1
    l_off = np.empty(n + 1, dtype=np.int64)
    d_off = np.empty(n + 1, dtype=np.int64)
    total = offsets[n] - offsets[0]
    local = np.empty(max(total, 1), dtype=np.uint8)
    domain = np.empty(max(total, 1), dtype=np.uint8)
    lp = 0
    dp = 0
    l_off[0] = 0
    d_off[0] = 0
    for i in range(n):
        for j in range(offsets[i], at[i]):
            local[lp] = data[j]
            lp += 1
        for j in range(at[i] + 1, offsets[i + 1]):
            domain[dp] = data[j]
            dp += 1
        l_off[i + 1] = lp
        d_off[i + 1] = dp
    return l_off, local[: max(lp, 1)], d_off, domain[: max(dp, 1)]


def split_addresses(addresses: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``(local part, domain)`` of each address, as ``extract_regex`` with
    ``^(?P<local>[^@]+)@(?P<domain>.+)$`` gives them."""
    if _plain(addresses) and len(addresses):
        offsets, data = _buffers(addresses)
        at, ok = _split_at(offsets, data)
        if ok:
            l_off, local, d_off, domain = _parts(offsets, data, at)
            return _array(l_off, local), _array(d_off, domain)
    parts = pc.extract_regex(addresses, _ADDRESS)
    return parts.field("local"), parts.field("domain")
