"""The error boundary: every problem a user can cause is one of these classes.

The command line turns a :class:`MatchsimError` into ``Error: <message>`` on one line of
stderr and exit code 1. Nothing else in matchsim prints tracebacks to a user. Messages
never contain secrets (keys, salts, peppers): callers name the *source* of a secret
(a file path or an environment variable), never its value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from os import PathLike


class MatchsimError(Exception):
    """Base class of every user-facing matchsim error."""

    exit_code = 1

    def one_line(self) -> str:
        """The message as one line, suitable for ``Error: ...`` on stderr."""
        return " ".join(str(self).split())


class ConfigError(MatchsimError):
    """A parameter or an experiment file is invalid.

    Holds every problem found, so that a user fixes them all at once.
    """

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))

    @classmethod
    def collect(cls, problems: Iterable[str]) -> None:
        """Raise one ConfigError listing all ``problems``, if there are any."""
        found = list(problems)
        if found:
            raise cls(found)


class InputError(MatchsimError):
    """An input file cannot be used; says where (file, row, column) and why."""

    def __init__(
        self,
        path: str | PathLike[str] | None,
        reason: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        self.reason = reason
        where = []
        if self.path is not None:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class OutputError(MatchsimError):
    """An output location cannot be written."""


class SecretError(MatchsimError):
    """A secret (key, salt, pepper) is missing or unusable. Never carries its value."""


class MissingExtraError(MatchsimError):
    """An optional dependency is not installed; says which extra to add."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{module} is not installed; install it with: pip install 'matchsim[{extra}]'"
        )
