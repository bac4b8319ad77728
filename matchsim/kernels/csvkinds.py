"""The codes of the CSV upload scan (:mod:`matchsim.kernels.csvhex`), without numba: its
callers name column kinds and read cell states from here, so that a process whose scan
is compiled ahead of time (:mod:`matchsim.kernels.aot`) never loads numba."""

from __future__ import annotations

SKIP, HEX, TEXT = 0, 1, 2
"""Column kinds."""

NULL, DECODED, PRESENT = 0, 1, 2
"""Cell status: empty; a hex value decoded; present text (or a hex cell that does not decode)."""

GIVE_UP_QUOTE = -1
GIVE_UP_LINE = -2
GIVE_UP_FIELDS = -3
GIVE_UP_BYTE = -4
GIVE_UP_BLANK = -5
