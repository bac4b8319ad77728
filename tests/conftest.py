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
