"""Keyspaces: every value an identifier could take, enumerated without materialising it.

Two kinds:

- :class:`MaskKeyspace` — fixed-width candidates whose positions each allow a set of
  bytes: phone numbers (from the libphonenumber number plan, in a platform's format),
  dates of birth, postcodes. Candidate ``i`` of a mask is a mixed-radix number, so a
  kernel generates it from its index and a keyspace splits into index ranges
  (chunks) that threads, processes or a Dask cluster work through.
- :class:`WordKeyspace` — a stream of candidate strings in likelihood order (e-mail
  guesses, names, a wordlist file), each chunk an Arrow array built by vectorised
  compute.

Neither looks at an upload: a keyspace is what the attacker knows about the world.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from matchsim.errors import ConfigError, InputError
from matchsim.locale.numberplan import NumberPlan, number_plan

if TYPE_CHECKING:
    from matchsim.locale.tables import Locale

PHONE_STYLES = ("digits", "e164", "national")
"""``digits``: ``316…`` (Meta, TikTok, X, Snapchat); ``e164``: ``+316…`` (Google,
UID2); ``national``: ``06…`` as typed in a Dutch CRM."""


@dataclass(frozen=True)
class Mask:
    """Fixed-width candidates: ``positions[i]`` are the bytes allowed at position i."""

    positions: tuple[bytes, ...]

    @property
    def length(self) -> int:
        return len(self.positions)

    @functools.cached_property
    def size(self) -> int:
        return math.prod(len(p) for p in self.positions)

    def varying(self) -> list[int]:
        return [i for i, p in enumerate(self.positions) if len(p) > 1]

    def decode(self, index: np.ndarray) -> np.ndarray:
        """Candidates number ``index`` -> (n, length) uint8 (last position fastest)."""
        rem = np.asarray(index, dtype=np.int64).copy()
        out = np.empty((rem.shape[0], self.length), dtype=np.uint8)
        for i in range(self.length - 1, -1, -1):
            allowed = np.frombuffer(self.positions[i], dtype=np.uint8)
            out[:, i] = allowed[rem % allowed.shape[0]]
            rem //= allowed.shape[0]
        return out

    def text(self) -> str:
        """hashcat-like notation: ``316?d?d`` with ``[15]`` for other sets."""
        parts = []
        for p in self.positions:
            if len(p) == 1:
                parts.append(p.decode("latin-1"))
            elif p == b"0123456789":
                parts.append("?d")
            else:
                parts.append("[" + p.decode("latin-1") + "]")
        return "".join(parts)


@dataclass(frozen=True)
class MaskKeyspace:
    """A union of disjoint masks; index ``i`` runs through them in order."""

    name: str
    masks: tuple[Mask, ...]

    @functools.cached_property
    def size(self) -> int:
        # Cached: callers ask once per chunk, and a date keyspace has thousands of masks
        # (summing them afresh made a table build quadratic in the number of masks).
        return sum(m.size for m in self.masks)

    def chunks(self, chunk_size: int) -> Iterator[tuple[int, int, int]]:
        """``(mask number, start, stop)`` ranges of at most ``chunk_size`` candidates."""
        for k, mask in enumerate(self.masks):
            for start in range(0, mask.size, chunk_size):
                yield k, start, min(start + chunk_size, mask.size)


def phone_keyspace(
    region: str,
    number_type: str = "mobile",
    style: str = "digits",
    lengths: Sequence[int] | None = None,
) -> MaskKeyspace:
    """Every valid number of ``region`` and ``number_type``, written in ``style``.

    Built on :func:`matchsim.locale.numberplan.number_plan` (libphonenumber's national number
    patterns and lengths). NL mobile in ``digits`` style is ``31`` + ``6[1-58]`` + 7
    digits: 6 x 10^7 numbers.

    Raises:
        ConfigError: unknown region, a region without that number type, unknown style.
    """
    plan = number_plan(region, number_type, tuple(lengths) if lengths else None)
    return plan_keyspace(plan, style)


def phone_lengths(
    region: str, number_type: str = "mobile", lengths: Sequence[int] | None = None
) -> dict[int, int]:
    """National-number length -> how many valid numbers of that length
    :func:`phone_keyspace` enumerates for the same arguments.

    Without ``lengths`` these are phonenumbers' possible lengths for ``number_type``
    (from its metadata), e.g. NL mobile: 9 (``06``) and 11 (the ``097`` machine-to-machine
    range).
    """
    plan = number_plan(region, number_type, tuple(lengths) if lengths else None)
    out: dict[int, int] = {}
    for shape in plan.shapes:
        out[len(shape)] = out.get(len(shape), 0) + math.prod(len(p) for p in shape)
    return dict(sorted(out.items()))


def plan_keyspace(plan: NumberPlan, style: str) -> MaskKeyspace:
    if style not in PHONE_STYLES:
        raise ConfigError(f"unknown phone style {style!r}; choose from {', '.join(PHONE_STYLES)}")
    prefix = {
        "digits": str(plan.country_code),
        "e164": f"+{plan.country_code}",
        "national": plan.national_prefix,
    }[style]
    head = tuple(c.encode() for c in prefix)
    masks = _merge_shapes([head + tuple(p.encode() for p in shape) for shape in plan.shapes])
    return MaskKeyspace(
        name=f"{plan.region} {plan.number_type.replace('_', ' ')} phones ({style})", masks=masks
    )


def _merge_shapes(shapes: list[tuple[bytes, ...]]) -> tuple[Mask, ...]:
    """Merge shapes that differ in one position only (the plan refines the first three
    digits into single-digit shapes; merging them back gives fewer, larger masks)."""
    current = sorted(set(shapes))
    changed = True
    while changed:
        changed = False
        for pos in range(max((len(s) for s in current), default=0)):
            groups: dict[tuple[object, ...], list[tuple[bytes, ...]]] = {}
            for s in current:
                if pos < len(s):
                    key = (len(s), *s[:pos], *s[pos + 1 :])
                    groups.setdefault(key, []).append(s)
            merged: list[tuple[bytes, ...]] = []
            for members in groups.values():
                if len(members) > 1:
                    allowed = bytes(sorted(set(b"".join(m[pos] for m in members))))
                    if sum(len(m[pos]) for m in members) == len(allowed):
                        merged.append((*members[0][:pos], allowed, *members[0][pos + 1 :]))
                        changed = True
                        continue
                merged.extend(members)
            merged.extend(s for s in current if pos >= len(s))
            current = sorted(set(merged))
    return tuple(Mask(s) for s in current)


def date_keyspace(
    first_year: int = 1920, last_year: int = 2010, fmt: str = "%Y%m%d"
) -> MaskKeyspace:
    """Dates of birth as Meta hashes them (``YYYYMMDD``): one mask per year and month.

    Only real calendar days are candidates (a mask per month has the right day count).
    """
    masks = []
    for year in range(first_year, last_year + 1):
        for month in range(1, 13):
            days = _days_in_month(year, month)
            text = fmt.replace("%Y", f"{year:04d}").replace("%m", f"{month:02d}")
            masks.extend(_day_masks(text, days))
    return MaskKeyspace(name=f"dates {first_year}-{last_year} ({fmt})", masks=tuple(masks))


def _days_in_month(year: int, month: int) -> int:
    start = np.datetime64(f"{year:04d}-{month:02d}", "M")
    return int(((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(int))


def _day_masks(text: str, days: int) -> list[Mask]:
    """``%d`` in ``text`` over 01..days, as one mask per tens digit."""
    before, _, after = text.partition("%d")
    head = tuple(c.encode() for c in before)
    tail = tuple(c.encode() for c in after)
    units = {0: b"123456789", 1: b"0123456789", 2: b"0123456789"[: min(10, days - 19)]}
    if days >= 30:
        units[3] = b"0123456789"[: days - 29]
    return [Mask((*head, str(t).encode(), u, *tail)) for t, u in units.items()]


def nl_postcode_keyspace(style: str = "compact") -> MaskKeyspace:
    """Dutch PC6 postcodes (1000-9999 + two letters), ``compact`` ``1234ab`` (lowercase,
    as a platform normalises) or ``spaced`` ``1234 AB``: 9,000 x 400 = 3.6 x 10^6."""
    letters = b"ABCDEGHJKLMNPRSTVWXZ"
    if style == "compact":
        sep: tuple[bytes, ...] = ()
        letters = letters.lower()
    elif style == "spaced":
        sep = (b" ",)
    else:
        raise ConfigError(f"unknown postcode style {style!r}; choose compact or spaced")
    digits = b"0123456789"
    return MaskKeyspace(
        name=f"NL postcodes ({style})",
        masks=(Mask((b"123456789", digits, digits, digits, *sep, letters, letters)),),
    )


def number_range_masks(lo: int, hi: int) -> tuple[Mask, ...]:
    """The decimal numbers ``lo..hi`` (inclusive, written without leading zeros) as
    disjoint masks in ascending order: ``1000..1343`` is ``1[0-2]?d?d``, ``13[0-3]?d``,
    ``134[0-3]``. At most about 18 masks per digit count, whatever the range's size.

    Raises:
        ConfigError: ``lo`` below 0 or above ``hi``.
    """
    if lo < 0 or lo > hi:
        raise ConfigError(f"bad number range {lo}..{hi}")
    masks: list[Mask] = []
    for width in range(len(str(lo)), len(str(hi)) + 1):
        a = max(lo, 10 ** (width - 1) if width > 1 else 0)
        b = min(hi, 10**width - 1)
        if a <= b:
            masks.extend(_same_width_masks(str(a), str(b)))
    return tuple(masks)


def _same_width_masks(a: str, b: str) -> list[Mask]:
    """Masks covering ``a..b`` (decimal strings of one width, ``a <= b``) in order."""
    if a == b:
        return [Mask(tuple(c.encode() for c in a))]
    i = next(j for j in range(len(a)) if a[j] != b[j])
    prefix = tuple(c.encode() for c in a[:i])
    rest = len(a) - i - 1
    da, db = int(a[i]), int(b[i])
    any_digit = (b"0123456789",) * rest
    low_full = a[i + 1 :] == "0" * rest
    high_full = b[i + 1 :] == "9" * rest
    masks: list[Mask] = []
    first, last = da, db
    if not low_full:
        masks.extend(_same_width_masks(a, a[: i + 1] + "9" * rest))
        first = da + 1
    if not high_full:
        last = db - 1
    if first <= last:
        span = "".join(str(d) for d in range(first, last + 1)).encode()
        masks.append(Mask((*prefix, span, *any_digit)))
    if not high_full:
        masks.extend(_same_width_masks(b[: i + 1] + "0" * rest, b))
    return masks


# --------------------------------------------------------------------------- words


@dataclass(frozen=True)
class WordKeyspace:
    """Candidate strings in likelihood order, produced chunk by chunk.

    ``batches()`` yields ``(candidates, probability or None)``; the attack counts
    guesses in that order, which gives the guesswork curve.
    """

    name: str
    size: int
    batches: Callable[[], Iterator[pa.Array]]


def words_keyspace(name: str, values: pa.Array) -> WordKeyspace:
    """A fixed list (names, a wordlist), in the given order, deduplicated."""
    import pyarrow.compute as pc

    values = pc.unique(pc.drop_null(values.cast(pa.string())))

    def batches() -> Iterator[pa.Array]:
        step = 1 << 20
        for start in range(0, len(values), step):
            yield values.slice(start, step)

    return WordKeyspace(name=name, size=len(values), batches=batches)


def wordlist_keyspace(path: str | Path) -> WordKeyspace:
    """One candidate per line of a text file (likelihood order = file order).

    Raises:
        InputError: file missing or empty.
    """
    import pyarrow.compute as pc

    p = Path(path)
    if not p.is_file():
        raise InputError(p, "wordlist not found")
    text = pa.array(p.read_bytes().decode("utf-8", "replace").splitlines(), pa.string())
    text = pc.utf8_trim_whitespace(text)
    text = text.filter(pc.greater(pc.utf8_length(text), 0))
    if len(text) == 0:
        raise InputError(p, "the wordlist is empty")
    return words_keyspace(f"wordlist {p.name}", text)


def combine_words(parts: Sequence[pa.Array], separator: str = "") -> pa.Array:
    """Cartesian product of small value lists joined by ``separator`` (e.g. first name x
    last name, or date of birth x postcode), first list slowest."""
    import pyarrow.compute as pc

    sizes = [len(p) for p in parts]
    total = int(np.prod(sizes))
    idx = np.indices(sizes).reshape(len(parts), total)
    cols = [p.take(pa.array(i)) for p, i in zip(parts, idx, strict=True)]
    return pc.binary_join_element_wise(*cols, separator)


@dataclass(frozen=True)
class Factor:
    """One slot of an e-mail pattern: values and their probabilities (descending)."""

    values: pa.Array
    probs: np.ndarray


def best_first(
    factors: Sequence[Factor], weight: float, threshold: float, ceiling: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index tuples whose probability ``weight * prod(p)`` lies in [threshold, ceiling).

    Vectorised: each factor's probabilities are sorted descending, so for a partial
    product the admissible next values are a prefix found by ``searchsorted``; for the
    last factor, a range (those at or above ``ceiling`` were a previous round's, and are
    not built again). Each level keeps only its rows' parents and values; the tuples are
    assembled once, at the end, from the last level back.

    Returns:
        ``(indices (k, n) int64, probability (n,))``, tuples in lexicographic order.
    """
    rest = [float(np.prod([f.probs[0] for f in factors[i + 1 :]])) for i in range(len(factors))]
    prob = np.array([weight])
    parents: list[np.ndarray] = []
    values: list[np.ndarray] = []
    last = len(factors) - 1
    for d, f in enumerate(factors):
        # For each partial row, how many values v keep prob * p_v * rest >= threshold.
        need = threshold / (prob * rest[d])
        counts = np.searchsorted(-f.probs, -need, side="right")
        skip = np.zeros_like(counts)
        if d == last and np.isfinite(ceiling):
            # Values whose product certainly reaches the ceiling (a margin far above
            # rounding: the exact test below decides the ones near it).
            skip = np.searchsorted(-f.probs, -(ceiling / prob) * (1 + 1e-9), side="left")
            skip = np.minimum(skip, counts)
            counts = counts - skip
        total = int(counts.sum())
        if total == 0:
            return np.zeros((len(factors), 0), dtype=np.int64), np.zeros(0)
        parent = np.repeat(np.arange(prob.shape[0]), counts)
        starts = np.cumsum(counts) - counts
        child = np.arange(total) - np.repeat(starts - skip, counts)
        parents.append(parent)
        values.append(child)
        prob = prob[parent] * f.probs[child]
    rows = np.flatnonzero(prob < ceiling)
    idx = np.empty((len(factors), rows.shape[0]), dtype=np.int64)
    for d in range(last, -1, -1):
        idx[d] = values[d][rows]
        rows = parents[d][rows]
    return idx, prob[prob < ceiling]


def _factor(values: pa.Array, weights: np.ndarray) -> Factor:
    """Aggregate duplicate values, sort by probability descending."""
    import pandas as pd

    frame = pd.DataFrame({"v": values.to_numpy(zero_copy_only=False), "w": weights})
    agg = frame.groupby("v", sort=False)["w"].sum().sort_values(ascending=False)
    probs = agg.to_numpy(dtype=np.float64)
    return Factor(pa.array(agg.index.to_numpy(), pa.string()), probs / probs.sum())


EMAIL_SUFFIX_SHARE = 0.2
"""Share of addresses that carry a number appended to their pattern (a modelling
assumption; see :func:`email_keyspace`)."""

EMAIL_SUFFIX_FAMILIES: tuple[tuple[str, float], ...] = (
    ("yyyy", 0.25),
    ("yy", 0.20),
    ("d", 0.10),
    ("dd", 0.20),
    ("ddd", 0.15),
    ("dddd", 0.10),
)
"""How an appended number is built, and the share of each kind: birth year in four or
two digits (weighted by the age table), or a number of one to four digits (uniform,
zero-padded). Modelling assumptions, not measurements; see :func:`email_keyspace`."""


def _digit_strings(width: int) -> pa.Array:
    """Every ``width``-digit string, zero-padded, in numeric order."""
    import pyarrow.compute as pc

    numbers = pa.array(np.arange(10**width, dtype=np.int64)).cast(pa.string())
    return pc.utf8_lpad(numbers, width, "0")


def email_suffix_factor(yy: Factor, yyyy: Factor) -> Factor:
    """The number appended to a local part, as one factor: the mixture of
    :data:`EMAIL_SUFFIX_FAMILIES` (a string reachable two ways, e.g. ``85`` as a birth
    year and as a two-digit number, gets both probabilities)."""
    values: list[pa.Array] = []
    weights: list[np.ndarray] = []
    for family, share in EMAIL_SUFFIX_FAMILIES:
        if family in ("yy", "yyyy"):
            f = yy if family == "yy" else yyyy
            values.append(f.values)
            weights.append(share * f.probs)
        else:
            digits = _digit_strings(len(family))
            values.append(digits)
            weights.append(np.full(len(digits), share / len(digits)))
    return _factor(pa.concat_arrays(values), np.concatenate(weights))


def email_keyspace(
    country: str,
    max_guesses: int = 10_000_000,
    wordlist: str | Path | None = None,
    as_of_year: int = 2025,
    suffixes: bool = True,
) -> WordKeyspace:
    """E-mail guesses from the country's name tables x address patterns x domain mix.

    Candidates come in descending probability, p = share(pattern) x p(tokens) x
    p(domain), with names weighted by frequency, birth years by the age table and
    random digits uniform; an optional wordlist (one address per line) is tried first.
    This is the attacker's model of how people build addresses, the same public
    statistics the generator uses; it never sees an upload's plaintext.

    With ``suffixes`` (the default) every pattern also comes with a number appended to
    its local part (``jan.jansen`` -> ``jan.jansen85``, ``jan.jansen1985``,
    ``jan.jansen7``, ``jan.jansen042``): what people do when the address they want is
    taken (mail providers suggest such variants) and what many do anyway to make an
    address their own. Such a variant has p = p(pattern's address) x
    :data:`EMAIL_SUFFIX_SHARE` x p(number), and the plain address keeps 1 - that share;
    scaling every plain guess by one constant keeps their order, so the variants are
    only interleaved, each at its own, lower, likelihood. The weights are modelling
    assumptions, not measurements, chosen from public habits: a fifth of addresses carry
    an extra number; a birth year is the commonest (45 %: four digits 25 %, two digits
    20 %, both weighted by the age table, so only the years it spans), then short
    numbers (one digit 10 %, two 20 %, three 15 %) and, least likely per string, four
    arbitrary digits (10 %: a PIN, a house number, a provider's suggestion). Numbers are
    uniform within their width, so a string's probability falls with its length. The
    model does not know which addresses were taken: collisions make popular names carry
    numbers more often than this flat share says.

    A string reachable by several patterns is guessed once, at its most likely
    derivation (64-bit FNV-1a keys of the strings emitted so far; a key collision, odds
    ~n^2 / 2^65, would drop one guess). ``size`` is what :meth:`WordKeyspace.batches`
    yields: ``max_guesses``, or for a model with fewer derivations than that (none of
    the shipped locales) their count plus the wordlist's, an upper bound.
    """
    from matchsim.locale.tables import load_locale

    loc = load_locale(country)
    tokens, domain = _email_tokens(loc, as_of_year)
    suffix = email_suffix_factor(tokens["yy"], tokens["yyyy"]) if suffixes else None
    compiled = _compile_patterns(loc.email_patterns, tokens, domain, suffix)
    # Derivations the model holds (a string reachable two ways counts twice).
    derivations = sum(math.prod(len(f.values) for f in c[1]) for c in compiled)
    extra = None
    if wordlist is not None:
        extra = wordlist_keyspace(wordlist)
    size = min(max_guesses, derivations + (extra.size if extra is not None else 0))

    def batches() -> Iterator[pa.Array]:
        if extra is not None:
            return _email_batches(compiled, derivations, extra, size)
        return _remembered((loc.country, as_of_year, suffixes, size), compiled, derivations)

    return WordKeyspace(name=f"{loc.country} e-mail guesses", size=size, batches=batches)


EMAIL_CACHE_GUESSES = 12_000_000
"""Most e-mail guesses kept in memory between attacks of one process
(:func:`_remembered`); about 30 bytes each."""

_EMAIL_CACHE: dict[tuple[str, int, bool, int], tuple[pa.Array, ...]] = {}


def _remembered(
    key: tuple[str, int, bool, int], compiled: list[_Compiled], derivations: int
) -> Iterator[pa.Array]:
    """:func:`_email_batches` of a model without a wordlist, generated once per process.

    The guesses depend only on the locale, the year, the suffix switch and the size
    (``key``): a run that attacks several uploads with the same keyspace (each scheme's
    e-mail column, and again in its re-identification) replays the very batches the
    first attack drew. Only a generation that ran to its end is kept (an attack that
    stopped early leaves nothing), and at most :data:`EMAIL_CACHE_GUESSES` guesses are
    held, the latest kept.
    """
    hit = _EMAIL_CACHE.get(key)
    if hit is not None:
        yield from hit
        return
    got: list[pa.Array] = []
    for batch in _email_batches(compiled, derivations, None, key[3]):
        got.append(batch)
        yield batch
    if key[3] > EMAIL_CACHE_GUESSES:
        return
    while _EMAIL_CACHE and sum(k[3] for k in _EMAIL_CACHE) + key[3] > EMAIL_CACHE_GUESSES:
        del _EMAIL_CACHE[next(iter(_EMAIL_CACHE))]
    _EMAIL_CACHE[key] = tuple(got)


# One address pattern, compiled: (literal pieces, factors between them, pattern share).
_Compiled = tuple[list[str], list[Factor], float]


def first_name_weights(loc: Locale) -> np.ndarray:
    """Each first name's probability (of ``loc.first_dict``), both genders together."""
    weights = np.zeros(len(loc.first_dict))
    for weighted in loc.first_names.values():
        ids = np.asarray(weighted.values.to_numpy(zero_copy_only=False), dtype=np.int64)
        np.add.at(weights, ids, weighted.probabilities())
    return weights


def _email_tokens(loc: Locale, as_of_year: int) -> tuple[dict[str, Factor], Factor]:
    """The pattern tokens ({first}, {l}, {yyyy}, ...) as factors, and the domain factor
    in descending probability."""
    import pyarrow.compute as pc

    first = _factor(loc.first_tokens, first_name_weights(loc))
    last = _factor(loc.last_tokens, loc.last_names.probabilities())
    domain = Factor(loc.domains.values, loc.domains.probabilities())
    order = np.argsort(-domain.probs, kind="stable")
    domain = Factor(domain.values.take(pa.array(order)), domain.probs[order])
    ages = loc.ages
    age_p = loc.age_sex.probabilities().reshape(-1, 2).sum(axis=1)
    years = as_of_year - ages
    yyyy = _factor(pa.array([f"{y:04d}" for y in years]), age_p)
    yy = _factor(pa.array([f"{y % 100:02d}" for y in years]), age_p)
    nn = _factor(pa.array([f"{i:02d}" for i in range(1, 100)]), np.ones(99))
    nnn = _factor(pa.array([f"{i:03d}" for i in range(1, 1000)]), np.ones(999))

    def derived(fn: Callable[[pa.Array], pa.Array]) -> Factor:
        return _factor(fn(first.values), first.probs)

    tokens = {
        "first": first,
        "last": last,
        "f": derived(lambda v: pc.utf8_slice_codeunits(v, 0, 1)),
        "l": _factor(pc.utf8_slice_codeunits(last.values, 0, 1), last.probs),
        "short": derived(lambda v: pc.utf8_slice_codeunits(v, 0, 4)),
        "yy": yy,
        "yyyy": yyyy,
        "nn": nn,
        "nnn": nnn,
    }
    return tokens, domain


def _compile_patterns(
    patterns: Sequence[tuple[str, float]],
    tokens: dict[str, Factor],
    domain: Factor,
    suffix: Factor | None,
) -> list[_Compiled]:
    """Each ``{token}`` pattern as literals and factors; with a ``suffix``, each pattern
    twice: plain at 1 - EMAIL_SUFFIX_SHARE of its share, with the number at the rest."""
    compiled: list[_Compiled] = []
    for pattern, share in patterns:
        pieces = re.split(r"\{(\w+)\}", pattern)
        literals = pieces[0::2]
        names = pieces[1::2]
        unknown = [n for n in names if n not in tokens]
        if unknown:
            raise ConfigError(f"unknown e-mail pattern token {{{unknown[0]}}} in {pattern!r}")
        factors = [tokens[n] for n in names]
        if suffix is None:
            compiled.append((literals, [*factors, domain], share))
        else:
            compiled.append((literals, [*factors, domain], share * (1 - EMAIL_SUFFIX_SHARE)))
            compiled.append(
                ([*literals, ""], [*factors, suffix, domain], share * EMAIL_SUFFIX_SHARE)
            )
    return compiled


def _email_batches(
    compiled: list[_Compiled], derivations: int, extra: WordKeyspace | None, size: int
) -> Iterator[pa.Array]:
    """The wordlist's guesses, then the model's in descending probability, each once.

    Each round takes the guesses of probability in [threshold, ceiling) from every
    pattern, sorts them, and renders and deduplicates them a slice at a time, so a last
    round far larger than the guesses still wanted is never built in full. The rounds
    only cut the one descending order into pieces (equal probabilities always fall in
    one round), so where they fall does not change the guesses or their order: each
    lowers the threshold by at most 4, and by less where the counts so far say that
    about twice the guesses still wanted lie closer (:func:`_next_threshold`).
    """
    from matchsim.generate.unique import KeySet, arrow_string_keys

    seen = KeySet(min(size, 1 << 24))
    emitted = 0

    def fresh(cand: pa.Array) -> pa.Array:
        """``cand`` less the strings already guessed (and its own repeats), capped."""
        taken = seen.claim(arrow_string_keys(cand))
        return cand.filter(pa.array(~taken)).slice(0, size - emitted)

    if extra is not None:
        for b in extra.batches():
            cand = fresh(b)
            emitted += len(cand)
            if len(cand):
                yield cand
            if emitted >= size:
                return
    ceiling = np.inf
    threshold = max(float(np.prod([f.probs[0] for f in c[1]])) * c[2] for c in compiled)
    threshold /= 4.0
    produced = 0
    history: list[tuple[float, int]] = []  # (threshold, derivations produced down to it)
    for _ in itertools.count():
        found = [(c, *best_first(c[1], c[2], threshold, ceiling)) for c in compiled]
        found = [f for f in found if f[2].shape[0]]
        if found:
            offsets = np.cumsum([0] + [f[2].shape[0] for f in found])
            produced += int(offsets[-1])
            prob = np.concatenate([f[2] for f in found])
            for order in _descending(prob, size - emitted + (1 << 16)):
                start = 0
                while start < order.shape[0] and emitted < size:
                    picks = order[start : start + max(size - emitted, 1 << 16)]
                    start += picks.shape[0]
                    cand = fresh(_render_guesses(found, offsets, picks))
                    emitted += len(cand)
                    if len(cand):
                        yield cand
                if emitted >= size:
                    break
        if emitted >= size or produced >= derivations or threshold < 1e-300:
            return
        history.append((threshold, produced))
        ceiling = threshold
        threshold = _next_threshold(history, 2 * (size - emitted))


def _next_threshold(history: Sequence[tuple[float, int]], want: int) -> float:
    """The next round's threshold: the last one divided by 4, or by less where the
    derivations counted down to the last two thresholds (``history``: ``(threshold,
    count)``) grow as ``threshold ** -alpha`` and that growth puts ``want`` more within
    a smaller step (at least 1.25, so rounds still make headway)."""
    threshold, count = history[-1]
    step = 4.0
    if len(history) >= 2 and count > 0:
        before_t, before = history[-2]
        if 0 < before < count:
            alpha = math.log(count / before) / math.log(before_t / threshold)
            step = min(4.0, max(1.25, (1.0 + want / count) ** (1.0 / alpha)))
    return threshold / step


def _render_guesses(
    found: Sequence[tuple[tuple[list[str], list[Factor], float], np.ndarray, np.ndarray]],
    offsets: np.ndarray,
    picks: np.ndarray,
) -> pa.Array:
    """The addresses at positions ``picks`` of the concatenated ``found`` rows, in order.

    ``found`` holds per pattern ``((literals, factors, share), indices, probability)``;
    ``offsets`` are the start of each pattern's rows in the concatenation.
    """
    import pyarrow.compute as pc

    which = np.searchsorted(offsets, picks, side="right") - 1
    # The picks grouped by pattern, in pick order within each: one stable sort of small
    # integers (a radix sort, for 16 bits), not one pass over the picks per pattern.
    small = np.int16 if len(found) < (1 << 15) else np.int64
    by_pattern = np.argsort(which.astype(small), kind="stable")
    bounds = np.searchsorted(which[by_pattern], np.arange(len(found) + 1), side="left")
    parts: list[pa.Array] = []
    placed: list[np.ndarray] = []
    for k in range(len(found)):
        if bounds[k] == bounds[k + 1]:
            continue
        (literals, factors, _), idx, _ = found[k]
        at = by_pattern[bounds[k] : bounds[k + 1]]
        rows = picks[at] - offsets[k]
        cols: list[pa.Array | pa.Scalar] = []
        for j, lit in enumerate(literals):
            if lit:
                cols.append(pa.scalar(lit))
            if j < len(factors) - 1:
                cols.append(factors[j].values.take(pa.array(idx[j][rows])))
        cols.append(pa.scalar("@"))
        cols.append(factors[-1].values.take(pa.array(idx[-1][rows])))
        parts.append(pc.binary_join_element_wise(*cols, ""))
        placed.append(at)
    take = np.empty(picks.shape[0], dtype=np.int64)
    take[np.concatenate(placed)] = np.arange(picks.shape[0])
    return pa.concat_arrays(parts).take(pa.array(take))


def _descending(prob: np.ndarray, first: int) -> Iterator[np.ndarray]:
    """Positions of ``prob`` in descending order, ties in position order (a stable sort),
    in pieces when only about the ``first`` largest are likely to be needed: those at or
    above the ``first``-th largest value, then as many again of the rest, and so on,
    each piece found by a partition and sorted on demand (a consumer that stops after a
    few more never sorts the whole rest)."""
    n = prob.shape[0]
    first = max(int(first), 1)
    left = None  # positions not yet given, in increasing order (None: all of them)
    while (n if left is None else left.shape[0]) > first:
        sub = prob if left is None else prob[left]
        cut = np.partition(sub, sub.shape[0] - first)[sub.shape[0] - first]
        top = sub >= cut
        part = np.flatnonzero(top) if left is None else left[top]
        yield part[np.argsort(-prob[part], kind="stable")]
        left = np.flatnonzero(~top) if left is None else left[~top]
    if left is None:
        if n:
            yield np.argsort(-prob, kind="stable")
    elif left.shape[0]:
        yield left[np.argsort(-prob[left], kind="stable")]
