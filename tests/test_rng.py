"""Random streams: one named stream per use, all different from each other."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matchsim.rng import Stream, stream


@given(seed=st.integers(0, 2**63 - 1), index=st.integers(0, 1000))
def test_every_stream_draws_different_numbers(seed: int, index: int) -> None:
    draws = {name: stream(seed, name).integers(0, 2**63, 4).tolist() for name in Stream}
    draws |= {(name, index): stream(seed, name, index).integers(0, 2**63, 4).tolist()
              for name in Stream}  # fmt: skip
    for (a, da), (b, db) in itertools.combinations(draws.items(), 2):
        assert da != db, (a, b)


def test_the_same_seed_and_name_give_the_same_stream() -> None:
    a = stream(5, Stream.ORACLE_VICTIMS, 2).random(8)
    assert np.array_equal(a, stream(5, Stream.ORACLE_VICTIMS, 2).random(8))
    assert not np.array_equal(a, stream(6, Stream.ORACLE_VICTIMS, 2).random(8))


@pytest.mark.parametrize(
    ("name", "key"),
    [(Stream.PLATFORM, 0), (Stream.SELECT, 1), (Stream.OUTSIDERS, 2), (Stream.CRM, 3),
     (Stream.SHUFFLE, 4)],
)  # fmt: skip
def test_generator_keys_are_the_ones_populations_were_made_with(name: Stream, key: int) -> None:
    # Renumbering these would change every generated population (and every figure).
    old = np.random.Generator(np.random.PCG64(np.random.SeedSequence(21, spawn_key=(key, 3))))
    assert np.array_equal(stream(21, name, 3).random(16), old.random(16))


def test_later_stages_streams_are_not_the_generators() -> None:
    generator = {Stream.PLATFORM, Stream.SELECT, Stream.OUTSIDERS, Stream.CRM, Stream.SHUFFLE}
    others = set(Stream) - generator
    assert {s.name.split("_")[0] for s in others} == {
        "ORACLE",
        "PIXEL",
        "PROMISES",
        "PAIR",
        "REGISTER",
        "ADVERTISERS",
        "RISK",
        "CLK",
    }
    assert not {int(s) for s in others} & {int(s) for s in generator}


def test_no_stage_seeds_a_stream_by_bare_integers() -> None:
    """A stream keyed by a bare integer on the run's seed collides with another stage's
    (the promises stage once drew its targets from the generator's selection stream)."""
    import re
    from pathlib import Path

    import matchsim

    root = Path(matchsim.__file__).parent
    pattern = re.compile(r"spawn_key\s*=|default_rng\(\s*\[[^\]]*seed\s*,\s*\d+\s*\]")
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "rng.py" and pattern.search(p.read_text())
    ]
    assert offenders == []
