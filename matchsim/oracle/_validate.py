"""Reading a config table with every problem collected, each as ``"location: message"``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from matchsim.errors import ConfigError


class Fields:
    """Typed reads from one TOML table; problems accumulate instead of raising.

    ``finish()`` adds one problem per unknown key and returns the full list.
    """

    def __init__(self, table: Any, where: str) -> None:
        self.where = where
        self.problems: list[str] = []
        self.used: set[str] = set()
        if not isinstance(table, Mapping):
            self.problems.append(f"{where}: must be a table, got {type(table).__name__}")
            table = {}
        self.table: Mapping[str, Any] = table

    def _get(self, key: str) -> tuple[bool, Any]:
        self.used.add(key)
        return (key in self.table), self.table.get(key)

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where}.{key}: {message}")

    def integer(
        self, key: str, default: int, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        present, v = self._get(key)
        if not present:
            return default
        if not isinstance(v, int) or isinstance(v, bool):
            self.problem(key, f"must be an integer, got {v!r}")
            return default
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            lo = "" if minimum is None else f">= {minimum}"
            hi = "" if maximum is None else f"<= {maximum}"
            self.problem(key, f"must be {' and '.join(x for x in (lo, hi) if x)}, got {v}")
            return default
        return v

    def number(
        self,
        key: str,
        default: float,
        minimum: float | None = None,
        maximum: float | None = None,
        *,
        positive: bool = False,
    ) -> float:
        present, v = self._get(key)
        if not present:
            return default
        if not isinstance(v, int | float) or isinstance(v, bool) or math.isnan(v):
            self.problem(key, f"must be a number, got {v!r}")
            return default
        v = float(v)
        if positive and v <= 0:
            self.problem(key, f"must be > 0, got {v}")
            return default
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            self.problem(key, f"must be between {minimum} and {maximum}, got {v}")
            return default
        return v

    def share(self, key: str, default: float) -> float:
        return self.number(key, default, 0.0, 1.0)

    def boolean(self, key: str, default: bool) -> bool:
        present, v = self._get(key)
        if not present:
            return default
        if not isinstance(v, bool):
            self.problem(key, f"must be true or false, got {v!r}")
            return default
        return v

    def string(self, key: str, default: str, choices: Sequence[str] | None = None) -> str:
        present, v = self._get(key)
        if not present:
            return default
        if not isinstance(v, str):
            self.problem(key, f"must be a string, got {v!r}")
            return default
        if choices is not None and v not in choices:
            self.problem(key, f"must be one of {', '.join(choices)}, got {v!r}")
            return default
        return v

    def strings(
        self, key: str, default: Sequence[str], choices: Sequence[str] | None = None
    ) -> tuple[str, ...]:
        present, v = self._get(key)
        if not present:
            return tuple(default)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.problem(key, f"must be a list of strings, got {v!r}")
            return tuple(default)
        bad = [x for x in v if choices is not None and x not in choices]
        if bad:
            self.problem(
                key, f"unknown value(s) {', '.join(bad)}; choose from {', '.join(choices or ())}"
            )
            return tuple(default)
        return tuple(v)

    def numbers(
        self,
        key: str,
        default: Sequence[float],
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> tuple[float, ...]:
        present, v = self._get(key)
        if not present:
            return tuple(default)
        ok = isinstance(v, list) and all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in v
        )
        if not ok:
            self.problem(key, f"must be a list of numbers, got {v!r}")
            return tuple(default)
        out = tuple(float(x) for x in v)
        if any(
            (minimum is not None and x < minimum) or (maximum is not None and x > maximum)
            for x in out
        ):
            self.problem(key, f"every value must be between {minimum} and {maximum}, got {v!r}")
            return tuple(default)
        return out

    def sub(self, key: str) -> Any:
        """The raw value at ``key`` (a nested table or array of tables), or None."""
        _, v = self._get(key)
        return v

    def finish(self) -> list[str]:
        for key in self.table:
            if key not in self.used:
                known = ", ".join(sorted(self.used))
                self.problem(key, f"unknown key; known keys: {known}")
        return self.problems


def raise_problems(problems: Sequence[str]) -> None:
    """Raise one ConfigError with every problem, if there are any."""
    ConfigError.collect(problems)
