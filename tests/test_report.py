"""The report layer: renders results.json to HTML/Markdown; the HTML renders in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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
    assert html.count("data:image/png;base64,") == 5  # all five figures drawn
    assert "http://" not in html and "https://" not in html  # self-contained
    assert "| **SHA-256** — WEAK: anyone can enumerate | 55.0 % | 100.0 % | 42.0 % | 3.5 s |" in md
    assert "key unknown: not enumerable" in md
    assert "55 platform users now known to be customers" in md
    assert not list(tmp_path.glob(".*partial"))


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
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium() is None, reason="Chromium not installed (.ci/run installs it)")
def test_report_renders_in_a_real_browser(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(sample_results()))
    html_path, _ = render_report(tmp_path)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,2400",
    ]
    browser = chromium()
    assert browser
    dom = subprocess.run(
        [browser, *flags, "--virtual-time-budget=5000", "--dump-dom", html_path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body, dom[:500]
    assert 'data-images="5/5"' in body.group(0)  # every embedded figure decoded
    assert 'data-errors="0"' in body.group(0)  # no script or console errors
    assert "<title>matchsim report — unit</title>" in dom
    assert len(re.findall(r"<tr>", dom.split('id="schemes"')[1].split("</table>")[0])) == 3
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", html_path.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 20_000  # a real page, not a blank one
