"""The platform's digest index, kept on disk beside the population between joins.

A platform hashes its users once per (profile, scheme, parameters) and keeps the index; a
second advertiser's upload against the same platform pays only the probe. :func:`ensure_index`
does the same for :class:`~matchsim.join.platform.ParquetPlatform`: the first join
normalises and hashes every row group of ``platform.parquet`` once and writes, per match
key, a Parquet file whose row group ``i`` holds chunk ``i``'s digests (``d``, fixed-width
binary, the join's uint64 words byte for byte) and their user ids (``uid``); later joins
read those row groups back zero-copy instead of normalising and hashing again.

Where it lives: ``$MATCHSIM_INDEX_DIR`` (default ``$XDG_CACHE_HOME/matchsim/platform-index``,
else ``~/.cache/matchsim/platform-index``), one folder ``<profile>-<scheme>-<fingerprint>``
per index, written whole or not at all (a temporary folder renamed into place). It is not
written into the population folder: inputs are never written beside, and a population
folder keeps exactly the files ``generate`` wrote. The fingerprint is a SHA-256 of

* the population: the platform file's size, modification time and Parquet footer (its
  schema, row groups and their column statistics), so a regenerated or edited population
  never meets an old index; when an index is written, indexes of an older version of the
  same population file, and of population files that no longer exist, are removed;
* the code that shapes a digest: the source of the normalisation profiles, the schemes and
  this package's platform side, and the ``phonenumbers`` metadata version;
* the profile, the scheme's name and its parameters;
* for a keyed scheme, ``HMAC-SHA256(secret, "matchsim platform index v1")``: a keyed
  digest of the secret, never the secret itself, so the same key finds its index and
  another key cannot. The index then holds the keyed digests the platform holds anyway.

Below the digest index sits one more layer, per profile rather than per scheme: the
platform's key columns normalised once (``<profile>-normalised-<fingerprint>/``, the same
row groups, null where a value cannot be keyed), so that a join under another scheme or
key hashes them without normalising again. It is clear text derived from the clear-text
population, and lives and dies with it (same fingerprint of population and code).

A scheme that is not deterministic (a per-record salt) gets no digest index: its digests
differ on every run. Nor does a key held only in memory (``matchsim run`` generates one per
run; no later join could name it again): only keys from ``--key-file``/``--key-env`` are
indexed. Both still hash from the normalised layer.

``MATCHSIM_PLATFORM_INDEX=0`` turns both layers off; where the cache folder cannot be
written to, joins simply go without them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matchsim import __version__
from matchsim.join.keys import KeyDigests
from matchsim.switches import switched_on

if TYPE_CHECKING:
    from matchsim.join.engine import ProgressFn
    from matchsim.join.platform import ParquetPlatform

INDEX_FORMAT = 1
META_FILE = "index.json"
ENV_SWITCH = "MATCHSIM_PLATFORM_INDEX"
ENV_DIR = "MATCHSIM_INDEX_DIR"

T = TypeVar("T")

_CODE_PARTS = (
    "normalise",
    "schemes",
    "locale",
    "kernels/__init__.py",
    "kernels/attack/mask.py",
    "kernels/attack/params.py",
    "kernels/attack/_unrolled.py",
    "kernels/_openssl.py",
    "kernels/mix.py",
    "join/platform.py",
    "join/keys.py",
)
"""Source (under ``matchsim/``) that decides what a platform digest is; every part must
exist (a part moved away would otherwise turn the index off without a word)."""


def enabled() -> bool:
    """False when ``MATCHSIM_PLATFORM_INDEX`` is ``0``, ``no``, ``off`` or ``false``."""
    return switched_on(ENV_SWITCH)


def population_stamp(path: Path) -> str:
    """SHA-256 of the platform file's size, mtime and Parquet footer (not its whole body)."""
    st = path.stat()
    h = hashlib.sha256(f"{st.st_size}:{st.st_mtime_ns}".encode())
    with path.open("rb") as fh:
        if st.st_size >= 12:
            fh.seek(st.st_size - 8)
            tail = fh.read(8)
            footer = int.from_bytes(tail[:4], "little")
            fh.seek(max(0, st.st_size - 8 - footer))
            h.update(fh.read(footer))
            h.update(tail)
    return h.hexdigest()


_code: str | None = None


def code_stamp() -> str:
    """SHA-256 of the source that decides what a platform digest is."""
    global _code
    if _code is None:
        import phonenumbers

        root = Path(__file__).resolve().parent.parent
        h = hashlib.sha256(f"{INDEX_FORMAT}:{__version__}:{phonenumbers.__version__}".encode())
        for part in _CODE_PARTS:
            p = root / part
            for f in sorted(p.rglob("*.py")) if p.is_dir() else [p]:
                h.update(str(f.relative_to(root)).encode())
                h.update(f.read_bytes())
        _code = h.hexdigest()
    return _code


def secret_digest(secret: bytes) -> str:
    """Keyed digest of a scheme's secret: identifies the key without revealing it."""
    from cryptography.hazmat.primitives import hashes, hmac

    mac = hmac.HMAC(secret, hashes.SHA256())
    mac.update(b"matchsim platform index v1")
    return mac.finalize().hex()


def fingerprint(source: ParquetPlatform) -> str | None:
    """The index's fingerprint, or None when this scheme gets no index."""
    sch = source._scheme()
    if not sch.deterministic:
        return None
    if sch.secret is not None and not (source.key_file or source.key_env):
        return None  # a key held only in memory: no later join could name it again
    h = hashlib.sha256()
    parts: list[Any] = [
        population_stamp(source.path),
        code_stamp(),
        source.profile,
        source.scheme,
        sorted((str(k), repr(v)) for k, v in dict(source.scheme_params).items()),
        secret_digest(sch.secret.value) if sch.secret is not None else None,
    ]
    h.update(json.dumps(parts, default=str).encode())
    return h.hexdigest()


def index_root() -> Path:
    """Where platform indexes are kept (see the module docstring)."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "matchsim" / "platform-index"


def _name(source: ParquetPlatform, fp: str) -> str:
    safe = "".join(
        c if c.isalnum() or c in "-_" else "_" for c in f"{source.profile}-{source.scheme}"
    )
    return f"{safe}-{fp[:24]}"


def _file(key: str) -> str:
    return f"{key}.parquet"


def ensure_index(
    source: ParquetPlatform,
    progress: ProgressFn | None = None,
    digests: bool = True,
    why: list[str] | None = None,
    tee: bool = False,
) -> Path | None:
    """Point ``source`` at its on-disk index, building it first if it is missing.

    With ``digests=False`` only the normalised layer is kept (for a population no later
    join will see again, writing its digest index would be wasted work). With ``tee``
    too, a missing normalised layer is not built first: ``source`` writes it as it
    normalises its chunks for the join (:class:`NormalisedTee`), and
    :meth:`~matchsim.join.platform.ParquetPlatform.finish_tee` publishes it.

    Returns the index folder, or None when there is none (index off, salted scheme, empty
    platform, or a population folder that cannot be written to). The source then keeps
    normalising and hashing each chunk itself — the same digests, only slower. When
    ``why`` is given, the reason there is none is appended to it (for join.json).
    """
    reasons = why if why is not None else []
    if not enabled():
        reasons.append(f"turned off by {ENV_SWITCH}")
        return None
    if source._meta.num_row_groups == 0:
        reasons.append("the platform has no rows")
        return None
    try:  # no room or no permission: normalise in memory
        if not digests and tee and not _valid(*_normalised_place(source), source.n_chunks):
            source.tee = NormalisedTee(source)  # written by the join's own pass
        else:
            ensure_normalised(source, progress)
    except OSError as exc:
        reasons.append(f"normalised layer not written: {exc.strerror or exc}")
    if not digests:
        return None
    fp = fingerprint(source)
    if fp is None:
        salted = not source._scheme().deterministic
        reasons.append(
            "a salted scheme: each digest has its own salt, so there is nothing to keep"
            if salted
            else "the key is held only in memory: no later join could name it again"
        )
        return None
    root = index_root()
    final = root / _name(source, fp)
    if _valid(final, fp, source.n_chunks):
        source.index_dir = final
        return final
    try:
        built = _build(source, root, final, fp, progress)
    except OSError as exc:
        reasons.append(f"digest index not written in {root}: {exc.strerror or exc}")
        return None
    source.index_dir = built
    return built


def _valid(folder: Path, fp: str, n_chunks: int) -> bool:
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError):
        return False
    if meta.get("fingerprint") != fp or meta.get("chunks") != n_chunks:
        return False
    files = meta.get("files") or [_file(k) for k in meta.get("rows", {})]
    try:
        return all(pq.ParquetFile(folder / f).metadata.num_row_groups == n_chunks for f in files)
    except (OSError, pa.ArrowInvalid):
        return False


NORMALISED_FILE = "normalised.parquet"


def normalised_fingerprint(source: ParquetPlatform) -> str:
    """Fingerprint of the platform's normalised columns: population, code and profile."""
    parts = [population_stamp(source.path), code_stamp(), source.profile, "normalised"]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _partial(root: Path, fp: str) -> Path:
    """A fresh ``.partial-PID-…`` folder under ``root`` to build an index in."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".partial-{os.getpid()}-{fp[:24]}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def _publish(tmp: Path, final: Path, meta: dict[str, Any], root: Path, population: Path) -> None:
    """Write ``meta`` last, drop indexes of older versions of the population, and rename
    ``tmp`` into place; another process that built it meanwhile wins if its copy is valid."""
    (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    _prune(root, str(population.resolve()), str(meta["population_stamp"]))
    try:
        tmp.rename(final)
    except OSError:  # another process built it meanwhile
        if not _valid(final, str(meta["fingerprint"]), int(meta["chunks"])):
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_normalised(source: ParquetPlatform, progress: ProgressFn | None = None) -> Path:
    """Point ``source`` at the platform's normalised columns under its profile (built on
    first use): every scheme then hashes them without normalising again."""
    from matchsim.join.platform import normalised_table, read_row_group

    final, fp = _normalised_place(source)
    root = index_root()
    n = source.n_chunks
    if not _valid(final, fp, n):
        tmp = _partial(root, fp)
        try:
            writer: pq.ParquetWriter | None = None
            prof = source._profile()

            def normalised(i: int) -> pa.Table:
                return normalised_table(read_row_group(source.path, i), prof, source.path)

            for i, table in enumerate(_ahead(normalised, n)):
                if writer is None:
                    writer = _normalised_writer(tmp, table.schema)
                writer.write_table(table, row_group_size=max(1, table.num_rows))
                if progress:
                    progress("normalising platform", i + 1, n)
            if writer is not None:
                writer.close()
            _publish(tmp, final, _normalised_meta(source, fp), root, source.path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    source.norm_dir = final
    return final


def _normalised_place(source: ParquetPlatform) -> tuple[Path, str]:
    """The normalised layer's folder for ``source``, and its fingerprint."""
    fp = normalised_fingerprint(source)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in source.profile)
    return index_root() / f"{safe}-normalised-{fp[:24]}", fp


def _normalised_writer(tmp: Path, schema: pa.Schema) -> pq.ParquetWriter:
    # uncompressed: every scheme reads it back, twice as fast as Snappy's. No column
    # statistics (nothing filters on them; min/max over 1 M strings per chunk cost a
    # third of the write), and Parquet dictionaries only for the columns that are
    # dictionaries already (the rest are nearly all distinct: a dictionary built per
    # page only to be given up). The same table is read back either way.
    dictionaries = [f.name for f in schema if pa.types.is_dictionary(f.type)]
    return pq.ParquetWriter(
        tmp / NORMALISED_FILE, schema, compression="none", use_dictionary=dictionaries,
        write_statistics=False,
    )  # fmt: skip


def _normalised_meta(source: ParquetPlatform, fp: str) -> dict[str, Any]:
    return {
        "format": INDEX_FORMAT,
        "fingerprint": fp,
        "population": str(source.path.resolve()),
        "population_stamp": population_stamp(source.path),
        "profile": source.profile,
        "chunks": source.n_chunks,
        "files": [NORMALISED_FILE],
    }


class NormalisedTee:
    """The normalised layer written by a join's own pass over the platform: each chunk
    the join normalises is handed to :meth:`put` (from any thread, in any order) and
    written in chunk order; :meth:`finish` publishes the folder once every chunk is in
    (the same file :func:`ensure_normalised` writes), :meth:`abort` drops it."""

    def __init__(self, source: ParquetPlatform) -> None:
        self.source = source
        self.final, self.fp = _normalised_place(source)
        self.root = index_root()
        self.tmp: Path | None = _partial(self.root, self.fp)
        self.n = source.n_chunks
        self.next = 0
        self.waiting: dict[int, pa.Table] = {}
        self.writer: pq.ParquetWriter | None = None
        self.lock = threading.Lock()

    def put(self, index: int, table: pa.Table) -> None:
        with self.lock:
            if index < self.next or self.tmp is None:
                return  # already written (a chunk asked for twice), or given up
            self.waiting[index] = table
            while self.next in self.waiting:
                chunk = self.waiting.pop(self.next)
                if self.writer is None:
                    self.writer = _normalised_writer(self.tmp, chunk.schema)
                self.writer.write_table(chunk, row_group_size=max(1, chunk.num_rows))
                self.next += 1

    def finish(self) -> Path | None:
        """Publish the layer if every chunk was written; its folder, else None."""
        with self.lock:
            if self.tmp is None or self.next < self.n or self.writer is None:
                self._drop()
                return None
            tmp, self.tmp = self.tmp, None
            try:
                self.writer.close()
                _publish(tmp, self.final, _normalised_meta(self.source, self.fp), self.root,
                         self.source.path)  # fmt: skip
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            return self.final

    def abort(self) -> None:
        with self.lock:
            self._drop()

    def _drop(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(OSError):
                self.writer.close()
            self.writer = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        self.waiting.clear()


def _ahead(work: Callable[[int], T], n: int, window: int = 2) -> Iterator[T]:
    """``work(0)``, ``work(1)``, … in order, up to ``window`` of them computed ahead on
    threads (Arrow's compute functions release the GIL: the cores share the chunks)."""
    with ThreadPoolExecutor(max_workers=window) as pool:
        pending = [pool.submit(work, i) for i in range(min(window, n))]
        for i in range(n):
            done = pending.pop(0).result()
            if i + window < n:
                pending.append(pool.submit(work, i + window))
            yield done


def read_normalised(folder: Path, index: int) -> pa.Table:
    """Chunk ``index`` of the normalised platform."""
    return pq.ParquetFile(folder / NORMALISED_FILE).read_row_group(index)


def _build(
    source: ParquetPlatform, root: Path, final: Path, fp: str, progress: ProgressFn | None
) -> Path:
    tmp = _partial(root, fp)
    try:
        widths = dict(source.keys)
        writers: dict[str, pq.ParquetWriter] = {}
        n = source.n_chunks
        counts: dict[str, list[int]] = {k: [] for k in widths}
        for i, chunk in enumerate(_ahead(source._compute_chunk, n)):
            for key, digests in chunk.items():
                words = np.ascontiguousarray(digests.words)
                width = words.shape[1] * 8
                if key not in writers:
                    schema = pa.schema([("uid", pa.int64()), ("d", pa.binary(width))])
                    writers[key] = pq.ParquetWriter(
                        tmp / _file(key), schema, compression="none", use_dictionary=False,
                        write_statistics=False,
                    )  # fmt: skip
                d = pa.FixedSizeBinaryArray.from_buffers(
                    pa.binary(width), len(words), [None, pa.py_buffer(words.view(np.uint8))]
                )
                table = pa.table({"uid": pa.array(digests.ids), "d": d})
                # one row group per chunk, however long (the writer splits at 1 Mi rows)
                writers[key].write_table(table, row_group_size=max(1, len(words)))
                counts[key].append(len(words))
            if progress:
                progress("indexing platform", i + 1, n)
        for w in writers.values():
            w.close()
        meta = {
            "format": INDEX_FORMAT,
            "fingerprint": fp,
            "population": str(source.path.resolve()),
            "population_stamp": population_stamp(source.path),
            "profile": source.profile,
            "scheme": source._scheme().describe(),
            "chunks": n,
            "files": [_file(k) for k in counts],
            "digest_sizes": widths,
            "rows": counts,
        }
        _publish(tmp, final, meta, root, source.path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _prune(root: Path, population: str, stamp: str) -> None:
    """Remove indexes of another version of ``population`` and of vanished populations."""
    for folder in root.iterdir():
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        try:
            meta = json.loads((folder / META_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or being written: leave it
        path = str(meta.get("population", ""))
        if (path == population and meta.get("population_stamp") != stamp) or not Path(
            path
        ).exists():
            shutil.rmtree(folder, ignore_errors=True)


def read_chunk(folder: Path, index: int, widths: Mapping[str, int]) -> dict[str, KeyDigests]:
    """Chunk ``index`` of an index folder: per key, the words and user ids (zero-copy)."""
    out: dict[str, KeyDigests] = {}
    for key, size in widths.items():
        table = pq.ParquetFile(folder / _file(key)).read_row_group(index)
        uid = table["uid"].combine_chunks()
        d = table["d"].combine_chunks()
        width = d.type.byte_width
        n = len(d)
        if n == 0:
            words = np.zeros((0, width // 8), dtype=np.uint64)
        else:
            buf = d.buffers()[1]
            words = np.frombuffer(
                buf, dtype=np.uint64, count=n * width // 8, offset=d.offset * width
            )
            words = words.reshape(n, width // 8)
        ids = np.asarray(uid.to_numpy(zero_copy_only=False), dtype=np.int64)
        out[key] = KeyDigests(words, ids, size)
    return out
