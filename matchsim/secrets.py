"""Secrets (keys, peppers, salts) that never show up in argv, reprs, logs or errors.

A :class:`Secret` holds bytes; its ``repr`` and ``str`` name only where it came from. It
is loaded from a file or an environment variable named by the user, never from a
command-line value. Errors name the file or variable, never the value.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from matchsim.errors import ConfigError, SecretError


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


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_PATH_LIKE = re.compile(r"([/\\~]|\.[A-Za-z0-9]{1,6}$)")


def looks_like_path(text: str) -> bool:
    """A value that reads as a path (a separator, ``~``, or a file extension)."""
    return bool(_PATH_LIKE.search(text)) and not any(c.isspace() for c in text[:1] + text[-1:])


def looks_like_env_name(text: str) -> bool:
    return bool(_ENV_NAME.match(text))


def _named_file(what: str, option: str, path: Path) -> str:
    """How an error names a secret file: by its path only when the value looks like one."""
    from matchsim.io import shown

    text = str(path)
    if looks_like_path(text):
        return f"{what} file {shown(text)!r}"
    return (
        f"the file given to {option} (not shown: it does not look like a path; "
        "did you pass the secret itself?)"
    )


def load_secret(
    *,
    file: str | os.PathLike[str] | None = None,
    env: str | None = None,
    what: str = "key",
    file_option: str = "--key-file",
    env_option: str = "--key-env",
) -> Secret:
    """Read a secret from ``file`` or ``env``: the one loader every verb uses.

    The file's bytes are the secret, less one trailing line ending (``\\n`` or
    ``\\r\\n``): a key file written by ``echo`` or an editor gives the same key as one
    written byte-exact; every other byte (spaces included) is part of the key. An
    environment variable's value is taken as UTF-8, unchanged.

    Raises:
        SecretError: neither or both sources given, the file is unreadable, the variable
            is unset, or the secret is empty. The message names the source only, and not
            even that when the value given does not look like a path / variable name (a
            secret pasted into the wrong option).
    """
    if (file is None) == (env is None):
        raise SecretError(f"give the {what} with exactly one of {file_option} or {env_option}")
    if file is not None:
        path = Path(file)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise SecretError(f"{_named_file(what, file_option, path)} does not exist") from None
        except IsADirectoryError:
            raise SecretError(f"{_named_file(what, file_option, path)} is a folder") from None
        except OSError as exc:
            raise SecretError(
                f"{_named_file(what, file_option, path)} cannot be read ({exc.strerror})"
            ) from None
        value = raw[:-1] if raw.endswith(b"\n") else raw
        value = value[:-1] if raw.endswith(b"\n") and value.endswith(b"\r") else value
        source = f"file {str(path)!r}"
    else:
        assert env is not None
        if not looks_like_env_name(env):
            raise SecretError(
                f"{env_option} takes the name of an environment variable; the value given is "
                "not a variable name (not shown: did you pass the secret itself?)"
            )
        text = os.environ.get(env)
        if text is None:
            raise SecretError(f"environment variable {env} holding the {what} is not set")
        value = text.encode("utf-8")
        source = f"env {env}"
    if not value:
        raise SecretError(f"the {what} from {source} is empty")
    return Secret(value, source)


def given_secret(
    file: str | os.PathLike[str] | None,
    env: str | None,
    what: str = "key",
    file_option: str = "--key-file",
    env_option: str = "--key-env",
) -> Secret | None:
    """:func:`load_secret` where a file or variable is named, else None (no secret)."""
    if file is None and env is None:
        return None
    return load_secret(
        file=file, env=env, what=what, file_option=file_option, env_option=env_option
    )


def scheme_secret(
    scheme: str, file: str | os.PathLike[str] | None, env: str | None, what: str = "key"
) -> Secret | None:
    """The secret of ``scheme`` from ``--key-file``/``--key-env``, if one is named.

    Raises:
        ConfigError: a key for a scheme that takes none (:func:`check_takes_secret`).
        SecretError: as :func:`load_secret`.
    """
    if file is None and env is None:
        return None
    check_takes_secret(scheme, "--key-file/--key-env")
    return load_secret(file=file, env=env, what=what)


def check_takes_secret(scheme: str, option: str) -> None:
    """Refuse a key for a scheme that would ignore it (a silent no-op is a wrong answer).

    Keyed schemes (``needs_secret``) take one; so do the slow KDFs (a secret shared salt).

    Raises:
        ConfigError: the scheme takes no secret.
    """
    from matchsim.schemes import SCHEMES
    from matchsim.schemes.kdf import SlowKDF

    cls = SCHEMES.get(scheme)
    if cls is None:
        return  # get_scheme names the unknown scheme
    if not cls.needs_secret and not issubclass(cls, SlowKDF):
        raise ConfigError(f"scheme {scheme} takes no key; drop {option} (or choose a keyed scheme)")


__all__ = [
    "Secret",
    "check_takes_secret",
    "given_secret",
    "load_secret",
    "looks_like_env_name",
    "looks_like_path",
    "scheme_secret",
]
