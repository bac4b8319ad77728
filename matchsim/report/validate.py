"""What a results.json must look like before a report is drawn from it, and how text is
made inert in Markdown.

A results.json is untrusted input once it sits on disk (hand-edited, truncated, from
another version): :func:`validate_results` refuses it with one message naming the first
wrong key, and :func:`md_neutral` makes every value inert in ``report.md``.
"""

from __future__ import annotations

import os
import re
from typing import Any

from matchsim.errors import InputError
from matchsim.io import shown

RESULTS_FILE = "results.json"


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


RESULTS_SCHEMA = "matchsim.results/1"
_N = (int, float)
_OPT_N = (int, float, type(None))
_OPT_S = (str, type(None))
_OPT_D = (dict, type(None))
_OPT_SHARE = "a share"
"""A number from 0 to 1, or null (a rate, a share of customers or users)."""
_RESULTS_SPEC: dict[str, Any] = {
    "schema": str,
    "matchsim_version": _OPT_S,
    "experiment": {"name": str, "description": _OPT_S, "seed": (int, type(None))},
    "population": {"platform_users": (int, type(None)), "customers": (int, type(None))},
    "advertisers": [{"name": _OPT_S, "label": _OPT_S, "profile": _OPT_S, "share": _OPT_SHARE}],
    "schemes": [
        {
            "name": str,
            "label": str,
            "threat": _OPT_S,
            "learns": _OPT_S,
            "join": {"match_rate": _OPT_SHARE},
            "phone_share": _OPT_SHARE,
            "email_share": _OPT_SHARE,
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
            "unique_share": _OPT_SHARE,
            "prosecutor_average": _OPT_SHARE,
            "population_unique_share": _OPT_SHARE,
        }
    ],
    "pixel": _OPT_D,
    "oracle": _OPT_D,
    "psi": _OPT_D,
    "clk": _OPT_D,
    "who": {
        "parties": [str],
        "rows": [{"scheme": _OPT_S, "label": _OPT_S, "cells": dict}],
        "domain_note": str,
    },
}
_REQUIRED = ("schema", "experiment")

MANIFEST_FILE = "manifest.json"
_MANIFEST_SPEC: dict[str, Any] = {
    "environment": {
        "cpus": (int, type(None)),
        "machine": _OPT_S,
        "platform": _OPT_S,
        "python": _OPT_S,
        "numpy": _OPT_S,
        "pyarrow": _OPT_S,
    },
    "source": _OPT_S,
    "started": _OPT_S,
    "timings": {str: _N},
}
"""The keys of a run's manifest.json that a report shows."""


def _type_name(spec: Any) -> str:
    if isinstance(spec, dict):
        return "an object"
    if isinstance(spec, list):
        return "a list"
    kinds = spec if isinstance(spec, tuple) else (spec,)
    names = {
        str: "text", int: "a number" if float in kinds else "a whole number",
        float: "a number", bool: "true/false", dict: "an object", list: "a list",
        type(None): "null",
    }  # fmt: skip
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _check(value: Any, spec: Any, where: str) -> str | None:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{where} must be {_type_name(spec)}, got {_json_kind(value)}"
        if list(spec) == [str]:  # an object of any keys, each value of one kind
            for key, item in value.items():
                problem = _check(item, spec[str], f"{where}.{shown(key)}")
                if problem:
                    return problem
            return None
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
    if spec is _OPT_SHARE:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            return f"{where} must be a share from 0 to 1 or null, got {_json_kind(value)}"
        return None
    kinds = spec if isinstance(spec, tuple) else (spec,)
    if isinstance(value, bool) and bool not in kinds:
        return f"{where} must be {_type_name(spec)}, got {_json_kind(value)}"
    if not isinstance(value, kinds):
        return f"{where} must be {_type_name(spec)}, got {_json_kind(value)}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return f"{where} is out of range, got {_json_kind(value)}"
    return None


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return shown(repr(value))  # the number itself: "got 1.5", "got -1e+308"
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


def validate_manifest(manifest: Any, path: str | os.PathLike[str] = MANIFEST_FILE) -> None:
    """Refuse a run's manifest.json that a report cannot show (hand-edited, truncated)
    with one message naming it and its first wrong key.

    Raises:
        InputError: not an object, or a key the report shows of the wrong type.
    """
    where = shown(path)
    if not isinstance(manifest, dict):
        raise InputError(where, f"must hold a JSON object, got {_json_kind(manifest)}")
    problem = _check(manifest, _MANIFEST_SPEC, "")
    if problem:
        raise InputError(where, problem)
