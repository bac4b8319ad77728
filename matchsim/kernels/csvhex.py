"""One pass over a CSV upload's bytes: hex digests decoded straight into arrays (numba, no GIL).

The fast path of :func:`matchsim.join.upload.read_upload`. The file's bytes (after the
header line) are cut at newlines into one piece per thread; each piece is scanned once,
row by row, field by field:

* a **hex** column's cell is decoded while it is read (a ``2 * size``-character value,
  quoted or not, in the scheme's case): its bytes go straight into ``digests[h, row]``;
  an empty cell is "no value"; any other cell is kept as "present but not decodable" with
  its place in the file, so the caller can name the reason exactly as the Arrow path does;
* a **text** column's cells are located (start, length) for the caller to build an Arrow
  string array from;
* other columns are skipped.

Only plain CSV is handled: ``\\n`` or ``\\r\\n`` line ends, fields optionally quoted, no
doubled quote, no quote inside an unquoted field, no line break inside quotes, no blank
line, exactly the header's number of fields on every row, and no byte over 127 outside
text columns (so every skipped or hex cell is valid UTF-8, as Arrow would check). Anything
else makes the scan give up (a negative code) and the caller reads the file with Arrow,
which handles it or reports the exact error; the fast path never decides what is an error.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from matchsim.kernels.csvkinds import (  # the codes, also without numba
    DECODED,
    GIVE_UP_BLANK,
    GIVE_UP_BYTE,
    GIVE_UP_FIELDS,
    GIVE_UP_LINE,
    GIVE_UP_QUOTE,
    HEX,
    NULL,
    PRESENT,
    SKIP,
    TEXT,
)

_LF, _CR, _QUOTE = 10, 13, 34


_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_LFS = np.uint64(0x0A0A0A0A0A0A0A0A)
_ONES = np.uint64(0x0101010101010101)


@numba.njit(cache=True, nogil=True)
def _count_lf(buf: np.ndarray, lo: int, hi: int) -> int:  # pragma: no cover - compiled
    """Line feeds in ``buf[lo:hi]``, eight bytes at a time (an exact zero-byte test)."""
    n = 0
    i = lo
    while i < hi and i % 8:
        n += buf[i] == _LF
        i += 1
    words = buf[i : i + (hi - i) // 8 * 8].view(np.uint64)
    for w in range(words.shape[0]):
        y = words[w] ^ _LFS
        t = ~(((y & _LOW7) + _LOW7) | y | _LOW7)  # high bit set exactly where y's byte is 0
        n += int(((t >> np.uint64(7)) * _ONES) >> np.uint64(56))
    i += words.shape[0] * 8
    while i < hi:
        n += buf[i] == _LF
        i += 1
    return n


@numba.njit(cache=True, nogil=True)
def _piece_rows(buf: np.ndarray, lo: int, hi: int, last: bool) -> int:  # pragma: no cover
    """Rows of the piece ``[lo, hi)``: its line feeds, and for the ``last`` piece a final
    row without one."""
    n = _count_lf(buf, lo, hi)
    if last and hi > lo and buf[hi - 1] != _LF:
        n += 1
    return n


@numba.njit(cache=True, nogil=True, parallel=True)
def count_rows(buf: np.ndarray, bounds: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Per piece ``[bounds[t], bounds[t+1])``: its rows (:func:`_piece_rows`)."""
    t_n = len(bounds) - 1
    rows = np.zeros(t_n, dtype=np.int64)
    for t in prange(t_n):
        rows[t] = _piece_rows(buf, bounds[t], bounds[t + 1], t == t_n - 1)
    return rows


@numba.njit(cache=True, nogil=True)
def _end_of_field(buf: np.ndarray, e: int, hi: int, last: bool, delim: int) -> int:
    """Where the next field starts after a field ending at ``e``; negative: give up."""
    if not last:
        if e < hi and buf[e] == delim:
            return e + 1
        return GIVE_UP_FIELDS
    if e >= hi:
        return hi
    b = buf[e]
    if b == _LF:
        return e + 1
    if b == _CR:
        if e + 1 < hi and buf[e + 1] == _LF:
            return e + 2
        return GIVE_UP_LINE
    return GIVE_UP_FIELDS


@numba.njit(cache=True, nogil=True)
def _decode_hex(
    buf: np.ndarray, q: int, size: int, pairs: np.ndarray, out: np.ndarray, h: int, row: int
) -> bool:  # pragma: no cover - compiled
    """Decode ``2 * size`` characters at ``q`` into ``out[h, row]``; False if any is not
    in the alphabet. ``pairs[(a << 8) | b]``: the byte the two characters ``a b`` spell,
    or 256 or more if either is not a digit of the alphabet."""
    acc = np.uint16(0)
    for j in range(size):
        v = pairs[(np.int64(buf[q + 2 * j]) << 8) | np.int64(buf[q + 2 * j + 1])]
        acc |= v
        out[h, row, j] = np.uint8(v & 0xFF)
    return bool(acc < 256)


_HIGH = np.uint64(0x8080808080808080)
_QUOTES = np.uint64(0x2222222222222222)
_CRS = np.uint64(0x0D0D0D0D0D0D0D0D)


@intrinsic
def _word(typingctx: Any, buf: Any, q: Any) -> Any:
    """``buf[q : q + 8]`` (a uint8 array, ``q + 8`` within it) as one little-endian
    uint64: a single unaligned load."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i64 = ir.IntType(64)
        word = builder.load(builder.bitcast(ptr, i64.as_pointer()), align=1)
        return word

    return types.uint64(buf, q), codegen


@numba.njit(cache=True, nogil=True, inline="always")
def _has_byte(w: np.uint64, spread: np.uint64) -> bool:  # pragma: no cover - compiled
    """Whether a byte of ``w`` equals the byte ``spread`` repeats (exact)."""
    y = w ^ spread
    return ((y - _ONES) & ~y & _HIGH) != 0


@numba.njit(cache=True, nogil=True, inline="always")
def _plain_run(buf: np.ndarray, q: int, hi: int, stop: np.uint64, text: bool) -> int:
    """Past the run of bytes from ``q`` that need no look, eight at a time: none is a
    quote, a line end, the byte ``stop`` repeats, or (outside text) over 127. The byte
    loop after it takes over at the first word holding one (or the last few bytes)."""
    while q + 8 <= hi:
        w: np.uint64 = _word(buf, q)  # type: ignore[call-arg]
        if (not text and (w & _HIGH) != 0) or _has_byte(w, _QUOTES) or _has_byte(w, _LFS):
            break
        if _has_byte(w, _CRS) or _has_byte(w, stop):
            break
        q += 8
    return q


@numba.njit(cache=True, nogil=True)
def _locate(buf: np.ndarray, p: int, hi: int, delim: int, text: bool) -> tuple[int, int, int]:
    """``(start, length, end)`` of the field at ``p`` (``end``: just past it, closing quote
    included); ``start`` negative: give up."""
    if p < hi and buf[p] == _QUOTE:
        s = p + 1
        q = _plain_run(buf, s, hi, _QUOTES, text)
        while q < hi and buf[q] != _QUOTE:
            b = buf[q]
            if b == _LF or b == _CR:  # noqa: SIM109 - numba
                return GIVE_UP_LINE, 0, 0
            if b > 127 and not text:
                return GIVE_UP_BYTE, 0, 0
            q += 1
        if q >= hi or (q + 1 < hi and buf[q + 1] == _QUOTE):
            return GIVE_UP_QUOTE, 0, 0
        return s, q - s, q + 1
    q = _plain_run(buf, p, hi, np.uint64(delim) * _ONES, text)
    while q < hi:
        b = buf[q]
        if b == delim or b == _LF or b == _CR:  # noqa: SIM109 - numba
            break
        if b == _QUOTE:
            return GIVE_UP_QUOTE, 0, 0
        if b > 127 and not text:
            return GIVE_UP_BYTE, 0, 0
        q += 1
    return p, q - p, q


@numba.njit(cache=True, nogil=True)
def _scan_piece(
    buf: np.ndarray,
    lo: int,
    hi: int,
    row0: int,
    delim: int,
    kinds: np.ndarray,
    slots: np.ndarray,
    size: int,
    pairs: np.ndarray,
    digests: np.ndarray,
    status: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Scan rows ``[lo, hi)`` into rows ``row0..`` of the outputs; the rows read, or a
    negative code to give up."""
    ncols = kinds.shape[0]
    width = 2 * size
    row = row0
    p = lo
    while p < hi:
        if buf[p] == _LF or (buf[p] == _CR and p + 1 < hi and buf[p + 1] == _LF):
            # a blank line (Arrow skips it; the row numbers would shift): give up
            return GIVE_UP_BLANK
        for c in range(ncols):
            last = c == ncols - 1
            kind = kinds[c]
            k = slots[c]
            if kind == HEX:
                q = p + 1 if p < hi and buf[p] == _QUOTE else p
                if q + width <= hi and _decode_hex(buf, q, size, pairs, digests, k, row):
                    e = q + width
                    good = True
                    if q > p:
                        good = e < hi and buf[e] == _QUOTE
                        e += 1
                    if good:
                        nxt = _end_of_field(buf, e, hi, last, delim)
                        if nxt >= 0:
                            status[k, row] = DECODED
                            p = nxt
                            continue
            s, n, e = _locate(buf, p, hi, delim, kind == TEXT)
            if s < 0:
                return s
            nxt = _end_of_field(buf, e, hi, last, delim)
            if nxt < 0:
                return nxt
            if kind != SKIP:
                status[k, row] = NULL if n == 0 else PRESENT
                starts[k, row] = s
                lengths[k, row] = n
                if kind == HEX:
                    for j in range(size):
                        digests[k, row, j] = 0
            p = nxt
        row += 1
    return row - row0


@numba.njit(cache=True, nogil=True, parallel=True)
def scan(
    buf: np.ndarray,
    bounds: np.ndarray,
    row0: np.ndarray,
    delim: int,
    kinds: np.ndarray,
    slots: np.ndarray,
    size: int,
    pairs: np.ndarray,
    digests: np.ndarray,
    status: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    """Every piece on its own thread; per piece the rows read or a give-up code.

    ``slots[c]``: column ``c``'s index into ``status``/``starts``/``lengths`` (and, for a
    hex column, ``digests``); ``digests`` ``(hex columns, rows, size)`` uint8; ``status``
    uint8, ``starts`` int64, ``lengths`` int64, each ``(located columns, rows)``. Only a
    hex cell that does not decode and a text cell get ``starts``/``lengths``.
    """
    t_n = len(bounds) - 1
    got = np.zeros(t_n, dtype=np.int64)
    for t in prange(t_n):
        got[t] = _scan_piece(
            buf, bounds[t], bounds[t + 1], row0[t], delim, kinds, slots, size, pairs,
            digests, status, starts, lengths,
        )  # fmt: skip
    return got


@numba.njit(cache=True, nogil=True)
def gather_cells(
    buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The cells ``rows`` as an Arrow string array's ``(offsets int64, data)`` buffers."""
    m = rows.shape[0]
    offsets = np.empty(m + 1, dtype=np.int64)
    offsets[0] = 0
    for i in range(m):
        offsets[i + 1] = offsets[i] + lengths[rows[i]]
    data = np.empty(max(1, int(offsets[m])), dtype=np.uint8)
    for i in range(m):
        s = starts[rows[i]]
        o = offsets[i]
        for j in range(lengths[rows[i]]):
            data[o + j] = buf[s + j]
    return offsets, data
