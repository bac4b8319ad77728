"""The one validator: typed reads from a TOML table, every problem collected with its location.

Every table of an experiment file, and every optional section's table (``[pixel]``,
``[oracle]``, ``[promises]``, ...), is read through :class:`Fields`. A read that finds a
problem records ``"location: message"`` and returns the default, so validation walks the
whole file and a user fixes every problem in one go. Locations are ``table.key`` as the
file spells them: the top level is ``experiment`` (``experiment.seed``), every other table
is named by its header (``[population].customers``, ``[population.corruption].email_typo``,
``[[attacks]][0].number_type``, ``[oracle].policies[1].noise``, ``[clk.schema].length``);
the experiment loader prefixes the file (``file: table.key: message``). Wording is one
set for every table:

- ``must be int, got 'x'``, ``must be a number``, ``must be a string``,
  ``must be true or false``, ``must be a list of strings``;
- ``must be >= 1, got 0``, ``must be between 0.0 and 1.0, got 2.0`` (ranges);
- ``must be one of a, b, got 'c'`` (a small fixed choice);
- ``unknown scheme 'x' (known: ...)`` (a name looked up in a registry);
- ``unknown key 'x' (known keys: ...)``, located at the table (a key it does not take).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from matchsim.errors import ConfigError

Check = Callable[[Any], str | None]


class Fields:
    """Typed reads from one TOML table; problems accumulate instead of raising.

    ``finish()`` adds one problem per unknown key and returns the full list. Tables
    nested in this one (:meth:`table`, :meth:`tables`) share its list of problems.
    """

    def __init__(self, table: Any, where: str, problems: list[str] | None = None) -> None:
        self.where = where
        self.problems: list[str] = [] if problems is None else problems
        self.used: set[str] = set()
        if not isinstance(table, Mapping):
            self.problems.append(f"{where}: must be a table, got {type(table).__name__}")
            table = {}
        self.table: Mapping[str, Any] = table

    def _get(self, key: str) -> tuple[bool, Any]:
        self.used.add(key)
        return (key in self.table), self.table.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.table

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where}.{key}: {message}")

    def problem_here(self, message: str) -> None:
        """A problem of the table as a whole (``[[schemes]][1]: ...``)."""
        self.problems.append(f"{self.where}: {message}")

    def _checked(self, key: str, value: Any, default: Any, check: Check | None) -> Any:
        problem = check(value) if check is not None else None
        if problem:
            self.problem(key, problem)
            return default
        return value

    def integer(
        self,
        key: str,
        default: int,
        minimum: int | None = None,
        maximum: int | None = None,
        *,
        check: Check | None = None,
    ) -> int:
        present, v = self._get(key)
        if not present:
            return default
        if not isinstance(v, int) or isinstance(v, bool):
            self.problem(key, f"must be int, got {v!r}")
            return default
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            lo = "" if minimum is None else f">= {minimum}"
            hi = "" if maximum is None else f"<= {maximum}"
            self.problem(key, f"must be {' and '.join(x for x in (lo, hi) if x)}, got {v}")
            return default
        out: int = self._checked(key, v, default, check)
        return out

    def number(
        self,
        key: str,
        default: float,
        minimum: float | None = None,
        maximum: float | None = None,
        *,
        positive: bool = False,
        check: Check | None = None,
        as_float: bool = True,
    ) -> float:
        """A number; ``as_float=False`` keeps an integer as written (``1`` stays ``1``)."""
        present, v = self._get(key)
        if not present:
            return default
        if not isinstance(v, int | float) or isinstance(v, bool) or math.isnan(v):
            self.problem(key, f"must be a number, got {v!r}")
            return default
        value = float(v) if as_float else v
        if positive and value <= 0:
            self.problem(key, f"must be > 0, got {value}")
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.problem(key, f"must be between {minimum} and {maximum}, got {value}")
            return default
        out: float = self._checked(key, value, default, check)
        return out

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

    def string(self, key: str, default: Any, choices: Sequence[str] | None = None) -> Any:
        """A string (``default`` is returned as given when the key is absent or wrong)."""
        present, v = self._get(key)
        if not present:
            return default
        if not isinstance(v, str):
            # its kind only: a key_file or key_env given as a list or a number may be
            # the secret itself, which is never shown
            self.problem(key, f"must be a string, got {_kind(v)}")
            return default
        if choices is not None and v not in choices:
            self.problem(key, f"must be one of {', '.join(choices)}, got {v!r}")
            return default
        return v

    def name(self, key: str, default: Any, known: Sequence[str], what: str) -> Any:
        """A string naming an entry of a registry (a profile, a scheme, a number type)."""
        v = self.string(key, default)
        if key in self.table and isinstance(v, str) and known and v not in known:
            self.problem(key, f"unknown {what} {v!r} (known: {', '.join(known)})")
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

    def table_at(self, key: str, where: str) -> Fields:
        """The table at ``key`` (empty when absent), read at location ``where``."""
        present, v = self._get(key)
        return Fields(v if present else {}, where, self.problems)

    def tables(self, key: str, default: Any = ()) -> Iterator[Fields]:
        """Each table of the array of tables ``[[key]]``, at ``[[key]][i]``."""
        present, v = self._get(key)
        value = v if present else default
        if not isinstance(value, list):
            self.problems.append(f"[[{key}]]: must be an array of tables ([[{key}]])")
            return
        for i, item in enumerate(value):
            yield Fields(item, f"[[{key}]][{i}]", self.problems)

    def allow(self, keys: Iterable[str]) -> None:
        """Mark ``keys`` as taken by this table without reading them here."""
        self.used.update(keys)

    def unknown(self) -> None:
        """One problem per key no read (or :meth:`allow`) has claimed."""
        for key in self.table:
            if key not in self.used:
                known = ", ".join(sorted(self.used))
                self.problem_here(f"unknown key {key!r} (known keys: {known})")
        self.used.update(self.table)

    def finish(self) -> list[str]:
        self.unknown()
        return self.problems


def raise_problems(problems: Sequence[str]) -> None:
    """Raise one ConfigError with every problem, if there are any."""
    ConfigError.collect(problems)


def _kind(value: Any) -> str:
    """What a TOML value is, in words, without the value."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time" if hasattr(value, "isoformat") else type(value).__name__


__all__ = ["Check", "Fields", "raise_problems"]
