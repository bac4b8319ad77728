"""``reverse``: recover the identifiers behind a hashed upload by enumeration.

Threat model: the attacker holds the hashed file and public knowledge (number plans,
name statistics, e-mail habits). Against a plain hash (MD5, SHA-1, SHA-256, SHA-512) or
a pepper/HMAC whose secret leaked to them, every identifier in a small keyspace falls:
hash each candidate once and look it up. Against a per-record salt or an HMAC with a key
they do not hold, enumeration recovers nothing (the ground-truth tests show both).

The attack never reads plaintext or ground truth: it gets digests and a keyspace, and
its result holds what it recovered. :meth:`AttackResult.score` is evaluation code that
compares that with the truth supplied by the caller.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from matchsim.attack.keyspace import Mask, MaskKeyspace, WordKeyspace
from matchsim.attack.targets import TargetSet
from matchsim.errors import ConfigError
from matchsim.kernels import aot
from matchsim.kernels.attack import drive, md5_reverse
from matchsim.kernels.attack import params as K
from matchsim.switches import switched_on

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Knowledge:
    """What the attacker knows about how the values were hashed.

    Attributes:
        algorithm: ``md5``, ``sha1``, ``sha256`` or ``sha512`` (usually detected).
        pepper: a constant secret mixed into every value (``pepper-sha256``), if known.
        pepper_position: ``suffix`` (value || pepper) or ``prefix`` (pepper || value).
        hmac_key: the HMAC-SHA256 key, if the attacker holds it.
    """

    algorithm: str = "sha256"
    pepper: bytes | None = field(default=None, repr=False)
    pepper_position: str = "suffix"
    hmac_key: bytes | None = field(default=None, repr=False)

    def describe(self) -> str:
        if self.hmac_key is not None:
            return "hmac-sha256 (key known to the attacker)"
        if self.pepper is not None:
            return f"pepper-{self.algorithm} (pepper known to the attacker)"
        return self.algorithm


@dataclass
class AttackResult:
    """What an enumeration attack recovered, and how fast.

    ``plaintext`` is aligned with ``targets.digests`` (null where not recovered); it is
    personal data, written out only on explicit request.
    """

    keyspace: str
    keyspace_size: int
    knowledge: Knowledge
    targets: TargetSet
    plaintext: pa.Array
    candidates_tried: int
    seconds: float
    guesses_at: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    engine: str = "cpu"

    @property
    def hashes_in(self) -> int:
        return self.targets.n_rows

    @property
    def distinct(self) -> int:
        return self.targets.n_distinct

    @property
    def recovered_distinct(self) -> int:
        return int(len(self.plaintext) - self.plaintext.null_count)

    @property
    def recovered_rows(self) -> int:
        import pyarrow.compute as pc

        ok = pc.is_valid(self.plaintext).to_numpy(zero_copy_only=False)
        return int(ok[self.targets.row_digest].sum())

    @property
    def share(self) -> float:
        valid = self.targets.row_digest.shape[0]
        return self.recovered_rows / valid if valid else 0.0

    @property
    def hashes_per_second(self) -> float:
        return self.candidates_tried / self.seconds if self.seconds > 0 else 0.0

    @property
    def exhaust_seconds(self) -> float:
        """Time to try the whole keyspace at the measured rate."""
        rate = self.hashes_per_second
        return self.keyspace_size / rate if rate > 0 else math.inf

    def row_plaintext(self) -> pa.Array:
        """Recovered value per accepted upload row (null where not recovered)."""
        return self.plaintext.take(pa.array(self.targets.row_digest))

    def guesswork(self, points: int = 20) -> list[tuple[int, float]]:
        """``(guesses, share of distinct digests recovered)`` on a log-spaced grid."""
        if self.distinct == 0 or self.candidates_tried == 0:
            return []
        grid = np.unique(np.geomspace(1, self.candidates_tried, points).astype(np.int64))
        found = np.sort(self.guesses_at)
        counts = np.searchsorted(found, grid, side="right")
        return [(int(g), float(c) / self.distinct) for g, c in zip(grid, counts, strict=True)]

    def recall_at(self, guesses: int) -> float:
        """Share of distinct digests recovered within the first ``guesses`` candidates."""
        if self.distinct == 0:
            return 0.0
        return float(np.sum(self.guesses_at < guesses)) / self.distinct

    def score(self, truth: pa.Array) -> dict[str, float]:
        """Evaluation only: precision and recall against the true value of every row.

        ``truth`` is aligned with the upload's accepted rows (``targets.rows``).
        """
        import pyarrow.compute as pc

        got = self.row_plaintext()
        recovered = pc.is_valid(got).to_numpy(zero_copy_only=False)
        correct = pc.fill_null(pc.equal(got, truth.cast(pa.string())), False).to_numpy(
            zero_copy_only=False
        )
        n = max(1, len(truth))
        return {
            "precision": float(correct.sum() / recovered.sum()) if recovered.any() else 1.0,
            "recall": float(correct.sum() / n),
        }

    def summary(self) -> dict[str, Any]:
        """The report a data-protection officer reads (no plaintext in it)."""
        return {
            "keyspace": self.keyspace,
            "keyspace_size": self.keyspace_size,
            "scheme": self.knowledge.describe(),
            "detected": {"algorithm": self.targets.algorithm, "encoding": self.targets.encoding},
            "hashes_in": self.hashes_in,
            "rejected": dict(self.targets.rejected),
            "distinct": self.distinct,
            "recovered": self.recovered_distinct,
            "recovered_rows": self.recovered_rows,
            "share": round(self.share, 6),
            "candidates_tried": self.candidates_tried,
            "seconds": round(self.seconds, 4),
            "hashes_per_second": round(self.hashes_per_second, 1),
            "exhaust_seconds": round(self.exhaust_seconds, 4),
            "engine": self.engine,
        }


# --------------------------------------------------------------------------- helpers

_IV: dict[int, np.ndarray] = K.IVS


def _word_order(algo: int) -> str:
    """NumPy dtype of one state/message word of ``algo`` in digest byte order."""
    size = K.WORD_BYTES[algo]
    return f"<u{size}" if algo == K.ALGO_MD5 else f">u{size}"


@dataclass(frozen=True)
class _Plan:
    """How candidates become messages for one algorithm and secret."""

    algo: int  # kernel id (mask.ALGO_*)
    name: str
    head: bytes
    tail: bytes
    extra: int  # bytes hashed before the message (the HMAC ipad block)
    init: np.ndarray
    outer: np.ndarray

    @classmethod
    def make(cls, knowledge: Knowledge) -> _Plan:
        name = knowledge.algorithm
        head = tail = b""
        if knowledge.pepper is not None:
            if knowledge.pepper_position == "prefix":
                head = knowledge.pepper
            elif knowledge.pepper_position == "suffix":
                tail = knowledge.pepper
            else:
                raise ConfigError("pepper position must be prefix or suffix")
        if name not in K.ALGORITHMS:
            raise ConfigError(f"unknown hash algorithm {name!r}")
        algo = K.ALGORITHMS[name]
        empty = np.zeros(0, dtype=np.uint32)
        if knowledge.hmac_key is not None:
            if algo != K.ALGO_SHA256:
                raise ConfigError("HMAC is supported with SHA-256 only")
            key = knowledge.hmac_key
            if len(key) > 64:
                key = hashlib.sha256(key).digest()
            key = key.ljust(64, b"\0")
            ipad = aot.sha256_compress(K.SHA256_IV, bytes(b ^ 0x36 for b in key))
            opad = aot.sha256_compress(K.SHA256_IV, bytes(b ^ 0x5C for b in key))
            return cls(algo, name, head, tail, 64, ipad, opad)
        return cls(algo, name, head, tail, 0, _IV[algo], empty)

    def digest_rows(self, rows: np.ndarray) -> np.ndarray:
        """Full digests (n, k) uint8 of equal-length candidate rows (without head/tail)."""
        n = rows.shape[0]
        if self.head or self.tail:
            head = np.broadcast_to(np.frombuffer(self.head, np.uint8), (n, len(self.head)))
            tail = np.broadcast_to(np.frombuffer(self.tail, np.uint8), (n, len(self.tail)))
            rows = np.concatenate([head, rows, tail], axis=1)
        rows = np.ascontiguousarray(rows, dtype=np.uint8)
        width = rows.shape[1]
        starts = np.arange(n, dtype=np.int64) * width
        lengths = np.full(n, width, dtype=np.int64)
        return self.digest_messages(rows.reshape(-1), starts, lengths)

    def digest_messages(
        self, data: np.ndarray, starts: np.ndarray, lengths: np.ndarray
    ) -> np.ndarray:
        """Full digests (n, k) uint8 of the messages ``data[starts[i]:starts[i] +
        lengths[i]]`` as they are (the plan's head and tail not added)."""
        n = starts.shape[0]
        words = np.zeros((n, 8), dtype=self.init.dtype)
        aot.row_hasher(self.algo)(data, starts, lengths, self.extra, self.init, self.outer, words)
        n_state = K.STATE_WORDS[self.algo]
        order = _word_order(self.algo)
        return np.ascontiguousarray(words[:, :n_state]).astype(order).view(np.uint8)


def _check_words(targets: TargetSet, algo: int) -> tuple[np.ndarray, np.ndarray]:
    order = _word_order(algo)
    size = K.WORD_BYTES[algo]

    def column(i: int) -> np.ndarray:
        raw = np.ascontiguousarray(targets.digests[:, i * size : (i + 1) * size])
        return raw.view(order).ravel().astype(order[1:])

    i, j = K.CHECK_WORDS[algo]
    return column(i), column(j)


@dataclass
class _Filter:
    bm1: np.ndarray
    bm2: np.ndarray
    bits: int

    @classmethod
    def make(cls, targets: TargetSet, algo: int) -> _Filter:
        bits = min(27, max(16, math.ceil(math.log2(max(1, targets.n_distinct) * 32))))
        w1, w2 = _check_words(targets, algo)
        return cls(aot.bitmap(algo, w1, bits), aot.bitmap(algo, w2, bits), bits)


def _mask_layout(mask: Mask, plan: _Plan, min_inner: int = 256) -> dict[str, Any]:
    """Template words, varying positions and inner split of one mask.

    The inner space is the smallest run of trailing varying positions with at least
    ``min_inner`` candidates (the CPU kernel's lane tables; a GPU thread's run).
    """
    big = plan.algo != K.ALGO_MD5
    word = K.WORD_BYTES[plan.algo]
    block = 16 * word  # bytes; the length field takes the last 2 words
    length = len(plan.head) + mask.length + len(plan.tail)
    total = length + plan.extra
    n_blocks = (length + 2 * word) // block + 1
    buf = bytearray(n_blocks * block)
    buf[: len(plan.head)] = plan.head
    var_offset, var_sets = [], []
    for i, allowed in enumerate(mask.positions):
        off = len(plan.head) + i
        if len(allowed) == 1:
            buf[off] = allowed[0]
        else:
            var_offset.append(off)
            var_sets.append(allowed)
    buf[len(plan.head) + mask.length : length] = plan.tail
    buf[length] = 0x80
    buf[-8:] = (total * 8).to_bytes(8, "big" if big else "little")
    order = _word_order(plan.algo)
    words = np.frombuffer(bytes(buf), dtype=order).astype(order[1:])
    choices = np.zeros((max(1, len(var_sets)), 256), dtype=np.uint8)
    counts = np.ones(max(1, len(var_sets)), dtype=np.int64)
    for v, allowed in enumerate(var_sets):
        choices[v, : len(allowed)] = np.frombuffer(allowed, np.uint8)
        counts[v] = len(allowed)
    inner = 1
    n_inner = 0
    while n_inner < len(var_sets) and inner < min_inner:
        inner *= len(var_sets[len(var_sets) - 1 - n_inner])
        n_inner += 1
    if not var_sets:
        # A single candidate: make one "varying" position that allows only its byte.
        var_offset = [len(plan.head)]
        choices[0, 0] = mask.positions[0][0]
        n_inner = 1
    return {
        "template": words,
        "var_offset": np.array(var_offset, dtype=np.int64),
        "var_choices": choices,
        "var_counts": counts,
        "n_inner": n_inner,
        "inner": inner,
    }


def scan_mask_range(
    mask: Mask,
    start: int,
    stop: int,
    plan: _Plan,
    targets: TargetSet,
    filt: _Filter | None = None,
    layout: dict[str, Any] | None = None,
    gpu: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidates ``[start, stop)`` of ``mask`` whose digest is in ``targets``.

    With ``gpu`` (a :class:`~matchsim.kernels.attack.gpu.GpuScanner` and a layout built
    with its ``MIN_INNER``) the scan runs on the GPU; either way the bitmap survivors are
    verified exactly on the CPU. Returns ``(candidate index, target digest index)``.
    """
    index, where, _ = _scan_verified(mask, start, stop, plan, targets, filt, layout, gpu)
    return index, where


def _scan_verified(
    mask: Mask,
    start: int,
    stop: int,
    plan: _Plan,
    targets: TargetSet,
    filt: _Filter | None = None,
    layout: dict[str, Any] | None = None,
    gpu: Any = None,
    job: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`scan_mask_range`, with the recovered candidates' bytes (decoded once, to
    verify them, and kept for the result); ``job``: the candidates of the whole attack
    (which scan kernel pays, :func:`matchsim.kernels.aot.scanner`)."""
    filt = filt or _Filter.make(targets, plan.algo)
    if gpu is not None:
        from matchsim.kernels.attack.gpu import MIN_INNER

        layout = layout or _mask_layout(mask, plan, MIN_INNER)
        index = gpu.scan(layout, start, stop, _hit_cap(stop - start, 1, targets.n_distinct))
    else:
        layout = layout or _mask_layout(mask, plan)
        index = _scan_cpu(layout, plan, filt, targets.n_distinct, start, stop, job,
                          targets.digests)  # fmt: skip
    rows = mask.decode(index)
    if index.shape[0] == 0:
        return index, index, rows
    where = targets.lookup(plan.digest_rows(rows))
    ok = where >= 0
    return index[ok], where[ok], rows[ok]


def _scan_cpu(
    layout: dict[str, Any],
    plan: _Plan,
    filt: _Filter,
    n_distinct: int,
    start: int,
    stop: int,
    job: int = 0,
    digests: np.ndarray | None = None,
) -> np.ndarray:
    """Indices in ``[start, stop)`` whose check words pass both bitmaps (unverified);
    ``job``: the candidates of the whole attack, if more than this range. Given the
    targets' ``digests``, a few MD5 targets are scanned for from each target backwards
    where the layout allows (:mod:`matchsim.kernels.attack.md5_reverse`)."""
    n_tasks = 4 * _threads()
    cap = _hit_cap(stop - start, n_tasks, n_distinct)
    reversal = _reversal_table(layout, plan, digests)
    positions = (layout["template"], layout["var_offset"], layout["var_choices"],
                 layout["var_counts"])  # fmt: skip
    span = (np.int64(start), np.int64(stop), n_tasks)
    if reversal is not None:
        word2, table, n_inner = reversal
        reversed_scan = aot.md5_reversed_scanner(max(job, stop - start))

        def run(hits: np.ndarray, counts: np.ndarray) -> None:
            reversed_scan(*positions, n_inner, plan.init, *span, word2, table, hits, counts)
    else:
        scan = aot.scanner(plan.algo, max(job, stop - start))
        bits_mask = np.uint64((1 << filt.bits) - 1)

        def run(hits: np.ndarray, counts: np.ndarray) -> None:
            scan(*positions, layout["n_inner"], plan.init, plan.outer, *span, filt.bm1, filt.bm2,
                 bits_mask, hits, counts)  # fmt: skip

    while True:
        hits = np.zeros((n_tasks, cap), dtype=np.int64)
        counts = np.zeros(n_tasks, dtype=np.int64)
        run(hits, counts)
        if counts.max(initial=0) <= cap:
            break
        cap = int(counts.max())
    return np.concatenate([hits[t, : counts[t]] for t in range(n_tasks)])


def _reversal_table(
    layout: dict[str, Any], plan: _Plan, digests: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The reversed scan's inner space: word 2 of each of its indices and
    :func:`matchsim.kernels.attack.md5_reverse.table` of them (padded to whole lane
    groups, the table flat, as the scan reads them), and that space's number of
    positions; or None where the reversed scan does not apply (or
    ``MATCHSIM_MD5_REVERSE=0``, for comparing the two scans)."""
    if digests is None or plan.algo != K.ALGO_MD5:
        return None
    if not switched_on("MATCHSIM_MD5_REVERSE"):
        return None
    template, offsets = layout["template"], layout["var_offset"]
    n_inner = md5_reverse.inner_positions(template, offsets, layout["var_counts"],
                                          layout["n_inner"], plan.outer.shape[0] > 0,
                                          digests.shape[0])  # fmt: skip
    if n_inner is None:
        return None
    # The last table is kept (the chunks of one mask come one after another): 16 targets
    # x 10^4 inner values take 14 ms, a tenth of a chunk. One only: a keyspace of many
    # masks must not hold a table for each. (A Dask worker's threads may replace it
    # under each other; each uses the table it found or made.)
    key = (template.tobytes(), offsets.tobytes(), layout["var_counts"].tobytes(),
           layout["var_choices"].tobytes(), n_inner, digests.tobytes(),
           plan.init.tobytes())  # fmt: skip
    entry = _LAST_REVERSAL[0] if _LAST_REVERSAL else None  # one read: a (key, table) pair
    if entry is not None and entry[0] == key:
        return entry[1]
    found = _reversal_for(layout, plan, digests, n_inner)
    _LAST_REVERSAL[:] = [(key, found)]
    return found


_LAST_REVERSAL: list[tuple[tuple[Any, ...], tuple[np.ndarray, np.ndarray, int]]] = []
"""The last reversal table and what it was made for (:func:`_reversal_table`)."""


def _reversal_for(
    layout: dict[str, Any], plan: _Plan, digests: np.ndarray, n_inner: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`_reversal_table`'s table, computed."""
    template, offsets = layout["template"], layout["var_offset"]
    counts, choices = layout["var_counts"], layout["var_choices"]
    n_outer = offsets.shape[0] - n_inner
    size = int(np.prod(counts[n_outer:]))
    j = np.arange(size, dtype=np.int64)
    lanes = K.LANES[K.ALGO_MD5]
    # the word's fixed bytes in every lane, the padding's too; the inner bytes over them
    word = np.full(-(-size // lanes) * lanes, template[md5_reverse.WORD], dtype=np.uint32)
    for v in range(offsets.shape[0] - 1, n_outer - 1, -1):  # the last position fastest
        digit = j % counts[v]
        j //= counts[v]
        word[:size] |= choices[v, digit].astype(np.uint32) << np.uint32(8 * (int(offsets[v]) & 3))
    return word, md5_reverse.table(digests, plan.init, template, word).ravel(), n_inner


def _hit_cap(span: int, n_tasks: int, n_distinct: int) -> int:
    """Room for bitmap survivors per task: every target plus false positives (a 1/256
    rate, far above the bitmaps' design rate); a scan that overflows it is rerun."""
    return min(span // n_tasks + 1, n_distinct + (span >> 8) + 4096)


def _threads() -> int:
    return drive.threads()


def _chunk_ranges(ks: MaskKeyspace, chunk_size: int, plan: _Plan) -> Iterator[tuple[int, int, int]]:
    for k, mask in enumerate(ks.masks):
        inner = _mask_layout(mask, plan)["inner"]
        step = max(inner, chunk_size // inner * inner)
        for start in range(0, mask.size, step):
            yield k, start, min(start + step, mask.size)


def _scan_chunk(
    shared: tuple[MaskKeyspace, _Plan, TargetSet, _Filter], k: int, start: int, stop: int
) -> tuple[int, np.ndarray, np.ndarray]:
    """One chunk on a Dask worker: returns the mask number, hits and their targets.

    ``shared`` (keyspace, plan, targets, bitmaps) is scattered to every worker once; the kernel
    runs on as many numba threads as the worker has threads (no oversubscription when a
    machine runs several workers)."""
    ks, plan, targets, filt = shared
    _match_worker_threads()
    mask = ks.masks[k]
    idx, where = scan_mask_range(mask, start, stop, plan, targets, filt, _layout(mask, plan))
    return k, idx, where


_LAYOUTS: dict[tuple[Mask, bytes, bytes, int], dict[str, Any]] = {}


def _layout(mask: Mask, plan: _Plan) -> dict[str, Any]:
    """A worker's layout of ``mask`` (kept: a worker scans many chunks of one mask)."""
    key = (mask, plan.head, plan.tail, plan.algo)
    if key not in _LAYOUTS:
        if len(_LAYOUTS) > 4096:
            _LAYOUTS.clear()
        _LAYOUTS[key] = _mask_layout(mask, plan)
    return _LAYOUTS[key]


def _match_worker_threads() -> None:
    import numba

    try:
        from distributed import get_worker

        worker = get_worker()
        n = int(getattr(worker, "nthreads", 0) or worker.state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return
    n = max(1, min(n, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    if numba.get_num_threads() != n:
        numba.set_num_threads(n)


def connect(address: str) -> Any:
    """A ``distributed.Client`` on the scheduler at ``address`` (use it as a context
    manager).

    Raises:
        MissingExtraError: dask.distributed is not installed.
        ConfigError: nothing answers at ``address`` within 10 s.
    """
    try:
        import distributed
    except ImportError:
        from matchsim.errors import MissingExtraError

        raise MissingExtraError("distributed", "dask") from None
    try:
        return distributed.Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def dask_chunk_size(keyspace_size: int, threads: int, inner: int = 1) -> int:
    """Candidates per Dask task: about eight tasks per worker thread, so the cluster
    stays balanced to the end, but at least 2^20 (a task's overhead is milliseconds;
    2^20 candidates take ~10 ms at 100 MH/s) and at most 2^28 (progress and failures
    stay fine-grained); a multiple of the mask's inner space."""
    want = -(-keyspace_size // max(1, 8 * threads))
    size = min(1 << 28, max(1 << 20, want))
    return max(inner, size // inner * inner)


def _reverse_dask(
    client: Any,
    keyspace: MaskKeyspace,
    plan: _Plan,
    targets: TargetSet,
    chunk_size: int | None,
    progress: Progress | None,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Map the keyspace's chunks over a Dask cluster; results in chunk order."""
    from distributed import as_completed

    threads = sum(client.nthreads().values()) or 1
    size = chunk_size or dask_chunk_size(keyspace.size, threads)
    ranges = list(_chunk_ranges(keyspace, size, plan))
    shared = client.scatter(
        (keyspace, plan, targets, _Filter.make(targets, plan.algo)), broadcast=True, hash=False
    )
    import uuid

    token = uuid.uuid4().hex
    futures = [
        client.submit(_scan_chunk, shared, *r, pure=False, key=f"matchsim-scan-{token}-{i}")
        for i, r in enumerate(ranges)
    ]
    order = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    done = 0
    for fut in as_completed(futures):
        i = order[fut.key]
        results[i] = fut.result()
        done += ranges[i][2] - ranges[i][1]
        if progress is not None:
            progress("candidates", done, keyspace.size)
    return results


def reverse(
    targets: TargetSet,
    keyspace: MaskKeyspace | WordKeyspace,
    knowledge: Knowledge | None = None,
    *,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    client: Any = None,
    stop_when_done: bool = True,
    device: str = "cpu",
    scheduler: str | None = None,
) -> AttackResult:
    """Enumerate ``keyspace`` under ``knowledge`` and recover what ``targets`` hides.

    Args:
        targets: the parsed upload (:func:`matchsim.attack.targets.load_targets`).
        keyspace: a :class:`MaskKeyspace` (phones, dates, postcodes) or a
            :class:`WordKeyspace` (e-mail guesses, names, a wordlist).
        knowledge: algorithm and any secret the attacker holds; default: the detected
            algorithm, no secret.
        chunk_size: candidates per chunk (a unit of progress, of Dask work and of a GPU
            launch); default 2^24 on the CPU, 2^30 on the GPU, and on a Dask cluster
            sized to the keyspace and the cluster's threads (:func:`dask_chunk_size`).
        progress: ``progress(stage, done, total)`` callback.
        client: a ``dask.distributed.Client``; chunks are then mapped over its workers.
        scheduler: the address of a running Dask scheduler (``tcp://host:8786``): a
            client is opened (and closed) for this attack, as with ``client``.
        stop_when_done: stop once every distinct digest is recovered.
        device: ``cpu`` or ``gpu`` (mask keyspaces on a CUDA GPU through numba; word
            keyspaces are hashed on the CPU either way).

    Raises:
        ConfigError: an algorithm without a kernel, a bad secret setting, ``gpu``
            without a usable CUDA device, or a scheduler that cannot be reached.
    """
    if scheduler is not None:
        if client is not None:
            raise ConfigError("give a Dask client or a scheduler address, not both")
        with connect(scheduler) as own:
            return reverse(targets, keyspace, knowledge, chunk_size=chunk_size,
                           progress=progress, client=own, stop_when_done=stop_when_done,
                           device=device)  # fmt: skip
    if device not in ("cpu", "gpu"):
        raise ConfigError(f"unknown device {device!r}; choose cpu or gpu")
    if device == "gpu" and client is not None:
        raise ConfigError("a Dask cluster and the GPU cannot be combined in one attack")
    knowledge = knowledge or Knowledge(algorithm=targets.algorithm)
    if knowledge.algorithm != targets.algorithm:
        raise ConfigError(
            f"the upload holds {targets.algorithm.upper()} digests, "
            f"not {knowledge.algorithm.upper()}"
        )
    plan = _Plan.make(knowledge)
    run = _Run(targets, plan, progress, stop_when_done)
    t0 = time.perf_counter()
    if isinstance(keyspace, MaskKeyspace):
        if client is not None:
            run.engine = "dask"
            run.add_mask_results(keyspace, _reverse_dask(client, keyspace, plan, targets,
                                                         chunk_size, progress))  # fmt: skip
            run.tried = keyspace.size
        else:
            run.scan_masks(keyspace, chunk_size, device)
    else:
        run.scan_words(keyspace)
    seconds = time.perf_counter() - t0
    return AttackResult(
        keyspace=keyspace.name,
        keyspace_size=keyspace.size,
        knowledge=knowledge,
        targets=targets,
        plaintext=_align(targets.n_distinct, run.values, run.where),
        candidates_tried=run.tried,
        seconds=seconds,
        guesses_at=run.found[run.found >= 0],
        engine=run.engine,
    )


@dataclass
class _Run:
    """What one attack has recovered so far: the guess number of each digest found,
    the recovered strings and the digests they belong to, candidates tried."""

    targets: TargetSet
    plan: _Plan
    progress: Progress | None
    stop_when_done: bool
    engine: str = "cpu"
    tried: int = 0
    found: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    values: list[pa.Array] = field(default_factory=list)
    where: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.found = np.full(self.targets.n_distinct, -1, dtype=np.int64)

    def done(self) -> bool:
        return (
            self.stop_when_done and bool(self.targets.n_distinct) and bool(np.all(self.found >= 0))
        )

    def add_mask_results(
        self, keyspace: MaskKeyspace, results: list[tuple[int, np.ndarray, np.ndarray]]
    ) -> None:
        """Results ``(mask number, candidate index, digest index)`` in keyspace order."""
        offsets = np.cumsum([0] + [m.size for m in keyspace.masks])
        for k, idx, where in results:
            self.found[where] = offsets[k] + idx
            self.values.append(_rows_to_strings(keyspace.masks[k].decode(idx)))
            self.where.append(where)

    def scan_masks(self, keyspace: MaskKeyspace, chunk_size: int | None, device: str) -> None:
        """Chunk by chunk on this machine's CPU cores or its GPU (default chunk: 2^24
        candidates on the CPU, 2^30 on the GPU)."""
        plan, targets = self.plan, self.targets
        if chunk_size is None:
            chunk_size = 1 << 30 if device == "gpu" else 1 << 24
        offsets = np.cumsum([0] + [m.size for m in keyspace.masks])
        layouts: dict[int, Any] = {}
        filt = _Filter.make(targets, plan.algo)
        gpu, min_inner = None, 256
        if device == "gpu":
            gpu, min_inner = _gpu_scanner(plan, filt)
            self.engine = "gpu"
        for k, start, stop in _chunk_ranges(keyspace, chunk_size, plan):
            mask = keyspace.masks[k]
            if k not in layouts:
                layouts[k] = _mask_layout(mask, plan, min_inner)
            idx, where, rows = _scan_verified(
                mask, start, stop, plan, targets, filt, layouts[k], gpu, keyspace.size
            )
            self.found[where] = offsets[k] + idx
            self.values.append(_rows_to_strings(rows))
            self.where.append(where)
            self.tried += stop - start
            if self.progress is not None:
                self.progress("candidates", self.tried, keyspace.size)
            if self.done():
                break

    def scan_words(self, keyspace: WordKeyspace) -> None:
        """Batch by batch; a digest keeps its first guess."""
        for batch in keyspace.batches():
            idx, where = _scan_words(batch, self.plan, self.targets)
            fresh = self.found[where] < 0
            self.found[where[fresh]] = self.tried + idx[fresh]
            self.values.append(batch.take(pa.array(idx[fresh])).cast(pa.string()))
            self.where.append(where[fresh])
            self.tried += len(batch)
            if self.progress is not None:
                self.progress("guesses", self.tried, keyspace.size)
            if self.done():
                break


def _gpu_scanner(plan: _Plan, filt: _Filter) -> tuple[Any, int]:
    """A GPU scanner for this plan and filter, and the inner-space size its layouts use."""
    from matchsim.kernels.attack import gpu

    if not gpu.available():
        raise ConfigError(
            "no CUDA GPU is available to numba (numba.cuda.is_available() is false); "
            "install matchsim[gpu] on a machine with an NVIDIA driver, or use the CPU"
        )
    scanner = gpu.GpuScanner(plan.algo, plan.init, plan.outer, filt.bm1, filt.bm2, filt.bits)
    return scanner, gpu.MIN_INNER


def _rows_to_strings(rows: np.ndarray) -> pa.Array:
    n, width = rows.shape
    offsets = (np.arange(n + 1, dtype=np.int32) * width).astype(np.int32)
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(rows).tobytes())
    )


def _align(n: int, values: list[pa.Array], where: list[np.ndarray]) -> pa.Array:
    """Recovered strings placed at their digest index; null elsewhere (where a digest
    was given two strings, the later one)."""
    import pyarrow.compute as pc

    if not values:
        return pa.nulls(n, pa.string())
    vals = pa.concat_arrays([v.cast(pa.string()) for v in values])
    pos = np.concatenate(where) if where else np.zeros(0, dtype=np.int64)
    if len(vals) == 0:
        return pa.nulls(n, pa.string())
    take = np.full(n, -1, dtype=np.int64)
    take[pos] = np.arange(pos.shape[0])
    mask = take < 0
    if vals.null_count == 0:
        return _place_strings(vals, take, ~mask)
    take[mask] = 0
    out = vals.take(pa.array(take))
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), out)


def _place_strings(vals: pa.Array, take: np.ndarray, valid: np.ndarray) -> pa.Array:
    """``vals.take(take)`` with nulls where not ``valid``, from the string buffers in
    NumPy (a million recovered numbers: a tenth of Arrow's take and if_else)."""
    n = take.shape[0]
    off = np.frombuffer(vals.buffers()[1], np.int32)[vals.offset : vals.offset + len(vals) + 1]
    data = vals.buffers()[2]
    src = np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)
    sel = take[valid]
    lengths = np.zeros(n, dtype=np.int64)
    lengths[valid] = off[sel + 1] - off[sel]
    new_off = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_off[1:])
    total = int(new_off[-1])
    width = int(off[1] - off[0])
    if total and int(off[-1] - off[0]) == len(vals) * width and bool(np.all(np.diff(off) == width)):
        # Every string has the same width (a mask's candidates): gather whole rows.
        placed = src[off[0] : off[-1]].reshape(len(vals), width)[sel]
    else:
        starts = off[sel].astype(np.int64)
        placed = src[np.repeat(starts - new_off[:-1][valid], lengths[valid]) + np.arange(total)]
    validity = np.packbits(valid, bitorder="little")
    return pa.StringArray.from_buffers(
        n,
        pa.py_buffer(new_off.astype(np.int32)),
        pa.py_buffer(np.ascontiguousarray(placed)),
        pa.py_buffer(validity),
        null_count=int(n - valid.sum()),
    )


def _scan_words(batch: pa.Array, plan: _Plan, targets: TargetSet) -> tuple[np.ndarray, np.ndarray]:
    """Hash a batch of candidate strings; (position, target) of each that hit.

    Without a pepper the strings are hashed in place, straight from the Arrow buffers
    (each message its own length); a pepper's head or tail is joined to candidates
    grouped by byte length."""
    arr = batch.cast(pa.binary())
    arr = pa.concat_arrays([arr])
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] else np.zeros(1, np.uint8)
    lengths = np.diff(offsets)
    if not plan.head and not plan.tail:
        starts = offsets[:-1].astype(np.int64)
        where = targets.lookup(plan.digest_messages(data, starts, lengths.astype(np.int64)))
        ok = where >= 0
        return np.flatnonzero(ok).astype(np.int64), where[ok]
    order = np.argsort(lengths, kind="stable")
    bounds = np.flatnonzero(np.diff(lengths[order])) + 1
    out_idx, out_where = [], []
    for group in np.split(order, bounds):
        width = int(lengths[group[0]])
        rows = data[offsets[group][:, None] + np.arange(width)[None, :]]
        where = targets.lookup(plan.digest_rows(rows))
        ok = where >= 0
        out_idx.append(group[ok])
        out_where.append(where[ok])
    idx = np.concatenate(out_idx)
    return idx.astype(np.int64), np.concatenate(out_where)
