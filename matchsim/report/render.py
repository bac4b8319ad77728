"""Render ``results.json`` into ``report.html`` (one self-contained file) and ``report.md``.

The report reads as a short article: the title; a headline (the finding, with its key
numbers); a verdict table (one row per scheme or policy, plain questions as columns);
one section per question the experiment asked (a one-sentence answer, one figure, one
compact table, the detailed tables collapsed); "What would have protected them"; and
"Method and reproducibility". The sections come from :mod:`matchsim.report.sections`,
one renderer per results.json section (see its docstring to add one); only the sections
present in results.json appear.

Jinja2 templates with autoescaping on for every template (nothing in results.json is
trusted: an experiment name ``<script>…`` prints as text); matplotlib figures embedded as
base64 PNG at two widths, no network: the HTML opens from a USB stick in a classroom.
Every number shown is read from ``results.json``; the hardware and versions behind the
timings come from the run's ``manifest.json`` when it is there.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError
from markupsafe import Markup

from matchsim.errors import InputError
from matchsim.io import output_files, shown
from matchsim.report import sections as S
from matchsim.report.humanise import DASH, count, duration, share
from matchsim.report.validate import (
    MANIFEST_FILE,
    RESULTS_SCHEMA,
    md_neutral,
    validate_manifest,
    validate_results,
)

RESULTS_FILE = "results.json"
REFERENCE_DEVICE = S.REFERENCE_DEVICE

__all__ = [
    "RESULTS_FILE",
    "RESULTS_SCHEMA",
    "duration",
    "pct",
    "render_report",
    "validate_results",
    "write_report",
]


def pct(x: float | None) -> str:
    """A share as a percentage with one decimal (kept for callers of the old API)."""
    return share(x)


@dataclass
class Article:
    title: str
    description: str
    headline: str
    verdict: S.Table | None
    sections: list[S.Section]
    mitigations: S.Table | None
    method: list[tuple[str, str]]
    footer: str
    md_answers: list[tuple[str, str]] = field(default_factory=list)


def _fallback_headline(results: dict[str, Any]) -> str:
    pop = results.get("population") or {}
    return (
        f"A simulated platform of {count(pop.get('platform_users'))} users and "
        f"{count(pop.get('customers'))} customers; this run measured no attack."
    )


def _method(results: dict[str, Any], manifest: dict[str, Any] | None) -> list[tuple[str, str]]:
    exp = results.get("experiment") or {}
    pop = results.get("population") or {}
    ads = results.get("advertisers") or []
    platform = results.get("platform") or {}
    man = manifest or {}
    env = man.get("environment") or {}
    source = man.get("source")
    if exp.get("name") == "demo" and not source:
        rerun = "matchsim demo --no-pause"
    elif source:
        rerun = f"matchsim run {source}"
    else:
        rerun = "matchsim run EXPERIMENT.toml (the experiment is recorded in manifest.json)"
    simulated = (
        f"A synthetic population: {count(pop.get('platform_users'))} platform users and "
        f"{count(pop.get('customers'))} customers"
        + (f" ({pop.get('country')})" if pop.get("country") else "")
        + ", with known ground truth (evaluation reads it; no attack or join does)."
    )
    if ads:
        a = ads[0]
        simulated += (
            f" The advertiser ({a.get('name')}, a {a.get('label')}) normalises and hashes under "
            f"the {a.get('profile')} rules"
            + (
                f"; the platform joins under the {platform['profile']} rules."
                if platform.get("profile")
                else "."
            )
        )
    assumed = (
        "The outsider holds only the upload. Phone numbers are enumerated over the whole "
        "number plan libphonenumber allows for the region; e-mails are guessed from the name, "
        "pattern and domain tables that matchsim ships for the country, the same tables the "
        "synthetic people were drawn from (an informed attacker). GPU times are the keyspace "
        f"divided by published hashcat rates ({REFERENCE_DEVICE}, H100, A100), not measured."
    )
    if env:
        hardware = (
            f"Times marked \u201chere\u201d or \u201cthis machine\u201d were measured on "
            f"{env.get('cpus', '?')} CPU cores ({env.get('machine', '?')}, "
            f"{env.get('platform', '?')}), possibly shared with other work."
        )
        versions = (
            f"matchsim {results.get('matchsim_version', DASH)}, Python {env.get('python', '?')}, "
            f"numpy {env.get('numpy', '?')}, pyarrow {env.get('pyarrow', '?')}"
        )
    else:
        hardware = "Not recorded: this report was rendered without the manifest.json of the run."
        versions = f"matchsim {results.get('matchsim_version', DASH)}"
    rows = [
        ("Seed", f"{exp.get('seed', DASH)}: the same seed gives the same numbers, except timings."),
        ("Rerun", rerun),
        ("Software", versions),
        ("What was simulated", simulated),
        ("What was assumed", assumed),
        ("Hardware behind the timings", hardware),
    ]
    if man.get("started"):
        took = sum(float(v) for v in (man.get("timings") or {}).values())
        rows.append(("Run", f"started {man['started']}, {duration(took)} of stages"))
    return rows


def build_article(results: dict[str, Any], manifest: dict[str, Any] | None = None) -> Article:
    """The report's content, before any markup: every string here is plain text."""
    exp = results.get("experiment") or {}
    parts = S.contributions(results)
    headline = next((c.headline for c in parts if c.headline), "") or _fallback_headline(results)
    verdict = next((c.verdict for c in parts if c.verdict is not None), None)
    mitigation_rows = [row for c in parts for row in c.mitigations]
    mitigations = (
        S.Table(["Measure", "What it stopped", "What it did not stop"], mitigation_rows)
        if mitigation_rows
        else None
    )
    sections = [s for c in parts for s in c.sections]
    footer = (
        f"Generated by matchsim {results.get('matchsim_version', DASH)} from results.json, "
        f"seed {exp.get('seed', DASH)}. Every number on this page is in results.json of the "
        "run folder."
    )
    return Article(
        title=f"matchsim report — {exp.get('name', DASH)}",
        description=str(exp.get("description") or ""),
        headline=headline,
        verdict=verdict,
        sections=sections,
        mitigations=mitigations,
        method=_method(results, manifest),
        footer=footer,
    )


def _environment(markdown: bool = False) -> Environment:
    # autoescape=True for every template (.html.j2 and .md.j2 alike): results.json is
    # untrusted, and Markdown viewers render inline HTML too. In Markdown every value is
    # also made inert (md_neutral: no link, emphasis or table break can be injected);
    # what the templates' own macros return is already Markup and passes as it is.
    return Environment(
        loader=PackageLoader("matchsim.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_md_final if markdown else None,
    )


def _md_final(value: Any) -> Any:
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return Markup(md_neutral(value))


_UNIT = re.compile(
    r"(\d) (?=(?:%|ms|µs|s|min|h|days|years|points|million|billion|trillion|KB|MB|GB|bytes)(?!\w))"
)


def keep_units(text: str) -> str:
    """A number and its unit never split over two lines (``88.2 %``: a no-break space)."""
    return _UNIT.sub("\\1\u00a0", str(text))


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_report(run_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(Re-)render ``report.html`` and ``report.md`` from ``run_dir/results.json``.

    Raises:
        InputError: the folder has no readable results.json, or it is not one matchsim
            writes (:func:`~matchsim.report.validate.validate_results`); its
            manifest.json is there but not one a report can show (named as the file).
    """
    folder = Path(run_dir)
    path = folder / RESULTS_FILE
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            shown(folder), "no results.json here; is this a matchsim run folder?"
        ) from None
    except IsADirectoryError:
        raise InputError(shown(path), "is a folder, not a file") from None
    except (OSError, ValueError) as exc:
        raise InputError(shown(path), f"cannot be read ({shown(exc)})") from None
    validate_results(results, path)
    try:
        return write_report(results, folder)
    except (
        TypeError, KeyError, ValueError, AttributeError, IndexError, OverflowError, TemplateError
    ) as exc:  # fmt: skip
        raise InputError(
            shown(path), f"does not have the shape matchsim writes ({shown(exc)})"
        ) from None


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    """The run's manifest.json, checked; None where the folder has none.

    Raises:
        InputError: it is there but cannot be read, or a key the report shows is of
            the wrong type (:func:`~matchsim.report.validate.validate_manifest`).
    """
    path = folder / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise InputError(shown(path), "is a folder, not a file") from None
    except (OSError, ValueError) as exc:
        raise InputError(shown(path), f"cannot be read ({shown(exc)})") from None
    validate_manifest(data, path)
    return dict(data)


def write_report(
    results: dict[str, Any], folder: Path, manifest: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` into ``folder`` (each whole or not at all).

    Args:
        results: the run's results.json content.
        folder: the run folder.
        manifest: the run's manifest (versions, hardware); read from ``folder`` if omitted.
    """
    env, md_env = _environment(), _environment(markdown=True)
    article = build_article(results, manifest if manifest is not None else _read_manifest(folder))
    env.filters["md"] = _md_cell
    env.filters["nb"] = keep_units
    md_env.filters["md"] = str  # md_env's finalize neutralises every value already
    md_env.filters["nb"] = keep_units
    html = env.get_template("report.html.j2").render(a=article)
    md = md_env.get_template("report.md.j2").render(a=article)
    html_path, md_path = folder / "report.html", folder / "report.md"
    with output_files(html_path, md_path) as (tmp_html, tmp_md):
        tmp_html.write_text(html, encoding="utf-8")
        tmp_md.write_text(md, encoding="utf-8")
    return html_path, md_path
