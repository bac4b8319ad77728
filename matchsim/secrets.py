"""Secrets (keys, peppers, salts) that never show up in argv, reprs, logs or errors.

A :class:`Secret` holds bytes; its ``repr`` and ``str`` name only where it came from. It
is loaded from a file or an environment variable named by the user, never from a
command-line value. Errors name the file or variable, never the value.
"""

from __future__ import annotations

import os
from pathlib import Path

from matchsim.errors import SecretError


class Secret:
    """Secret bytes; shown as ``Secret(<source>)`` and never compared by value in repr."""

    __slots__ = ("_value", "source")

    def __init__(self, value: bytes, source: str = "memory") -> None:
        if not isinstance(value, bytes):
            raise TypeError("a Secret holds bytes")
        self._value = value
        self.source = source

    @property
    def value(self) -> bytes:
        """The secret bytes. Do not log or print them."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"Secret({self.source})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        import hmac

        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", self.source))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not picklable")


def load_secret(
    *, file: str | os.PathLike[str] | None = None, env: str | None = None, what: str = "key"
) -> Secret:
    """Read a secret from ``file`` (bytes, one trailing newline stripped) or ``env``.

    Raises:
        SecretError: neither or both sources given, the file is unreadable, the variable
            is unset, or the secret is empty. The message names the source only.
    """
    if (file is None) == (env is None):
        raise SecretError(f"give the {what} with exactly one of --key-file or --key-env")
    if file is not None:
        path = Path(file)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise SecretError(f"{what} file {str(path)!r} does not exist") from None
        except OSError as exc:
            raise SecretError(
                f"{what} file {str(path)!r} cannot be read ({exc.strerror})"
            ) from None
        value = raw[:-1] if raw.endswith(b"\n") else raw
        value = value[:-1] if value.endswith(b"\r") else value
        source = f"file {str(path)!r}"
    else:
        assert env is not None
        text = os.environ.get(env)
        if text is None:
            raise SecretError(f"environment variable {env} holding the {what} is not set")
        value = text.encode("utf-8")
        source = f"env {env}"
    if not value:
        raise SecretError(f"the {what} from {source} is empty")
    return Secret(value, source)


__all__ = ["Secret", "load_secret"]
