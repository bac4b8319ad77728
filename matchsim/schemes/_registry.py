"""The scheme registry: name -> Scheme class. Adding a scheme is adding one module."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from matchsim.errors import ConfigError, SecretError
from matchsim.schemes._base import Scheme
from matchsim.secrets import Secret, load_secret

SCHEMES: dict[str, type[Scheme]] = {}

S = TypeVar("S", bound=type[Scheme])


def register(cls: S) -> S:
    if cls.name in SCHEMES:
        raise RuntimeError(f"scheme {cls.name!r} registered twice")
    SCHEMES[cls.name] = cls
    return cls


def upload_params(name: str, params: Mapping[str, Any], profile_encoding: str) -> dict[str, Any]:
    """Scheme ``name``'s parameters for an upload to a platform whose profile writes
    digests in ``profile_encoding`` (see :meth:`Scheme.upload_params`); an unknown
    name's unchanged (:func:`get_scheme` reports it)."""
    cls = SCHEMES.get(name)
    return dict(params) if cls is None else cls.upload_params(params, profile_encoding)


def param_problems(name: str, params: Mapping[str, Any]) -> list[str]:
    """Every problem with ``params`` of scheme ``name`` (unknown names, bad values), found
    by building the scheme with a stand-in secret, without hashing anything: an
    experiment is checked before any work."""
    cls = SCHEMES.get(name)
    if cls is None:
        return []  # the caller reports the unknown name
    stand_in = Secret(b"\0" * 32, "validation") if cls.needs_secret else None
    try:
        cls(secret=stand_in, **params)
    except ConfigError as exc:
        return list(exc.problems)
    return []


def get_scheme(name: str, *, secret: Secret | None = None, **params: Any) -> Scheme:
    """The scheme ``name`` with ``params``.

    Raises:
        ConfigError: unknown name (the message lists the known ones) or parameter.
        SecretError: the scheme needs a secret and none was given.
    """
    try:
        cls = SCHEMES[name]
    except KeyError:
        known = ", ".join(sorted(SCHEMES))
        raise ConfigError(f"unknown scheme {name!r}; known schemes: {known}") from None
    if cls.needs_secret and secret is None:
        raise SecretError(
            f"scheme {name} needs a secret key shared by advertiser and platform; "
            "give --key-file or --key-env"
        )
    return cls(secret=secret, **params)


def scheme_from_config(
    table: Mapping[str, Any], *, base_dir: str | os.PathLike[str] = "."
) -> Scheme:
    """A scheme from an experiment TOML table such as
    ``{name = "hmac-sha256", key_env = "MATCHSIM_KEY"}``.

    ``key_file`` (relative to ``base_dir``) or ``key_env`` names the secret; every other
    key is a scheme parameter.
    """
    params = dict(table)
    name = params.pop("name", None)
    if not isinstance(name, str):
        raise ConfigError("scheme: 'name' is required (e.g. name = \"sha256\")")
    key_file = params.pop("key_file", None)
    key_env = params.pop("key_env", None)
    secret = None
    if key_file is not None or key_env is not None:
        path = None if key_file is None else os.path.join(base_dir, str(key_file))
        secret = load_secret(file=path, env=key_env, what=f"key of scheme {name}")
    elif name in SCHEMES and SCHEMES[name].needs_secret:
        raise SecretError(f"scheme {name} needs a secret: set key_file or key_env")
    return get_scheme(name, secret=secret, **params)
