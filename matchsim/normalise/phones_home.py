"""Home-region phone numbers parsed without a Python call per value.

A customer file holds its country's numbers as people type them: ``06-12345678``,
``+31 (0)6 12345678``, ``0031 6 12345678``, ``+31 6 12345678``. Parsing each with
``phonenumbers`` costs some 90 µs; ten million rows cost minutes. This module does the
same steps ``phonenumbers.parse`` + ``is_valid_number`` + ``format_number(E164)`` take
for those well-formed shapes, as Arrow kernels over the whole column, and accepts a
value only where every step is certain to give the same answer:

* the value is ASCII digits with ``space - . ( )`` between them, optionally led by ``+``
  (no letters, ``#``, ``;``, ``,``: no extension or second number can be read from it);
* after the ``+``, or the region's plain-digit international prefix (``00``) not
  followed by ``0``, come the region's own calling code, or else the value starts with
  the region's plain-digit national prefix (``0``) and not with the international one;
* the region's calling code belongs to it alone, and it has no national-prefix
  transform rule;
* the national number left after the national prefix is *valid* under the region's
  metadata (general description and at least one number type, each by its possible
  lengths and pattern), and its length is not a local-only one, so ``phonenumbers``
  strips that prefix too and keeps the result.

Everything else (other countries, odd punctuation, invalid numbers, their reasons) is
left to ``phonenumbers``; ``tests/test_normalise_bulk.py`` compares both paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

SHAPE = r"^\+?[0-9][0-9 ().\-]{0,40}[0-9]$"
"""The only characters a value may hold to be parsed here (at most 42 of them)."""

_TYPES = (
    "mobile",
    "fixed_line",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)
"""The number types a valid number must match one of; the commonest first, since each
type is only tried on the numbers no earlier one matched."""


@dataclass(frozen=True)
class _Desc:
    pattern: str  # ``^(?:...)$`` for RE2
    lengths: tuple[int, ...]  # empty: any


@dataclass(frozen=True)
class HomePlan:
    """What the vectorised parse needs from one region's metadata."""

    calling_code: str
    national_prefix: str
    international_prefix: str
    general: _Desc
    local_only: tuple[int, ...]
    types: tuple[_Desc, ...]


def _desc(desc: object) -> _Desc | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if desc is None or not pattern:
        return None
    return _Desc(f"^(?:{pattern})$", tuple(getattr(desc, "possible_length", None) or ()))


@lru_cache(maxsize=64)
def home_plan(region: str) -> HomePlan | None:
    """The region's plan, or None where the vectorised parse could differ (then every
    value goes to ``phonenumbers``)."""
    if region not in phonenumbers.SUPPORTED_REGIONS:
        return None
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.country_code is None:
        return None
    if phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code) != (region,):
        return None
    prefix = meta.national_prefix_for_parsing
    idd = meta.international_prefix
    if not prefix or not prefix.isdigit() or meta.national_prefix_transform_rule:
        return None
    if not idd or not idd.isdigit():
        return None
    general = _desc(meta.general_desc)
    if general is None:
        return None
    types = tuple(d for d in (_desc(getattr(meta, t, None)) for t in _TYPES) if d is not None)
    local = tuple(getattr(meta.general_desc, "possible_length_local_only", None) or ())
    return HomePlan(str(meta.country_code), prefix, idd, general, local, types)


def _matches(values: pa.Array, lengths: np.ndarray, desc: _Desc) -> np.ndarray:
    ok = pc.fill_null(pc.match_substring_regex(values, desc.pattern), False)
    out = np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
    if desc.lengths:
        out &= np.isin(lengths, np.array(desc.lengths, dtype=np.int64))
    return out


def valid_national(plan: HomePlan, national: pa.Array) -> np.ndarray:
    """Whether each national significant number is valid for the plan's region."""
    lengths = np.asarray(pc.utf8_length(national).to_numpy(zero_copy_only=False), np.int64)
    ok = _matches(national, lengths, plan.general)
    if plan.local_only:
        ok &= ~np.isin(lengths, np.array(plan.local_only, dtype=np.int64))
    if not ok.any():
        return ok
    # Valid: the general pattern and some type's. Each type is tried only on the numbers
    # still untyped (a customer file's are nearly all mobile or fixed-line).
    typed = np.zeros(len(national), dtype=bool)
    todo = np.flatnonzero(ok)
    for desc in plan.types:
        if todo.shape[0] == 0:
            break
        values = national if todo.shape[0] == len(national) else national.take(pa.array(todo))
        hit = _matches(values, lengths[todo], desc)
        typed[todo[hit]] = True
        todo = todo[~hit]
    return typed


def _starts(values: pa.Array, prefix: str) -> np.ndarray:
    hit = pc.fill_null(pc.starts_with(values, prefix), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def _national_part(plan: HomePlan, text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``(national number before prefix stripping, whether the shape is one handled)``."""
    from matchsim.kernels.textshape import keep_digits  # numba: loaded when first used

    digits = keep_digits(text)  # = replace_substring_regex(text, "[^0-9]", "")
    plus = _starts(text, "+")
    cc, idd, trunk = plan.calling_code, plan.international_prefix, plan.national_prefix
    via_plus = plus & _starts(digits, cc)
    after_idd = pc.utf8_slice_codeunits(digits, len(idd))
    via_idd = ~plus & _starts(digits, idd) & _starts(after_idd, cc)
    national = ~plus & ~_starts(digits, idd) & _starts(digits, trunk)
    cut = np.where(via_plus, len(cc), np.where(via_idd, len(idd) + len(cc), 0))
    rest = _slice_from(digits, cut)
    return rest, via_plus | via_idd | national


def _slice_from(values: pa.Array, start: np.ndarray) -> pa.Array:
    out = values
    for k in np.unique(start):
        if k == 0:
            continue
        rows = pa.array(start == k)
        out = pc.if_else(rows, pc.utf8_slice_codeunits(values, int(k)), out)
    return out


def parse_home(text: pa.Array, region: str) -> tuple[pa.Array, np.ndarray]:
    """E.164 for the values parsed here and a mask of them; other rows are to be parsed
    by ``phonenumbers`` (their output here is meaningless).

    ``text`` is trimmed and non-null.
    """
    n = len(text)
    plan = home_plan(region)
    done = np.zeros(n, dtype=bool)
    if plan is None or n == 0:
        return pa.nulls(n, pa.string()), done
    shaped = np.asarray(
        pc.fill_null(pc.match_substring_regex(text, SHAPE), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    if not shaped.any():
        return pa.nulls(n, pa.string()), done
    rest, handled = _national_part(plan, text)
    handled &= shaped
    trunk = plan.national_prefix
    stripped = _starts(rest, trunk)
    nsn = pc.if_else(pa.array(stripped), pc.utf8_slice_codeunits(rest, len(trunk)), rest)
    done = handled & valid_national(plan, nsn)
    e164 = pc.binary_join_element_wise("+" + plan.calling_code, nsn, "")
    return e164, done
