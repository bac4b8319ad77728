"""Experiment files: the shipped ones validate; a broken one reports every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from matchsim.errors import ConfigError, InputError
from matchsim.experiment import load_experiment

EXPERIMENTS = sorted((Path(__file__).parent.parent / "experiments").glob("*.toml"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiments_validate(path: Path) -> None:
    experiment = load_experiment(path)
    assert experiment.name == path.stem
    assert experiment.schemes or experiment.sections


def test_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(
        """
version = 2
seed = -1
colour = "blue"

[population]
platform_users = "many"
overlap = 1.5

[advertiser]
profile = "facebook"

[[schemes]]
name = "sha-256"

[[schemes]]
name = "hmac-sha256"
key = "hunter2"

[[attacks]]
kind = "dns"
"""
    )
    with pytest.raises(ConfigError) as exc:
        load_experiment(path)
    problems = exc.value.problems
    assert all(p.startswith(f"{path}: ") for p in problems)
    text = "\n".join(problems)
    for expected in (
        "version: must be 1",
        "experiment.seed: must be >= 0, got -1",
        "experiment.colour: unknown key; known keys: ",  # one wording for every table
        "[population].platform_users: must be an integer, got 'many'",
        "[population]: overlap must be a number between 0 and 1, got 1.5",
        "[advertiser].profile: unknown profile 'facebook'",
        "[[schemes]][0].name: unknown scheme 'sha-256'",
        "[[schemes]][1]: secrets never go in an experiment file; use key_env or key_file",
        "[[attacks]][0].kind: unknown attack kind 'dns'",
    ):
        assert expected in text, (expected, text)
    assert "hunter2" not in str(exc.value)
    assert len(problems) == 9


def test_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("version = 1\nname = \n")
    with pytest.raises(InputError, match=r"is not valid TOML: .*line 2"):
        load_experiment(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_experiment(tmp_path / "nope.toml")
