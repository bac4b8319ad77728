"""Every shipped experiment's report, and the demo's, opened in a real Chromium.

Drives Debian's system Chromium through Playwright (``executable_path``; Playwright never
downloads a browser here). Each experiment runs once per module on a small seeded
population, scaled down from its shipped file (and without the attacks whose cost does not
shrink with the population: the US plan's and the slow schemes' full phone enumerations);
then each report is checked at a laptop width (1280 px) and a phone width (390 px): no
horizontal overflow, no console errors, every image decoded and described, the headline
first under the title, no raw key as a table header. Screenshots are kept under the
test's tmp dir for a human to look at.
"""

from __future__ import annotations

import copy
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="system Chromium not installed (.ci/run installs Debian's chromium)"
)

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))
WIDTHS = (1280, 390)
# phone enumeration whose cost is the keyspace, not the population: the US plan, and the
# catalogue's unfused algorithms (schemes-compared) — minutes each, whatever the list size
NO_PHONE_ATTACK = {"us-retailer", "schemes-compared"}
# sections each report must show (and, for the risk section, must not show)
EXPECTED = {
    "demo": {"match", "reversal", "cost", "membership", "risk", "who"},
    "nl-health-insurer": {"match", "reversal", "reidentify", "cost", "membership", "risk", "who"},
    "nl-insurer-pixel": {"pixel"},
    "platform-promises": {"promises"},
    "normalisation-mismatch": {"match", "membership", "risk", "who"},
    "schemes-compared": {"match", "reversal", "membership", "risk", "psi", "clk", "who"},
    "size-oracle": {"oracle-phone", "oracle-differencing"},
    "us-retailer": {"match", "reversal", "membership", "risk", "who"},
}


def small(tree: dict[str, Any]) -> dict[str, Any]:
    """The experiment on a small population, cheap attacks, same seed and sections."""
    tree = copy.deepcopy(tree)
    pop = tree.setdefault("population", {})
    # the slow KDFs make the platform hash each of its own users at their cost too
    kdfs = tree.get("name") == "schemes-compared"
    pop["platform_users"], pop["customers"] = (500, 100) if kdfs else (3_000, 600)
    if tree.get("name") in NO_PHONE_ATTACK:
        tree["attacks"] = [a for a in tree.get("attacks", []) if a.get("kind") != "phone"]
    for a in tree.get("attacks", []):
        if "guesses" in a:
            a["guesses"] = 20_000
    if "promises" in tree:
        tree["promises"].update(pool=300, targets=6, dp_trials=500, pair_list=60)
    if "pixel" in tree:
        tree["pixel"]["visitors"] = 600
    if "oracle" in tree:
        tree["oracle"].update(
            victims=3, website_victims=3, pool=300, differencing_targets=20, max_days=60
        )
        tree["oracle"]["differencing_repeats"] = [1, 16]
    return tree


def demo_tree() -> dict[str, Any]:
    from matchsim.cli.cmd_demo import DEMO_EXPERIMENT

    return dict(DEMO_EXPERIMENT)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> run folder, for the demo and every shipped experiment (built once)."""
    from matchsim.experiment import parse_experiment, run_experiment

    root = tmp_path_factory.mktemp("reports")
    trees = [demo_tree()] + [tomllib.loads(p.read_text()) for p in EXPERIMENTS]
    out = {}
    for tree in trees:
        name = str(tree["name"])
        folder = root / name
        run_experiment(parse_experiment(small(tree)), folder, measure_costs=name == "demo")
        out[name] = folder
    return out


@pytest.fixture(scope="module")
def browser() -> Any:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def test_every_shipped_experiment_is_covered() -> None:
    assert {p.stem for p in EXPERIMENTS} | {"demo"} == set(EXPECTED)


CHECK = """() => {
  const h1 = document.querySelector("h1");
  const first = h1 && h1.nextElementSibling;
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    h1Count: document.querySelectorAll("h1").length,
    firstId: first ? first.id : null,
    firstText: first ? first.textContent.trim() : "",
    images: Array.from(document.images).map(i => ({
      alt: i.getAttribute("alt") || "", ok: i.complete && i.naturalWidth > 0,
      width: i.getBoundingClientRect().width })),
    headers: Array.from(document.querySelectorAll("th")).map(t => t.textContent),
    sections: Array.from(document.querySelectorAll("section[id^=section-]"))
      .map(s => s.id.slice(8)),
    flagged: document.body.getAttribute("data-errors"),
  };
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_report_reads_in_chromium(
    reports: dict[str, Path], browser: Any, name: str, width: int, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((reports[name] / "report.html").as_uri())
    page.wait_for_load_state("load")
    got = page.evaluate(CHECK)
    shot = tmp_path / f"{name}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()

    assert got["scrollWidth"] <= got["innerWidth"], f"{name} overflows at {width} px"
    assert errors == [] and got["flagged"] == "0"
    assert got["h1Count"] == 1
    assert got["firstId"] == "headline" and len(got["firstText"]) > 60
    assert any(ch.isdigit() for ch in got["firstText"])  # the finding, with its numbers
    images = got["images"]
    assert images, "every report has at least one figure"
    for img in images:
        assert img["ok"] and len(img["alt"]) > 20, img["alt"]
        assert img["width"] <= width
    assert not [h for h in got["headers"] if "_" in h]
    shown = set(got["sections"])
    assert EXPECTED[name] <= shown, shown
    if "risk" not in EXPECTED[name]:
        assert "risk" not in shown  # only configured sections
    assert {"method"} <= shown
    assert shot.stat().st_size > 20_000


def test_markdown_carries_headline_verdict_and_answers(reports: dict[str, Path]) -> None:
    for name, folder in reports.items():
        md = (folder / "report.md").read_text()
        html = (folder / "report.html").read_text()
        lines = md.splitlines()
        assert lines[0] == f"# matchsim report — {name}"
        assert lines[2].startswith("**") and lines[2].endswith("**")
        answers = html.count('<p class="answer">')
        assert md.count("\n## ") >= answers  # every section's answer, plus Method
        if 'id="verdict"' in html:
            assert "## Verdict" in md
