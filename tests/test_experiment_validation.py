"""An experiment's scheme parameters and attack number types are checked when the file
is read, every problem at once with its location, before any population is built."""

from __future__ import annotations

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
        from matchsim.config import parse_experiment

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
    for problem in ("pixel.visitors: must be >= 1, got 0", "oracle.victims: must be >= 0, got -1",
                    "clk"):  # fmt: skip
        assert f"{bad}: {problem}" in err
