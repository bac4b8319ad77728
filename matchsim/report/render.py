"""Render ``results.json`` into ``report.html`` (self-contained) and ``report.md``.

Jinja2 templates, matplotlib figures embedded as base64 PNG, no network: the HTML opens
from a USB stick in a classroom. Every number shown is read from ``results.json``.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError

from matchsim.errors import InputError
from matchsim.io import output_files, shown
from matchsim.report.figures import FIGURES

RESULTS_FILE = "results.json"
REFERENCE_DEVICE = "RTX 4090"  # prefix of the reference device label


def pct(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{100 * x:.1f} %"


def duration(seconds: float | None) -> str:
    """Human duration: ``0.4 s``, ``3.2 min``, ``5.1 h``, ``12 days``, ``3.4e+05 years``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    if math.isinf(seconds):
        return "never (not enumerable)"
    for limit, unit, div in (
        (120, "s", 1),
        (7200, "min", 60),
        (172_800, "h", 3600),
        (3.15e7 * 2, "days", 86_400),
    ):
        if seconds < limit:
            return f"{seconds / div:.3g} {unit}"
    years = seconds / 3.15576e7
    return f"{years:,.0f} years" if years < 1e6 else f"{years:.2g} years"


def exhaust(cost: dict[str, Any] | None, device: str = REFERENCE_DEVICE) -> str:
    """The cost cell: time on the reference GPU, else measured here, else the reason."""
    if not cost:
        return "—"
    devices = cost.get("devices") or {}
    if cost.get("feasible") and device in devices:
        return duration(devices[device])
    if cost.get("feasible") and "here" in devices:
        return f"{duration(devices['here'])} here (no {device} figure)"
    return str(cost.get("reason") or "—")


def story(results: dict[str, Any]) -> str:
    """One paragraph: what happened in this run, in plain words."""
    exp = results["experiment"]
    pop = results.get("population", {})
    adv = results.get("advertisers", [{}])[0] if results.get("advertisers") else {}
    label = str(adv.get("label", "advertiser"))
    article = "An" if label[:1].lower() in "aeiou" else "A"
    if results.get("schemes"):
        parts = [
            f"{article} {label} ({adv.get('name', 'the advertiser')}) uploaded "
            f"{pop.get('customers', 0):,} customers, normalised under the "
            f"{adv.get('profile', '?')} rules, to a platform of {pop.get('platform_users', 0):,} "
            "users."
        ]
    else:
        parts = [
            f"A platform of {pop.get('platform_users', 0):,} synthetic users and "
            f"{pop.get('customers', 0):,} customers of {article.lower()} {label}."
        ]
    parts += [
        str(results[k]["text"]) for k in ("pixel", "oracle") if results.get(k, {}).get("text")
    ]
    plain = [
        s
        for s in results.get("schemes", [])
        if s.get("phone_share") is not None and not s.get("needs_secret")
    ]
    if plain:
        named = [x for x in plain if x["name"] == "sha256"]
        s = named[0] if named else max(plain, key=lambda x: x["phone_share"] or 0)
        parts.append(
            f"Under {s['label']} the platform matched "
            f"{pct(s['join']['match_rate']) if s.get('join') else '—'} of the list, and an "
            f"attacker holding only the upload recovered {pct(s['phone_share'])} "
            f"of the hashed phone numbers"
            + (
                f" in {duration(s['reverse_seconds'])}"
                if s.get("reverse_seconds") is not None
                else ""
            )
            + " — hashing did not make them anonymous."
        )
    keyed = [s for s in results.get("schemes", []) if s.get("needs_secret")]
    if keyed:
        parts.append(
            "With a secret shared only by advertiser and platform, matching still works but an "
            "outsider's enumeration finds nothing; the platform itself still learns who is a "
            "customer."
        )
    if exp.get("seed") is not None:
        parts.append(f"Seed {exp['seed']}: the same run gives the same numbers.")
    return " ".join(parts)


def _extra_sections(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections contributed by optional stages: a summary, tables of their rows, figures."""
    out = []
    for key, title in (
        ("pixel", "Tracking pixel with advanced matching"),
        ("oracle", "Audience-size oracle"),
        ("psi", "Private set intersection (ECDH)"),
        ("clk", "Bloom-filter linkage (CLK)"),
        ("promises", "What today's platforms promise, tested"),
    ):
        section = results.get(key)
        if not section:
            continue
        summary = section.get("summary", {})
        details = section.get("details", section)
        rows = [(k, _fmt(v)) for k, v in _flatten(summary).items()]
        tables = [
            {"title": name.replace("_", " "), **_table(value)}
            for name, value in details.items()
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ]
        if isinstance(summary.get("tables"), list):  # the section's own compact tables
            rows = [(str(k), str(v)) for k, v in summary.get("verdicts", {}).items()]
            tables = [{"title": t["title"], **_table(t["rows"])} for t in summary["tables"]]
        figures = [(t, base64.b64encode(png).decode()) for t, png in _section_figures(key, details)]
        out.append(
            {
                "title": title,
                "text": section.get("text", ""),
                "rows": rows,
                "tables": tables,
                "figures": figures,
            }
        )
    out.extend(_reidentify_section(results))
    return out


_FIELD_LABELS = {
    "first_name": "first name", "last_name": "last name", "dob": "date of birth",
    "gender": "gender", "postcode": "postcode", "city": "city", "state": "state/province",
    "country": "country", "email": "e-mail", "phone": "phone", "external_id": "customer number",
}  # fmt: skip


def _reidentify_section(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The re-identification attack per scheme: one sentence and a compact table."""
    found = [
        (s, a)
        for s in results.get("schemes", [])
        for a in s.get("attacks", [])
        if a.get("kind") == "reidentify"
    ]
    if not found:
        return []
    rows = []
    for s, a in found:
        if not a.get("feasible"):
            rows.append([s.get("label", s.get("name")), "—", "—", "—", "—", "—"])
            continue
        n = a["rows"] or 1
        rows.append(
            [
                s.get("label", s.get("name")),
                f"{a['reidentified']:,} ({pct(a['reidentified'] / n)})",
                f"{a['ambiguous']:,}",
                f"{a['not_found']:,}",
                f"{a['reidentified_without_email_or_phone']:,}",
                pct(a.get("precision")) if a.get("precision") is not None else "—",
            ]
        )
    tables = [
        {
            "title": "rows named per scheme",
            "columns": [
                "scheme", "re-identified (one match)", "ambiguous (several)", "not found",
                "named without e-mail or phone reversed", "precision",
            ],
            "rows": rows,
        }
    ]  # fmt: skip
    best_s, best = max(
        ((s, a) for s, a in found if a.get("feasible")),
        key=lambda sa: sa[1].get("share") or 0.0,
        default=(None, None),
    )
    text = "No upload could be linked to the register."
    if best_s is not None and best is not None:
        ordered = sorted(best["fields"].items(), key=lambda fv: list(_FIELD_LABELS).index(fv[0])
                         if fv[0] in _FIELD_LABELS else len(_FIELD_LABELS))  # fmt: skip
        reversed_fields = [
            _FIELD_LABELS.get(f, f)
            for f, v in ordered
            if v.get("hashed") and (v.get("share") or 0) > 0.5
        ]
        tables.append(
            {
                "title": f"fields reversed under {best_s.get('label', best_s.get('name'))}",
                "columns": ["field", "share of rows reversed", "candidates in its keyspace"],
                "rows": [
                    [_FIELD_LABELS.get(f, f), pct(v.get("share")), _fmt(v.get("keyspace_size"))]
                    for f, v in ordered
                    if v.get("hashed")
                ],
            }
        )
        text = (
            f"Under {best_s.get('label', best_s.get('name'))} an outsider reversed "
            f"{', '.join(reversed_fields) or 'no field'} and named {pct(best.get('share'))} of "
            f"the upload's rows in a register of {pct(best['register']['coverage'])} of residents "
            f"({best['reidentified_without_email_or_phone']:,} of them although neither their "
            "e-mail nor their phone was reversed)."
        )
        zero = [s.get("label", s.get("name")) for s, a in found if not a.get("reidentified")]
        if zero:
            text += f" Nobody was named under {'; '.join(zero)}."
    return [{"title": "Re-identification of the whole upload", "text": text, "rows": [],
             "tables": tables, "figures": []}]  # fmt: skip


def _label(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("name", "")
    return value


def _table(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Scalar columns of a list of dicts (a nested dict shows by its ``name``)."""
    columns: list[str] = []
    for item in items:
        for k, v in item.items():
            scalar = not isinstance(v, list | dict) or (isinstance(v, dict) and "name" in v)
            if scalar and k not in columns:
                columns.append(k)
    return {
        "columns": [c.replace("_", " ") for c in columns],
        "rows": [[_fmt(_label(item.get(c))) for c in columns] for item in items],
    }


def _section_figures(key: str, section: dict[str, Any]) -> list[tuple[str, bytes]]:
    import importlib

    from matchsim.report.figures import figure_png

    try:
        module = importlib.import_module(f"matchsim.{key}.figures")
    except ImportError:
        return []
    out = []
    for fn in getattr(module, "FIGURES", {}).values():
        try:
            fig = fn(section)
        except (KeyError, ValueError, TypeError):
            continue  # the section lacks what this figure draws
        title = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else fn.__name__
        out.append((title, figure_png(fig)))
    return out


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if k in ("text", "curve", "time_curve") or isinstance(v, list):
            continue
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + " · "))
        else:
            out[name.replace("_", " ")] = v
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def md_neutral(value: Any) -> Any:
    """A string made inert in Markdown: every character Markdown (or the HTML it lets
    through) could act on is backslash-escaped, ``<``/``>``/``&`` become entities, and
    line breaks become spaces, so a value stays inside its table cell or line."""
    if not isinstance(value, str):
        return value
    text = " ".join(value.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _escape_template(name: str | None) -> bool:
    """Autoescape every HTML template (``report.html.j2`` included; Jinja's
    ``select_autoescape(["html"])`` looks only at the last suffix and missed it)."""
    return name is not None and (name.endswith((".html", ".htm", ".xml")) or ".html." in name)


def _environment(finalize: Any = None) -> Environment:
    env = Environment(
        finalize=finalize,
        loader=PackageLoader("matchsim.report", "templates"),
        autoescape=_escape_template,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(pct=pct, duration=duration, exhaust=exhaust)
    return env


def render_report(run_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(Re-)render ``report.html`` and ``report.md`` from ``run_dir/results.json``.

    Raises:
        InputError: the folder has no readable results.json.
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
    except (TypeError, KeyError, ValueError, AttributeError, IndexError, TemplateError) as exc:
        raise InputError(
            shown(path), f"does not have the shape matchsim writes ({shown(exc)})"
        ) from None


RESULTS_SCHEMA = "matchsim.results/1"
_N = (int, float)
_OPT_N = (int, float, type(None))
_OPT_S = (str, type(None))
_OPT_D = (dict, type(None))
_RESULTS_SPEC: dict[str, Any] = {
    "schema": str,
    "matchsim_version": _OPT_S,
    "experiment": {"name": str, "description": _OPT_S, "seed": (int, type(None))},
    "population": {"platform_users": (int, type(None)), "customers": (int, type(None))},
    "advertisers": [{"name": _OPT_S, "label": _OPT_S, "profile": _OPT_S, "share": _OPT_N}],
    "schemes": [
        {
            "name": str,
            "label": str,
            "threat": _OPT_S,
            "learns": _OPT_S,
            "join": {"match_rate": _OPT_N},
            "phone_share": _OPT_N,
            "email_share": _OPT_N,
            "reverse_seconds": _OPT_N,
            "cost": _OPT_D,
            "attacks": [dict],
        }
    ],
    "membership": {
        "advertisers": [{"name": _OPT_S, "label": _OPT_S, "users": int}],
        "sensitive_users": (int, type(None)),
        "sensitive_labels": [str],
    },
    "risk": [
        {
            "qi": [str],
            "records": int,
            "k": _OPT_N,
            "unique_share": _OPT_N,
            "prosecutor_average": _OPT_N,
            "population_unique_share": _OPT_N,
        }
    ],
    "pixel": _OPT_D,
    "oracle": _OPT_D,
    "psi": _OPT_D,
    "clk": _OPT_D,
}
_REQUIRED = ("schema", "experiment")


def _type_name(spec: Any) -> str:
    if isinstance(spec, dict):
        return "an object"
    if isinstance(spec, list):
        return "a list"
    kinds = spec if isinstance(spec, tuple) else (spec,)
    names = {
        str: "text", int: "a number", float: "a number", bool: "true/false",
        dict: "an object", list: "a list", type(None): "null",
    }  # fmt: skip
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _check(value: Any, spec: Any, where: str) -> str | None:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{where} must be {_type_name(spec)}, got {_json_kind(value)}"
        for key, sub in spec.items():
            if key in value:
                problem = _check(value[key], sub, f"{where}.{key}" if where else key)
                if problem:
                    return problem
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{where} must be a list, got {_json_kind(value)}"
        for i, item in enumerate(value):
            problem = _check(item, spec[0], f"{where}[{i}]")
            if problem:
                return problem
        return None
    kinds = spec if isinstance(spec, tuple) else (spec,)
    if isinstance(value, bool) and bool not in kinds:
        return f"{where} must be {_type_name(spec)}, got {_json_kind(value)}"
    if not isinstance(value, kinds):
        return f"{where} must be {_type_name(spec)}, got {_json_kind(value)}"
    if isinstance(value, float) and not math.isfinite(value) and where.endswith("seconds"):
        return None
    return None


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def validate_results(results: Any, path: str | os.PathLike[str] = RESULTS_FILE) -> None:
    """Refuse a results.json that is not what matchsim writes (hand-edited, truncated,
    another version) with one message naming the first wrong key.

    Raises:
        InputError: not an object, a required key missing, an unknown ``schema`` version,
            or a key of the wrong type.
    """
    where = shown(path)
    if not isinstance(results, dict):
        raise InputError(where, f"must hold a JSON object, got {_json_kind(results)}")
    missing = [k for k in _REQUIRED if k not in results]
    if missing:
        raise InputError(where, f"has no {missing[0]!r}; is this a matchsim results.json?")
    schema = results["schema"]
    if schema != RESULTS_SCHEMA:
        raise InputError(
            where,
            f"has schema {shown(schema)!r}; this matchsim reads {RESULTS_SCHEMA!r} "
            "(rerun the experiment with this version)",
        )
    problem = _check(results, _RESULTS_SPEC, "")
    if problem:
        raise InputError(where, problem)


def write_report(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    env = _environment()
    for s in results.get("schemes", []):
        s.setdefault("cost", None)
    figures = []
    for key, (title, draw) in FIGURES.items():
        png = draw(results)
        if png:
            figures.append((key, title, base64.b64encode(png).decode()))
    context = {
        "r": _Attr(results),
        "story": story(results),
        "figures": figures,
        "extra_sections": _extra_sections(results),
        "reference_device": REFERENCE_DEVICE,
    }
    html = env.get_template("report.html.j2").render(**context)
    md = _environment(md_neutral).get_template("report.md.j2").render(**context)
    html_path, md_path = folder / "report.html", folder / "report.md"
    with output_files(html_path, md_path) as (tmp_html, tmp_md):
        tmp_html.write_text(html, encoding="utf-8")
        tmp_md.write_text(md, encoding="utf-8")
    return html_path, md_path


class _Attr(dict):
    """Dict whose keys read as attributes in templates (missing optional keys are None)."""

    def __getattr__(self, key: str) -> Any:
        value = self.get(key)
        if isinstance(value, dict):
            return _Attr(value)
        if isinstance(value, list):
            return [_Attr(v) if isinstance(v, dict) else v for v in value]
        return value
