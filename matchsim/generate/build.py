"""Generate a platform's users and an advertiser's customer file, with ground truth.

The platform table is produced in chunks of ``chunk_size`` rows, each chunk from its own
random stream (``SeedSequence(seed).spawn``), and written as one Parquet row group, so
memory stays bounded at 10^8 users. The customers are drawn while the platform streams
by: ``overlap`` of them are platform users (chosen uniformly), the rest are people the
platform has never seen. The truth table (``cid -> uid`` and the noise applied to each
customer row) is for evaluation code only; joins and attacks never read it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform as _platform
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from matchsim import __version__
from matchsim.errors import ConfigError
from matchsim.generate.corrupt import corrupt_customers
from matchsim.generate.params import PopulationParams
from matchsim.generate.people import Persons, e164, generate_persons, make_unique
from matchsim.generate.unique import KeySet
from matchsim.io import finish_folder, prepare_folder
from matchsim.locale.tables import Locale, load_locale
from matchsim.rng import Stream, stream

ProgressFn = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as work advances (rows)."""

PLATFORM_FILE = "platform.parquet"
CUSTOMERS_FILE = "customers.parquet"
TRUTH_FILE = "truth.parquet"
MANIFEST_FILE = "manifest.json"

# The customer file is written last, with nothing left to overlap it: no compression
# (65 MB instead of 48 MB per 10^6 rows, ~40 % less write time, no slower to read), a
# dictionary only where values repeat, the row ids delta-encoded.
_CUSTOMERS_PARQUET: dict[str, Any] = {
    "compression": "none",
    "use_dictionary": ["first_name", "last_name", "gender", "city", "region", "country"],
    "column_encoding": {"cid": "DELTA_BINARY_PACKED"},
}
_TRUTH_PARQUET: dict[str, Any] = {
    "compression": "lz4",
    "use_dictionary": ["phone_format"],
    "column_encoding": {"cid": "DELTA_BINARY_PACKED"},
}
_PLATFORM_COLUMNS = (
    "uid", "email", "email2", "phone", "first_name", "last_name", "dob", "gender",
    "postcode", "city", "region", "country", "madid",
)  # fmt: skip
# LZ4 writes ~2x faster than zstd here at 1.6x the size; statistics only where they help
# a reader prune row groups (uid ranges, dates).
_PLATFORM_PARQUET: dict[str, Any] = {
    # MADIDs are random hex: LZ4 saves 3 % of their bytes for a fifth of the write time.
    "compression": {c: "none" if c == "madid" else "lz4" for c in _PLATFORM_COLUMNS},
    # Only the low-cardinality columns are worth a dictionary; trying one on e-mails and
    # MADIDs costs time and falls back anyway.
    "use_dictionary": ["first_name", "last_name", "gender", "city", "region", "country"],
    "write_statistics": ["uid", "dob"],
    "column_encoding": {"uid": "DELTA_BINARY_PACKED"},
}


@dataclass(frozen=True)
class Population:
    """What :func:`population` wrote."""

    out: Path
    manifest: dict[str, Any]

    @property
    def platform(self) -> Path:
        return self.out / PLATFORM_FILE

    @property
    def customers(self) -> Path:
        return self.out / CUSTOMERS_FILE

    @property
    def truth(self) -> Path:
        return self.out / TRUTH_FILE


PLATFORM_SCHEMA = pa.schema(
    [
        ("uid", pa.int64()),
        ("email", pa.string()),
        ("email2", pa.string()),
        ("phone", pa.string()),
        ("first_name", pa.dictionary(pa.int32(), pa.string())),
        ("last_name", pa.dictionary(pa.int32(), pa.string())),
        ("dob", pa.date32()),
        ("gender", pa.dictionary(pa.int8(), pa.string())),
        ("postcode", pa.string()),
        ("city", pa.dictionary(pa.int32(), pa.string())),
        ("region", pa.dictionary(pa.int32(), pa.string())),
        ("country", pa.dictionary(pa.int8(), pa.string())),
        ("madid", pa.string()),
    ]
)


def _dict(indices: np.ndarray, values: pa.Array, index_type: pa.DataType | None = None) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(indices, index_type or pa.int32()), values)


_GENDERS = pa.array(["M", "F"])


def _platform_table(
    locale: Locale, persons: Persons, uid0: int, rng: np.random.Generator, params: PopulationParams
) -> pa.Table:
    n = len(persons)
    has_email = rng.random(n) < params.platform_email_share
    has_phone = rng.random(n) < params.platform_phone_share
    has_email |= ~has_phone  # every account can be reached somehow
    null_str = pa.scalar(None, pa.string())
    email = pc.if_else(pa.array(has_email), persons.email, null_str)
    email2 = pc.if_else(pa.array(has_email), persons.email2, null_str)
    phone = pc.if_else(pa.array(has_phone), e164(persons.phone), null_str)
    place = persons.place
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(uid0, uid0 + n, dtype=np.int64)),
            email,
            email2,
            phone,
            _dict(persons.first, locale.first_dict),
            _dict(persons.last, locale.last_names.values),
            pa.array(persons.dob, pa.date32()),
            _dict(persons.female.astype(np.int8), _GENDERS, pa.int8()),
            persons.postcode,
            _dict(locale.city_of_place[place], locale.city_dict),
            _dict(locale.region_of_place[place], locale.region_dict),
            _dict(np.zeros(n, dtype=np.int8), pa.array([locale.country]), pa.int8()),
            persons.madid,
        ],
        schema=PLATFORM_SCHEMA,
    )


def _chunks(total: int, size: int) -> Iterator[tuple[int, int, int]]:
    for i, start in enumerate(range(0, total, size)):
        yield i, start, min(size, total - start)


def population(
    params: PopulationParams,
    out: str | os.PathLike[str],
    *,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> Population:
    """Generate a population and write it to ``out`` (atomically: all files or none).

    Writes ``platform.parquet``, ``customers.parquet``, ``truth.parquet`` and
    ``manifest.json``.

    Raises:
        ConfigError: invalid parameters (all problems listed at once).
        OutputError: ``out`` is a file, not writable, or not empty without ``force``.
    """
    ConfigError.collect(params.problems())
    started = time.perf_counter()
    out_path = Path(out)
    tmp = prepare_folder(out_path, force)
    try:
        manifest = _generate(params, tmp, progress)
        manifest["elapsed_seconds"] = round(time.perf_counter() - started, 3)
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        finish_folder(tmp, out_path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Population(out=out_path, manifest=manifest)


def _generate(
    params: PopulationParams, folder: Path, progress: ProgressFn | None
) -> dict[str, Any]:
    locale = load_locale(params.country)
    n_users = params.platform_users
    n_members = round(params.overlap * params.customers)
    n_outsiders = params.customers - n_members
    expected_emails = int(
        (n_users + n_outsiders) * (1 + params.second_email_share) + params.customers
    )
    keys = _Keys(KeySet(expected_emails), KeySet(n_users + n_outsiders))
    members_uid = np.sort(
        stream(params.seed, Stream.SELECT).choice(n_users, size=n_members, replace=False)
    )
    total_rows = n_users + n_outsiders
    done = 0

    def advance(stage: str, count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(stage, done, total_rows)

    # The platform file's last row group is written and the file closed on the writer
    # thread while this one claims the non-users' identifiers and builds the customers.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="write") as write_pool:
        members, drawn, closed = _write_platform(
            params, locale, folder, members_uid, keys, advance, write_pool
        )
        outsiders: list[Persons] = []
        for (_, _start, count), (persons, rng) in zip(
            _chunks(n_outsiders, params.chunk_size), drawn, strict=True
        ):
            outsiders.append(make_unique(rng, locale, persons, keys.email, keys.phone))
            advance("non-users", count)
        _write_customers(params, locale, folder, members_uid, members + outsiders, keys.email)
        closed.result()
    return _manifest(params, locale, n_members, n_outsiders)


@dataclass(frozen=True)
class _Keys:
    """E-mails and phone numbers taken so far: every person's are unique in the world."""

    email: KeySet
    phone: KeySet


def _persons(
    params: PopulationParams, locale: Locale, index: int, count: int, name: Stream
) -> tuple[Persons, np.random.Generator]:
    """Chunk ``index`` of ``count`` people from stream ``name``, and the stream, which
    the caller goes on drawing from for that chunk."""
    rng = stream(params.seed, name, index)
    as_of = np.datetime64(params.as_of, "D")
    people = generate_persons(
        rng, locale, count, as_of=as_of, second_email_share=params.second_email_share
    )
    return people, rng


def _write_platform(
    params: PopulationParams,
    locale: Locale,
    folder: Path,
    members_uid: np.ndarray,
    keys: _Keys,
    advance: Callable[[str, int], None],
    write_pool: ThreadPoolExecutor,
) -> tuple[list[Persons], list[tuple[Persons, np.random.Generator]], Future[None]]:
    """Write the platform's users chunk by chunk; return the customers among them, the
    non-users (customers the platform has never seen) drawn meanwhile, and the writer's
    close on ``write_pool`` (queued after the last row group; the caller awaits it). The
    non-users' people are drawn on the generating thread once the last platform chunk is,
    each chunk from its own stream (their identifiers are claimed later, after every
    platform user's)."""
    writer = pq.ParquetWriter(folder / PLATFORM_FILE, PLATFORM_SCHEMA, **_PLATFORM_PARQUET)
    try:
        parts, outsiders, pending = _platform_chunks(
            params, locale, members_uid, keys, advance, writer, write_pool
        )
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to report
            write_pool.submit(writer.close).result()  # after any write still queued
        raise

    def finish() -> None:  # on the writer thread, after the queued row group
        try:
            for w in pending:
                w.result()  # its error, if it failed
        finally:
            writer.close()

    return parts, outsiders, write_pool.submit(finish)


def _platform_chunks(
    params: PopulationParams,
    locale: Locale,
    members_uid: np.ndarray,
    keys: _Keys,
    advance: Callable[[str, int], None],
    writer: pq.ParquetWriter,
    write_pool: ThreadPoolExecutor,
) -> tuple[list[Persons], list[tuple[Persons, np.random.Generator]], list[Future[None]]]:
    """:func:`_write_platform`'s chunks; the last row group's write may still be queued
    (returned last)."""
    member_parts: list[Persons] = []
    chunks = list(_chunks(params.platform_users, params.chunk_size))
    n_outsiders = params.customers - members_uid.shape[0]
    outsider_chunks = list(_chunks(n_outsiders, params.chunk_size))
    # Three stages overlap: generating chunk i+1 (worker thread), claiming identifiers and
    # building chunk i's table (this thread, in chunk order, so the result is
    # deterministic), and writing chunk i-1 (writer thread). numba and Arrow release the
    # GIL, so the two cores are both busy.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate") as gen_pool:
        futures: dict[int, Future[tuple[Persons, np.random.Generator]]] = {}
        writes: list[Future[None]] = []
        drawn: list[Future[tuple[Persons, np.random.Generator]]] = []

        def draw_outsiders() -> list[Future[tuple[Persons, np.random.Generator]]]:
            return [
                gen_pool.submit(_persons, params, locale, i, n, Stream.OUTSIDERS)
                for i, _, n in outsider_chunks
            ]

        for k, (_, start, count) in enumerate(chunks):
            for j in range(k, min(k + 2, len(chunks))):
                if j not in futures:
                    futures[j] = gen_pool.submit(
                        _persons, params, locale, chunks[j][0], chunks[j][2], Stream.PLATFORM
                    )
            persons, rng = futures.pop(k).result()
            if k == len(chunks) - 1:  # the generating thread is free from here on
                drawn = draw_outsiders()
            persons = make_unique(rng, locale, persons, keys.email, keys.phone)
            lo, hi = np.searchsorted(members_uid, [start, start + count])
            if hi > lo:
                member_parts.append(persons.take(members_uid[lo:hi] - start))
            table = _platform_table(locale, persons, start, rng, params)
            if writes:
                writes.pop().result()
            writes.append(write_pool.submit(writer.write_table, table))
            advance("platform users", count)
        outsiders = [d.result() for d in (drawn if chunks else draw_outsiders())]
    return member_parts, outsiders, writes


def _write_customers(
    params: PopulationParams,
    locale: Locale,
    folder: Path,
    members_uid: np.ndarray,
    parts: list[Persons],
    email_keys: KeySet,
) -> None:
    """Write the customer file (members, then non-users, shuffled, as the CRM holds
    them) and the truth: each row's platform uid and the noise applied to it."""
    seed = params.seed
    n_outsiders = params.customers - members_uid.shape[0]
    customers_people = Persons.concat(parts) if params.customers else None
    uid_of_row = np.concatenate([members_uid, np.full(n_outsiders, -1, dtype=np.int64)])
    order = stream(seed, Stream.SHUFFLE).permutation(params.customers)
    cid = np.arange(params.customers, dtype=np.int64)
    if customers_people is not None:
        shuffled = customers_people.take(order)
        columns, flags = corrupt_customers(
            stream(seed, Stream.CRM), locale, shuffled, params.corruption, email_keys
        )
    else:
        columns, flags = _empty_customer_columns()
    uid = uid_of_row[order]
    customers = pa.table({"cid": pa.array(cid), **columns})
    truth = pa.table(
        {
            "cid": pa.array(cid),
            "uid": pa.array(uid, mask=uid < 0),
            **flags,
        }
    )
    # two files, two threads (Parquet encoding releases the GIL)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="write") as pool:
        done = pool.submit(pq.write_table, truth, folder / TRUTH_FILE, **_TRUTH_PARQUET)
        pq.write_table(customers, folder / CUSTOMERS_FILE, **_CUSTOMERS_PARQUET)
        done.result()


def _manifest(
    params: PopulationParams, locale: Locale, n_members: int, n_outsiders: int
) -> dict[str, Any]:
    return {
        "kind": "population",
        "matchsim_version": __version__,
        "seed": params.seed,
        "parameters": params.to_dict(),
        "counts": {
            "platform_users": params.platform_users,
            "customers": params.customers,
            "customers_on_platform": n_members,
            "customers_not_on_platform": n_outsiders,
        },
        "files": [PLATFORM_FILE, CUSTOMERS_FILE, TRUTH_FILE],
        "locale": {"country": locale.country, "checksums": locale.checksums},
        "environment": {
            "python": _platform.python_version(),
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
            "machine": _platform.machine(),
        },
    }


def _empty_customer_columns() -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
    s = pa.array([], pa.string())
    columns = {
        "email": s,
        "phone": s,
        "first_name": s,
        "last_name": s,
        "dob": pa.array([], pa.date32()),
        "gender": s,
        "postcode": s,
        "city": s,
        "region": s,
        "country": s,
        "madid": s,
    }
    b = pa.array([], pa.bool_())
    flags = {
        k: b
        for k in (
            "email_stale",
            "email_typo",
            "email_gmail_dots",
            "email_plus_tag",
            "email_case",
            "email_whitespace",
            "email_missing",
            "phone_typo",
        )
    }
    flags["phone_format"] = s
    for k in ("phone_missing", "name_typo", "dob_missing", "postcode_format"):
        flags[k] = b
    return columns, flags
