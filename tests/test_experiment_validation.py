"""An experiment's scheme parameters and attack number types are checked when the file
is read, every problem at once with its location, before any population is built."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from matchsim.errors import ConfigError


def test_every_problem_at_once_with_its_location(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'version = 1\nname = "bad"\nseed = 1\n'
        '[population]\nplatform_users = 1000\ncustomers = 100\ncountry = "NL"\n'
        '[[schemes]]\nname = "truncated-sha256"\nbits = 999\n'
        '[[schemes]]\nname = "argon2id"\nmemroy = 5\n'
        '[[schemes]]\nname = "hmac-sha256"\n'
        '[[attacks]]\nkind = "phone"\nnumber_type = "mobiel"\n'
    )
    out = tmp_path / "run"
    code, _, err = run_cli("run", bad, "--out", out)
    assert code == 1 and not out.exists()
    problems = [
        f"{bad}: [[schemes]][0]: scheme truncated-sha256: bits must be an integer 1..256, got 999",
        f"{bad}: [[schemes]][1]: scheme argon2id: unknown parameter(s) memroy; "
        "allowed: encoding, iterations, lanes, memory, salt",
        f"{bad}: [[attacks]][0].number_type: unknown number type 'mobiel' (known: mobile, "
        "fixed_line, voip, toll_free, personal_number)",
    ]
    assert err == "Error: " + "; ".join(problems) + "\n"


def test_a_scheme_that_needs_a_key_is_checked_without_one() -> None:
    from matchsim.schemes import param_problems

    assert param_problems("hmac-sha256", {}) == []
    assert param_problems("pepper-sha256", {"position": "middle"}) == [
        "scheme pepper-sha256: position must be 'append' or 'prepend', got 'middle'"
    ]
    assert param_problems("no-such-scheme", {"x": 1}) == []  # the name is reported apart
    with pytest.raises(ConfigError):
        from matchsim.experiment import parse_experiment

        parse_experiment({"version": 1, "name": "x", "seed": 1,
                          "attacks": [{"kind": "phone", "number_type": "pager"}]})  # fmt: skip


def test_stage_sections_are_checked_before_any_work(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'version = 1\nname = "bad"\nseed = 1\n'
        '[population]\nplatform_users = 1000\ncustomers = 100\ncountry = "NL"\n'
        "[oracle]\nvictims = -1\n[pixel]\nvisitors = 0\n"
        '[clk.schema]\nlength = "long"\n'
    )
    out = tmp_path / "run"
    code, _, err = run_cli("run", bad, "--out", out)
    assert code == 1 and not out.exists()
    # One line naming every problem: the population was never built.
    assert err.count("\n") == 1
    for problem in ("[pixel].visitors: must be >= 1, got 0",
                    "[oracle].victims: must be >= 0, got -1",
                    "[clk.schema].length: must be int, got 'long'"):  # fmt: skip
        assert f"{bad}: {problem}" in err


def _problems(tree: dict[str, object]) -> list[str]:
    from matchsim.experiment import parse_experiment

    with pytest.raises(ConfigError) as exc:
        parse_experiment(tree)
    return exc.value.problems


BASE = {"version": 1, "name": "x", "seed": 1,
        "population": {"platform_users": 1000, "customers": 100}}  # fmt: skip


def test_every_section_and_table_reported_in_one_error() -> None:
    from matchsim.generate import Corruption, PopulationParams
    from matchsim.normalise import PROFILES

    problems = _problems({
        **BASE,
        "population": {"platform_users": 1000, "customers": 100, "colour": 1,
                       "corruption": {"email_typo": 2, "smudge": 0.1}},
        "platform": {"engine": "spark"},
        "psi": {"field": "fax", "profile": "facebook", "reveal": "all"},
        "clk": {"shema": {}},
        "oracle": "big",
        "pixel": {"visitors": 0},
    })  # fmt: skip
    population = sorted({f.name for f in dataclasses.fields(PopulationParams)} | {"path"})
    corruption = sorted(f.name for f in dataclasses.fields(Corruption))
    assert problems == [
        f"[population]: unknown key 'colour' (known keys: {', '.join(population)})",
        "[population.corruption].email_typo: must be between 0 and 1, got 2",
        f"[population.corruption]: unknown key 'smudge' (known keys: {', '.join(corruption)})",
        "[platform].engine: unknown engine 'spark' (known: local, dask)",
        "[pixel].visitors: must be >= 1, got 0",
        "[oracle]: must be a table, got str",
        "[psi].field: must be one of email, phone, got 'fax'",
        f"[psi].profile: unknown profile 'facebook' (known: {', '.join(sorted(PROFILES))})",
        "[psi].reveal: must be one of intersection, cardinality, got 'all'",
        "[clk]: unknown key 'shema' (known keys: schema)",
    ]


def test_sections_are_registered_and_their_tables_are_known_keys() -> None:
    from matchsim.experiment.sections import registry

    sections = registry()
    assert list(sections) == ["pixel", "oracle", "psi", "clk", "promises"]
    for key, section in sections.items():
        assert section.key == key
        from matchsim.experiment.fields import Fields

        fields = Fields({}, f"[{key}]")
        config = section.parse(fields, None)  # every section runs on its defaults
        assert fields.problems == [], key
        assert config is not None
    # a section's table is not an unknown key of the experiment, a typo of one is
    problems = _problems({**BASE, "pixl": {}})
    assert problems[0].startswith("experiment: unknown key 'pixl' (known keys: ")
    assert "pixel" in problems[0] and "promises" in problems[0]


def test_parsed_sections_are_what_the_run_uses() -> None:
    from matchsim.experiment import parse_experiment
    from matchsim.oracle import OracleConfig
    from matchsim.pixel import PixelConfig

    experiment = parse_experiment({**BASE, "pixel": {"visitors": 7}, "oracle": {"victims": 3}})
    assert isinstance(experiment.section_configs["pixel"], PixelConfig)
    assert experiment.section_configs["pixel"].behaviour.visitors == 7
    assert isinstance(experiment.section_configs["oracle"], OracleConfig)
    assert experiment.section_configs["oracle"].victims == 3
    assert experiment.sections == {"pixel": {"visitors": 7}, "oracle": {"victims": 3}}


def test_one_wording_for_every_table() -> None:
    """The same mistake reads the same in the experiment's own tables and in a section's."""
    attacks = [{"guesses": "x", "colour": 1}]
    problems = _problems(
        {
            **BASE,
            "seed": "x",
            "oracle": {"victims": "x"},
            "attacks": attacks,
            "pixel": {"colour": 1},
        }
    )
    assert "experiment.seed: must be int, got 'x'" in problems
    assert "[oracle].victims: must be int, got 'x'" in problems
    assert "[[attacks]][0].guesses: must be int, got 'x'" in problems
    assert any(p.startswith("[[attacks]][0]: unknown key 'colour' (known keys: ") for p in problems)
    assert any(p.startswith("[pixel]: unknown key 'colour' (known keys: ") for p in problems)


def test_key_sources_are_checked_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATCHSIM_NO_SUCH_KEY", raising=False)
    missing = tmp_path / "missing.key"
    problems = _problems({**BASE, "schemes": [
        {"name": "hmac-sha256", "key_env": "MATCHSIM_NO_SUCH_KEY"},
        {"name": "pepper-sha256", "key_file": str(missing)},
        {"name": "hmac-sha256", "key_file": str(missing), "key_env": "MATCHSIM_NO_SUCH_KEY"},
    ]})  # fmt: skip
    assert len(problems) == 3
    assert problems[0].startswith("[[schemes]][0]: ") and "MATCHSIM_NO_SUCH_KEY" in problems[0]
    assert problems[1].startswith("[[schemes]][1]: ") and "does not exist" in problems[1]
    assert problems[2] == (
        "[[schemes]][2]: give the hmac-sha256 key with exactly one of key_file or key_env"
    )
    key = tmp_path / "k.key"
    key.write_bytes(b"s3cret-value\n")
    from matchsim.experiment import parse_experiment

    experiment = parse_experiment(
        {**BASE, "schemes": [{"name": "hmac-sha256", "key_file": str(key)}]}
    )
    assert experiment.schemes[0].key_file == str(key)
    assert "s3cret" not in repr(experiment)
