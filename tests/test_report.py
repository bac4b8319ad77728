"""The report layer: renders results.json to HTML/Markdown; the HTML renders in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from matchsim.errors import InputError
from matchsim.report import render_report
from matchsim.report.render import duration


def sample_results() -> dict[str, Any]:
    curve = [[0.01, 0.1], [0.1, 0.5], [1.0, 1.0]]
    return {
        "schema": "matchsim.results/1",
        "matchsim_version": "0.1.0",
        "experiment": {
            "name": "unit",
            "description": "A hand-built result.",
            "seed": 3,
            "region": "NL",
        },
        "population": {"platform_users": 1000, "customers": 100, "customers_on_platform": 60},
        "advertisers": [
            {"name": "Insurer", "label": "health insurer", "sensitive": True, "profile": "meta"}
        ],
        "schemes": [
            {
                "name": "sha256",
                "label": "SHA-256",
                "threat": "WEAK: anyone can enumerate",
                "needs_secret": False,
                "join": {"match_rate": 0.55},
                "phone_share": 1.0,
                "email_share": 0.42,
                "reverse_seconds": 3.5,
                "cost": {
                    "feasible": True,
                    "reason": None,
                    "devices": {"here": 3.3, "RTX 4090": 0.0027},
                },
                "learns": "who is a customer",
                "attacks": [
                    {"kind": "phone", "time_curve": curve},
                    {"kind": "email", "curve": [[1, 0.0], [1000, 0.2], [10**6, 0.42]]},
                ],
            },
            {
                "name": "hmac-sha256",
                "label": "HMAC-SHA256",
                "threat": "needs the shared key",
                "needs_secret": True,
                "join": {"match_rate": 0.55},
                "phone_share": 0.0,
                "email_share": 0.0,
                "reverse_seconds": None,
                "cost": {"feasible": False, "reason": "key unknown: not enumerable", "devices": {}},
                "learns": "who is a customer",
                "attacks": [],
            },
        ],
        "membership": {
            "advertisers": [
                {"name": "Insurer", "label": "health insurer", "users": 55, "sensitive": True}
            ],
            "sensitive_users": 55,
            "sensitive_labels": ["health insurer"],
        },
        "risk": [
            {
                "qi": ["postcode", "dob", "gender"],
                "records": 100,
                "k": 1,
                "unique_share": 0.97,
                "prosecutor_average": 0.98,
                "population_unique_share": 0.9,
                "class_size_histogram": [[1, 97], [2, 3]],
            },
        ],
    }


def test_renders_html_and_markdown(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(sample_results()))
    html_path, md_path = render_report(tmp_path)
    html = html_path.read_text()
    md = md_path.read_text()
    assert "<title>matchsim report — unit</title>" in html
    # six figures (match, reversal, time curve, guesswork, cost, class sizes), each drawn
    # for a laptop and for a phone, each with alt text that states a finding
    assert html.count("<img ") == 6
    assert html.count("data:image/png;base64,") == 12
    assert len(re.findall(r'<img src="data:image/png;base64,[^"]+" alt="[^"]{20,}">', html)) == 6
    assert "http://" not in html and "https://" not in html  # self-contained
    verdict = (
        "| **SHA-256** | 55.0 % of the list | Yes: 100 % of phones, 42.0 % of e-mails "
        "| 3.5 s here; 2.7 ms to try every number on an RTX 4090 | who is a customer |"
    )
    assert verdict in md
    assert "| **HMAC-SHA256** | 55.0 % of the list | No: nothing recovered " in md
    assert "key unknown: not enumerable" in md
    assert "The platform now knows that 55 of its 1,000 users (5.5 %) are customers" in md
    # the same headline leads both files
    headline = md.split("\n")[2].strip("*")
    assert headline.startswith("Hashing did not make the list anonymous: under SHA-256, the ")
    assert (
        html.split("<h1>", 1)[1]
        .split("</p>", 1)[0]
        .endswith(
            headline.replace(" %", "\u00a0%").replace(" s ", "\u00a0s ").replace(" ms", "\u00a0ms")
        )
    )
    assert not list(tmp_path.glob(".*partial"))


def test_untrusted_text_is_escaped_everywhere(tmp_path: Path) -> None:
    results = sample_results()
    evil = "<script>alert(1)</script>"
    results["experiment"]["name"] = evil
    results["experiment"]["description"] = 'An insurer\'s list, "quoted" <b>bold</b>'
    results["schemes"][0]["label"] = evil
    results["oracle"] = {"text": evil, "summary": {evil: evil}, "details": {}}
    results["novel"] = {"text": evil, "summary": {"a_b": 1}, "details": {"rows": [{evil: evil}]}}
    (tmp_path / "results.json").write_text(json.dumps(results))
    html_path, md_path = render_report(tmp_path)
    for text in (html_path.read_text(), md_path.read_text()):
        assert evil not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;b&gt;bold&lt;/b&gt;" in text and "<b>" not in text
    # Markdown keeps "<" and "&" escaped, so quotes can read plainly in a memo
    assert 'An insurer\'s list, "quoted"' in md_path.read_text()


def test_only_configured_sections_appear() -> None:
    from matchsim.report.sections import SECTIONS, configured

    results = sample_results()
    assert configured(results) == ["schemes", "membership", "risk"]
    del results["risk"]
    results["membership"] = {}  # an empty section is not a section
    results["zeta"] = {"text": "new"}
    results["alpha"] = {"text": "new"}
    assert configured(results) == ["schemes", "alpha", "zeta"]
    assert list(SECTIONS)[:3] == ["schemes", "pixel", "oracle"]


def test_an_unknown_section_renders_generically(tmp_path: Path) -> None:
    results = sample_results()
    results["reidentify"] = {
        "text": "An attacker re-identified 12.5 % of the list.",
        "summary": {"people_found": 1234, "share_found": 0.125, "seconds": 0.0027},
        "details": {"by_field": [{"field_name": "dob", "share_found": 0.5}]},
    }
    (tmp_path / "results.json").write_text(json.dumps(results))
    html = render_report(tmp_path)[0].read_text()
    section = html.split('id="section-reidentify"', 1)[1].split("</section>", 1)[0]
    assert "<h2>Reidentify</h2>" in section
    assert "An attacker re-identified 12.5\u00a0% of the list." in section
    assert ">People found<" in section and ">1,234<" in section
    assert ">12.5\u00a0%<" in section and ">2.7\u00a0ms<" in section
    assert "<details>" in section and ">Field name<" in section
    assert not re.search(r"<th[^>]*>[^<]*_[^<]*</th>", html)


def test_no_risk_section_without_a_list() -> None:
    from matchsim.experiment import parse_experiment

    base = {
        "version": 1,
        "name": "x",
        "seed": 1,
        "population": {"platform_users": 100, "customers": 10},
    }
    assert parse_experiment({**base, "oracle": {}}).qi_sets == ()
    listed = {**base, "schemes": [{"name": "sha256"}]}
    assert parse_experiment(listed).qi_sets == (("postcode", "dob", "gender"),)


def test_missing_results_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no results\.json here"):
        render_report(tmp_path)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0.4 s"),
        (300, "5 min"),
        (7200 * 3, "6 h"),
        (86_400 * 10, "10 days"),
        (3.15576e7 * 50, "50 years"),
        (float("inf"), "never (not enumerable)"),
        (0.00273, "2.7 ms"),
        (0.0000025, "2.5 µs"),
        (0.0000999, "100 µs"),
        (24.612, "25 s"),
        (133.4, "2.2 min"),
        (3.15576e7 * 3.4e6, "3.4 million years"),
        (0, "0 s"),
        (None, "—"),
    ],
)
def test_duration(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_humanisers_known_answers() -> None:
    from matchsim.report.humanise import big, count, days, label, share, size, value

    assert count(1234567) == "1,234,567"
    assert count(506.3) == "506"
    assert count(None) == "—"
    assert big(60_000_000) == "60 million"
    assert big(2.9e9) == "2.9 billion"
    assert big(97_366_806_680) == "97.4 billion"
    assert share(0.8821) == "88.2 %"
    assert share(0) == "0 %" and share(1) == "100 %"
    assert size(387_840) == "379 KB"
    assert days(0) == "same day" and days(366) == "366 days" and days(5873) == "16 years"
    assert label("non_user_medical_observed_share") == "Non user medical observed share"
    assert label("fpr") == "False-positive rate"
    assert value(0.125, "share_found") == "12.5 %"
    assert value(0.0027, "seconds") == "2.7 ms"
    assert value(2048, "bytes_total") == "2 KB"
    assert value(True) == "yes"


def test_keep_units_binds_numbers_to_units() -> None:
    from matchsim.report.render import keep_units

    assert keep_units("88.2 % in 25 s, 2.7 ms and 60 million") == (
        "88.2\u00a0% in 25\u00a0s, 2.7\u00a0ms and 60\u00a0million"
    )
    assert keep_units("2 schemes") == "2 schemes"


def test_oracle_policies_in_words() -> None:
    from matchsim.report.sections import policy_words

    assert policy_words({"granularity": 10, "floor": 20}) == (
        "rounded to 10, nothing shown below 20"
    )
    assert policy_words({"customer_lists": False}) == "no size estimates for customer lists"
    assert policy_words({"granularity": 1, "floor": 1000, "ranges": 2.0}) == (
        "ranges ×2 from 1,000"
    )
    assert (
        policy_words(
            {
                "noise": "laplace",
                "epsilon": 0.5,
                "budget": 5.0,
                "queries_per_period": 10,
                "period": "day",
                "granularity": 1,
                "floor": 0,
            }
        )
        == "laplace noise (ε = 0.5), 10 queries per day"
    )
    assert policy_words({"granularity": 1, "floor": 0}) == "exact counts"


def test_email_only_attack_reads_without_phones() -> None:
    from matchsim.report.sections import render_schemes

    results = sample_results()
    plain = results["schemes"][0]
    plain["phone_share"], plain["reverse_seconds"] = None, None
    plain["attacks"] = [{"kind": "email", "share": 0.42, "seconds": 0.0031, "curve": []}]
    part = render_schemes(results)
    reversal = next(s for s in part.sections if s.key == "reversal")
    assert reversal.answer == (
        "Yes, under SHA-256: up to 42.0 % of the e-mails; nothing under HMAC-SHA256."
    )
    assert part.verdict is not None
    row = part.verdict.rows[0]
    assert [c.text for c in row[2:4]] == ["Yes: 42.0 % of e-mails", "3.1 ms here"]
    assert row[2].tone == row[3].tone == "bad"


def test_reidentify_and_promises_sections(tmp_path: Path) -> None:
    results = sample_results()
    results["schemes"][0]["attacks"].append(
        {
            "kind": "reidentify",
            "feasible": True,
            "rows": 100,
            "reidentified": 80,
            "ambiguous": 5,
            "not_found": 15,
            "reidentified_without_email_or_phone": 12,
            "precision": 1.0,
            "share": 0.8,
            "register": {"coverage": 0.9},
            "fields": {
                "dob": {"hashed": True, "share": 0.99, "keyspace_size": 36_500},
                "postcode": {"hashed": True, "share": 0.2, "keyspace_size": 4_000_000},
            },
        }
    )
    results["schemes"][1]["attacks"].append(
        {"kind": "reidentify", "feasible": True, "rows": 100, "reidentified": 0, "share": 0.0}
    )
    results["promises"] = {
        "text": "An ordinary advertiser account broke 1 of 2 product promises in simulation.",
        "summary": {
            "tables": [
                {
                    "title": "per product",
                    "rows": [
                        {"Product": "Clean room", "Promise": "min 50", "Verdict": "broken",
                         "Time": "3 days", "Members learned": "100 %"},
                        {"Product": "DP API", "Promise": "eps 1", "Verdict": "holds",
                         "Time": "1 year", "Members learned": "0 %"},
                    ],
                },
                {"title": "who can re-identify", "rows": [{"Scheme": "sha256", "platform": "yes"}]},
            ],
            "verdicts": {"Clean room": "broken"},
        },
        "details": {},
    }  # fmt: skip
    (tmp_path / "results.json").write_text(json.dumps(results))
    html, md = (p.read_text() for p in render_report(tmp_path))
    assert (
        "Under SHA-256, an outsider reversed date of birth and named 80.0 % of the upload's rows "
        "in a register of 90.0 % of residents (12 of them although neither their e-mail nor "
        "their phone was reversed). Nobody was named under HMAC-SHA256."
    ) in md
    assert 'id="section-reidentify"' in html and 'id="section-promises"' in html
    assert "| **Clean room** | min 50 | broken | 3 days | 100 % |" in md
    # the schemes' verdict leads; the promises' products are among the protections
    assert md.index("## Verdict") < md.index("Does the platform still match")
    assert "| **DP API** | held: eps 1 | members learned: 0 % |" in md


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (7194.0, "2 h"),  # 119.9 min rounds to 120: the next unit, not "120 min"
        (0.0009999, "1 ms"),  # not "1,000 µs"
        (-1.0, "—"),  # a negative span is nothing measured, not "0 s"
        (float("-inf"), "—"),
        (float("nan"), "—"),
        (float("inf"), "never (not enumerable)"),
    ],
)
def test_duration_picks_its_unit_after_rounding(seconds: float, text: str) -> None:
    from matchsim.report.humanise import duration

    assert duration(seconds) == text


def test_shares_and_counts_never_overclaim() -> None:
    from matchsim.report.humanise import big, count, share

    assert share(0.99999) == "99.9 %"  # not "100.0 %": someone was not recovered
    assert share(0.00001) == "< 0.1 %"  # not "0.0 %": someone was
    assert share(1.0) == "100 %" and share(0.0) == "0 %"
    assert share(float("nan")) == share(-0.05) == count(float("inf")) == big(float("nan")) == "—"
    assert big(999_999_999.9) == "1 billion"
