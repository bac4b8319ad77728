"""Match engines: one base class owns the orchestration, subclasses only find pairs.

``Engine.match(upload, platform)`` checks that both sides speak the same keys and digest
widths, asks the subclass for the verified ``(upload row, user id)`` pairs of every key
(:meth:`Engine._pairs`), and turns them into a :class:`MatchResult` — the same way on
every engine, so that the engines can only differ in speed. Engines are registered by
name; an optional engine's module is imported only when it is asked for.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar

import numpy as np

from matchsim.errors import ConfigError, InputError
from matchsim.join.keys import KeyDigests, PlatformSource, UploadKeys
from matchsim.join.result import MatchResult
from matchsim.join.table import DigestTable

ProgressFn = Callable[[str, int, int], None]
Pairs = dict[str, tuple[np.ndarray, np.ndarray]]

_REGISTRY: dict[str, str] = {
    "local": "matchsim.join.local:LocalEngine",
    "dask": "matchsim.join.distributed:DaskEngine",
}


def engine_names() -> list[str]:
    return sorted(_REGISTRY)


def register_engine(name: str, target: str) -> None:
    """Register ``"module:Class"`` under ``name`` (imported on first use)."""
    _REGISTRY[name] = target


def get_engine(name: str = "local", **options: Any) -> Engine:
    """The engine registered as ``name``, constructed with ``options``.

    Raises:
        ConfigError: unknown name.
        MissingExtraError: the engine's optional dependency is not installed.
    """
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown engine {name!r}; available: {', '.join(engine_names())}"
        ) from None
    module, cls = target.split(":")
    engine = getattr(importlib.import_module(module), cls)(**options)
    if not isinstance(engine, Engine):  # pragma: no cover - a registration mistake
        raise TypeError(f"{target} is not an Engine")
    return engine


@dataclass(frozen=True)
class Job:
    """What an engine joins: the upload's non-empty keys, the platform, a progress hook."""

    uploads: Mapping[str, KeyDigests]
    platform: PlatformSource
    progress: ProgressFn | None = None


class Engine(ABC):
    """Template for a match engine; subclasses implement :meth:`_pairs` only."""

    name: ClassVar[str]

    def match(
        self,
        upload: UploadKeys,
        platform: PlatformSource,
        progress: ProgressFn | None = None,
    ) -> MatchResult:
        """Join ``upload`` to ``platform`` on every key both hold.

        A row matches a user if any of its keys matches (full digest equality); a user
        matched by several rows or keys counts once.

        Raises:
            InputError: the two sides share no key, or a key's digest widths differ.
        """
        offered = platform.keys
        keys = [k for k in upload.keys if k in offered]
        if upload.keys and not keys:
            raise InputError(
                None,
                f"the upload's keys ({', '.join(upload.keys)}) and the platform's "
                f"({', '.join(offered)}) have nothing in common",
            )
        for key in keys:
            if upload.keys[key].digest_size != offered[key]:
                raise InputError(
                    None,
                    f"{key} digests are {upload.keys[key].digest_size} bytes in the upload "
                    f"but {offered[key]} bytes on the platform",
                )
        uploads = {k: upload.keys[k] for k in keys if len(upload.keys[k])}
        pairs = self._pairs(Job(uploads, platform, progress)) if uploads else {}
        empty = np.zeros(0, np.int64)
        for key in keys:
            pairs.setdefault(key, (empty, empty))
        return MatchResult.from_pairs(
            {k: pairs[k] for k in keys},
            upload.n_rows,
            upload.accepted_rows,
            {k: len(upload.keys[k]) for k in keys},
        )

    @abstractmethod
    def _pairs(self, job: Job) -> Pairs:
        """Verified ``(upload row ids, user ids)`` for each key in ``job.uploads``."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release resources (a cluster); the engine is unusable afterwards."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def probe_chunk(
    tables: Mapping[str, DigestTable], chunk: Mapping[str, KeyDigests]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Probe one platform chunk against the upload tables, key by key."""
    return {key: table.probe(chunk[key]) for key, table in tables.items() if key in chunk}


def concat_pairs(parts: list[dict[str, tuple[np.ndarray, np.ndarray]]], keys: list[str]) -> Pairs:
    out: Pairs = {}
    for key in keys:
        got = [p[key] for p in parts if key in p]
        if got:
            out[key] = (np.concatenate([r for r, _ in got]), np.concatenate([u for _, u in got]))
    return out
