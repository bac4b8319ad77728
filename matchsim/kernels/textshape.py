"""Shape checks of short ASCII identifiers over Arrow string buffers (numba, cached).

RE2 pays a per-value setup that dominates a 36-byte advertising id: matching
``^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`` over a million values
took 0.125 s of the 0.18 s the MADID normaliser costs; a byte loop over the string
buffer gives the same answer (RE2's ``$`` is the end of the text, and every byte of a
multi-byte UTF-8 character is >= 0x80, so it never matches a class of ASCII bytes).
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa

from matchsim.kernels import string_buffers


@numba.njit(cache=True, nogil=True)
def _uuid_rows(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    out = np.zeros(len(starts), dtype=np.bool_)
    for i in range(len(starts)):
        if lengths[i] != 36:
            continue
        s = starts[i]
        ok = True
        for j in range(36):
            c = data[s + j]
            if j == 8 or j == 13 or j == 18 or j == 23:
                ok = c == 45  # "-"
            else:
                ok = (48 <= c <= 57) or (97 <= c <= 102)  # 0-9, a-f
            if not ok:
                break
        out[i] = ok
    return out


def lower_uuid(values: pa.Array) -> np.ndarray:
    """Whether each value is a lower-case hyphenated UUID (False where null): what
    ``match_substring_regex(values, UUID)`` gives, nulls read as False."""
    data, starts, lengths = string_buffers(values)
    if len(data) == 0:
        data = np.zeros(1, np.uint8)
    return _uuid_rows(data, starts, lengths)


@numba.njit(cache=True, nogil=True)
def _drop_rows(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, drop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    out = np.empty(max(1, int(lengths.sum())), dtype=np.uint8)
    k = 0
    for i in range(len(starts)):
        s = starts[i]
        for j in range(lengths[i]):
            c = data[s + j]
            if not drop[c]:
                out[k] = c
                k += 1
        offsets[i + 1] = k
    return out[:k], offsets


def drop_ascii(values: pa.Array, chars: str) -> pa.Array:
    """``values`` (a string array) with every character in ``chars`` (ASCII only)
    removed; nulls stay null. What ``replace_substring_regex(values, "[...]", "")`` gives
    for a class of ASCII characters: no byte of a multi-byte UTF-8 character is ASCII."""
    if not chars.isascii():
        raise ValueError("drop_ascii removes ASCII characters only")
    drop = np.zeros(256, dtype=np.bool_)
    drop[list(chars.encode("ascii"))] = True
    return _drop_bytes(values, drop)


def keep_digits(values: pa.Array) -> pa.Array:
    """``values`` (a string array) with every character but the ASCII digits removed;
    nulls stay null. What ``replace_substring_regex(values, "[^0-9]", "")`` gives: every
    byte of a multi-byte UTF-8 character is >= 0x80, so such a character goes whole."""
    drop = np.ones(256, dtype=np.bool_)
    drop[48:58] = False
    return _drop_bytes(values, drop)


def _drop_bytes(values: pa.Array, drop: np.ndarray) -> pa.Array:
    """``values`` without the bytes ``b`` where ``drop[b]``, nulls kept (one array)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    data, starts, lengths = string_buffers(values)
    if len(data) == 0:
        data = np.zeros(1, np.uint8)
    kept, offsets = _drop_rows(data, starts, lengths, drop)
    validity = values.buffers()[0] if values.null_count else None
    if validity is not None and values.offset:  # re-base the validity bitmap
        validity = pa.py_buffer(
            np.packbits(values.is_valid().to_numpy(zero_copy_only=False), bitorder="little")
        )
    if offsets[-1] >= 2**31:
        raise ValueError("more than 2 GiB of text")
    return pa.StringArray.from_buffers(
        len(values),
        pa.py_buffer(offsets.astype(np.int32)),
        pa.py_buffer(kept),
        validity,
        values.null_count,
    )


@numba.njit(cache=True, nogil=True)
def _e164_rows(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, codes: np.ndarray
) -> np.ndarray:
    out = np.zeros(len(starts), dtype=np.bool_)
    for i in range(len(starts)):
        n, s = lengths[i], starts[i]
        if n < 9 or n > 16 or data[s] != 43 or not 49 <= data[s + 1] <= 57:  # "+", 1-9
            continue
        ok = True
        for j in range(2, n):
            if not 48 <= data[s + j] <= 57:
                ok = False
                break
        if ok:
            d1 = data[s + 1] - 48
            d2 = d1 * 10 + data[s + 2] - 48
            d3 = d2 * 10 + data[s + 3] - 48
            out[i] = codes[d1] or codes[d2] or codes[d3]
    return out


def e164_known(values: pa.Array, calling_codes: np.ndarray) -> np.ndarray:
    """Whether each value matches ``^\\+[1-9][0-9]{7,14}$`` and starts with a calling code
    (``calling_codes[c]`` True for each assigned code ``c``, 1-999; codes are prefix-free
    and never start with 0, so widths 1-3 cannot be confused); False where null."""
    data, starts, lengths = string_buffers(values)
    if len(data) == 0:
        data = np.zeros(1, np.uint8)
    return _e164_rows(data, starts, lengths, calling_codes)


@numba.njit(cache=True, nogil=True)
def _email_rows(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, valid: np.ndarray
) -> np.ndarray:
    out = np.zeros(len(starts), dtype=np.uint8)
    for i in range(len(starts)):
        if not valid[i]:
            out[i] = EMPTY_LOCAL  # read as "" (an empty local part)
            continue
        s, n = starts[i], lengths[i]
        ats, at = 0, -1
        for j in range(n):
            if data[s + j] == 64:  # "@"
                ats += 1
                if at < 0:
                    at = j
        if ats == 0:
            out[i] = NO_AT
        elif ats > 1:
            out[i] = MANY_AT
        elif at == 0:
            out[i] = EMPTY_LOCAL
        else:  # [^.\s@]+(\.[^.\s@]+)+ after the @ (RE2's \s: \t \n \f \r and space)
            ok, dots, run = True, 0, 0
            for j in range(at + 1, n):
                c = data[s + j]
                if c == 46:  # "."
                    if run == 0:
                        ok = False
                        break
                    dots += 1
                    run = 0
                elif c == 9 or c == 10 or c == 12 or c == 13 or c == 32:
                    ok = False
                    break
                else:
                    run += 1
            if not (ok and dots > 0 and run > 0):
                out[i] = NOT_HOST
    return out


NO_AT, MANY_AT, EMPTY_LOCAL, NOT_HOST = 1, 2, 3, 4
""":func:`email_checks` codes (0: none of them)."""


def email_checks(values: pa.Array) -> np.ndarray:
    """Per value, the first e-mail check it fails, as a code: 1 no ``@``, 2 more than one,
    3 an empty local part (a null reads as ``""``), 4 what follows the ``@`` is not a
    host name (``[^.\\s@]+(\\.[^.\\s@]+)+``), 0 none. One byte loop over the string
    buffer instead of a count, two comparisons and a regular expression per value; no
    byte of a multi-byte UTF-8 character is ASCII, so the checks read bytes."""
    data, starts, lengths = string_buffers(values)
    if len(data) == 0:
        data = np.zeros(1, np.uint8)
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    return _email_rows(data, starts, lengths, valid)
