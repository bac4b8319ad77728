"""The table that turns a hex character into its value (no numba: the upload reader's
ahead-of-time path, :mod:`matchsim.kernels.aot`, uses it without loading the kernels)."""

from __future__ import annotations

import numpy as np


def nibbles(upper: bool) -> np.ndarray:
    """Byte -> its value in ``0123456789abcdef`` (or ``ABCDEF`` if ``upper``), 255 for
    any other byte (case-strict)."""
    table = np.full(256, 255, dtype=np.uint8)
    alphabet = b"0123456789ABCDEF" if upper else b"0123456789abcdef"
    table[np.frombuffer(alphabet, dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
    return table


def hex_pairs(encoding: str) -> np.ndarray:
    """Two characters ``(a << 8) | b`` -> the byte they spell in ``hex`` or ``HEX``
    (uint16; 256 or more where either is not in the alphabet)."""
    if encoding not in ("hex", "HEX"):
        raise ValueError(f"not a hex encoding: {encoding!r}")
    nib = nibbles(encoding == "HEX").astype(np.uint16)
    hi, lo = nib[:, None], nib[None, :]
    bad = (hi == 255) | (lo == 255)
    return np.where(bad, np.uint16(0xFF00), (hi << 4) | lo).astype(np.uint16).ravel()
