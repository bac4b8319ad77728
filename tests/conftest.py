"""Shared fixtures: small seeded populations, generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from matchsim.cli import main
from matchsim.generate import Population, PopulationParams, population


@pytest.fixture(scope="session", autouse=True)
def _platform_index_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the platform digest indexes that joins write inside this session's tmp dir."""
    import os

    os.environ["MATCHSIM_INDEX_DIR"] = str(tmp_path_factory.mktemp("platform-index"))


@pytest.fixture(scope="session")
def nl_population(tmp_path_factory: pytest.TempPathFactory) -> Population:
    """20 k Dutch platform users, 4 k customers (60 % on the platform), 4 chunks."""
    params = PopulationParams(
        platform_users=20_000, customers=4_000, country="NL", overlap=0.6, seed=11, chunk_size=5_000
    )
    return population(params, tmp_path_factory.mktemp("nl") / "pop")


@pytest.fixture(scope="session")
def us_population(tmp_path_factory: pytest.TempPathFactory) -> Population:
    """20 k US platform users, 4 k customers (50 % on the platform)."""
    params = PopulationParams(
        platform_users=20_000, customers=4_000, country="US", overlap=0.5, seed=12, chunk_size=8_000
    )
    return population(params, tmp_path_factory.mktemp("us") / "pop")


@pytest.fixture(scope="session")
def nl_phones(nl_population: Population) -> list[str]:
    """Platform phones (E.164) of the NL population in Meta's digits style, 31612*: the
    truth the attack tests plant and recover."""
    phones = pq.read_table(nl_population.platform, columns=["phone"]).column("phone")
    digits = pc.utf8_replace_slice(pc.drop_null(phones.combine_chunks()), 0, 1, "")
    return sorted(set(digits.filter(pc.starts_with(digits, "31612")).to_pylist()))


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``matchsim ARGS`` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str | Path) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exc:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        code = exc.value.code
        return (code if isinstance(code, int) else 1), captured.out, captured.err

    return run


@pytest.fixture(scope="session", autouse=True)
def _aot_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Kernels compiled ahead of time are looked for in an empty folder of this session
    (so every test runs the JIT kernels, whatever the machine has built), except where a
    test builds its own (``tests/test_kernels_aot.py``)."""
    import os

    os.environ["MATCHSIM_AOT_DIR"] = str(tmp_path_factory.mktemp("aot"))


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, each numba kernel is compiled by one worker only (see
    :func:`_compile_once`)."""
    if hasattr(config, "workerinput") and config.option.basetemp:
        # A worker's basetemp is a folder of the run's own (which pytest clears later).
        _compile_once(Path(config.option.basetemp).parent / "numba-locks")


def _compile_once(lock_dir: Path) -> None:
    """Make a worker that is about to compile a cached numba function wait while another
    worker of the same run compiles it, then load it from numba's on-disk cache.

    A cold numba cache (a clean clone in CI) costs minutes of LLVM time, and two workers
    starting on files that use the same kernels would each compile them. A file lock per
    function (its module, name, first line and closure constants: one per compiled
    variant) serialises those compiles across the workers; numba's compile looks in the
    cache first, so the worker that waited loads the other's result. Taken inside numba's
    process-wide compiler lock, so a thread never waits on a file lock while holding
    what another thread of its process needs. Functions without ``cache=True`` compile
    as before.
    """
    import fcntl
    import hashlib

    from numba.core.caching import NullCache
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.dispatcher import Dispatcher

    lock_dir.mkdir(parents=True, exist_ok=True)
    original = Dispatcher.compile

    def compile(self: Dispatcher, sig: object) -> object:
        func = self.py_func
        if isinstance(self._cache, NullCache) or func is None:
            return original(self, sig)
        cells = tuple(repr(c.cell_contents) for c in func.__closure__ or ())
        name = f"{func.__module__}:{func.__qualname__}:{func.__code__.co_firstlineno}:{cells}"
        lock = lock_dir / hashlib.sha256(name.encode()).hexdigest()[:32]
        with global_compiler_lock, open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                return original(self, sig)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    Dispatcher.compile = compile  # type: ignore[method-assign]
