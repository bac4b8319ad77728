"""``matchsim run``: an experiment end to end, its run folder, reruns, the demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matchsim.experiment import parse_experiment, run_experiment, strip_timings


def small(name: str = "small", **extra: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {
        "version": 1,
        "name": name,
        "seed": 21,
        "population": {
            "platform_users": 8_000,
            "customers": 1_000,
            "country": "NL",
            "overlap": 0.6,
        },
        "advertisers": [
            {"name": "Insurer", "label": "health insurer", "sensitive": True, "profile": "meta"},
            {
                "name": "Shop",
                "label": "web shop",
                "sensitive": False,
                "profile": "meta",
                "share": 0.5,
            },
        ],
        "platform": {"profile": "meta"},
        "schemes": [{"name": "sha256"}, {"name": "hmac-sha256"}, {"name": "salted-sha256"}],
        "attacks": [{"kind": "email", "guesses": 20_000}],
        "risk": {"qi": [["gender"], ["postcode:4", "dob"], ["postcode", "dob", "gender"]]},
    }
    tree.update(extra)
    return tree


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "small"
    run_experiment(parse_experiment(small()), out, measure_costs=False)
    return out


def test_run_folder_layout(run_dir: Path) -> None:
    names = {p.name for p in run_dir.iterdir()}
    assert {"manifest.json", "results.json", "report.html", "report.md", "population", "uploads",
            "joins"} <= names  # fmt: skip
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 21
    assert {"population", "hash sha256", "join sha256", "risk", "membership"} <= set(
        manifest["timings"]
    )
    assert not list(run_dir.parent.glob(".*partial*"))


def test_schemes_tell_the_story(run_dir: Path) -> None:
    results = json.loads((run_dir / "results.json").read_text())
    by_name = {s["name"]: s for s in results["schemes"]}
    plain, keyed, salted = by_name["sha256"], by_name["hmac-sha256"], by_name["salted-sha256"]
    # The platform matches as well under HMAC as under plain hashing...
    assert plain["join"]["match_rate"] > 0.5
    assert keyed["join"]["match_rate"] == plain["join"]["match_rate"]
    # ...a per-record salt matches only on what Meta takes in clear (the MADID)...
    salted_keys = {k for k, v in salted["join"]["per_key"].items() if v["users_matched"]}
    assert salted_keys <= {"madid"}
    assert salted["join"]["match_rate"] < 0.15
    # ...and the outsider's e-mail guesses recover plain digests but nothing under HMAC.
    assert plain["email_share"] > 0.02
    # Scored afterwards against what was hashed: every recovered address is the right one.
    guessed = plain["attacks"][0]
    assert guessed["precision"] == 1.0
    assert guessed["recall"] == pytest.approx(guessed["share"])
    assert keyed["email_share"] == 0.0
    assert salted["attacks"][0]["feasible"] is False
    # Evaluation against ground truth: the plain join is precise and finds nearly everyone.
    evaluation = plain["join"]["evaluation"]
    assert evaluation["precision"] == 1.0 and evaluation["recall"] > 0.97


def test_membership_and_risk(run_dir: Path) -> None:
    results = json.loads((run_dir / "results.json").read_text())
    membership = results["membership"]
    insurer, shop = membership["advertisers"]
    assert insurer["users"] == results["schemes"][0]["join"]["matched_users"]
    assert 0.35 * insurer["users"] < shop["users"] < 0.65 * insurer["users"]
    assert membership["sensitive_users"] == insurer["users"]
    uniques = [r["unique_share"] for r in results["risk"]]
    assert uniques == sorted(uniques) and uniques[-1] > 0.9  # more QI fields, more unique
    for r in results["risk"]:  # an estimate with its interval, or a reason and the census
        assert r["expected_unique_share"] is not None
        if r["population_unique_share"] is None:
            assert "cannot support" in r["population_declined"]
        else:
            lo, hi = r["population_interval"]
            assert lo <= r["population_unique_share"] <= hi and r["population_declined"] is None


def test_rerun_reproduces_results(run_dir: Path, tmp_path: Path) -> None:
    again = run_experiment(parse_experiment(small()), tmp_path / "again", measure_costs=False)
    first = json.loads((run_dir / "results.json").read_text())
    assert strip_timings(first) == strip_timings(again.results)


def test_run_cli_and_report(run_cli, run_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("report", run_dir)
    assert code == 0, err
    assert "report.html" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[population]\noverlap = 2\n[[schemes]]\nname = "rot13"\n')
    code, out, err = run_cli("run", bad, "--out", tmp_path / "r")
    assert code == 1
    assert err.startswith(f"Error: {bad}: [population]: overlap must be a number between 0 and 1")
    assert "[[schemes]][0].name: unknown scheme 'rot13'" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_demo_runs_and_writes_a_report(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("demo", "--no-pause", "--out", tmp_path / "demo")
    assert code == 0, err
    assert "What each scheme protects" in out
    assert "hashed phone numbers recovered" in out
    results = json.loads((tmp_path / "demo" / "results.json").read_text())
    plain, keyed, salted = results["schemes"]
    assert plain["phone_share"] > 0.8  # every mobile; the rest are landlines
    assert keyed["phone_share"] == 0.0
    assert salted["phone_share"] is None and salted["join"]["match_rate"] < 0.15
    assert (tmp_path / "demo" / "report.html").exists()


def test_alternatives_enter_the_comparison(tmp_path: Path) -> None:
    tree = small("alternatives", schemes=[{"name": "sha256"}], attacks=[], psi={}, clk={})
    tree["population"] = {
        "platform_users": 3_000,
        "customers": 600,
        "country": "NL",
        "overlap": 0.6,
    }
    result = run_experiment(parse_experiment(tree), tmp_path / "alt", measure_costs=False)
    rows = {s["name"]: s for s in result.results["schemes"]}
    assert set(rows) == {"sha256", "psi-ecdh", "clk"}
    # PSI matches what plain hashing of the same normalised e-mails matches...
    psi = result.results["psi"]["details"]
    assert psi["match_rate"] == psi["plain_hash_match_rate"] > 0.4
    # ...and no outsider can test a guess offline.
    assert rows["psi-ecdh"]["cost"]["feasible"] is False
    assert "re-identified" in rows["clk"]["cost"]["reason"]
    # who can re-identify: a PSI section puts an operator in the run; outsiders get no
    # offline test against PSI, a partial one against CLK; the platform's count is its join
    who = {r["scheme"]: r["cells"] for r in result.results["who"]["rows"]}
    assert result.results["who"]["clean_room"] is True
    assert who["psi-ecdh"]["outsider with the upload"]["can"] == "no"
    assert who["clk"]["outsider with the upload"]["can"] == "partly"
    assert who["sha256"]["platform"]["people"] == rows["sha256"]["join"]["matched_users"]
    assert who["sha256"]["clean-room operator"]["people"] == rows["sha256"]["join"]["matched_users"]
    html = (tmp_path / "alt" / "report.html").read_text()
    assert "ECDH private set intersection" in html and "Bloom-filter encodings" in html


def test_interrupted_run_leaves_nothing(tmp_path: Path) -> None:
    def interrupt(step: str, payload: dict[str, Any]) -> None:
        if step == "join":
            raise KeyboardInterrupt

    tree = small("interrupted")
    tree["population"] = {
        "platform_users": 2_000,
        "customers": 200,
        "country": "NL",
        "overlap": 0.5,
    }
    with pytest.raises(KeyboardInterrupt):
        run_experiment(parse_experiment(tree), tmp_path / "run", on_step=interrupt)
    assert list(tmp_path.iterdir()) == []


# --- docs/results.md against the typed results ---------------------------------------

DOC = Path(__file__).parent.parent / "docs" / "results.md"


def documented(heading: str) -> set[str]:
    """The keys in the first column of the first table under ``heading`` in results.md.

    A cell whose first key is dotted (``join.match_rate``, ``join.uploaded_rows``,
    ``accepted_rows``) documents sub-keys of its prefix: only the prefix is a key here.
    """
    import re

    text = DOC.read_text()
    start = text.index(heading + "\n")
    keys: set[str] = set()
    in_table = False
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if in_table:
                break
            continue
        in_table = True
        cell = line.split("|")[1].split("(")[0]
        names = re.findall(r"`([^`]+)`", cell)
        if not names or set(cell.strip()) <= {"-"}:
            continue
        if "." in names[0]:
            names = [names[0].split(".")[0]]
        keys.update(n.removesuffix("[]") for n in names)
    return keys


def field_names(*classes: type) -> set[str]:
    import dataclasses

    return {f.name for c in classes for f in dataclasses.fields(c)}


def test_results_doc_lists_every_field_of_the_typed_results() -> None:
    from matchsim.experiment.results import (
        ComparisonRow,
        MembershipResult,
        Results,
        RiskRow,
        SchemeResult,
        SkippedRisk,
    )
    from matchsim.experiment.run import TIMING_KEYS
    from matchsim.experiment.sections import section_keys

    top = (field_names(Results) - {"sections"}) | set(section_keys())
    assert documented("# `results.json` (schema `matchsim.results/1`)") == top
    assert documented("## `schemes[]`") == field_names(SchemeResult, ComparisonRow)
    assert documented("## `membership`") == field_names(MembershipResult)
    assert documented("## `risk[]`") == field_names(RiskRow, SkippedRisk)
    timing = DOC.read_text().split("Timing keys:")[1].split("\n\n")[0]
    import re

    assert set(re.findall(r"`([^`]+)`", timing)) == TIMING_KEYS


def test_results_json_emits_exactly_the_documented_keys(run_dir: Path) -> None:
    from matchsim.experiment.sections import section_keys

    results = json.loads((run_dir / "results.json").read_text())
    optional_top = set(section_keys())
    assert (
        set(results) == documented("# `results.json` (schema `matchsim.results/1`)") - optional_top
    )
    # no reidentify attack here, and no PSI/CLK row
    only_sometimes = {"reidentify_share", "kind", "outsider_can"}
    for row in results["schemes"]:
        assert set(row) == documented("## `schemes[]`") - only_sometimes, row["name"]
    assert set(results["membership"]) == documented("## `membership`")
    for row in results["risk"]:
        assert set(row) == documented("## `risk[]`") - {"skipped"}
