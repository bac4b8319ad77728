"""MD5 against a few targets, from each target backwards (hashcat's single-hash trick).

An MD5 step is invertible: given the state after step ``i`` and its message word, the
state before it follows (:func:`_unstep`). When a scan looks for a few digests, the
last steps need not be run forwards for every candidate: they can be undone from each
target, once, as far back as the words they read are known without the candidate.

This module applies where the scan's inner space lies in message word 2 of a short
candidate (at most 15 bytes: words 4..13 and 15 zero, word 14 the length) and the
outer positions in words 0, 1 and 3 (an NL mobile number ``316xxxxxxxx``: its last
three digits are the inner space, word 2). Round 4 reads words 9, 2, 11, 4, 13, 6, 15
and 8 in steps 63 back to 56, then word 1 in step 55. So:

- **backwards, once per scan**: for every target and every inner index ``j`` (word 2's
  value), steps 63..56 are undone from the target's state, and step 55 as far as its
  word 1 (an outer word): :func:`table` gives ``U[t, j]``, the value ``x55 + w1`` the
  candidate must reach;
- **forwards, per outer index**: steps 0 and 1 read words 0 and 1 only;
- **forwards, per candidate**: steps 2..51 (:data:`FIRST` to :data:`CHECK` - 1), 50
  steps against the 62 of the early-rejecting scan, and one compare of ``x55 + w1``
  with ``U[t, j]`` per target.

A candidate that passes is verified exactly by the caller, as the bitmap survivors are
(a false pass has odds 2^-32 per target). The table costs ``targets x inner space``
words, computed in NumPy without numba (a fresh process plans the scan without it).

Notation (as :mod:`._gen_unrolled`): ``x{k}`` is the ``b`` that step ``k - 4`` writes;
step ``i`` reads ``a, d, c, b = x{i}, x{i + 1}, x{i + 2}, x{i + 3}``. From the initial
state ``(A, B, C, D)``: ``x0, x1, x2, x3 = A, D, C, B``; after 64 steps the digest's
words are ``A + x64, B + x67, C + x66, D + x65``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matchsim.kernels import constants as C

WORD = 2
"""The message word the inner space lies in."""
FIRST = 2
"""Steps before this one read words 0 and 1 only: run once per outer index."""
CHECK = 52
"""Steps ``FIRST..CHECK - 1`` run per candidate; step ``CHECK - 1`` writes ``x{CHECK + 3}``
(x55), which step 55 reads as its ``a`` beside word 1."""
MAX_TARGETS = 16
"""Most distinct targets the reversed scan takes: each costs a compare per candidate
(a sixth of a step each, over 48 lanes), and the table ``MAX_TARGETS x inner`` words."""
MAX_INNER = 1 << 16
"""Most values of word 2 the reversed scan takes as its inner space (each a column of
the table and of the kernel's word table)."""
MAX_TABLE = 1 << 20
"""Most table words (targets x inner values: 4 MB; NumPy's temporaries while it is made
take about ten times that)."""
SHORT_ZERO = frozenset(range(4, 14)) | {15}
"""Words that are zero in a short candidate's block (:mod:`._gen_unrolled`'s ``SHORT_ZERO``)."""
OUTER_WORDS = frozenset({0, 1, 3})
"""Words the outer positions may lie in: none of them is read in steps 56..63."""

_M32 = 0xFFFFFFFF
_LAST_UNDONE = CHECK + 4
"""Steps ``63`` down to this one are undone whole; step ``CHECK + 3`` (55) in part."""

if any(C.MD5_G[i] in OUTER_WORDS for i in range(_LAST_UNDONE, 64)) or C.MD5_G[CHECK + 3] != 1:
    raise ImportError("MD5's round-4 word order does not allow this reversal")


def _rotr(x: np.ndarray, s: int) -> np.ndarray:
    return (x >> np.uint32(s)) | (x << np.uint32(32 - s))


def _i(b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """MD5's round-4 function ``c ^ (b | ~d)``."""
    return c ^ (b | ~d)


def _unstep(i: int, x: dict[int, np.ndarray], w: Any) -> np.ndarray:
    """The ``a`` that round-4 step ``i`` read (``x{i}``), from ``x{i + 1..i + 4}`` and its
    word ``w``: ``x{i} = rotr(x{i + 4} - x{i + 3}, s) - I(b, c, d) - T - w``."""
    partial = _rotr(x[i + 4] - x[i + 3], C.MD5_S[i]) - _i(x[i + 3], x[i + 2], x[i + 1])
    return partial - np.uint32(C.MD5_T[i]) - w


def inner_positions(template: np.ndarray, var_offset: np.ndarray, var_counts: np.ndarray,
                    n_inner: int, hmac: bool, n_targets: int) -> int | None:  # fmt: skip
    """How many trailing varying positions the reversed scan takes as its inner space
    for a scan of this layout (:func:`matchsim.attack.engine._mask_layout`'s) and
    ``n_targets`` distinct MD5 digests, or None where it does not apply: one block,
    words 4..15 fixed and zero but the length (word 14), the inner positions in word 2
    and the outer ones in words 0, 1 and 3, no HMAC, at most :data:`MAX_TARGETS`
    targets. The layout's inner space grows to every varying position of word 2 (an
    E.164 ``+316...`` has four digits there, the layout's inner space three), as long as
    it stays within :data:`MAX_INNER` values and the table within :data:`MAX_TABLE`
    (four printable bytes are 8 x 10^7 values: a table of gigabytes)."""
    if hmac or not 1 <= n_targets <= MAX_TARGETS or template.shape != (16,):
        return None
    words = np.asarray(var_offset, dtype=np.int64) >> 2
    if not 1 <= n_inner <= words.shape[0]:
        return None
    while n_inner < words.shape[0] and words[words.shape[0] - n_inner - 1] == WORD:
        n_inner += 1
    n_outer = words.shape[0] - n_inner
    if not bool(np.all(words[n_outer:] == WORD)):
        return None
    if not all(int(v) in OUTER_WORDS for v in words[:n_outer]):
        return None
    size = 1
    for count in var_counts[n_outer:]:
        size *= int(count)
    if size > MAX_INNER or n_targets * size > MAX_TABLE:
        return None
    return n_inner if all(int(template[w]) == 0 for w in SHORT_ZERO) else None


def table(digests: np.ndarray, init: np.ndarray, template: np.ndarray,
          inner_word: np.ndarray) -> np.ndarray:  # fmt: skip
    """``U[t, j]`` (uint32, ``(targets, len(inner_word))``): the value ``x55 + w1`` that a
    candidate with word 2 ``template[2] | inner_word[j]`` must reach to hash to target
    ``t``. ``digests``: (targets, 16) uint8 MD5 digests; ``init``: the chaining value
    the block starts from (the IV, or a prefix's state); ``template``: the block's 16
    words (those read in steps 55..63 but word 2 are fixed)."""
    d = np.ascontiguousarray(digests, dtype=np.uint8).view("<u4").astype(np.uint32)
    s0 = np.asarray(init, dtype=np.uint32)
    col = d[:, :, None]  # (targets, 4, 1): broadcast against the inner index
    x: dict[int, np.ndarray] = {
        64: col[:, 0] - s0[0],
        67: col[:, 1] - s0[1],
        66: col[:, 2] - s0[2],
        65: col[:, 3] - s0[3],
    }
    words: dict[int, Any] = {g: np.uint32(int(template[g]) & _M32) for g in range(16)}
    words[WORD] = (np.uint32(int(template[WORD]) & _M32) | np.asarray(inner_word, np.uint32))[
        None, :
    ]
    with np.errstate(over="ignore"):
        for i in range(63, _LAST_UNDONE - 1, -1):
            x[i] = _unstep(i, x, words[C.MD5_G[i]])
        k = CHECK + 3
        u = _unstep(k, x, np.uint32(0))
    return np.ascontiguousarray(np.broadcast_to(u, (d.shape[0], len(inner_word))))
