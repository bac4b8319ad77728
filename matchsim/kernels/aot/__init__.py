"""The attack's hot-path kernels compiled ahead of time: a fresh process without numba.

A fresh ``matchsim attack`` used to spend a second before its first candidate on numba
alone: importing it (0.4 s of CPU on this project's machine) and loading its cached
kernels (0.5 s more for the first call of any cached function). The kernels that run on
that path (the upload's hex decoder, the bitmap filter, the mask scan, the message hasher
that verifies its survivors and the lookup among the upload's digests) are compiled here
into one CPython extension module per hash algorithm by ``numba.pycc`` (:mod:`.build`),
from the JIT kernels' own Python functions (``dispatcher.py_func``: one source of
truth), for this machine's CPU. The extension loads in milliseconds and needs neither
numba nor llvmlite at run time.

``matchsim build-kernels`` builds it (15-25 s of CPU per algorithm, about a minute of
wall time for all four on this project's shared machine); nothing builds it behind a
user's back. Where it lives: ``$MATCHSIM_AOT_DIR`` (default
``$XDG_CACHE_HOME/matchsim/aot``, else ``~/.cache/matchsim/aot``), in a folder named by
:func:`fingerprint`: a SHA-256 of every source file of :mod:`matchsim.kernels`, the
numba, llvmlite and NumPy versions, the Python ABI, numba's code-generation settings (and
``MATCHSIM_SHANI``, which picks the SHA-256/SHA-1 block functions compiled in)
and the CPU's model and feature flags. Any change gives another folder, so a library is
only ever loaded by the code and machine it was built for; each module file is written
under a temporary name and renamed into place, so a half-written one is never seen.

Where no matching library is found (or ``MATCHSIM_AOT=0``), every kernel here is the
JIT one, with the same results. ``pycc`` compiles ``prange`` as a plain loop, so the
scan and the message hasher run their work items on Python threads instead (the
extension releases the GIL; :mod:`matchsim.kernels.attack.drive`), split exactly as the
JIT kernel splits them: the same survivors in the same order
(``tests/test_kernels_aot.py`` compares them).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from matchsim.kernels.attack import drive
from matchsim.kernels.attack.params import ALGO_SHA512, LANES, LANES_SHA256, NAMES
from matchsim.switches import switched_on

FORMAT = 1
"""Bump when the layout of a library folder or a module's exports change."""

ENV_SWITCH = "MATCHSIM_AOT"
ENV_DIR = "MATCHSIM_AOT_DIR"


def enabled() -> bool:
    """False when ``MATCHSIM_AOT`` is ``0``, ``no``, ``off`` or ``false``."""
    return switched_on(ENV_SWITCH)


def root() -> Path:
    """Where compiled libraries are kept (see the module docstring)."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "matchsim" / "aot"


def cpu_identity() -> str:
    """The CPU's model name and feature flags (Linux: the first processor of
    ``/proc/cpuinfo``), else what :mod:`platform` says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            text = fh.read(1 << 16).split("\n\n", 1)[0]
    except OSError:
        text = ""
    keep = [
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if ":" in line and line.split(":", 1)[0].strip() in ("vendor_id", "model name", "flags")
    ]
    return " | ".join(keep) or f"{platform.machine()} {platform.processor()}"


def _package_version(name: str) -> str:
    """The bytes of a package's ``_version.py`` (its version, without the 0.1 s that
    :mod:`importlib.metadata` takes), or where it is installed."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return f"{name}: missing"
    version = Path(spec.origin).with_name("_version.py")
    try:
        return f"{name}: {hashlib.sha256(version.read_bytes()).hexdigest()}"
    except OSError:
        return f"{name}: {spec.origin}"


_CODEGEN_SETTINGS = (
    "NUMBA_OPT", "NUMBA_BOUNDSCHECK", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "MATCHSIM_SHANI",
)  # fmt: skip


KERNELS = Path(__file__).resolve().parent.parent
"""The source folder whose every file the fingerprint covers (:mod:`matchsim.kernels`)."""


@functools.cache
def fingerprint() -> str:
    """The library folder's name for this code, these packages and this CPU."""
    return fingerprint_of(KERNELS)


def fingerprint_of(kernels: Path) -> str:
    """:func:`fingerprint` of the kernel sources under ``kernels``."""
    h = hashlib.sha256()
    parts = [
        f"format {FORMAT}",
        sys.implementation.cache_tag,
        platform.machine(),
        f"numpy {np.__version__}",
        _package_version("numba"),
        _package_version("llvmlite"),
        cpu_identity(),
        *(f"{k}={os.environ.get(k, '')}" for k in _CODEGEN_SETTINGS),
    ]
    h.update("\n".join(parts).encode())
    for f in sorted(kernels.rglob("*.py")):
        h.update(str(f.relative_to(kernels)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:32]


def library_dir() -> Path:
    """This fingerprint's folder under :func:`root` (it may not exist)."""
    return root() / fingerprint()


def module_name(algorithm: str) -> str:
    """The extension module of one algorithm (``md5``, ``sha1``, ``sha256``, ``sha512``)."""
    return f"_matchsim_aot_{algorithm}"


def module_path(directory: Path, algorithm: str) -> Path:
    """The file of :func:`module_name` in ``directory``."""
    from importlib.machinery import EXTENSION_SUFFIXES

    return directory / f"{module_name(algorithm)}{EXTENSION_SUFFIXES[0]}"


_loaded: dict[tuple[str | None, ...], ModuleType | None] = {}


def load(algorithm: str) -> ModuleType | None:
    """The compiled module of ``algorithm`` for this fingerprint, or None (turned off,
    not built, or not loadable here). Remembered per setting of the environment
    variables that decide it (a kernel is asked for on every call: a dictionary look-up)."""
    env = os.environ
    key = (env.get(ENV_SWITCH), env.get(ENV_DIR), env.get("XDG_CACHE_HOME"), algorithm)
    if key not in _loaded:
        directory = library_dir()
        _loaded[key] = (
            _load_file(module_path(directory, algorithm), module_name(algorithm))
            if enabled()
            else None
        )
    return _loaded[key]


def _load_file(path: Path, name: str) -> ModuleType | None:
    if not path.is_file():
        return None
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError):
        return None
    return module


def forget() -> None:
    """Look for the libraries again at the next kernel request (after a build)."""
    _loaded.clear()


def used() -> dict[str, str]:
    """Path of every compiled module this process has loaded, by algorithm."""
    return {str(key[-1]): str(m.__file__) for key, m in _loaded.items() if m is not None}


# --------------------------------------------------------------------------- kernels


JIT_SCAN_FROM = 1 << 28
"""Candidates of a job from which the scan runs JIT-compiled: ``pycc`` code scans about
10 % fewer candidates per CPU-second than the JIT's (``benchmarks/attack_rate_cpu.py``
SHA-256, both alternately on this project's machine: 19-20 against 22 M), so from some
seconds of scanning on the loading of numba (about 0.9 s of CPU) pays for itself."""


def scanner(algo: int, candidates: int = 0) -> Callable[..., None]:
    """The mask scan of ``algo`` (arguments: :mod:`matchsim.kernels.attack.mask`'s
    "Scan arguments") for a job of ``candidates``: compiled ahead of time where built
    and the job is below :data:`JIT_SCAN_FROM`, else the JIT kernel."""
    module = load(NAMES[algo]) if candidates < JIT_SCAN_FROM else None
    if module is None:
        return _jit_scanner(algo)
    return functools.partial(_aot_scan, module.scan, algo)


def md5_reversed_scanner(candidates: int = 0) -> Callable[..., None]:
    """The MD5 scan against a few targets
    (:data:`matchsim.kernels.attack.mask.SCAN_MD5_REVERSED`; its arguments there), chosen
    as :func:`scanner` chooses."""
    module = load("md5") if candidates < JIT_SCAN_FROM else None
    if module is None:
        return _jit_md5_reversed
    return functools.partial(_aot_scan_md5_reversed, module.scan_md5_reversed)


def _jit_md5_reversed(*args: Any) -> None:
    from matchsim.kernels.attack import mask

    mask.SCAN_MD5_REVERSED(*args)


def row_hasher(algo: int) -> Callable[..., None]:
    """``hash_rows(data, starts, lengths, extra_bytes, init_state, outer_state,
    out_words)`` of ``algo`` (:data:`matchsim.kernels.attack.mask.ROW_HASHERS`)."""
    module = load(NAMES[algo])
    if module is None:
        return _jit_row_hasher(algo)
    return functools.partial(_aot_hash_rows, module.hash_rows, algo)


def digest_lookup(algo: int) -> Callable[..., None]:
    """:func:`matchsim.kernels.attack.lookup.lookup` (compiled into each algorithm's
    module: an attack on ``algo`` needs nothing else)."""
    module = load(NAMES[algo])
    if module is None:
        from matchsim.kernels.attack.lookup import lookup

        return lookup
    return functools.partial(_aot_lookup, module.lookup)


def hex_decoder(algo: int) -> Callable[[np.ndarray, int, int], np.ndarray | None] | None:
    """``decode(data, n, width)``: the ``n`` lines of ``width`` lower-case hex characters
    (each followed by one byte, a newline) in ``data`` as ``(n, width // 2)`` bytes, or
    None if some character is not lower-case hex; by
    :func:`matchsim.kernels.hexdecode._hex_rows` compiled into ``algo``'s module. None
    where that is not built (the caller decodes as it did before)."""
    module = load(NAMES[algo])
    if module is None:
        return None
    return functools.partial(_aot_hex_lines, module.hex_rows)


class CsvScan:
    """The CSV upload scan (:mod:`matchsim.kernels.csvhex`'s ``count_rows`` and ``scan``,
    the same arguments and results) through the piece functions compiled into an
    algorithm's module, the pieces on threads as the JIT kernels' ``prange`` spreads
    them."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def count_rows(self, buf: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """Per piece ``[bounds[t], bounds[t+1])``: its rows (``csvhex._piece_rows``)."""
        t_n = len(bounds) - 1
        rows = np.zeros(t_n, dtype=np.int64)

        def piece(t: int) -> None:
            rows[t] = self.module.csv_piece_rows(
                buf, int(bounds[t]), int(bounds[t + 1]), t == t_n - 1
            )

        drive.run(piece, t_n, t_n > 1)
        return rows

    def scan(self, buf: np.ndarray, bounds: np.ndarray, row0: np.ndarray, delim: int,
             kinds: np.ndarray, slots: np.ndarray, size: int, pairs: np.ndarray,
             digests: np.ndarray, status: np.ndarray, starts: np.ndarray,
             lengths: np.ndarray) -> np.ndarray:  # fmt: skip
        """Every piece on its own thread; per piece the rows read or a give-up code."""
        t_n = len(bounds) - 1
        got = np.zeros(t_n, dtype=np.int64)

        def piece(t: int) -> None:
            got[t] = self.module.csv_scan_piece(
                buf, int(bounds[t]), int(bounds[t + 1]), int(row0[t]), delim, kinds, slots,
                size, pairs, digests, status, starts, lengths,
            )  # fmt: skip

        drive.run(piece, t_n, t_n > 1)
        return got


def csv_scan(algo: int, buf: np.ndarray, kinds: np.ndarray) -> CsvScan | None:
    """The compiled CSV scan of ``algo``'s module for the file's bytes ``buf`` and the
    column ``kinds``, or None where that module is not built or they are not what its
    signature takes (the caller runs the JIT scan, :mod:`matchsim.kernels.csvhex`; the
    caller makes the other arrays as the signature has them)."""
    module = load(NAMES[algo])
    if module is None or not (_is(buf, _U8, 1) and _is(kinds, _I64, 1)):
        return None
    return CsvScan(module)


def bitmap(algo: int, words: np.ndarray, bits: int) -> np.ndarray:
    """:func:`matchsim.kernels.attack.params.make_bitmap` of ``algo``'s check words, by
    :func:`matchsim.kernels.attack.bitmap.set_bits` compiled into its module where
    built (the same bitmap), else by NumPy."""
    from matchsim.kernels.attack.params import make_bitmap

    module = load(NAMES[algo])
    if module is None or not _is(words, word_dtype(algo), 1):
        return make_bitmap(words, bits)
    out = np.zeros(max(1, (1 << bits) >> 6), dtype=np.uint64)
    module.set_bits(words, np.uint64((1 << bits) - 1), out)
    return out


def sha256_compress(state: np.ndarray, block: bytes) -> np.ndarray:
    """:func:`matchsim.kernels.attack.mask.sha256_compress` (an HMAC key's pad states)
    by the compression compiled into the SHA-256 module, on lane 0 of a lane group."""
    module = load("sha256")
    if module is None:
        from matchsim.kernels.attack.mask import sha256_compress as jit_compress

        return jit_compress(state, block)
    words = np.zeros(16 * LANES_SHA256, dtype=np.uint32)
    words[::LANES_SHA256] = np.frombuffer(block, dtype=">u4")
    lanes = np.zeros(8 * LANES_SHA256, dtype=np.uint32)
    lanes[::LANES_SHA256] = state
    out = np.zeros(8 * LANES_SHA256, dtype=np.uint32)
    module.sha256_block(words, lanes, out)
    return np.ascontiguousarray(out[::LANES_SHA256])


def _jit_scanner(algo: int) -> Callable[..., None]:
    from matchsim.kernels.attack import mask

    return mask.SCANNERS[algo]


def _jit_row_hasher(algo: int) -> Callable[..., None]:
    from matchsim.kernels.attack import mask

    return mask.ROW_HASHERS[algo]


def word_dtype(algo: int) -> np.dtype[Any]:
    """The kernels' message/state word type of ``algo``."""
    return np.dtype(np.uint64 if algo == ALGO_SHA512 else np.uint32)


def _is(a: Any, dtype: Any, ndim: int, out: bool = False) -> bool:
    """Whether ``a`` is exactly what the compiled signature takes (a C-contiguous array
    of this dtype and rank; writeable for an output). pycc's wrappers check only the
    item size, so anything else goes to the JIT kernel, which types it as it is."""
    return (
        isinstance(a, np.ndarray)
        and a.dtype == dtype
        and a.ndim == ndim
        and a.flags.c_contiguous
        and (a.flags.writeable or not out)
    )


_U8, _I64, _U32, _U64 = (
    np.dtype(np.uint8),
    np.dtype(np.int64),
    np.dtype(np.uint32),
    np.dtype(np.uint64),
)


def _aot_scan(fn: Any, algo: int, template: Any, var_offset: Any, var_choices: Any,
              var_counts: Any, n_inner: Any, init_state: Any, outer_state: Any, start: Any,
              stop: Any, n_tasks: Any, bm1: Any, bm2: Any, bits_mask: Any, hits: Any,
              hit_counts: Any) -> None:  # fmt: skip
    """The scan through the compiled ``fn``: task ``t`` of ``n_tasks`` is the range of
    outer indices the JIT kernel's ``prange`` iteration ``t`` takes, one call each."""
    word = word_dtype(algo)
    ok = (
        _is(template, word, 1) and _is(var_offset, _I64, 1) and _is(var_choices, _U8, 2)
        and _is(var_counts, _I64, 1) and _is(init_state, word, 1) and _is(outer_state, _U32, 1)
        and _is(bm1, _U64, 1) and _is(bm2, _U64, 1) and _is(hits, _I64, 2, out=True)
        and _is(hit_counts, _I64, 1, out=True) and hits.shape[0] >= int(n_tasks)
        and hit_counts.shape[0] >= int(n_tasks)
    )  # fmt: skip
    if not ok:
        _jit_scanner(algo)(template, var_offset, var_choices, var_counts, n_inner, init_state,
                           outer_state, start, stop, n_tasks, bm1, bm2, bits_mask, hits,
                           hit_counts)  # fmt: skip
        return
    drive.scan(fn, template, var_offset, var_choices, var_counts, n_inner, init_state,
               outer_state, start, stop, n_tasks, bm1, bm2, bits_mask, hits,
               hit_counts)  # fmt: skip


def _aot_scan_md5_reversed(fn: Any, template: Any, var_offset: Any, var_choices: Any,
                           var_counts: Any, n_inner: Any, init_state: Any, start: Any,
                           stop: Any, n_tasks: Any, word2: Any, table: Any, hits: Any,
                           hit_counts: Any) -> None:  # fmt: skip
    """The reversed MD5 scan through the compiled ``fn``, split as :func:`_aot_scan`."""
    ok = (
        _is(template, _U32, 1) and _is(var_offset, _I64, 1) and _is(var_choices, _U8, 2)
        and _is(var_counts, _I64, 1) and _is(init_state, _U32, 1) and _is(word2, _U32, 1)
        and _is(table, _U32, 1)
        and _is(hits, _I64, 2, out=True) and _is(hit_counts, _I64, 1, out=True)
        and hits.shape[0] >= int(n_tasks) and hit_counts.shape[0] >= int(n_tasks)
    )  # fmt: skip
    args = (template, var_offset, var_choices, var_counts, n_inner, init_state, start, stop,
            n_tasks, word2, table, hits, hit_counts)  # fmt: skip
    if not ok:
        _jit_md5_reversed(*args)
        return
    drive.scan_md5_reversed(fn, *args)


def _aot_hash_rows(fn: Any, algo: int, data: Any, starts: Any, lengths: Any, extra_bytes: Any,
                   init_state: Any, outer_state: Any, out_words: Any) -> None:  # fmt: skip
    """The message hasher through the compiled ``fn``, rows split over threads in whole
    lane groups (each row's digest depends on that row alone)."""
    word = word_dtype(algo)
    ok = (
        _is(data, _U8, 1) and _is(starts, _I64, 1) and _is(lengths, _I64, 1)
        and _is(init_state, word, 1) and _is(outer_state, _U32, 1)
        and _is(out_words, word, 2, out=True) and starts.shape[0] == lengths.shape[0]
        and out_words.shape[0] >= starts.shape[0]
    )  # fmt: skip
    if not ok:
        _jit_row_hasher(algo)(data, starts, lengths, extra_bytes, init_state, outer_state,
                              out_words)  # fmt: skip
        return
    drive.hash_rows(fn, LANES[algo], data, starts, lengths, extra_bytes, init_state,
                    outer_state, out_words)  # fmt: skip


def _aot_hex_lines(fn: Any, data: np.ndarray, n: int, width: int) -> np.ndarray | None:
    """Lines of ``width`` hex characters and a separator byte, decoded on threads."""
    from matchsim.kernels.hextable import nibbles

    if not _is(data, _U8, 1) or data.shape[0] < n * (width + 1) or width % 2:
        return None
    starts = np.arange(n, dtype=np.int64) * (width + 1)
    lengths = np.full(n, width, dtype=np.int64)
    present = np.ones(n, dtype=np.bool_)
    out = np.empty((n, width // 2), dtype=np.uint8)
    ok = np.empty(n, dtype=np.bool_)
    table = nibbles(False)
    k = drive.threads() if n * width >= 16 * drive.PARALLEL_MIN else 1
    step = -(-n // (4 * k)) if k > 1 else max(n, 1)

    def piece(i: int) -> None:
        lo, hi = i * step, min(n, (i + 1) * step)
        fn(data, starts[lo:hi], lengths[lo:hi], present[lo:hi], table, out[lo:hi], ok[lo:hi])

    drive.run(piece, -(-n // step), k > 1)
    return out if bool(ok.all()) else None


def _aot_lookup(fn: Any, digests: Any, keys: Any, starts: Any, shift: Any, candidates: Any,
                out: Any) -> None:  # fmt: skip
    ok = (
        _is(digests, _U8, 2) and _is(keys, _U64, 1) and _is(starts, _I64, 1)
        and _is(candidates, _U8, 2) and _is(out, _I64, 1, out=True)
    )  # fmt: skip
    if not ok:
        from matchsim.kernels.attack.lookup import lookup

        lookup(digests, keys, starts, shift, candidates, out)
        return
    fn(digests, keys, starts, int(shift), candidates, out)
