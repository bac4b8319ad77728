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

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.errors import ConfigError, InputError
from matchsim.numberplan import NumberPlan, number_plan

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

    @property
    def size(self) -> int:
        return int(np.prod([len(p) for p in self.positions], dtype=object))

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

    @property
    def size(self) -> int:
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

    Built on :func:`matchsim.numberplan.number_plan` (libphonenumber's national number
    patterns and lengths). NL mobile in ``digits`` style is ``31`` + ``6[1-58]`` + 7
    digits: 6 x 10^7 numbers.

    Raises:
        ConfigError: unknown region, a region without that number type, unknown style.
    """
    plan = number_plan(region, number_type, tuple(lengths) if lengths else None)
    return plan_keyspace(plan, style)


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
    product the admissible next values are a prefix found by ``searchsorted``.

    Returns:
        ``(indices (k, n) int64, probability (n,))``.
    """
    rest = [float(np.prod([f.probs[0] for f in factors[i + 1 :]])) for i in range(len(factors))]
    idx = np.zeros((0, 1), dtype=np.int64)
    prob = np.array([weight])
    for d, f in enumerate(factors):
        # For each partial row, how many values v keep prob * p_v * rest >= threshold.
        need = threshold / (prob * rest[d])
        counts = np.searchsorted(-f.probs, -need, side="right")
        total = int(counts.sum())
        if total == 0:
            return np.zeros((len(factors), 0), dtype=np.int64), np.zeros(0)
        parent = np.repeat(np.arange(prob.shape[0]), counts)
        starts = np.cumsum(counts) - counts
        child = np.arange(total) - np.repeat(starts, counts)
        idx = np.concatenate([idx[parent], child[:, None]], axis=1) if d else child[:, None]
        prob = prob[parent] * f.probs[child]
    keep = prob < ceiling
    return idx[keep].T.copy(), prob[keep]


def _factor(values: pa.Array, weights: np.ndarray) -> Factor:
    """Aggregate duplicate values, sort by probability descending."""
    import pandas as pd

    frame = pd.DataFrame({"v": values.to_numpy(zero_copy_only=False), "w": weights})
    agg = frame.groupby("v", sort=False)["w"].sum().sort_values(ascending=False)
    probs = agg.to_numpy(dtype=np.float64)
    return Factor(pa.array(agg.index.to_numpy(), pa.string()), probs / probs.sum())


def email_keyspace(
    country: str,
    max_guesses: int = 10_000_000,
    wordlist: str | Path | None = None,
    as_of_year: int = 2025,
) -> WordKeyspace:
    """E-mail guesses from the country's name tables x address patterns x domain mix.

    Candidates come in descending probability, p = share(pattern) x p(tokens) x
    p(domain), with names weighted by frequency, birth years by the age table and
    random digits uniform; an optional wordlist (one address per line) is tried first.
    This is the attacker's model of how people build addresses, the same public
    statistics the generator uses; it never sees an upload's plaintext.
    """
    from matchsim.generate.locale import load_locale

    loc = load_locale(country)
    w_first = np.zeros(len(loc.first_dict))
    for weighted in loc.first_names.values():
        ids = np.asarray(weighted.values.to_numpy(zero_copy_only=False), dtype=np.int64)
        np.add.at(w_first, ids, weighted.probabilities())
    first = _factor(loc.first_tokens, w_first)
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
    import re

    compiled: list[tuple[list[str], list[Factor], float]] = []
    for pattern, share in loc.email_patterns:
        pieces = re.split(r"\{(\w+)\}", pattern)
        literals = pieces[0::2]
        names = pieces[1::2]
        unknown = [n for n in names if n not in tokens]
        if unknown:
            raise ConfigError(f"unknown e-mail pattern token {{{unknown[0]}}} in {pattern!r}")
        compiled.append((literals, [tokens[n] for n in names] + [domain], share))
    extra = None
    if wordlist is not None:
        extra = wordlist_keyspace(wordlist)

    def batches() -> Iterator[pa.Array]:
        emitted = 0
        if extra is not None:
            for b in extra.batches():
                emitted += len(b)
                yield b
        ceiling = np.inf
        threshold = max(float(np.prod([f.probs[0] for f in c[1]])) * c[2] for c in compiled)
        threshold /= 4.0
        for _ in itertools.count():
            parts: list[pa.Array] = []
            probs: list[np.ndarray] = []
            for literals, factors, share in compiled:
                idx, p = best_first(factors, share, threshold, ceiling)
                if p.shape[0] == 0:
                    continue
                cols: list[pa.Array | pa.Scalar] = []
                for k, lit in enumerate(literals):
                    if lit:
                        cols.append(pa.scalar(lit))
                    if k < len(factors) - 1:
                        cols.append(factors[k].values.take(pa.array(idx[k])))
                cols.append(pa.scalar("@"))
                cols.append(factors[-1].values.take(pa.array(idx[-1])))
                parts.append(pc.binary_join_element_wise(*cols, ""))
                probs.append(p)
            if parts:
                cand = pa.concat_arrays(parts)
                pr = np.concatenate(probs)
                order = np.argsort(-pr, kind="stable")
                cand = cand.take(pa.array(order))
                if emitted + len(cand) > max_guesses:
                    cand = cand.slice(0, max_guesses - emitted)
                emitted += len(cand)
                yield cand
            if emitted >= max_guesses or threshold < 1e-300:
                return
            ceiling = threshold
            threshold /= 4.0

    return WordKeyspace(name=f"{loc.country} e-mail guesses", size=max_guesses, batches=batches)
