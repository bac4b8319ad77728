"""The platform's index: its own users' identifiers, normalised and hashed by the platform.

Real platforms hold their users' e-mail addresses and phone numbers in clear and hash
them themselves, with their own normalisation rules; the advertiser's rules may differ,
and that difference is what a mismatch experiment measures. :class:`ParquetPlatform`
reads ``platform.parquet`` one row group at a time and yields per key the digests and the
user ids they belong to. Both ``email`` and ``email2`` index to the e-mail key. Fields a
profile takes in clear (Meta's MADID, Google's postcode) are keyed by an internal SHA-256
of the normalised text, on both sides alike.

The source pickles as paths and names only: a Dask worker re-opens the file and, for a
keyed scheme, re-loads the secret from the file or environment variable it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from matchsim.errors import ConfigError, InputError, SecretError
from matchsim.io import UNREADABLE_PARQUET, check_file, check_ids_once, check_population_columns
from matchsim.join.keys import (
    COMBINATION_FIELDS,
    EMAIL,
    MADID,
    NAME_POSTCODE_DOB,
    PHONE,
    KeyDigests,
)
from matchsim.normalise import Normalised, Profile, distinct, get_profile
from matchsim.schemes import Digests, Scheme, get_scheme
from matchsim.schemes._base import as_strings
from matchsim.secrets import Secret, load_secret

if TYPE_CHECKING:
    from matchsim.join.index import NormalisedTee
    from matchsim.join.salted import SaltSet

PLATFORM_COLUMNS: Mapping[str, tuple[str, ...]] = {
    EMAIL: ("email", "email2"),
    PHONE: ("phone",),
    MADID: ("madid",),
}
"""Match key -> the platform table's columns that index to it."""

_FIELD_COLUMN = {"state": "region"}

KEYED = "keyed:"
"""Prefix of a normalised-table column holding a clear field's internal digests (its
:func:`clear_scheme` digest, null where it cannot be keyed) instead of its text: no
scheme changes them, so they are hashed once, when the platform is normalised."""

PRESENCE_COLUMNS = (EMAIL, PHONE, MADID)
"""Raw platform columns whose presence the normalised layer also records."""


def clear_scheme() -> Scheme:
    """The platform-internal key of a field sent in clear: SHA-256 of its text."""
    return get_scheme("sha256")


def key_fields(profile: Profile) -> dict[str, tuple[str, ...]]:
    """Match key -> the profile's fields that make it up, for the keys this profile takes."""
    out: dict[str, tuple[str, ...]] = {}
    for key in (EMAIL, PHONE, MADID):
        if key in profile.fields:
            out[key] = (key,)
    if all(f in profile.fields for f in COMBINATION_FIELDS):
        out[NAME_POSTCODE_DOB] = COMBINATION_FIELDS
    return out


def field_digests(
    profile: Profile, scheme: Scheme, name: str, values: pa.Array, region: str
) -> Digests:
    """Normalise ``values`` as field ``name`` and digest them the way the profile keys it."""
    return digest_normalised(
        profile, scheme, name, normalised_values(profile, name, values, region)
    )


def normalised_values(profile: Profile, name: str, values: pa.Array, region: str) -> pa.Array:
    """``values`` normalised as field ``name``; null where the platform cannot key them."""
    if distinct.repeats(values):  # normalise the distinct values, keep the dictionary
        encoded = distinct.dictionary(values)
        once = _keyable(profile.normalise(name, encoded.dictionary, region))
        # null through the indices, not as a dictionary entry (Parquet cannot write that)
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        missing = ~once.is_valid().to_numpy(zero_copy_only=False)[indices]
        return _unique_dictionary(indices, missing, pc.fill_null(once, ""))
    return _keyable(profile.normalise(name, values, region))


def _unique_dictionary(
    indices: np.ndarray, missing: np.ndarray, values: pa.Array
) -> pa.DictionaryArray:
    """``values[indices]`` (null where ``missing``) with a dictionary of distinct values.

    Normalising a dictionary maps several raw values to one ("Jan", "JAN"), and a
    Parquet writer given a dictionary with repeats stores the column plain: in the
    normalised layer, 1 M first names took 10.3 MB instead of 1.8 MB, and were hashed
    into a dictionary again on every read."""
    once = pc.dictionary_encode(values)  # one hashing pass: the remap and the distinct
    if len(once.dictionary) < len(values):
        indices = once.indices.to_numpy(zero_copy_only=False)[indices]
        values = once.dictionary
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=missing), values)


def _keyable(norm: Normalised) -> pa.Array:
    """The normalised values, null where accepted but never matching (Google's rule)."""
    valid_values = norm.values
    if norm.unmatchable.any():
        valid_values = pc.if_else(
            pa.array(norm.unmatchable), pa.scalar(None, pa.string()), valid_values
        )
    return valid_values


def digest_normalised(
    profile: Profile, scheme: Scheme, name: str, values: pa.Array | pa.ChunkedArray
) -> Digests:
    """Digests of already normalised values of field ``name``, the way the profile keys it
    (each distinct value hashed once where the scheme allows it)."""
    return distinct.encode(scheme if profile.fields[name].hashed else clear_scheme(), values)


def digest_width(profile: Profile, scheme: Scheme, key: str, fields: tuple[str, ...]) -> int:
    return sum(
        scheme.digest_size if profile.fields[f].hashed else clear_scheme().digest_size
        for f in fields
    )


@dataclass
class ParquetPlatform:
    """``platform.parquet`` as the platform indexes it under ``profile`` and ``scheme``.

    Attributes:
        path: the platform table (``uid`` and identifier columns).
        profile: the platform's normalisation profile name.
        scheme: scheme name; ``scheme_params`` its parameters.
        key_file / key_env: where the scheme's shared secret comes from, if it needs one.
        secret: an in-memory secret (used by this process only; never pickled).
        index_dir: the on-disk digest index to read chunks from (see
            :mod:`matchsim.join.index`); None: normalise and hash each chunk.
        norm_dir: the on-disk normalised platform (one per profile) to hash chunks from.
        salt_filter: for a per-record-salted scheme, per key the salts the upload carries
            (:func:`matchsim.join.salted.salt_filter`): only platform rows that draw one
            of them are hashed.
        read_ahead: chunks computed ahead on threads of their own when chunks are read
            in order (the local engine): the next chunk's reading and hashing overlap the
            current one's; 0 (the default, and on a Dask worker): none. :meth:`close`
            stops them.
    """

    path: Path
    profile: str
    scheme: str
    scheme_params: Mapping[str, Any] = field(default_factory=dict)
    key_file: str | None = None
    key_env: str | None = None
    secret: Secret | None = None
    index_dir: Path | None = None
    norm_dir: Path | None = None
    salt_filter: Mapping[str, SaltSet] | None = None
    read_ahead: int = 0
    tee: NormalisedTee | None = field(default=None, repr=False)
    _meta: pq.FileMetaData = field(init=False, repr=False)
    _pool: ThreadPoolExecutor | None = field(init=False, repr=False, default=None)
    _pending: dict[int, Future[Mapping[str, KeyDigests]]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        check_file(self.path)  # a FIFO here would block the reader for ever
        try:
            self._meta = pq.ParquetFile(self.path).metadata
        except (pa.ArrowInvalid, OSError):
            raise InputError(self.path, UNREADABLE_PARQUET) from None
        schema = self._meta.schema.to_arrow_schema()
        check_population_columns(self.path, schema)
        names = set(schema.names)
        if "uid" not in names:
            raise InputError(self.path, "has no uid column; is it a platform table?")
        check_ids_once(self.path, "uid")  # none missing, none counted twice
        self._profile()
        self._scheme()  # fail early on a bad scheme or missing secret

    def __getstate__(self) -> dict[str, Any]:
        private = ("secret", "_meta", "_pool", "_pending", "tee")
        state = {k: v for k, v in self.__dict__.items() if k not in private}
        state["read_ahead"] = 0  # a worker reads the chunks it is given, in no order
        if self.secret is not None and self.key_file is None and self.key_env is None:
            raise SecretError(
                "a distributed join needs the key as --key-file or --key-env, "
                "so that workers can load it"
            )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.secret = None
        self._pool, self._pending, self.tee = None, {}, None
        self._meta = pq.ParquetFile(self.path).metadata

    def _profile(self) -> Profile:
        return get_profile(self.profile)

    def _scheme(self) -> Scheme:
        secret = self.secret
        if secret is None and (self.key_file or self.key_env):
            secret = load_secret(file=self.key_file, env=self.key_env)
            self.secret = secret
        return get_scheme(self.scheme, secret=secret, **dict(self.scheme_params))

    @property
    def keys(self) -> Mapping[str, int]:
        prof, sch = self._profile(), self._scheme()
        return {k: digest_width(prof, sch, k, f) for k, f in key_fields(prof).items()}

    @property
    def n_chunks(self) -> int:
        return max(1, self._meta.num_row_groups)

    @property
    def n_users(self) -> int:
        return int(self._meta.num_rows)

    def chunk(self, index: int) -> Mapping[str, KeyDigests]:
        if self.read_ahead <= 0:
            return self._chunk(index)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.read_ahead, thread_name_prefix="platform-chunk")
        for stale in [i for i in self._pending if i < index]:
            self._pending.pop(stale).cancel()
        for i in range(index, min(self.n_chunks, index + self.read_ahead)):
            if i not in self._pending:
                self._pending[i] = self._pool.submit(self._chunk, i)
        return self._pending.pop(index).result()

    def close(self) -> None:
        """Stop computing chunks ahead (none is computed after this returns), and drop a
        normalised layer being written that :meth:`finish_tee` did not publish."""
        pending, self._pending = self._pending, {}
        for future in pending.values():
            future.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self.tee is not None:
            self.tee.abort()
            self.tee = None

    def finish_tee(self) -> Path | None:
        """Publish the normalised layer this source wrote while a join read every chunk
        (see :func:`matchsim.join.index.ensure_index`); later chunks are read from it."""
        tee, self.tee = self.tee, None
        if tee is None:
            return None
        self.close()
        folder = tee.finish()
        if folder is not None:
            self.norm_dir = folder
        return folder

    def _chunk(self, index: int) -> Mapping[str, KeyDigests]:
        if self.index_dir is not None and self._meta.num_row_groups:
            from matchsim.join.index import read_chunk

            try:
                return read_chunk(self.index_dir, index, self.keys)
            except OSError:  # a worker that cannot see the index computes the chunk itself
                pass
        return self._compute_chunk(index)

    def _compute_chunk(self, index: int) -> Mapping[str, KeyDigests]:
        """Chunk ``index`` normalised and hashed from the platform table itself."""
        prof, sch = self._profile(), self._scheme()
        wanted = key_fields(prof)
        if self._meta.num_row_groups == 0:
            return {k: KeyDigests.empty(digest_width(prof, sch, k, f)) for k, f in wanted.items()}
        if self.norm_dir is not None and (self.norm_dir / "normalised.parquet").exists():
            from matchsim.join.index import read_normalised

            ntable = read_normalised(self.norm_dir, index)
            return normalised_digests(ntable, prof, sch, self.salt_filter)
        table = read_row_group(self.path, index)
        tee = self.tee
        if tee is None:
            return table_digests(table, prof, sch, self.path, salts=self.salt_filter)
        ntable = normalised_table(table, prof, self.path)
        tee.put(index, ntable)
        return normalised_digests(ntable, prof, sch, self.salt_filter)


def table_digests(
    table: pa.Table, prof: Profile, sch: Scheme, path: Path, region: str | None = None,
    salts: Mapping[str, SaltSet] | None = None,
) -> dict[str, KeyDigests]:  # fmt: skip
    """Per key, the digests of ``table``'s rows as the platform keys them (ids: ``uid``)."""
    return normalised_digests(normalised_table(table, prof, path, region), prof, sch, salts)


def normalised_table(
    table: pa.Table, prof: Profile, path: Path, region: str | None = None
) -> pa.Table:
    """``uid`` and every platform column the profile keys on, normalised once (null where
    it cannot be keyed); a combination field is named by its field, the rest by column."""
    region = region or _region(table, path)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"uid": table["uid"]}
    for key, fields in key_fields(prof).items():
        if key == NAME_POSTCODE_DOB:
            for f in fields:
                columns[f] = normalised_values(prof, f, _column(table, f, path), region)
            continue
        for column in PLATFORM_COLUMNS[key]:
            if column in table.column_names:
                columns[column] = normalised_values(prof, key, table[column], region)
    out = {k: v if k == "uid" else _as_text(v, k in COMBINATION_FIELDS) for k, v in columns.items()}
    for key in key_fields(prof):  # a key taken in clear: its digest, the same for every scheme
        if key != NAME_POSTCODE_DOB and not prof.fields[key].hashed:
            for column in PLATFORM_COLUMNS[key]:
                if column in out:
                    out[f"{KEYED}{column}"] = _clear_digests(out.pop(column))
    for column in PRESENCE_COLUMNS:  # whether the raw value is there (for evaluation)
        if column in table.column_names:
            out[f"present:{column}"] = table[column].is_valid()
    return pa.table(out)


def _clear_digests(values: pa.Array) -> pa.Array:
    """``values``' :func:`clear_scheme` digests as fixed-size binary, null where null."""
    d = clear_scheme().encode(values)
    width = d.data.shape[1]
    validity = None
    if not d.valid.all():
        validity = pa.py_buffer(np.packbits(d.valid, bitorder="little"))
    data = pa.py_buffer(np.ascontiguousarray(d.data))
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(d.valid), [validity, data])


def _keyed_digests(column: pa.Array | pa.ChunkedArray, uid: np.ndarray) -> KeyDigests:
    """:class:`KeyDigests` of a ``keyed:`` column's non-null digests."""
    values = _flat(column)
    present = values.is_valid()
    rows = np.flatnonzero(present.to_numpy(zero_copy_only=False))
    if len(rows) < len(values):
        values = values.filter(present)
    width = values.type.byte_width
    if len(values) == 0:
        data = np.zeros((0, width), dtype=np.uint8)
    else:
        data = np.frombuffer(values.buffers()[1], dtype=np.uint8, count=len(values) * width,
                             offset=values.offset * width).reshape(len(values), width)  # fmt: skip
    return KeyDigests.from_bytes(data, uid[rows])


def _as_text(values: pa.Array | pa.ChunkedArray, repeated: bool) -> pa.Array:
    """The column as every chunk of the normalised layer stores it: the fields of the
    combination key (names, postcodes, dates: few distinct values) dictionary-encoded,
    the rest plain strings."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not repeated:
        return values.cast(pa.string())
    if pa.types.is_dictionary(values.type):
        return values.cast(pa.dictionary(pa.int32(), pa.string()))
    values = values.cast(pa.string())
    short = distinct.short_codes(values)  # postcodes: no string hashing
    if short is not None:
        codes, dictionary = short
        return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), dictionary)
    out = pc.dictionary_encode(values)
    assert isinstance(out, pa.DictionaryArray)
    return out.cast(pa.dictionary(pa.int32(), pa.string()))


def normalised_digests(
    ntable: pa.Table, prof: Profile, sch: Scheme, salts: Mapping[str, SaltSet] | None = None
) -> dict[str, KeyDigests]:
    """Per key, the digests of a :func:`normalised_table` under scheme ``sch``; with
    ``salts`` (:func:`matchsim.join.salted.salt_filter`), only those of the salted keys'
    rows that can match."""
    uid = ntable["uid"].to_numpy()
    out: dict[str, KeyDigests] = {}
    for key, fields in key_fields(prof).items():
        if salts is not None and key in salts:
            from matchsim.join.salted import salted_candidates

            out[key] = salted_candidates(ntable, prof, sch, key, uid, salts[key])
            continue
        if key == NAME_POSTCODE_DOB:
            tables = [_digest_table(prof, sch, f, ntable[f]) for f in fields]
            valid = np.logical_and.reduce([v for _, _, v in tables])
            out[key] = KeyDigests.gather([(d, i) for d, i, _ in tables], valid, uid)
            continue
        pieces = []
        for column in PLATFORM_COLUMNS[key]:
            if f"{KEYED}{column}" in ntable.column_names:
                pieces.append(_keyed_digests(ntable[f"{KEYED}{column}"], uid))
                continue
            if column not in ntable.column_names:
                continue
            values = _flat(ntable[column])
            present = values.is_valid()
            rows = np.flatnonzero(present.to_numpy(zero_copy_only=False))
            if len(rows) < len(values):  # hash the present values only (in row order)
                values = values.filter(present)
            d = digest_normalised(prof, sch, key, values)
            pieces.append(KeyDigests.from_bytes(d.data, uid[rows], d.valid))
        out[key] = KeyDigests.concat(pieces, digest_width(prof, sch, key, fields))
    return out


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _digest_table(
    prof: Profile, sch: Scheme, name: str, values: pa.Array | pa.ChunkedArray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Field ``name``'s digests as ``(table, index, valid)``: row ``r``'s digest is
    ``table[index[r]]`` (``table[r]`` where ``index`` is None), valid where ``valid``.
    A dictionary-encoded column under a deterministic scheme hashes its dictionary
    once and is never expanded row by row."""
    values = _flat(values)
    used = sch if prof.fields[name].hashed else clear_scheme()
    if not (pa.types.is_dictionary(values.type) and used.deterministic):
        d = digest_normalised(prof, sch, name, values)
        return d.data, None, d.valid
    assert isinstance(values, pa.DictionaryArray)
    once = used.encode(as_strings(values.dictionary))
    indices = values.indices
    index = np.asarray(pc.fill_null(indices, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    valid = indices.is_valid().to_numpy(zero_copy_only=False)
    if len(once.valid):
        valid &= once.valid[index]
    return once.data, index, valid


def _column(table: pa.Table, field_name: str, path: Path) -> pa.ChunkedArray:
    column = _FIELD_COLUMN.get(field_name, field_name)
    if column not in table.column_names:
        raise InputError(path, f"has no {column} column")
    return table[column]


def read_row_group(path: Path, index: int) -> pa.Table:
    """Row group ``index`` of the platform file; a damaged page (the footer read, a page
    did not) is the reader's one-line error naming the file, not Arrow's bare message."""
    try:
        return pq.ParquetFile(path).read_row_group(index)
    except (pa.ArrowInvalid, OSError):
        raise InputError(path, UNREADABLE_PARQUET) from None


def _region(table: pa.Table, path: Path) -> str:
    if "country" not in table.column_names or table.num_rows == 0:
        return "NL"
    first = table["country"][0].as_py()
    if not isinstance(first, str) or len(first) != 2:
        raise ConfigError(f"{path}: cannot tell the platform's phone region from its country")
    return first.upper()
