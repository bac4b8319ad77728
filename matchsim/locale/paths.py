"""Where a country's data lives, without loading the tables (no numba, no Arrow): what
validating an experiment file needs."""

from __future__ import annotations

from pathlib import Path

from matchsim.errors import ConfigError


def data_dir() -> Path:
    """The folder holding matchsim's data tables (installed wheel or source checkout)."""
    pkg = Path(__file__).resolve().parent.parent
    for candidate in (pkg / "_data", pkg.parent / "data"):
        if (candidate / "locales").is_dir():
            return candidate
    raise ConfigError("matchsim's data folder is missing; reinstall matchsim")


def available_countries() -> list[str]:
    """Country codes with a locale folder, upper case."""
    return sorted(p.name.upper() for p in (data_dir() / "locales").iterdir() if p.is_dir())


__all__ = ["available_countries", "data_dir"]
