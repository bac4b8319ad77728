"""Telephone number plans as digit *shapes*, derived from libphonenumber metadata.

A shape is a sequence of positions, each holding the set of digits allowed there, e.g.
NL mobile ``6 [1-58] \\d \\d \\d \\d \\d \\d \\d``. Every national number of a region and
number type is in exactly one shape, so a plan can be sampled uniformly (the generator)
or enumerated position by position without materialising it (the attacker's keyspace).

The shapes come from the national-number patterns that ``phonenumbers`` ships, read with
Python's own regular-expression parser (``re._parser``); the patterns use a small regex
subset (literals, classes, ``\\d``, groups, alternation, bounded repeats), which is all
this module expands. Anything else raises, so a metadata change cannot slip through.
"""

from __future__ import annotations

import importlib
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import numpy as np
import phonenumbers
from phonenumbers import PhoneMetadata

from matchsim.errors import ConfigError

# Python's own regex parser (the code behind the deprecated ``sre_parse``), kept private
# since 3.11; its parse tree is what we expand.
_sre_parser: Any = importlib.import_module("re._parser")
_sre_constants: Any = importlib.import_module("re._constants")

_DIGITS = "0123456789"
NUMBER_TYPES = ("mobile", "fixed_line", "voip", "toll_free", "personal_number")

Shape = tuple[str, ...]


def _expand(tree: Iterable[tuple[Any, Any]]) -> list[Shape]:
    """Expand a parsed (sub)pattern into the list of shapes it matches."""
    shapes: list[Shape] = [()]
    for op, arg in tree:
        alternatives = _expand_item(op, arg)
        shapes = [a + b for a in shapes for b in alternatives]
    return shapes


def _expand_item(op: Any, arg: Any) -> list[Shape]:
    c = _sre_constants
    if op is c.LITERAL:
        return [(chr(arg),)]
    if op is c.IN:
        return [(_class_digits(arg),)]
    if op is c.SUBPATTERN:
        return _expand(arg[-1])
    if op is c.BRANCH:
        return [s for branch in arg[1] for s in _expand(branch)]
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        lo: int
        hi: int
        lo, hi, sub = arg
        if hi is c.MAXREPEAT or hi > 32:
            raise ValueError("unbounded repeat in a number pattern")
        once = _expand(sub)
        out: list[Shape] = []
        for k in range(lo, hi + 1):
            for combo in itertools.product(once, repeat=k):
                out.append(tuple(p for part in combo for p in part))
        return out
    raise ValueError(f"unsupported regex construct {op!r} in a number pattern")


def _class_digits(items: Iterable[tuple[Any, Any]]) -> str:
    c = _sre_constants
    allowed: set[str] = set()
    for op, arg in items:
        if op is c.LITERAL:
            allowed.add(chr(arg))
        elif op is c.RANGE:
            first, last = arg
            allowed.update(chr(x) for x in range(first, last + 1))
        elif op is c.CATEGORY and arg is c.CATEGORY_DIGIT:
            allowed.update(_DIGITS)
        else:
            raise ValueError(f"unsupported class item {op!r} in a number pattern")
    if not allowed <= set(_DIGITS):
        raise ValueError("non-digit in a number pattern class")
    return "".join(sorted(allowed))


def expand_pattern(pattern: str) -> list[Shape]:
    """All shapes matched by a libphonenumber national-number pattern (full match)."""
    return _expand(_sre_parser.parse(pattern))


@dataclass(frozen=True)
class NumberPlan:
    """The valid national numbers of one region and number type, as disjoint shapes.

    Attributes:
        region: ISO 3166 alpha-2 region, e.g. ``"NL"``.
        number_type: one of :data:`NUMBER_TYPES`.
        country_code: the calling code, e.g. 31.
        national_prefix: the trunk prefix dialled nationally (``"0"`` in NL, ``"1"`` in NANP).
        shapes: the digit sets per position of each shape.
        ndc_lengths: national destination code length per shape (for human formats).
    """

    region: str
    number_type: str
    country_code: int
    national_prefix: str
    shapes: tuple[Shape, ...]
    ndc_lengths: tuple[int, ...]

    @cached_property
    def _shape_sizes(self) -> tuple[int, ...]:
        # Computed once: the generator asks for the sizes on every draw of phone numbers
        # (each chunk and each redraw of a taken number), and a plan has hundreds of shapes.
        return tuple(math.prod(len(p) for p in s) for s in self.shapes)

    @property
    def sizes(self) -> np.ndarray:
        """How many numbers each shape holds (float64: NANP-wide plans exceed int64 sums)."""
        return np.array(self._shape_sizes, dtype=np.float64)

    @property
    def size(self) -> int:
        """How many valid numbers the plan holds."""
        return sum(self._shape_sizes)

    @property
    def max_length(self) -> int:
        return max(len(s) for s in self.shapes)

    @cached_property
    def digit_table_cached(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.digit_table()

    def digit_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense arrays for vectorised sampling/enumeration.

        Returns:
            ``(lengths (S,), choices (S, L, 10) uint8 ASCII digits, counts (S, L))`` where
            ``choices[s, i, :counts[s, i]]`` are the digits allowed at position ``i``.
        """
        n, width = len(self.shapes), self.max_length
        lengths = np.array([len(s) for s in self.shapes], dtype=np.int64)
        choices = np.zeros((n, width, 10), dtype=np.uint8)
        counts = np.zeros((n, width), dtype=np.int64)
        for si, shape in enumerate(self.shapes):
            for pi, allowed in enumerate(shape):
                counts[si, pi] = len(allowed)
                choices[si, pi, : len(allowed)] = np.frombuffer(allowed.encode(), dtype=np.uint8)
        return lengths, choices, counts


def _refine(shape: Shape, depth: int) -> list[Shape]:
    """Split a shape so its first ``depth`` positions are single digits."""
    head = shape[:depth]
    return [tuple(digits) + shape[depth:] for digits in itertools.product(*head)]


@cache
def number_plan(
    region: str, number_type: str = "mobile", lengths: Sequence[int] | None = None
) -> NumberPlan:
    """The number plan of ``region`` for ``number_type`` from phonenumbers metadata.

    Args:
        region: ISO alpha-2 region code (case-insensitive).
        number_type: ``mobile``, ``fixed_line``, ``voip``, ``toll_free`` or ``personal_number``.
        lengths: keep only national numbers of these lengths (e.g. NL mobiles of 9 digits,
            leaving out 11-digit machine-to-machine ranges); default: every possible length.

    Raises:
        ConfigError: unknown region, or a region without that number type.
    """
    region = region.upper()
    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None:
        raise ConfigError(f"unknown region {region!r} (no phonenumbers metadata)")
    if number_type not in NUMBER_TYPES:
        raise ConfigError(f"unknown number type {number_type!r}; choose from {NUMBER_TYPES}")
    desc = getattr(meta, number_type, None)
    if desc is None or not desc.national_number_pattern:
        raise ConfigError(f"region {region} has no {number_type} numbers in its number plan")
    general = meta.general_desc.possible_length if meta.general_desc else ()
    allowed_lengths = set(desc.possible_length or general or ())
    if lengths is not None:
        allowed_lengths &= set(lengths)
    shapes = {s for s in expand_pattern(desc.national_number_pattern) if len(s) in allowed_lengths}
    if not shapes:
        raise ConfigError(f"region {region} has no {number_type} numbers of lengths {lengths}")
    refined = sorted({r for s in shapes for r in _refine(s, min(3, len(s)))})
    ndc: list[int] = []
    for shape in refined:
        example = "".join(p[0] for p in shape)
        parsed = phonenumbers.parse(f"+{meta.country_code or 0}{example}")
        ndc.append(phonenumbers.length_of_national_destination_code(parsed) or min(3, len(shape)))
    return NumberPlan(
        region=region,
        number_type=number_type,
        country_code=int(meta.country_code or 0),
        national_prefix=meta.national_prefix or "",
        shapes=tuple(refined),
        ndc_lengths=tuple(ndc),
    )
