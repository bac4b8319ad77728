"""Re-identify a whole hashed upload: reverse every low-entropy field, then link the rows.

Threat model: the attacker holds a platform upload in one profile's layout (Meta's
customer list or its pixel's advanced matching: SHA-256 of e-mail, phone, first and last
name, date of birth, gender, city, state, postcode, country, often a customer number) and
public knowledge: the country's name and place tables, the calendar, the number plan.
Each of those fields is a small keyspace; hashed with a public function (no secret) it
falls to enumeration in seconds, most likely values first. The reversed row then reads
(first name, last name, postcode, date of birth, gender): a combination unique for most
residents and linkable to any register that carries it (a municipal register, a voter
roll, a leaked customer file, the platform's own users). Rows whose e-mail and phone were
never reversed are named all the same. Under an HMAC whose key the attacker lacks nothing
is reversed, and only the fields a profile sends in clear remain to link on.

Everything here reuses the attack stage: keyspaces from :mod:`matchsim.attack.keyspace`
(word lists in likelihood order, date and number masks), enumeration by
:func:`matchsim.attack.engine.reverse` (the fused kernels and the batch hasher), digest
detection by :func:`matchsim.attack.targets.parse_digests`, normalisation by the profile
(:mod:`matchsim.normalise`) and the grouping codes of :mod:`matchsim.risk.classes`. The
attack never reads ground truth: :func:`score` is evaluation code, given the truth by its
caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.attack.engine import AttackResult, Knowledge, reverse
from matchsim.attack.keyspace import (
    Mask,
    MaskKeyspace,
    WordKeyspace,
    date_keyspace,
    email_keyspace,
    first_name_weights,
    number_range_masks,
    phone_keyspace,
    wordlist_keyspace,
    words_keyspace,
)
from matchsim.attack.targets import (
    TargetSet,
    decoded_upload,
    digest_column_targets,
    hex_target_set,
    is_digest_column,
    parse_digests,
    upload_table,
)
from matchsim.errors import ConfigError, InputError
from matchsim.normalise import INPUT_COLUMNS, PROFILES, Profile, get_profile
from matchsim.risk.classes import combine_codes
from matchsim.rng import Stream, stream
from matchsim.schemes import encode_text

if TYPE_CHECKING:
    from matchsim.locale.tables import Locale

Progress = Callable[[str, int, int], None]

LINK_FIELDS = (
    "first_name",
    "last_name",
    "dob",
    "gender",
    "postcode",
    "city",
    "state",
    "country",
    "email",
    "phone",
    "external_id",
)
"""Fields a row can be linked on, in report order."""

EXTERNAL_ID_COLUMNS = ("EXTERN_ID", "external_id", "extern_id")
"""Upload columns read as a hashed customer number (Meta's customer-list ``EXTERN_ID``;
not part of the normalisation profiles, so recognised by name)."""

REGISTER_ID_COLUMNS = ("id", "register_id", "uid", "cid", "person_id", "bsn")
"""Register columns taken as the person's id when ``id_column`` is not given."""

ID_DIGITS = 8
"""An ``external_id`` is sought among the decimal numbers of 1 to this many digits."""

ID_PROBE_BLOCK = 10_000
"""The probe tries every number below this, and this many numbers from each round start
``j x 10^(d-1)`` (j = 1..9) of every width d from 5 to :data:`ID_DIGITS` digits."""

ID_MIN_CLUSTER = 3
"""Recovered ids needed in one cluster before it is taken as a sequential range."""

ID_MIN_DENSITY = 0.01
"""A cluster is sequential when at least this share of the numbers it spans are ids."""

CLASSES = ("reidentified", "ambiguous", "not_found")

# --------------------------------------------------------------------------- reading


def read_table(path: str | Path) -> pa.Table:
    """Read a CSV (all columns as text) or Parquet file whole, by :mod:`matchsim.io`'s rules.

    Raises:
        InputError: missing, unreadable, empty or header-only file.
    """
    from matchsim.io import read_table as read

    return read(path)


# --------------------------------------------------------------------------- keyspaces


def _normalised_words(profile: Profile, field_name: str, values: pa.Array, region: str) -> pa.Array:
    """``values`` as the profile normalises ``field_name`` (order kept, nulls dropped)."""
    norm = profile.normalise(field_name, values, region).values
    return pc.drop_null(norm)


def _ranked(values: pa.Array, weights: np.ndarray) -> pa.Array:
    """Distinct values in descending total weight (the attacker's most-likely-first order)."""
    frame = pd.DataFrame({"v": values.to_numpy(zero_copy_only=False), "w": weights})
    agg = frame.groupby("v", sort=False)["w"].sum().sort_values(ascending=False, kind="stable")
    return pa.array(agg.index.to_numpy(), pa.string())


def _date_masks(
    first_year: int, last_year: int, fmt: str, year_weight: Mapping[int, float]
) -> MaskKeyspace:
    """Every calendar day of the years, as :func:`date_keyspace`'s masks, likeliest year first."""
    base = date_keyspace(first_year, last_year, fmt)
    per_year = len(base.masks) // (last_year - first_year + 1)
    years = list(range(first_year, last_year + 1))
    order = sorted(range(len(years)), key=lambda i: -year_weight.get(years[i], 0.0))
    masks: list[Mask] = []
    for i in order:
        masks.extend(base.masks[i * per_year : (i + 1) * per_year])
    return MaskKeyspace(name=base.name, masks=tuple(masks))


def _as_words(space: MaskKeyspace) -> WordKeyspace:
    """A small mask keyspace as a word list in the same order: its thousands of tiny
    masks (one per month of a date range) hash in one batch, not one kernel call each."""
    from matchsim.attack.engine import _rows_to_strings

    masks = space.masks
    if len({m.length for m in masks}) != 1:
        parts = [_rows_to_strings(m.decode(np.arange(m.size, dtype=np.int64))) for m in masks]
        return words_keyspace(space.name, pa.concat_arrays(parts))
    return words_keyspace(space.name, _rows_to_strings(_decode_all(masks)))


def _decode_all(masks: Sequence[Mask]) -> np.ndarray:
    """Every candidate of ``masks`` (all of one length) in order, as (n, length) uint8:
    what each :meth:`Mask.decode` gives, one mask after the other, in one pass per
    position over all of them (a date range is thousands of masks of a few dozen)."""
    length = masks[0].length
    radix = np.array([[len(p) for p in m.positions] for m in masks], dtype=np.int64)
    table = np.zeros((len(masks), length, int(radix.max())), dtype=np.uint8)
    for j, m in enumerate(masks):
        for i, p in enumerate(m.positions):
            table[j, i, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    sizes = np.prod(radix, axis=1)
    which = np.repeat(np.arange(len(masks)), sizes)
    rem = np.arange(which.shape[0], dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    out = np.empty((which.shape[0], length), dtype=np.uint8)
    for i in range(length - 1, -1, -1):  # last position fastest, as Mask.decode
        r = radix[which, i]
        out[:, i] = table[which, i, rem % r]
        rem //= r
    return out


def field_keyspace(
    field_name: str,
    profile: Profile,
    region: str,
    *,
    wordlist: str | Path | None = None,
    email_guesses: int = 1_000_000,
    as_of_year: int = 2026,
    first_year: int = 1900,
) -> MaskKeyspace | WordKeyspace | None:
    """The natural keyspace of one hashed field, most likely values first, as the
    profile normalises them; None for a field that is not low-entropy (a MADID).

    Names come from the locale's frequency tables (``wordlist`` first), postcodes and
    cities from its places table weighted by population, dates of birth are every day
    from ``first_year`` to ``as_of_year`` (years ordered by the age table), phones every
    mobile number of the plan, e-mails the attack stage's likelihood-ordered guesses,
    customer numbers every number of 1 to :data:`ID_DIGITS` digits (which
    :func:`reverse_upload` searches by ranges, cheapest first: :func:`reverse_ids`).
    """
    from matchsim.generate import load_locale

    loc = load_locale(region)
    if field_name in ("first_name", "last_name"):
        return _name_keyspace(field_name, profile, region, loc, wordlist)
    if field_name == "dob":
        return _dob_keyspace(profile, loc, as_of_year, first_year)
    if field_name == "gender":
        return words_keyspace(
            "genders", _normalised_words(profile, "gender", pa.array(["F", "M"]), region)
        )
    if field_name == "postcode":
        return _postcode_keyspace(profile, region, loc)
    if field_name in ("city", "state"):
        column = loc.cities if field_name == "city" else loc.regions
        norm = profile.normalise(field_name, column, region).values
        ok = norm.is_valid().to_numpy(zero_copy_only=False)
        ranked = _ranked(norm.filter(pa.array(ok)), loc.places.probabilities()[ok])
        return words_keyspace(
            f"{loc.country} {'cities' if field_name == 'city' else 'states'}", ranked
        )
    if field_name == "country":
        import phonenumbers

        others = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if r != loc.country)
        codes = [loc.country, *others]
        return words_keyspace(
            "countries", _normalised_words(profile, "country", pa.array(codes), region)
        )
    if field_name == "phone":
        lengths = sorted({len(s) for s in loc.mobile_plan.shapes})
        return phone_keyspace(
            region, "mobile", style=profile.phone_style or "digits", lengths=lengths
        )
    if field_name == "email":
        return email_keyspace(region, max_guesses=email_guesses)
    if field_name == "external_id":
        masks = number_range_masks(0, 10**ID_DIGITS - 1)
        return MaskKeyspace(name=f"customer numbers (1-{ID_DIGITS} digits)", masks=masks)
    return None


def _name_keyspace(
    field_name: str, profile: Profile, region: str, loc: Locale, wordlist: str | Path | None
) -> WordKeyspace:
    """First or last names by frequency as the profile normalises them, ``wordlist``
    first."""
    if field_name == "first_name":
        weights = first_name_weights(loc)
        names: pa.Array = loc.first_dict
    else:
        names, weights = loc.last_names.values, loc.last_names.probabilities()
    norm = profile.normalise(field_name, names, region).values
    ok = norm.is_valid().to_numpy(zero_copy_only=False)
    ranked = _ranked(norm.filter(pa.array(ok)), weights[ok])
    label = f"{loc.country} {field_name.replace('_', ' ')}s"
    if wordlist is not None:
        extra = wordlist_keyspace(wordlist)
        words = pa.concat_arrays(list(extra.batches()))
        words = _normalised_words(profile, field_name, words, region)
        ranked = pa.concat_arrays([words, ranked])
        label += f" + {Path(wordlist).name}"
    return words_keyspace(label, ranked)


def _dob_keyspace(profile: Profile, loc: Locale, as_of_year: int, first_year: int) -> WordKeyspace:
    """Every day from ``first_year`` to ``as_of_year`` in the profile's date format,
    years ordered by the age table (an age spans two birth years, half each)."""
    fmt = str(profile.fields["dob"].options.get("fmt", "%Y%m%d"))
    age_p = loc.age_sex.probabilities().reshape(-1, 2).sum(axis=1)
    year_weight: dict[int, float] = {}
    for age, p in zip(loc.ages.tolist(), age_p.tolist(), strict=True):
        for year in (as_of_year - age - 1, as_of_year - age):
            year_weight[year] = year_weight.get(year, 0.0) + p / 2
    return _as_words(_date_masks(first_year, as_of_year, fmt, year_weight))


def _postcode_keyspace(profile: Profile, region: str, loc: Locale) -> WordKeyspace:
    """Postcodes weighted by population; for a letters2 locale (NL) every digit part
    with every letter pair the locale allows."""
    pop = loc.places.probabilities()
    codes = loc.postcodes
    if loc.postcode_suffix == "letters2":
        letters = list(loc.postcode_letters)
        pairs = [a + b for a in letters for b in letters if a + b not in loc.postcode_exclude]
        base = _ranked(codes, pop)
        idx = np.indices((len(base), len(pairs))).reshape(2, -1)
        full = pc.binary_join_element_wise(
            base.take(pa.array(idx[0])), pa.array(pairs).take(pa.array(idx[1])), " "
        )
        ranked = _normalised_words(profile, "postcode", full, region)
        return words_keyspace(f"{loc.country} postcodes ({len(base):,} x {len(pairs)})", ranked)
    ranked = _ranked(_normalised_words(profile, "postcode", codes, region), pop)
    return words_keyspace(f"{loc.country} postcodes", ranked)


# --------------------------------------------------------------------------- customer numbers


@dataclass
class IdRange:
    """One stage of the customer-number search: the ranges enumerated, and why."""

    why: str
    ranges: list[tuple[int, int]]
    candidates: int = 0
    recovered: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "why": self.why,
            "ranges": [[a, b] for a, b in self.ranges],
            "candidates": self.candidates,
            "recovered": self.recovered,
        }


def _probe_ranges() -> list[tuple[int, int]]:
    """The cheap first look: ``0..9,999``, and the first :data:`ID_PROBE_BLOCK` numbers
    from each round start of 5 to :data:`ID_DIGITS` digits (where numbering schemes begin)."""
    out = [(0, ID_PROBE_BLOCK - 1)]
    for width in range(len(str(ID_PROBE_BLOCK)), ID_DIGITS + 1):
        for j in range(1, 10):
            start = j * 10 ** (width - 1)
            out.append((start, start + ID_PROBE_BLOCK - 1))
    return out


def _minus(first: int, last: int, tried: Sequence[IdRange]) -> list[tuple[int, int]]:
    """``first..last`` without the numbers already enumerated."""
    parts = [(first, last)]
    for stage in tried:
        for lo, hi in stage.ranges:
            nxt = []
            for a, b in parts:
                if hi < a or lo > b:
                    nxt.append((a, b))
                    continue
                if a < lo:
                    nxt.append((a, lo - 1))
                if hi < b:
                    nxt.append((hi + 1, b))
            parts = nxt
    return parts


def _merged(parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Ranges sorted, overlapping or touching ones joined."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(parts):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _clusters(found: np.ndarray) -> list[tuple[int, int, int]]:
    """``(first, last, count)`` of the recovered ids, split where two neighbours are more
    than a probe block apart; only clusters dense enough to be a sequential range."""
    values = np.sort(found)
    if values.shape[0] == 0:
        return []
    cuts = np.flatnonzero(np.diff(values) > ID_PROBE_BLOCK) + 1
    out = []
    for part in np.split(values, cuts):
        lo, hi, count = int(part[0]), int(part[-1]), int(part.shape[0])
        if count >= ID_MIN_CLUSTER and count / (hi - lo + 1) >= ID_MIN_DENSITY:
            out.append((lo, hi, count))
    return out


def _subset(targets: TargetSet, keep: np.ndarray) -> TargetSet:
    """The distinct digests ``keep`` of ``targets`` as a target set of their own."""
    idx = np.asarray(keep, dtype=np.int64)
    return TargetSet(
        algorithm=targets.algorithm,
        encoding=targets.encoding,
        digests=targets.digests[idx],
        row_digest=np.arange(idx.shape[0], dtype=np.int64),
        rows=np.arange(idx.shape[0], dtype=np.int64),
        n_rows=int(idx.shape[0]),
    )


@dataclass
class _IdReversal:
    plaintext: pa.Array
    candidates: int
    seconds: float
    ranges: list[IdRange]
    note: str | None


def reverse_ids(
    targets: TargetSet,
    knowledge: Knowledge,
    *,
    full_space: bool = False,
    progress: Progress | None = None,
) -> _IdReversal:
    """Reverse hashed customer numbers by ranges, the cheap ones first.

    The attacker cannot see whether the numbers are sequential before reversing some, so:

    1. **Probe**: every number below :data:`ID_PROBE_BLOCK` and the first
       :data:`ID_PROBE_BLOCK` numbers from each round start (``10000``, ``20000``, ...,
       ``90000000``): about 3.7 x 10^5 candidates, well under a second.
    2. **Extend**: recovered ids that cluster (at least :data:`ID_MIN_CLUSTER` ids within
       a span where at least :data:`ID_MIN_DENSITY` of the numbers are ids) look
       sequential: the numbers on both sides of each cluster are enumerated, as far as
       the digests still unknown would reach at the cluster's density (remaining /
       density per side), and again around the grown clusters, until a round recovers
       nothing new or every digest is known.
    3. **Full space**: only with ``full_space``, every number of 1 to :data:`ID_DIGITS`
       digits not enumerated yet.

    Numbers are written without leading zeros. Every range is enumerated by
    :func:`matchsim.attack.engine.reverse` as masks (:func:`number_range_masks`), and
    reported with why it was tried; digests left over are reported as not enumerable
    within the ranges tried, never skipped silently.
    """
    search = _IdSearch(targets, knowledge, progress)
    search.run(_probe_ranges(), "probe: small numbers and round starts")
    while search.plain.null_count:
        known = search.known()
        parts = _beside_clusters(known, search.plain.null_count, search.tried)
        if not parts:
            break
        clusters = ", ".join(f"{lo}..{hi}" for lo, hi, _ in _clusters(known))
        if search.run(parts, f"sequential: beside the recovered cluster(s) {clusters}") == 0:
            break
    if search.plain.null_count and full_space:
        parts = _minus(0, 10**ID_DIGITS - 1, search.tried)
        search.run(parts, f"full space: every number of 1-{ID_DIGITS} digits (asked for)")
    note = None
    if search.plain.null_count:
        n = targets.n_distinct
        left = search.plain.null_count
        if not _clusters(search.known()):
            why = "the probe found no sequential numbering"
        else:
            why = "beyond the sequential range(s) found"
        scope = (
            f"every number of 1-{ID_DIGITS} digits"
            if full_space
            else f"the ranges tried (the full 1-{ID_DIGITS} digit space was not asked for)"
        )
        note = f"{left:,} of {n:,} distinct ids not enumerable within {scope}: {why}"
    return _IdReversal(search.plain, search.candidates, search.seconds, search.tried, note)


class _IdSearch:
    """The id ranges tried so far, what they cost, and each distinct digest's number."""

    def __init__(self, targets: TargetSet, knowledge: Knowledge, progress: Progress | None):
        self.targets = targets
        self.knowledge = knowledge
        self.progress = progress
        self.plain = pa.nulls(targets.n_distinct, pa.string())
        self.tried: list[IdRange] = []
        self.candidates = 0
        self.seconds = 0.0

    def known(self) -> np.ndarray:
        """The numbers recovered so far."""
        return np.asarray(pc.cast(self.plain.drop_null(), pa.int64()).to_numpy(), dtype=np.int64)

    def run(self, parts: list[tuple[int, int]], why: str) -> int:
        """Enumerate ``parts`` for the digests still unknown; the count it recovered."""
        n = self.targets.n_distinct
        todo = np.flatnonzero(np.asarray(self.plain.is_null().to_numpy(zero_copy_only=False)))
        masks = tuple(m for a, b in parts for m in number_range_masks(a, b))
        stage = IdRange(why, parts)
        self.tried.append(stage)
        space = MaskKeyspace(name=f"customer numbers ({why})", masks=masks)
        result = reverse(_subset(self.targets, todo), space, self.knowledge, progress=self.progress)
        stage.candidates, stage.recovered = result.candidates_tried, result.recovered_distinct
        self.candidates += result.candidates_tried
        self.seconds += result.seconds
        got = np.asarray(result.plaintext.is_valid().to_numpy(zero_copy_only=False))
        if got.any():
            full = _scatter(n, todo[got], result.plaintext.filter(pa.array(got)))
            self.plain = pc.coalesce(self.plain, full)
        return stage.recovered


def _beside_clusters(
    known: np.ndarray, remaining: int, tried: list[IdRange]
) -> list[tuple[int, int]]:
    """The untried numbers either side of each cluster of ``known`` ids, as far as the
    ``remaining`` digests would reach at the cluster's density."""
    parts: list[tuple[int, int]] = []
    for lo, hi, count in _clusters(known):
        density = count / (hi - lo + 1)
        reach = min(int(np.ceil(remaining / density)), 10**ID_DIGITS)
        for a, b in (
            (max(lo - reach, 0), lo - 1),
            (hi + 1, min(hi + reach, 10**ID_DIGITS - 1)),
        ):
            if a <= b:
                parts.extend(_minus(a, b, tried))
    return _merged(parts)


# --------------------------------------------------------------------------- reversal


@dataclass
class FieldReversal:
    """What the attacker recovered of one upload column."""

    field: str
    column: str
    hashed: bool
    present: int
    reversed: int
    seconds: float = 0.0
    keyspace: str | None = None
    keyspace_size: int | None = None
    candidates: int = 0
    algorithm: str | None = None
    note: str | None = None
    ranges: list[IdRange] | None = None
    reused: int = 0

    @property
    def share(self) -> float:
        return self.reversed / self.present if self.present else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "column": self.column,
            "hashed": self.hashed,
            "present": self.present,
            "reversed": self.reversed,
            "share": round(self.share, 6),
            "seconds": round(self.seconds, 4),
            "keyspace": self.keyspace,
            "keyspace_size": self.keyspace_size,
            "candidates": self.candidates,
            "algorithm": self.algorithm,
            "note": self.note,
            "ranges": None if self.ranges is None else [r.to_dict() for r in self.ranges],
            "reused": self.reused,
        }


@dataclass(frozen=True)
class Recovered:
    """Digests an earlier attack on the same upload already reversed (an experiment's
    ``phone`` or ``email`` attack), handed to :func:`reverse_upload` so that the column
    is not enumerated again.

    ``plaintext`` is aligned with ``targets.digests`` (null where not recovered);
    ``exhausted`` says the attack tried its whole keyspace or recovered every digest.
    """

    targets: TargetSet
    plaintext: pa.Array
    knowledge: Knowledge
    keyspace: str
    keyspace_size: int
    exhausted: bool
    source: str

    @classmethod
    def of(cls, result: AttackResult, source: str) -> Recovered:
        done = result.candidates_tried >= result.keyspace_size
        return cls(
            targets=result.targets,
            plaintext=result.plaintext,
            knowledge=result.knowledge,
            keyspace=result.keyspace,
            keyspace_size=result.keyspace_size,
            exhausted=done or result.recovered_distinct == result.distinct,
            source=source,
        )

    def lookup(self, targets: TargetSet) -> pa.Array:
        """The recovered plaintext of each distinct digest of ``targets`` (or null)."""
        idx = self.targets.lookup(targets.digests)
        return self.plaintext.take(pa.array(np.maximum(idx, 0), mask=idx < 0))


@dataclass
class Reversed:
    """The attacker's plaintext view of an upload: per field, a value per row or null.

    ``values`` is personal data: written out only on explicit request.
    """

    n_rows: int
    profile: Profile
    region: str
    values: dict[str, pa.Array]
    fields: dict[str, FieldReversal]
    codes: dict[str, tuple[np.ndarray, pa.Array]] = field(default_factory=dict)

    def encoded(self, field_name: str) -> tuple[np.ndarray, pa.Array]:
        """``(index, dictionary)``: each row's value of ``field_name`` as an index into
        its distinct values (-1 where null), computed once (the reversal fills it in
        per digest)."""
        got = self.codes.get(field_name)
        if got is None:
            enc = pc.dictionary_encode(self.values[field_name])
            index = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            got = (np.asarray(index, dtype=np.int64), enc.dictionary)
            self.codes[field_name] = got
        return got

    def hashed_fields(self) -> list[str]:
        return [f for f, r in self.fields.items() if r.hashed]

    def clear_fields(self) -> list[str]:
        return [f for f, r in self.fields.items() if not r.hashed]

    def known(self, field_name: str) -> np.ndarray:
        """True where ``field_name`` has a value for the attacker (reversed or clear)."""
        v = self.values.get(field_name)
        if v is None:
            return np.zeros(self.n_rows, dtype=bool)
        return np.asarray(v.is_valid().to_numpy(zero_copy_only=False))


def upload_layout(
    table: pa.Table, profile: Profile, path: str | Path | None = None
) -> dict[str, str]:
    """Field -> upload column of every field of ``profile``'s layout (and ``EXTERN_ID``).

    Raises:
        InputError: no column of the layout, a single column, or only empty columns.
    """
    names = {n.lower(): n for n in table.column_names}
    layout: dict[str, str] = {}
    for f, rule in profile.fields.items():
        if rule.column.lower() in names:
            layout[f] = names[rule.column.lower()]
    for alias in EXTERNAL_ID_COLUMNS:
        if alias.lower() in names:
            layout["external_id"] = names[alias.lower()]
            break
    if table.num_columns == 1:
        raise InputError(
            path,
            f"has a single column ({table.column_names[0]!r}); reidentify links the fields "
            f"of a row in {profile.name}'s layout; reverse one column with matchsim attack",
        )
    if not layout:
        wanted = ", ".join(r.column for r in profile.fields.values())
        raise InputError(
            path,
            f"is not in {profile.name}'s upload layout: none of its columns ({wanted}) is here "
            f"(found: {', '.join(table.column_names)})",
        )
    if not any(_nonempty(table.column(c)).any() for c in layout.values()):
        raise InputError(path, f"every column is empty ({', '.join(layout.values())})")
    return layout


def _nonempty(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """True where a cell holds something (not null, not the empty string)."""
    if pa.types.is_fixed_size_binary(column.type):  # decoded digests: null where empty
        return np.asarray(column.is_valid().to_numpy(zero_copy_only=False))
    lengths = pc.utf8_length(_plain_text(column))
    return np.asarray(pc.fill_null(pc.greater(lengths, 0), False).to_numpy(zero_copy_only=False))


def _plain_text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_fixed_size_binary(arr.type):  # decoded digests: their hex text again
        return _hex_text(arr)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr.cast(pa.string())


def _hex_text(arr: pa.Array) -> pa.Array:
    """A column of decoded digests as the lower-case hex text they were decoded from
    (:func:`matchsim.schemes.encode_text`, what wrote them), null where empty."""
    size, n = arr.type.byte_width, len(arr)
    data = np.frombuffer(arr.buffers()[1], np.uint8)[arr.offset * size : (arr.offset + n) * size]
    valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False))
    return encode_text(data.reshape(n, size), valid, "hex")


def _text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return pc.utf8_trim_whitespace(arr.cast(pa.string()))


def _scatter(n: int, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` (aligned with ``rows``) placed at ``rows`` of an ``n``-row column, as
    text; null elsewhere (the engine's own placement of recovered plaintexts)."""
    from matchsim.attack.engine import _align

    return _align(n, [values], [np.asarray(rows, dtype=np.int64)])


@lru_cache(maxsize=32)
def _shared_keyspace(
    field_name: str, profile: str, region: str, email_guesses: int
) -> MaskKeyspace | WordKeyspace | None:
    return field_keyspace(field_name, get_profile(profile), region, email_guesses=email_guesses)


def _keyspace(
    field_name: str,
    profile: Profile,
    region: str,
    wordlist: str | Path | None,
    email_guesses: int,
) -> MaskKeyspace | WordKeyspace | None:
    """:func:`field_keyspace`, built once per process for a registered profile (every
    scheme of an experiment attacks the same fields with the same keyspaces)."""
    if wordlist is None and PROFILES.get(profile.name) is profile:
        return _shared_keyspace(field_name, profile.name, region.upper(), email_guesses)
    return field_keyspace(
        field_name, profile, region, wordlist=wordlist, email_guesses=email_guesses
    )


def reverse_upload(
    table: pa.Table,
    profile: str | Profile,
    region: str,
    *,
    path: str | Path | None = None,
    knowledge: Knowledge | None = None,
    wordlist: str | Path | None = None,
    email_guesses: int = 1_000_000,
    fields: Sequence[str] | None = None,
    id_full_space: bool = False,
    known: Mapping[str, Recovered] | None = None,
    not_enumerable: str | None = None,
    progress: Progress | None = None,
) -> Reversed:
    """Reverse every hashed low-entropy column of ``table`` with its natural keyspace.

    Args:
        table: the upload (columns named as ``profile``'s layout): text as
            :func:`~matchsim.attack.targets.upload_table` reads it, or
            :func:`~matchsim.attack.targets.decoded_upload`'s digests.
        profile: the profile the upload was normalised with.
        region: country of the people (locale tables, number plan).
        knowledge: a secret the attacker holds (HMAC key, pepper); the algorithm is
            detected per column.
        wordlist: extra name candidates, tried first.
        email_guesses: e-mail guesses to try (likelihood order).
        fields: reverse only these fields (default: every field the layout holds).
        id_full_space: customer numbers the probe and its sequential ranges leave
            unknown are sought among every number of 1-8 digits (:func:`reverse_ids`).
        known: per field, what an earlier attack on this upload recovered under the same
            knowledge (:class:`Recovered`): its plaintexts are taken as they are, and
            only the digests it left are enumerated, unless it exhausted the very
            keyspace this function would enumerate (same name and size): then nothing
            is enumerated again. The result is the same as enumerating afresh whenever
            the earlier attack used that keyspace.
        not_enumerable: the scheme's reason why its digests cannot be enumerated (a salt
            per record, a KDF): no hashed field is tried, and the rows are linked on what
            travels in clear.
        progress: ``progress(stage, done, total)``.
    """
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    layout = upload_layout(table, prof, path)
    means = _Means(
        prof, region, path, knowledge, wordlist, email_guesses, id_full_space, known or {},
        not_enumerable, progress,
    )  # fmt: skip
    values: dict[str, pa.Array] = {}
    report: dict[str, FieldReversal] = {}
    for f in LINK_FIELDS + tuple(x for x in prof.fields if x not in LINK_FIELDS):
        if f not in layout or (fields is not None and f not in fields):
            continue
        column = layout[f]
        hashed = f == "external_id" or prof.fields[f].hashed
        if hashed and is_digest_column(table, column):  # decoded already: digests stay bytes
            raw = table.column(column).combine_chunks()
        else:
            raw = _plain_text(table.column(column))
        rows = np.flatnonzero(_nonempty(raw))
        present = int(rows.shape[0])
        if not hashed:
            text = _text(raw)
            values[f] = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
            report[f] = FieldReversal(f, column, False, present, present, note="sent in clear")
            continue
        report[f] = FieldReversal(f, column, True, present, 0)
        got = means.reverse(f, raw, rows, report[f])
        if got is not None:
            values[f] = got
    return Reversed(table.num_rows, prof, region.upper(), values, report, means.codes)


def _by_digest(
    n: int, rows: np.ndarray, row_digest: np.ndarray, plain: pa.Array
) -> tuple[pa.Array, tuple[np.ndarray, pa.Array]]:
    """The column (``n`` rows; ``rows`` carry digests ``row_digest``, whose plaintexts
    are ``plain``), and its :meth:`Reversed.encoded` form: distinct plaintexts are
    numbered once per digest, not per row."""
    from matchsim.attack.engine import _place_strings

    enc = pc.dictionary_encode(plain)
    per_digest = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    index = np.full(n, -1, dtype=np.int64)
    index[rows] = per_digest[row_digest]
    dictionary = enc.dictionary
    if len(dictionary) == 0:
        return pa.nulls(n, pa.string()), (index, dictionary)
    return _place_strings(dictionary, index, index >= 0), (index, dictionary)


@dataclass(frozen=True)
class _Means:
    """What the attacker brings to every hashed column of one upload (the options of
    :func:`reverse_upload`)."""

    profile: Profile
    region: str
    path: str | Path | None
    knowledge: Knowledge | None
    wordlist: str | Path | None
    email_guesses: int
    id_full_space: bool
    known: Mapping[str, Recovered]
    not_enumerable: str | None
    progress: Progress | None
    codes: dict[str, tuple[np.ndarray, pa.Array]] = field(default_factory=dict)

    def reverse(
        self, f: str, raw: pa.Array, rows: np.ndarray, rec: FieldReversal
    ) -> pa.Array | None:
        """Column ``raw`` (non-empty at ``rows``) as far as reversed, null elsewhere; None,
        with ``rec.note`` saying why, where it is not tried. Fills in ``rec``."""
        n = len(raw)
        if rec.present == 0:
            rec.note = "empty column"
            return None
        if self.not_enumerable is not None:
            rec.note = f"not enumerable: {self.not_enumerable}"
            return None
        # Each distinct digest once (a gender column holds two): a column of plain hex
        # digests is decoded and sorted as bytes; any other is dictionary-encoded and
        # its dictionary parsed. Either way the same distinct digests are reversed.
        nonempty = raw if rec.present == n else raw.take(pa.array(rows))
        targets: TargetSet | None
        if pa.types.is_fixed_size_binary(raw.type):  # decoded digests (decoded_upload)
            targets = digest_column_targets(nonempty)
        else:
            targets = hex_target_set(nonempty)
        filled = None
        if targets is None:
            filled = pc.dictionary_encode(nonempty)
            try:
                targets = parse_digests(filled.dictionary, self.path)
            except InputError as exc:
                rec.note = f"not enumerable: {exc.reason}"
                return None
        know = self.knowledge or Knowledge(algorithm=targets.algorithm)
        if know.algorithm != targets.algorithm:
            know = Knowledge(targets.algorithm, know.pepper, know.pepper_position, know.hmac_key)
        if f == "external_id":
            plain = self._ids(targets, know, rec)
        else:
            space = _keyspace(f, self.profile, self.region, self.wordlist, self.email_guesses)
            if space is None:
                rec.note = "not a low-entropy field (random identifier): not enumerated"
                return None
            plain = self._enumerate(targets, space, know, self.known.get(f), rec)
        rec.algorithm = know.describe()
        if filled is None:  # targets' rows are the non-empty rows
            values, self.codes[f] = _by_digest(n, rows, targets.row_digest, plain)
        else:
            distinct = _scatter(
                len(filled.dictionary), targets.rows, plain.take(pa.array(targets.row_digest))
            )
            values = _scatter(n, rows, distinct.take(filled.indices))
        rec.reversed = len(values) - values.null_count
        return values

    def _ids(self, targets: TargetSet, know: Knowledge, rec: FieldReversal) -> pa.Array:
        """Customer numbers, by ranges (:func:`reverse_ids`)."""
        ids = reverse_ids(targets, know, full_space=self.id_full_space, progress=self.progress)
        rec.seconds, rec.candidates, rec.note = ids.seconds, ids.candidates, ids.note
        rec.keyspace = f"customer numbers (1-{ID_DIGITS} digits), by ranges"
        rec.keyspace_size = 10**ID_DIGITS
        rec.ranges = ids.ranges
        return ids.plaintext

    def _enumerate(
        self,
        targets: TargetSet,
        space: MaskKeyspace | WordKeyspace,
        know: Knowledge,
        prior: Recovered | None,
        rec: FieldReversal,
    ) -> pa.Array:
        """The field's natural keyspace, for the digests an earlier attack left."""
        if prior is not None and prior.knowledge != know:
            prior = None  # recovered under another secret: enumerate as usual
        plain = pa.nulls(targets.n_distinct, pa.string())
        todo = np.arange(targets.n_distinct, dtype=np.int64)
        if prior is not None:
            plain = prior.lookup(targets)
            rec.reused = len(plain) - plain.null_count
            todo = np.flatnonzero(np.asarray(plain.is_null().to_numpy(zero_copy_only=False)))
            same = prior.exhausted and (space.name, space.size) == (
                prior.keyspace, prior.keyspace_size,
            )  # fmt: skip
            rec.note = f"{rec.reused:,} of {targets.n_distinct:,} distinct digests reused from "
            rec.note += prior.source
            if same:
                todo = todo[:0]
                rec.note += " (its keyspace, exhausted there: not enumerated again)"
        if todo.shape[0]:
            # An error here is an attack that broke, not a field that cannot be
            # enumerated: it propagates (fail closed).
            result = reverse(_subset(targets, todo), space, know, progress=self.progress)
            got = np.asarray(result.plaintext.is_valid().to_numpy(zero_copy_only=False))
            fresh = _scatter(targets.n_distinct, todo[got], result.plaintext.filter(pa.array(got)))
            plain = pc.coalesce(plain, fresh)
            rec.seconds = result.seconds
            rec.candidates = result.candidates_tried
        rec.keyspace = space.name
        rec.keyspace_size = space.size
        return plain


# --------------------------------------------------------------------------- register


@dataclass
class Register:
    """A table of named people: per link field, integer codes into its normalised values.

    ``codes[f]`` is -1 where the register has no value; ``dictionary[f]`` holds each
    distinct normalised value once, so an upload value is found by one hash lookup.
    """

    ids: pa.Array
    codes: dict[str, np.ndarray]
    dictionary: dict[str, pa.Array]
    source: str | None = None

    @property
    def rows(self) -> int:
        return len(self.ids)

    @property
    def fields(self) -> list[str]:
        return list(self.codes)


def _normalised_codes(
    profile: Profile, field_name: str, column: pa.ChunkedArray | pa.Array, region: str
) -> tuple[np.ndarray, pa.Array]:
    """Codes and distinct normalised values of a register column: ``distinct`` holds
    each non-null normalised value once and ``codes[row]`` is its index there (-1 where
    the row has none). A plain column's values are numbered in order of their first
    row, as ``pc.dictionary_encode`` of the normalised rows numbers them; a dictionary
    column's in order of their first entry in its dictionary.

    One hashing pass over the normalised values instead of three (encode the raw
    column, then ``unique`` and ``index_in`` of its normalised dictionary), and
    where the raw values repeat (names, dates, postcodes) only the distinct ones are
    normalised: a ten-million-row register normalises tens of thousands of names, not
    ten million, and a column of nearly all distinct values (e-mails, phones) is
    normalised row by row rather than hashed into a dictionary first. (Postcodes
    grouped as packed integers, :func:`matchsim.normalise.distinct.short_codes`, were
    slower here: 6.0-7.4 s against 4.9-6.4 s for 10 M, ``benchmarks/register_codes.py``.)
    """
    from matchsim.normalise.distinct import repeats

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(arr.type) and not repeats(arr):
        return _first_seen_codes(profile.normalise(field_name, _readable(arr), region).values)
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    indices = arr.indices.to_numpy(zero_copy_only=False)
    if arr.null_count:
        indices = np.where(arr.is_valid().to_numpy(zero_copy_only=False), indices, -1)
    remap, distinct = _first_seen_codes(
        profile.normalise(field_name, _readable(arr.dictionary), region).values
    )
    # the raw dictionary is numbered by first row, so its normalised values are too;
    # a row with no value (-1) reads the appended -1
    codes = np.append(remap, -1)[np.asarray(indices, dtype=np.int64)]
    return codes, distinct


def _readable(values: pa.Array) -> pa.Array:
    """``values`` as the normalisers read them: text or dates (anything else as text)."""
    kind = values.type
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind) or pa.types.is_string(kind):
        return values
    return values.cast(pa.string())


def _first_seen_codes(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """``(codes, distinct)``: each non-null value's index among the distinct non-null
    values in order of first appearance, -1 for a null (one hashing pass)."""
    encoded = pc.dictionary_encode(values)
    codes = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    return codes, encoded.dictionary


def register_from_table(
    table: pa.Table,
    profile: str | Profile,
    region: str,
    *,
    id_column: str | None = None,
    needed: Sequence[str] = LINK_FIELDS,
    source: str | Path | None = None,
) -> Register:
    """A :class:`Register` from a table with plaintext fields and an id column.

    Columns are found as ``matchsim hash`` finds them (matchsim's names and the usual
    aliases); values are normalised with ``profile``, as the upload's were.

    Raises:
        InputError: no id column, or none of the ``needed`` fields.
    """
    from matchsim.upload.write import ALIASES

    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    names = {c.lower(): c for c in table.column_names}
    if id_column is None:
        id_column = next((names[c] for c in REGISTER_ID_COLUMNS if c in names), None)
        if id_column is None:
            raise InputError(
                source,
                f"no id column (looked for {', '.join(REGISTER_ID_COLUMNS)}; "
                f"found: {', '.join(table.column_names)}); give --register-id COLUMN",
            )
    elif id_column not in table.column_names:
        raise InputError(
            source, f"no such column (found: {', '.join(table.column_names)})", column=id_column
        )
    codes: dict[str, np.ndarray] = {}
    dictionary: dict[str, pa.Array] = {}
    for f in needed:
        if f not in prof.fields or f == "external_id":
            continue
        col = next(
            (
                names[a.lower()]
                for a in (INPUT_COLUMNS[f], *ALIASES.get(f, ()))
                if a.lower() in names
            ),
            None,
        )
        if col is None or col == id_column:
            continue
        codes[f], dictionary[f] = _normalised_codes(prof, f, table.column(col), region)
    if not codes:
        wanted = ", ".join(INPUT_COLUMNS[f] for f in needed if f in INPUT_COLUMNS) or "none"
        raise InputError(
            source,
            f"has none of the fields the upload's rows can be linked on (needed: {wanted}; "
            f"found: {', '.join(table.column_names)})",
        )
    ids = table.column(id_column).combine_chunks()
    if ids.null_count:
        raise InputError(
            source, f"{ids.null_count:,} rows have no id (a register names every person)",
            column=id_column,
        )  # fmt: skip
    return Register(ids, codes, dictionary, None if source is None else str(source))


def load_register(
    path: str | Path,
    profile: str | Profile,
    region: str,
    *,
    id_column: str | None = None,
    needed: Sequence[str] = LINK_FIELDS,
) -> Register:
    """:func:`read_table` then :func:`register_from_table`."""
    return register_from_table(
        read_table(path), profile, region, id_column=id_column, needed=needed, source=path
    )


def population_register(
    pop_dir: str | Path, profile: str | Profile, region: str, needed: Sequence[str] = LINK_FIELDS
) -> Register:
    """The simulated platform's users (``platform.parquet``, id ``uid``) as the register."""
    from matchsim.io import check_ids, parquet_names, read_parquet

    path = Path(pop_dir) / "platform.parquet"
    if not path.is_file():
        raise InputError(pop_dir, "holds no platform.parquet (run matchsim generate first)")
    cols = [c for c in parquet_names(path) if c not in ("email2", "madid")]
    table = read_parquet(path, cols)
    check_ids(table.column("uid"), path, "uid")  # a register names each person once
    return register_from_table(
        table,
        profile,
        region,
        id_column="uid",
        needed=needed,
        source=path,
    )


REGISTER_FIELDS = ("first_name", "last_name", "dob", "gender", "postcode", "city", "region",
                   "country")  # fmt: skip
"""The columns a drawn register carries besides its ``id``."""


def draw_register(pop_dir: str | Path, coverage: float, seed: int) -> tuple[pa.Table, np.ndarray]:
    """A municipal-register-like table drawn from the simulated population.

    Each resident of the simulated world (every platform user, and every customer the
    platform does not hold) is in the register with probability ``coverage``, drawn from
    a seeded stream; rows get a register number (a seeded permutation, like a citizen
    service number) and carry name, date of birth, gender, postcode, city, region and
    country. This is world building, like the generator: it reads the truth file only to
    know which customers exist outside the platform.

    Returns:
        ``(register table, person key per row)``: the key (``uid``, or ``-(cid + 1)`` for
        a customer who is no platform user) is for evaluation only and never part of
        the register.
    """
    table, person = _draw_encoded(pop_dir, coverage, seed)
    return pa.table({c: _plain(table.column(c)) for c in table.column_names}), person


def _draw_encoded(
    pop_dir: str | Path, coverage: float, seed: int, shuffled: bool = True
) -> tuple[pa.Table, np.ndarray]:
    """:func:`draw_register`'s rows with its text columns dictionary-encoded (one
    dictionary per column for platform and customers together): every draw and
    permutation moves integer indices, and a register built from it normalises each
    distinct value once (:func:`register_from_table`), never ten million strings.

    ``shuffled=False``: the same people with the same register numbers, in the order
    they were drawn (platform users, then customers) instead of the register's seeded
    order. A linkage counts and names the same people either way; the columns are then
    gathered in file order (sequential reads, not random ones)."""

    if not 0 < coverage <= 1:
        raise ConfigError(f"register coverage must be in (0, 1], got {coverage}")
    pop = Path(pop_dir)
    fields = list(REGISTER_FIELDS)
    rng = stream(seed, Stream.REGISTER)
    platform = _read_fields(pop / "platform.parquet", "uid", fields)
    customers = _read_fields(pop / "customers.parquet", "cid", fields)
    truth_uid = _read_fields(pop / "truth.parquet", "uid", []).column("uid")
    outside = np.flatnonzero(np.asarray(truth_uid.is_null().to_numpy(zero_copy_only=False)))
    keep_p = np.flatnonzero(rng.random(platform.num_rows) < coverage)
    keep_c = outside[rng.random(outside.shape[0]) < coverage]
    person = np.concatenate(
        [
            platform.column("uid").to_numpy()[keep_p],
            -(customers.column("cid").to_numpy()[keep_c] + 1),
        ]
    ).astype(np.int64)
    order = rng.permutation(person.shape[0])
    # platform rows then customer rows, permuted: one gather per column
    rows = np.concatenate([keep_p, keep_c + platform.num_rows])
    numbers = rng.permutation(person.shape[0]).astype(np.int64) + 100_000_000
    if shuffled:
        rows, person, ids = rows[order], person[order], numbers
    else:  # drawn row order[p] is register row p, number numbers[p]
        ids = np.empty_like(numbers)
        ids[order] = numbers
    columns = {f: _gathered([platform.column(f), customers.column(f)], rows) for f in fields}
    return pa.table({"id": pa.array(ids), **columns}), person


def _read_fields(path: Path, key: str, fields: list[str]) -> pa.Table:
    """``key`` and ``fields`` of a population file (text as stored: plain or dictionary;
    Parquet's own dictionary reading of a plain column is slower than encoding it); a
    file that is not Parquet, or lacks a column, gives the one-line error of the
    platform's reader (:func:`matchsim.io.read_parquet`), not Arrow's."""
    from matchsim.io import read_parquet

    return read_parquet(path, [key, *fields])


def _gathered(parts: list[pa.ChunkedArray], rows: np.ndarray) -> pa.Array:
    """Rows ``rows`` of the parts one after the other; text as one dictionary array.

    Plain text is dictionary-encoded first; each chunk's dictionary is mapped into one
    dictionary of the distinct values of all of them, then only the integer codes are
    gathered (Arrow's own unification of chunks with a dictionary each is many times
    slower on ten million rows)."""
    if all(pa.types.is_string(part.type) for part in parts):  # one encoding, one dictionary
        short = _short_codes(parts)
        if short is not None:  # postcodes: packed into int64 keys, no string hashing
            picked = short[0][rows]
            return pa.DictionaryArray.from_arrays(pa.array(picked, mask=picked < 0), short[1])
        joined = pa.chunked_array(_all_chunks(parts), type=parts[0].type)
        chunks = list(pc.dictionary_encode(joined).chunks)
    else:
        chunks = [c for part in parts for c in _dictionary_chunks(part)]
    if not chunks or not all(pa.types.is_dictionary(c.type) for c in chunks):
        return pa.concat_arrays([c.combine_chunks() for c in parts]).take(pa.array(rows))
    # Arrow's batches of one Parquet row group share its dictionary: each distinct one
    # is mapped once.
    shared = {_buffer_key(c.dictionary): c.dictionary for c in chunks}
    if len(shared) == 1:
        dictionary = chunks[0].dictionary
        remaps = {key: np.arange(len(dictionary), dtype=np.int32) for key in shared}
    else:
        joint = pc.dictionary_encode(pa.concat_arrays(list(shared.values())))
        dictionary = joint.dictionary
        every = np.asarray(joint.indices.to_numpy(zero_copy_only=False), np.int32)
        ends = np.cumsum([len(d) for d in shared.values()])
        remaps = dict(zip(shared, np.split(every, ends[:-1]), strict=True))
    codes = np.empty(sum(len(c) for c in chunks), dtype=np.int32)
    at = 0
    for c in chunks:
        index = np.asarray(c.indices.fill_null(0).to_numpy(zero_copy_only=False), np.int64)
        got = remaps[_buffer_key(c.dictionary)][index]
        if c.null_count:
            got[np.asarray(c.is_null().to_numpy(zero_copy_only=False))] = -1
        codes[at : at + len(c)] = got
        at += len(c)
    picked = codes[rows]
    return pa.DictionaryArray.from_arrays(pa.array(picked, mask=picked < 0), dictionary)


def _short_codes(parts: list[pa.ChunkedArray]) -> tuple[np.ndarray, pa.Array] | None:
    """:func:`matchsim.normalise.distinct.short_codes` of plain text parts one after
    the other (postcodes); None for longer values."""
    from matchsim.normalise.distinct import short_codes

    return short_codes(pa.concat_arrays(_all_chunks(parts))) if parts else None


def _all_chunks(parts: list[pa.ChunkedArray]) -> list[pa.Array]:
    return [c for part in parts for c in part.chunks]


def _dictionary_chunks(part: pa.ChunkedArray) -> list[pa.Array]:
    """``part``'s chunks; a plain text column as one dictionary array."""
    if not pa.types.is_string(part.type):
        return list(part.chunks)
    return [pc.dictionary_encode(part.combine_chunks())]


def _buffer_key(arr: pa.Array) -> tuple[int, ...]:
    """Where ``arr``'s data lies: equal for arrays that share their buffers."""
    return (arr.offset, len(arr), *(b.address if b is not None else 0 for b in arr.buffers()))


def _plain(column: pa.ChunkedArray) -> pa.Array:
    arr = column.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr


# --------------------------------------------------------------------------- linkage


@dataclass
class Linkage:
    """Per upload row: how many register rows share its known fields, and which one.

    ``k`` is -1 for a row with no field to link on, 0 for no register match; ``match``
    is the register row index where ``k == 1`` (else -1).
    """

    fields: tuple[str, ...]
    k: np.ndarray
    match: np.ndarray
    seconds: float

    def classes(self) -> dict[str, int]:
        return {
            "reidentified": int(np.sum(self.k == 1)),
            "ambiguous": int(np.sum(self.k > 1)),
            "not_found": int(np.sum(self.k <= 0)),
            "no_field_to_link_on": int(np.sum(self.k < 0)),
        }

    def ambiguity(self) -> dict[str, int]:
        """Ambiguous rows by the number of register people they could be."""
        k = self.k[self.k > 1]
        bins = ((2, 2), (3, 5), (6, 20), (21, 100), (101, None))
        out = {}
        for lo, hi in bins:
            label = f"{lo}" if hi == lo else (f"{lo}-{hi}" if hi else f">{lo - 1}")
            out[label] = int(np.sum((k >= lo) & (k <= (hi or np.iinfo(np.int64).max))))
        return out


def _upload_codes(reversed_: Reversed, register: Register, f: str) -> np.ndarray:
    """Codes of upload values in the register's dictionary: -1 not in it, -2 missing
    (each distinct value looked up once)."""
    index, distinct = reversed_.encoded(f)
    codes = pc.index_in(distinct, value_set=register.dictionary[f])
    found = np.asarray(codes.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.where(index >= 0, found[np.maximum(index, 0)] if len(found) else -1, -2)


def link(
    reversed_: Reversed,
    register: Register,
    fields: Iterable[str] | None = None,
    *,
    _codes: dict[str, np.ndarray] | None = None,
) -> Linkage:
    """Join every upload row to ``register`` on all of its known ``fields`` at once.

    Rows are grouped by which fields they have (a row whose date of birth was missing is
    joined on the rest); each group is one hash join: the distinct keys (tuples of the
    fields' codes) of its rows in a table, every register row looked up once and counted
    per key (:func:`_link_hashed`; exact, with :func:`_link_factorised` as the fallback
    should two keys share a hash word).
    """
    t0 = time.perf_counter()
    usable = [
        f
        for f in (fields if fields is not None else LINK_FIELDS)
        if f in reversed_.values and f in register.codes
    ]
    n = reversed_.n_rows
    codes = _codes if _codes is not None else {}
    for f in usable:
        if f not in codes:
            codes[f] = _upload_codes(reversed_, register, f)
    k = np.full(n, -1, dtype=np.int64)
    match = np.full(n, -1, dtype=np.int64)
    if not usable:
        return Linkage(tuple(usable), k, match, time.perf_counter() - t0)
    have = np.stack([codes[f] != -2 for f in usable], axis=1)
    pattern = have.astype(np.int64) @ (1 << np.arange(len(usable), dtype=np.int64))
    for p in np.unique(pattern):
        if p == 0:
            continue
        rows = np.flatnonzero(pattern == p)
        cols = [f for j, f in enumerate(usable) if p >> j & 1]
        absent = np.zeros(rows.shape[0], dtype=bool)
        for f in cols:
            absent |= codes[f][rows] < 0
        k[rows[absent]] = 0
        rows = rows[~absent]
        if rows.shape[0] == 0:
            continue
        found = _link_hashed(rows, cols, codes, register)
        if found is None:  # two different keys folded to one word: count them exactly
            found = _link_factorised(rows, cols, codes, register)
        k[rows], match[rows] = found
    return Linkage(tuple(usable), k, match, time.perf_counter() - t0)


def _link_hashed(
    rows: np.ndarray, cols: list[str], codes: dict[str, np.ndarray], register: Register
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(k, match)`` of upload ``rows`` (every field of ``cols`` in the register's
    dictionary) by one hash table of their keys and one pass over the register
    (:mod:`matchsim.kernels.attack.link`); None if two different keys shared a word."""
    from matchsim.kernels.attack.link import key_counts, mix_codes, same_codes

    up_codes = {f: np.ascontiguousarray(codes[f][rows], dtype=np.int64) for f in cols}
    among = _register_candidates(up_codes, cols, register)
    if among is None:
        reg_codes = {f: np.ascontiguousarray(register.codes[f], dtype=np.int64) for f in cols}
    else:
        reg_codes = {f: register.codes[f][among].astype(np.int64, copy=False) for f in cols}
    n_reg = register.rows if among is None else among.shape[0]
    up_h = np.zeros(rows.shape[0], dtype=np.uint64)
    up_ok = np.ones(rows.shape[0], dtype=np.bool_)
    reg_h = np.zeros(n_reg, dtype=np.uint64)
    reg_ok = np.ones(n_reg, dtype=np.bool_)
    for f in cols:
        mix_codes(up_h, up_ok, up_codes[f])
        mix_codes(reg_h, reg_ok, reg_codes[f])
    up_key, rep, count, last, reg_rows, reg_keys = key_counts(up_h, up_ok, reg_h, reg_ok)
    paired = (up_key, rep, reg_rows, reg_keys)
    if not all(same_codes(up_codes[f], reg_codes[f], *paired) for f in cols):
        return None
    k = count[up_key]
    hit = last[up_key]
    if among is not None:  # positions among the candidates -> register rows (same order)
        ok = hit >= 0
        hit[ok] = among[hit[ok]]
    return k, np.where(k == 1, hit, -1)


def _register_candidates(
    up_codes: dict[str, np.ndarray], cols: list[str], register: Register
) -> np.ndarray | None:
    """The register rows whose value of the most varied field of ``cols`` some upload
    row has (no other row can share a key with one), or None where that is over half
    of the register (then a pass over all rows is cheaper than gathering them)."""
    f = max(cols, key=lambda c: len(register.dictionary[c]))
    seen = np.zeros(len(register.dictionary[f]) + 1, dtype=bool)
    seen[up_codes[f]] = True
    keep = seen[register.codes[f]]  # code -1 (no value) reads the last slot: False
    if 2 * int(np.count_nonzero(keep)) > register.rows:
        return None
    return np.flatnonzero(keep)


def _link_factorised(
    rows: np.ndarray, cols: list[str], codes: dict[str, np.ndarray], register: Register
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_link_hashed`'s answer by factorising the upload's and the register's
    mixed-radix keys together (exact whatever the keys; many times slower)."""
    # Only register rows whose every value occurs among these upload rows can share
    # a key with one of them: counting those alone gives the same k.
    reg_ok = np.ones(register.rows, dtype=bool)
    for f in cols:
        seen = np.zeros(len(register.dictionary[f]) + 1, dtype=bool)
        seen[codes[f][rows]] = True
        reg_ok &= seen[register.codes[f]]  # code -1 (no value) reads the last slot: False
    reg_rows = np.flatnonzero(reg_ok)
    joint = combine_codes(
        [
            (
                np.concatenate([codes[f][rows], register.codes[f][reg_rows]]),
                len(register.dictionary[f]),
            )
            for f in cols
        ]
    )
    ids, uniques = pd.factorize(joint, sort=False)
    n_u = rows.shape[0]
    counts = np.bincount(ids[n_u:], minlength=len(uniques))
    k = counts[ids[:n_u]]
    last = np.full(len(uniques), -1, dtype=np.int64)
    last[ids[n_u:]] = reg_rows
    return k, np.where(k == 1, last[ids[:n_u]], -1)


def within_upload(reversed_: Reversed, fields: Iterable[str] | None = None) -> np.ndarray:
    """Per row, how many upload rows share its known fields (the row's class size), or
    -1 where it has no field: uniqueness without a register."""
    usable = [f for f in (fields if fields is not None else LINK_FIELDS) if f in reversed_.values]
    n = reversed_.n_rows
    size = np.full(n, -1, dtype=np.int64)
    if not usable:
        return size
    have = np.stack([reversed_.known(f) for f in usable], axis=1)
    pattern = have.astype(np.int64) @ (1 << np.arange(len(usable), dtype=np.int64))
    codes = {}
    for f in usable:  # dense codes: equal values, equal codes (null: its own, unused)
        index, distinct = reversed_.encoded(f)
        codes[f] = (np.where(index >= 0, index, len(distinct)), len(distinct) + 1)
    for p in np.unique(pattern):
        if p == 0:
            continue
        rows = np.flatnonzero(pattern == p)
        cols = [f for j, f in enumerate(usable) if p >> j & 1]
        key = combine_codes([(codes[f][0][rows], codes[f][1]) for f in cols])
        ids, uniques = pd.factorize(key, sort=False)
        size[rows] = np.bincount(ids, minlength=len(uniques))[ids]
    return size


# --------------------------------------------------------------------------- the verb


@dataclass
class Scenario:
    """One what-if: which fields an attacker could link on."""

    name: str
    fields: tuple[str, ...]
    classes: dict[str, int]

    def to_dict(self, n: int) -> dict[str, Any]:
        return {
            "name": self.name,
            "fields": list(self.fields),
            **self.classes,
            "reidentified_share": round(self.classes["reidentified"] / n, 6) if n else 0.0,
        }


@dataclass
class ReidentifyResult:
    """Everything :func:`reidentify` found; :meth:`summary` holds no plaintext."""

    source: str | None
    reversed: Reversed
    linkage: Linkage | None
    register: Register | None
    register_kind: str | None
    within: np.ndarray
    scenarios: list[Scenario] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return self.reversed.n_rows

    def contact_reversed(self) -> np.ndarray:
        """True where the row's e-mail or phone was reversed (or sent in clear)."""
        return self.reversed.known("email") | self.reversed.known("phone")

    def reidentified(self) -> np.ndarray:
        if self.linkage is None:
            return np.zeros(self.n_rows, dtype=bool)
        return np.asarray(self.linkage.k == 1)

    def summary(self) -> dict[str, Any]:
        n = self.n_rows
        out: dict[str, Any] = {
            "upload": self.source,
            "profile": self.reversed.profile.name,
            "region": self.reversed.region,
            "rows": n,
            "fields": {f: r.to_dict() for f, r in self.reversed.fields.items()},
            "rows_with_contact_reversed": int(self.contact_reversed().sum()),
            "within_upload": _uniqueness(self.within),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }
        if self.linkage is not None and self.register is not None:
            classes = self.linkage.classes()
            fresh = self.reidentified() & ~self.contact_reversed()
            out["link"] = {
                "register": self.register.source,
                "register_kind": self.register_kind,
                "register_rows": self.register.rows,
                "fields": list(self.linkage.fields),
                **classes,
                "reidentified_share": round(classes["reidentified"] / n, 6) if n else 0.0,
                "ambiguous_k": self.linkage.ambiguity(),
                "reidentified_without_email_or_phone": int(fresh.sum()),
                "seconds": round(self.linkage.seconds, 4),
            }
            out["scenarios"] = [s.to_dict(n) for s in self.scenarios]
        return out

    def plaintext_table(self) -> pa.Table:
        """Row number, reversed fields, class and matched register id (personal data)."""
        cols: dict[str, pa.Array] = {"row": pa.array(np.arange(self.n_rows, dtype=np.int64))}
        cols |= {f: v for f, v in self.reversed.values.items()}
        if self.linkage is not None and self.register is not None:
            k = self.linkage.k
            cls = np.where(k == 1, "reidentified", np.where(k > 1, "ambiguous", "not_found"))
            cols["class"] = pa.array(cls)
            cols["k"] = pa.array(np.maximum(k, 0))
            m = self.linkage.match
            cols["register_id"] = self.register.ids.take(pa.array(np.maximum(m, 0), mask=m < 0))
        return pa.table(cols)


def _uniqueness(size: np.ndarray) -> dict[str, Any]:
    n = size.shape[0]
    unique = int(np.sum(size == 1))
    return {
        "unique": unique,
        "unique_share": round(unique / n, 6) if n else 0.0,
        "no_field": int(np.sum(size < 0)),
    }


def scenarios(
    reversed_: Reversed,
    register: Register,
    linkage: Linkage | None = None,
    *,
    _codes: dict[str, np.ndarray] | None = None,
) -> list[Scenario]:
    """The same upload linked as it was reversed, under HMAC (only clear fields left),
    and under each profile's choice of fields (what it takes, what it sends in clear).

    What-ifs reuse the plaintexts recovered here: a profile's scenario links on the
    fields it takes that this upload carried. Identical field sets are linked once;
    ``linkage`` (:func:`link` of the same upload and register on its fields) and
    ``_codes`` (the upload's codes per field, as :func:`link` fills them) are reused.
    """
    available = [f for f in LINK_FIELDS if f in reversed_.values and f in register.codes]
    wanted: list[tuple[str, tuple[str, ...]]] = [
        (f"as uploaded ({reversed_.profile.name})", tuple(available)),
        (
            f"{reversed_.profile.name} under HMAC (nothing reversed)",
            tuple(f for f in available if f in reversed_.clear_fields()),
        ),
    ]
    for name, prof in PROFILES.items():
        if name == reversed_.profile.name:
            continue
        takes = [f for f in available if f in prof.fields]
        clear = [f for f in takes if not prof.fields[f].hashed]
        wanted.append((f"{name}, SHA-256 (hashed fields reversed)", tuple(takes)))
        wanted.append((f"{name} under HMAC (clear fields only)", tuple(clear)))
    cache: dict[tuple[str, ...], dict[str, int]] = {}
    if linkage is not None:
        cache[linkage.fields] = linkage.classes()
    codes = _codes if _codes is not None else {}
    out = []
    for label, fields in wanted:
        if fields not in cache:
            cache[fields] = link(reversed_, register, fields, _codes=codes).classes()
        out.append(Scenario(label, fields, cache[fields]))
    return out


def reidentify(
    upload: str | Path | pa.Table,
    profile: str | Profile,
    region: str,
    *,
    register: str | Path | Register | None = None,
    register_id: str | None = None,
    population: str | Path | None = None,
    knowledge: Knowledge | None = None,
    wordlist: str | Path | None = None,
    email_guesses: int = 1_000_000,
    what_ifs: bool = True,
    fields: Sequence[str] | None = None,
    id_full_space: bool = False,
    known: Mapping[str, Recovered] | None = None,
    not_enumerable: str | None = None,
    progress: Progress | None = None,
) -> ReidentifyResult:
    """Reverse every low-entropy field of a hashed upload and link its rows to people.

    Args:
        upload: the upload file (CSV/Parquet in ``profile``'s layout) or table.
        profile: the profile it was normalised with (which columns are hashed, how).
        region: the people's country.
        register: a table with plaintext fields and an id (path or :class:`Register`);
            each row is classified re-identified (one match), ambiguous (k) or not found.
        register_id: the register's id column (default: ``id``, ``uid``, ...).
        population: without a register, a ``matchsim generate`` folder whose platform
            users serve as one: uniqueness of the reversed rows in the population.
        knowledge: a secret the attacker holds (HMAC key, pepper).
        wordlist: extra name candidates; ``email_guesses``: e-mail guess budget.
        what_ifs: also link under HMAC and each profile's choice of clear fields.
        fields: reverse only these fields (default: every field of the layout).
        id_full_space: seek customer numbers beyond the probe and the sequential ranges
            it reveals among every number of 1-8 digits (:func:`reverse_ids`).
        known: what earlier attacks on this upload recovered, per field
            (:class:`Recovered`; see :func:`reverse_upload`).
        not_enumerable: why the scheme's digests cannot be enumerated, if they cannot
            (see :func:`reverse_upload`).

    Raises:
        InputError, ConfigError: one-line user errors (layout, register, options).
    """
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if isinstance(upload, pa.Table):
        table, source = upload, None
    else:
        decoded = decoded_upload(upload)  # one scan of the bytes, digests decoded
        table = decoded if decoded is not None else upload_table(upload)
        source = str(upload)
    layout = upload_layout(table, prof, source)
    needed = [f for f in LINK_FIELDS if f in layout]
    reg, kind = _register_for(register, register_id, population, prof, region, needed)
    seconds["read"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    rev = reverse_upload(
        table, prof, region, path=source, knowledge=knowledge, wordlist=wordlist,
        email_guesses=email_guesses, fields=fields, id_full_space=id_full_space,
        known=known, not_enumerable=not_enumerable, progress=progress,
    )  # fmt: skip
    seconds["reverse"] = time.perf_counter() - t1
    t3 = time.perf_counter()
    codes: dict[str, np.ndarray] = {}  # upload codes per field, shared by every linkage
    linkage = link(rev, reg, _codes=codes) if reg is not None else None
    what = scenarios(rev, reg, linkage, _codes=codes) if reg is not None and what_ifs else []
    within = within_upload(rev)
    seconds["link"] = time.perf_counter() - t3
    seconds["total"] = time.perf_counter() - t0
    return ReidentifyResult(source, rev, linkage, reg, kind, within, what, seconds)


def _register_for(
    register: str | Path | Register | None,
    register_id: str | None,
    population: str | Path | None,
    prof: Profile,
    region: str,
    needed: list[str],
) -> tuple[Register | None, str | None]:
    """The register to link to and its kind (``register``, ``population``), if any."""
    if isinstance(register, Register):
        return register, "register"
    if register is not None:
        reg = register_from_table(
            read_table(register), prof, region, id_column=register_id, needed=needed,
            source=register,
        )  # fmt: skip
        return reg, "register"
    if population is not None:
        return population_register(population, prof, region, needed), "population"
    return None, None


def check_out(
    out: str | Path, force: bool = False, inputs: tuple[str | Path | None, ...] = ()
) -> None:
    """Refuse an ``--out`` that may not be written (:func:`matchsim.io.check_folder`),
    before any work.

    Raises:
        OutputError: ``out`` is (in) an input, a file, a folder that is not empty (without
            ``force``), or not a matchsim folder that ``force`` may replace.
    """
    from matchsim.io import check_folder

    check_folder(out, force, inputs)


def write_out(
    result: ReidentifyResult,
    out: str | Path,
    *,
    force: bool = False,
    inputs: tuple[str | Path | None, ...] = (),
) -> Path:
    """Write the recovered plaintexts and the summary into folder ``out``, atomically.

    ``reidentified.parquet`` holds personal data (the reversed fields per row and the
    register id matched); ``summary.json`` holds none. The folder carries a
    ``manifest.json`` so that ``--force`` may later replace it.
    """
    import json

    import pyarrow.parquet as pq

    from matchsim import __version__
    from matchsim.io import output_folder

    out = Path(out)
    with output_folder(out, force, inputs) as tmp:
        pq.write_table(result.plaintext_table(), tmp / "reidentified.parquet")
        (tmp / "summary.json").write_text(
            json.dumps(result.summary(), indent=2, sort_keys=True) + "\n"
        )
        (tmp / "manifest.json").write_text(
            json.dumps({"matchsim_version": __version__, "command": "reidentify"}, indent=2) + "\n"
        )
    return out


# --------------------------------------------------------------------------- experiments


@lru_cache(maxsize=1)
def _drawn_register(
    pop_dir: str, coverage: float, seed: int, profile: str, region: str, stamp: tuple[int, int]
) -> tuple[Register, np.ndarray]:
    """The experiment's register, drawn and normalised once per run (every scheme of an
    experiment links to the same register); ``stamp`` (the platform file's size and
    modification time) keeps a population rewritten at the same path from reusing it."""
    # In drawing order: a linkage's counts and the people it names do not depend on
    # the register's row order, and the columns are gathered sequentially.
    table, person = _draw_encoded(pop_dir, coverage, seed, shuffled=False)
    register = register_from_table(table, profile, region, source="drawn register")
    return register, person


def experiment_attack(
    spec: Any,
    knowledge: Knowledge | None,
    upload: Path,
    profile: Profile,
    region: str,
    pop_dir: Path,
    progress: Progress | None = None,
    known: Mapping[str, Recovered] | None = None,
    not_enumerable: str | None = None,
) -> dict[str, Any]:
    """An experiment's ``[[attacks]] kind = "reidentify"`` on one scheme's upload.

    ``known``: what the run's ``phone`` and ``email`` attacks on this same upload
    recovered; reused instead of enumerating those columns again (:func:`reverse_upload`).

    The register is drawn from the simulated population (:func:`draw_register`, coverage
    ``spec.coverage``, seeded by the population's seed); the attacker holds the upload and
    the register, and the key only where ``spec.knows_secret``: ``knowledge`` is the
    scheme's own answer to what such an attacker can enumerate with (its
    ``attacker_view``), or None for plain enumeration. Precision is scored afterwards
    against the truth file (evaluation).
    """
    from matchsim.io import population_manifest

    out: dict[str, Any] = {"kind": "reidentify", "knows_secret": spec.knows_secret}
    seed = int(population_manifest(pop_dir).get("seed", 0))
    stat = (pop_dir / "platform.parquet").stat()
    register, person = _drawn_register(
        str(pop_dir), float(spec.coverage), seed, profile.name, region,
        (stat.st_size, stat.st_mtime_ns),
    )  # fmt: skip
    try:
        result = reidentify(
            upload, profile, region, register=register, knowledge=knowledge,
            email_guesses=spec.guesses, known=known, not_enumerable=not_enumerable,
            progress=progress,
        )  # fmt: skip
    except InputError as exc:  # the upload or register cannot be linked (layout, fields)
        return {**out, "feasible": False, "reason": exc.one_line()}
    scored = score(result, _row_person_of(pop_dir), person)
    return {**out, "feasible": True, **_experiment_row(result, scored, register, spec.coverage)}


# What an experiment's results keep of each field's reversal.
_EXPERIMENT_FIELD_KEYS = (
    "hashed",
    "present",
    "reversed",
    "share",
    "seconds",
    "keyspace_size",
    "candidates",
    "reused",
)


def _experiment_row(
    result: ReidentifyResult, scored: dict[str, Any], register: Register, coverage: float
) -> dict[str, Any]:
    """The results.json row of a re-identification attack in an experiment."""
    summary = result.summary()
    link = summary["link"]
    fields = {f: {k: r[k] for k in _EXPERIMENT_FIELD_KEYS} for f, r in summary["fields"].items()}
    return {
        "register": {
            "source": "drawn from the simulated population",
            "coverage": coverage,
            "rows": register.rows,
        },
        "rows": summary["rows"],
        "fields": fields,
        "link_fields": link["fields"],
        "reidentified": link["reidentified"],
        "ambiguous": link["ambiguous"],
        "not_found": link["not_found"],
        "ambiguous_k": link["ambiguous_k"],
        "share": link["reidentified_share"],
        "reidentified_without_email_or_phone": link["reidentified_without_email_or_phone"],
        "rows_with_contact_reversed": summary["rows_with_contact_reversed"],
        "within_upload_unique_share": summary["within_upload"]["unique_share"],
        "precision": scored["precision"],
        "covered_rows": scored["covered_rows"],
        "reidentified_of_covered": scored["reidentified_of_covered"],
        "scenarios": summary["scenarios"],
        "seconds": round(result.seconds["total"], 3),
    }


def _row_person_of(pop_dir: Path) -> np.ndarray:
    """Evaluation only: the true person of every customer row (``uid``, or ``-(cid + 1)``
    for a customer who is no platform user), as :func:`draw_register` keys people."""
    uid = _read_fields(pop_dir / "truth.parquet", "uid", []).column("uid").combine_chunks()
    cid = np.arange(len(uid), dtype=np.int64)
    missing = np.asarray(uid.is_null().to_numpy(zero_copy_only=False))
    return np.where(missing, -(cid + 1), uid.fill_null(0).to_numpy()).astype(np.int64)


# --------------------------------------------------------------------------- evaluation


def score(
    result: ReidentifyResult, row_person: np.ndarray, register_person: np.ndarray
) -> dict[str, Any]:
    """Evaluation only: precision of the re-identifications against ground truth.

    Args:
        row_person: the true person key of every upload row.
        register_person: the person key of every register row.

    Returns:
        precision (correct / re-identified; 1.0 when none), the rows whose person the
        register covers, and the re-identified share among those.
    """
    if result.linkage is None:
        return {"precision": None}
    hit = result.reidentified()
    got = register_person[np.maximum(result.linkage.match, 0)]
    correct = hit & (got == row_person)
    covered = np.isin(row_person, register_person)
    n_hit = int(hit.sum())
    return {
        "precision": float(correct.sum() / n_hit) if n_hit else 1.0,
        "correct": int(correct.sum()),
        "covered_rows": int(covered.sum()),
        "reidentified_of_covered": float(hit[covered].sum() / covered.sum())
        if covered.any()
        else 0.0,
    }


__all__ = [
    "CLASSES",
    "LINK_FIELDS",
    "FieldReversal",
    "IdRange",
    "Linkage",
    "Recovered",
    "Register",
    "ReidentifyResult",
    "Reversed",
    "Scenario",
    "check_out",
    "draw_register",
    "experiment_attack",
    "field_keyspace",
    "link",
    "load_register",
    "population_register",
    "read_table",
    "register_from_table",
    "reidentify",
    "reverse_ids",
    "reverse_upload",
    "scenarios",
    "score",
    "upload_layout",
    "within_upload",
    "write_out",
]
