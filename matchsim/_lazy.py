"""Package attributes that load their module when first asked for (PEP 562).

A package whose ``__init__`` re-exports names from heavy modules (numba kernels, Arrow,
the orchestrator) declares them here instead, so that importing one light submodule
(validating an experiment reads only the parameters) does not load the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attributes(package: str, modules: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``modules[name]`` is the module that defines ``name``."""

    def __getattr__(name: str) -> Any:
        if name in modules:
            return getattr(importlib.import_module(modules[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
