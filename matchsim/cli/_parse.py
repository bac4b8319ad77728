"""Parsers of option values given as text: each raises ConfigError naming the option."""

from __future__ import annotations

import contextlib
from typing import Any

from matchsim.errors import ConfigError


def parse_int(option: str, text: str, minimum: int = 0) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise ConfigError(f"{option} must be an integer, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{option} must be >= {minimum}, got {value}")
    return value


def parse_positive(option: str, text: str) -> int:
    return parse_int(option, text, 1)


def parse_share(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{option} must be a number between 0 and 1, got {text!r}") from None
    if not 0 <= value <= 1:
        raise ConfigError(f"{option} must be between 0 and 1, got {text}")
    return value


def parse_country(option: str, text: str) -> str:
    """A country matchsim has a locale for, upper-cased."""
    from matchsim.io import shown
    from matchsim.locale.tables import available_countries

    known = available_countries()
    if text.strip().upper() not in known:
        raise ConfigError(f"unknown {option} {shown(text)!r}; available: {', '.join(known)}")
    return text.strip().upper()


def parse_all(*checks: tuple[str, Any, str | None]) -> dict[str, Any]:
    """Parse several option values, reporting every bad one at once.

    Each check is ``(option, parse, text)``; ``parse(option, text)`` raises ConfigError.
    A None ``text`` (option not given) parses to None. Returns option -> value.
    """
    problems: list[str] = []
    values: dict[str, Any] = {}
    for option, parse, text in checks:
        try:
            values[option] = None if text is None else parse(option, text)
        except ConfigError as exc:
            problems.extend(exc.problems)
    ConfigError.collect(problems)
    return values


def scheme_params(items: list[str] | None) -> dict[str, Any]:
    """``--param name=value`` items as scheme parameters (integers where they read as one).

    Raises:
        ConfigError: every malformed item, or one that names a secret (secrets come only
            from ``--key-file``/``--key-env``).
    """
    params: dict[str, Any] = {}
    problems = []
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key:
            problems.append(f"--param must look like name=value, got {item!r}")
            continue
        key = key.strip().replace("-", "_")
        if key in ("key", "secret", "pepper", "salt_secret", "hmac_key"):
            problems.append(f"--param {key}: secrets come only from --key-file or --key-env")
            continue
        if key == "salt":
            problems.append(
                "--param salt: a shared salt is a secret; give it with --key-file or --key-env "
                "(without one the KDF schemes use their documented public salt)"
            )
            continue
        value: Any = text
        with contextlib.suppress(ValueError):
            value = int(text.replace("_", ""))
        params[key] = value
    ConfigError.collect(problems)
    return params


def parse_lengths(text: str | None) -> tuple[int, ...] | None:
    """``--lengths 9,10`` as national-number lengths (None: not given)."""
    if not text:
        return None
    return tuple(parse_int("--lengths", x, 1) for x in text.split(","))
