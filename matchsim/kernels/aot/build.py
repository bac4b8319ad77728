"""Build the ahead-of-time kernel library (:mod:`matchsim.kernels.aot`) with ``numba.pycc``.

Each algorithm's module exports ``scan`` (and MD5's ``scan_md5_reversed``, the scan
against a few targets, :mod:`matchsim.kernels.attack.md5_reverse`), ``hash_rows``,
``lookup``, ``set_bits`` (the bitmap filter, :mod:`matchsim.kernels.attack.bitmap`),
``hex_rows`` (the upload reader's hex decoder,
:func:`matchsim.kernels.hexdecode._hex_rows`), ``csv_piece_rows`` and ``csv_scan_piece``
(the CSV upload scan of :mod:`matchsim.kernels.csvhex`, one piece a call) and
``sha256_block`` (one SHA-256 compression over lane arrays: an HMAC key's pad states,
:func:`matchsim.kernels.aot.sha256_compress`), compiled from the
JIT kernels' Python functions (``py_func``) with explicit signatures: the scan and the
hasher are closures over their algorithm's constants (:func:`~matchsim.kernels.attack.
mask._make_scan`), so each algorithm is its own module. Three settings differ from
``pycc``'s defaults, all as the JIT compiles: the code is generated for this machine's
CPU model *and* its feature flags (pycc takes the model's nominal features, which a
virtual machine may not offer), the exported wrappers release the GIL (the run-time
module calls them from several threads), and NumPy allocation goes through numba's
runtime (the kernels allocate their scratch arrays).

Building needs numba and a C compiler (pycc compiles a small C wrapper); it takes about
15 s of CPU per algorithm on this project's machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from matchsim.errors import ConfigError
from matchsim.kernels import aot
from matchsim.kernels.attack.params import ALGO_MD5, ALGO_SHA256, ALGORITHMS

Progress = Callable[[str, int, int], None]


def signatures(algo: int) -> dict[str, Any]:
    """The exported functions' numba signatures for ``algo`` (C-contiguous arrays: what
    :mod:`matchsim.kernels.aot` checks before it calls them)."""
    from numba.core import types as T

    def arr(dtype: Any, ndim: int = 1) -> Any:
        return T.Array(dtype, ndim, "C")

    word = T.uint64 if aot.word_dtype(algo).itemsize == 8 else T.uint32
    i64, u64, u8, u32 = T.int64, T.uint64, T.uint8, T.uint32
    ro_u8 = T.Array(u8, 1, "C", readonly=True)
    sigs = {
        "scan": T.none(
            arr(word), arr(i64), arr(u8, 2), arr(i64), i64, arr(word), arr(u32),
            i64, i64, i64, arr(u64), arr(u64), u64, arr(i64, 2), arr(i64),
        ),
        "hash_rows": T.none(arr(u8), arr(i64), arr(i64), i64, arr(word), arr(u32), arr(word, 2)),
        "lookup": T.none(arr(u8, 2), arr(u64), arr(i64), i64, arr(u8, 2), arr(i64)),
        "set_bits": T.none(arr(word), u64, arr(u64)),
        "hex_rows": T.none(
            arr(u8), arr(i64), arr(i64), arr(T.boolean), arr(u8), arr(u8, 2), arr(T.boolean)
        ),
        # the CSV upload scan, one piece a call (the file's bytes are a read-only map)
        "csv_piece_rows": i64(ro_u8, i64, i64, T.boolean),
        "csv_scan_piece": i64(
            ro_u8, i64, i64, i64, i64, arr(i64), arr(i64), i64, arr(T.uint16), arr(u8, 3),
            arr(u8, 2), arr(i64, 2), arr(i64, 2),
        ),
    }  # fmt: skip
    if algo == ALGO_MD5:
        sigs["scan_md5_reversed"] = T.none(
            arr(u32), arr(i64), arr(u8, 2), arr(i64), i64, arr(u32), i64, i64, i64, arr(u32),
            arr(u32), arr(i64, 2), arr(i64),
        )  # fmt: skip
    if algo == ALGO_SHA256:
        sigs["sha256_block"] = T.none(arr(u32), arr(u32), arr(u32))
    return sigs


def _functions(algo: int) -> dict[str, Any]:
    """The JIT kernels whose Python functions are compiled (the one source of truth)."""
    from matchsim.kernels.attack import mask
    from matchsim.kernels.attack._unrolled import sha256_block_64
    from matchsim.kernels.attack.bitmap import set_bits
    from matchsim.kernels.attack.lookup import lookup
    from matchsim.kernels.csvhex import _piece_rows, _scan_piece
    from matchsim.kernels.hexdecode import _hex_rows

    return {
        "sha256_block": sha256_block_64.py_func,  # exported by the SHA-256 module only
        "scan": mask.SCANNERS[algo].py_func,
        "scan_md5_reversed": mask.SCAN_MD5_REVERSED.py_func,  # the MD5 module only
        "hash_rows": mask.ROW_HASHERS[algo].py_func,
        "lookup": lookup.py_func,
        "set_bits": set_bits.py_func,
        "hex_rows": _hex_rows.py_func,
        "csv_piece_rows": _piece_rows.py_func,
        "csv_scan_piece": _scan_piece.py_func,
    }


@contextlib.contextmanager
def _as_the_jit_compiles() -> Iterator[None]:
    """pycc with the JIT's CPU features and GIL-releasing wrappers (see the module
    docstring); numba's own settings are restored on the way out."""
    import numba.pycc.compiler as pycc_compiler
    from numba.core.codegen import AOTCPUCodegen
    from numba.core.compiler import Flags

    class _Flags(Flags):
        def __init__(self, *copy_of: Any) -> None:
            super().__init__(*copy_of)
            if not copy_of:
                self.release_gil = True  # type: ignore[assignment]

    def host_features(self: Any) -> str:
        return str(self._get_host_cpu_features())

    old_flags, old_features = pycc_compiler.Flags, AOTCPUCodegen._customize_tm_features
    setattr(pycc_compiler, "Flags", _Flags)  # noqa: B010 - mypy: no assigning to a type
    setattr(AOTCPUCodegen, "_customize_tm_features", host_features)  # noqa: B010
    try:
        yield
    finally:
        setattr(pycc_compiler, "Flags", old_flags)  # noqa: B010
        setattr(AOTCPUCodegen, "_customize_tm_features", old_features)  # noqa: B010


def compile_module(algorithm: str, directory: Path) -> Path:
    """Compile ``algorithm``'s module into ``directory`` (written under a temporary
    name and renamed: a reader never sees half a file). Returns its path.

    Raises:
        ConfigError: an unknown algorithm, or pycc failed (no C compiler, say).
    """
    with warnings.catch_warnings():  # pycc is "pending deprecation" since numba 0.57
        warnings.simplefilter("ignore")
        try:
            from numba.pycc import CC
        except ImportError:
            raise ConfigError(
                "this numba has no numba.pycc to compile kernels ahead of time; "
                "attacks use the JIT kernels"
            ) from None

    if algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown hash algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")
    algo = ALGORITHMS[algorithm]
    final = aot.module_path(directory, algorithm)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".build-", dir=directory) as tmp:
            _compile_into(CC, algo, algorithm, Path(tmp), final)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"cannot write the compiled kernels to {directory}: {reason}") from None
    return final


def _compile_into(cc_class: Any, algo: int, algorithm: str, tmp: Path, final: Path) -> None:
    """pycc ``algorithm``'s module in ``tmp``, then copy it beside ``final`` under a
    temporary name and rename it into place."""
    directory = final.parent
    cc = cc_class(aot.module_name(algorithm))
    cc.output_dir = str(tmp)
    cc.output_file = final.name  # the name the run-time side looks for
    cc.target_cpu = "host"
    cc.verbose = False
    functions = _functions(algo)
    for name, sig in signatures(algo).items():
        cc.export(name, sig)(functions[name])
    try:
        with _as_the_jit_compiles():
            cc.compile()
    except Exception as exc:  # pycc raises distutils' and numba's errors alike
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ConfigError(f"building the {algorithm} kernels failed: {reason}") from None
    built = aot.module_path(tmp, algorithm)
    staged = directory / f".{final.name}.{os.getpid()}.tmp"
    shutil.copyfile(built, staged)
    os.replace(staged, final)


def build(
    algorithms: tuple[str, ...] = tuple(ALGORITHMS),
    directory: Path | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> dict[str, Path]:
    """Build the modules of ``algorithms`` into ``directory`` (default
    :func:`matchsim.kernels.aot.library_dir`), skipping those already there unless
    ``force``. Returns each algorithm's module path.

    Raises:
        ConfigError: an unknown algorithm, or a module that failed to build.
    """
    for name in algorithms:
        if name not in ALGORITHMS:
            raise ConfigError(f"unknown hash algorithm {name!r}; known: {', '.join(ALGORITHMS)}")
    where = directory if directory is not None else aot.library_dir()
    done: dict[str, Path] = {}
    for i, name in enumerate(algorithms):
        if progress is not None:
            progress(name, i, len(algorithms))
        path = aot.module_path(where, name)
        done[name] = path if path.is_file() and not force else compile_module(name, where)
    aot.forget()
    if progress is not None:
        progress("", len(algorithms), len(algorithms))
    return done
