"""The who-can-re-identify matrix of a run: its numbers are the run's own join and attacks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from matchsim.experiment import parse_experiment, run_experiment
from matchsim.psi.who import RUN_PARTIES, run_matrix
from matchsim.report.sections import render_who
from matchsim.schemes import SCHEMES


def tree() -> dict[str, Any]:
    return {
        "version": 1,
        "name": "who",
        "seed": 5,
        "population": {
            "platform_users": 3_000,
            "customers": 600,
            "country": "NL",
            "overlap": 0.6,
        },
        "advertiser": {"name": "Insurer", "label": "health insurer", "sensitive": True,
                       "profile": "meta"},
        "platform": {"profile": "meta"},
        "schemes": [{"name": "sha256"}, {"name": "hmac-sha256"}],
        "attacks": [
            {"kind": "email", "guesses": 20_000},
            {"kind": "reidentify", "coverage": 0.9, "guesses": 20_000},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("who") / "run"
    result = run_experiment(parse_experiment(tree()), out, measure_costs=False)
    return result.results, out


def _by_name(results: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    schemes = {s["name"]: s for s in results["schemes"]}
    rows = {r["scheme"]: r["cells"] for r in results["who"]["rows"]}
    return schemes, rows


def test_one_row_per_scheme_every_party(run: tuple[dict[str, Any], Path]) -> None:
    results, _ = run
    who = results["who"]
    assert [r["scheme"] for r in who["rows"]] == [s["name"] for s in results["schemes"]]
    assert who["parties"] == list(RUN_PARTIES)
    assert all(set(r["cells"]) == set(RUN_PARTIES) for r in who["rows"])
    assert "01/2025" in who["domain_note"] and "not legal advice" in who["domain_note"]


def test_platform_and_outsiders_are_the_runs_own_figures(
    run: tuple[dict[str, Any], Path],
) -> None:
    results, _ = run
    schemes, rows = _by_name(results)
    for name, s in schemes.items():
        cells = rows[name]
        # the platform names every user its join matched, under either scheme
        assert cells["platform"]["people"] == s["join"]["matched_users"] > 0
        assert cells["platform"]["can"] == "yes"
        # the advertiser holds the plaintext of every row it uploaded
        assert cells["advertiser"]["people"] == s["upload"]["rows"] == 600
        # no clean room in this experiment
        assert cells["clean-room operator"]["can"] == "n/a"
        assert cells["clean-room operator"]["people"] is None
        register = next(a for a in s["attacks"] if a["kind"] == "reidentify")
        assert cells["outsider with a register"]["people"] == register["reidentified"]
        assert cells["outsider with a register"]["of"] == register["rows"]
        assert cells["outsider with a register"]["share"] == register["share"]
    assert "key" in rows["hmac-sha256"]["platform"]["needs"]
    assert "key" not in rows["sha256"]["platform"]["needs"]

    # plain SHA-256: the outsider's count is the e-mail attack's recovered rows and time
    email = next(a for a in schemes["sha256"]["attacks"] if a["kind"] == "email")
    assert email["recovered"] > 0
    out = rows["sha256"]["outsider with the upload"]
    assert out["can"] == "yes"
    assert (out["people"], out["of"], out["seconds"]) == (
        email["recovered"],
        email["attempted"],
        email["seconds"],
    )
    assert out["share"] == email["share"]


def test_hmac_outsider_recovers_nothing(run: tuple[dict[str, Any], Path]) -> None:
    results, _ = run
    schemes, rows = _by_name(results)
    email = next(a for a in schemes["hmac-sha256"]["attacks"] if a["kind"] == "email")
    assert email["recovered"] == 0
    out = rows["hmac-sha256"]["outsider with the upload"]
    limit = SCHEMES["hmac-sha256"].outsider_limit()
    assert limit is not None
    assert out["can"] == "no" and out["people"] == 0
    assert out["needs"] == limit.reason
    assert "nothing recoverable" in out["needs"] and "nothing recoverable" in out["cost"]


def test_unattacked_keyed_scheme_reads_the_registry() -> None:
    results = {
        "population": {"customers": 10},
        "schemes": [
            {"name": "hmac-sha256", "label": "HMAC", "attacks": [],
             "join": {"matched_users": 4, "uploaded_rows": 10}},
            {"name": "salted-sha256", "label": "salted", "attacks": [],
             "join": {"matched_users": 0, "uploaded_rows": 10}},
        ],
        "psi": {},
    }  # fmt: skip
    who = run_matrix(results)
    hmac, salted = (r["cells"] for r in who["rows"])
    assert hmac["outsider with the upload"]["can"] == "no"
    assert "nothing recoverable without the key" in hmac["outsider with the upload"]["needs"]
    assert hmac["outsider with a register"]["can"] == "no"
    assert "salt per record" in salted["outsider with the upload"]["needs"]
    assert salted["platform"]["can"] == "no" and salted["platform"]["people"] == 0
    # a PSI section puts an operator in the run: it sees what the match sees
    assert who["clean_room"] is True
    assert hmac["clean-room operator"]["people"] == 4


def test_report_answers_in_one_sentence(run: tuple[dict[str, Any], Path]) -> None:
    results, folder = run
    schemes, _ = _by_name(results)
    (section,) = render_who(results).sections
    assert section.answer.count(". ") == 0 and section.answer.endswith(".")
    assert f"{schemes['sha256']['join']['matched_users']:,}" in section.answer
    assert section.table is not None
    assert section.table.columns[0] == "Scheme"
    assert "Clean-room operator" not in section.table.columns  # no clean room here
    assert any("01/2025" in n for n in section.notes)
    html = (folder / "report.html").read_text()
    assert "Who can re-identify the people on the list?" in html
    assert render_who(copy.deepcopy({"who": {}})).sections == []
