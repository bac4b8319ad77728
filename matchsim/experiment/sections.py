"""Optional experiment sections (``[pixel]``, ``[oracle]``, ``[psi]``, ``[clk]``, ``[promises]``).

Each section is one small class that registers itself with :func:`register` and
implements the :class:`Section` protocol:

- ``parse(fields, source)`` reads its TOML table through the one validator: the loader
  hands it the table as :class:`~matchsim.experiment.fields.Fields` located at its header
  (``[pixel]``), every problem goes into the file's one list (``[pixel].visitors: ...``),
  and it returns the config; the loader calls it before any work, so a typo costs nothing;
- ``run(config, experiment, pop_dir)`` runs the stage on the population and returns a
  :class:`~matchsim.experiment.results.SectionResult` (answer, summary table, details);
- ``scheme_row(result)`` is its row in the scheme comparison table, or None.

Sections run in registration order after the schemes, membership and risk.
:mod:`matchsim.experiment.scenarios` holds the shipped ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from matchsim.experiment.fields import Fields

if TYPE_CHECKING:
    from matchsim.experiment.config import Experiment
    from matchsim.experiment.results import ComparisonRow, SectionResult


class Section(Protocol):
    key: ClassVar[str]

    def parse(self, fields: Fields, source: Path | None) -> Any:
        """The section's config; every problem in its table goes into ``fields``."""

    def run(self, config: Any, experiment: Experiment, pop_dir: Path) -> SectionResult:
        """Run the stage on the population folder ``pop_dir``."""

    def scheme_row(self, result: SectionResult) -> ComparisonRow | None:
        """This section's row in the scheme comparison table, if it is an alternative."""


_REGISTRY: dict[str, Section] = {}


def register(cls: type[Any]) -> type[Any]:
    """Class decorator: register one instance of a section under its ``key``."""
    _REGISTRY[cls.key] = cls()
    return cls


def registry() -> dict[str, Section]:
    """Every registered section, in run order."""
    from matchsim.experiment import scenarios  # noqa: F401  (registers the shipped sections)

    return _REGISTRY


def section_keys() -> tuple[str, ...]:
    return tuple(registry())


def parse_sections(
    top: Fields, tree: Mapping[str, Any], source: Path | None
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The optional sections of ``tree``: their tables as written and their parsed configs.

    Each section reads its table through ``top``'s validator (its problems join the
    file's list, located ``[key].name``); a section with problems has no config.
    """
    tables: dict[str, dict[str, Any]] = {}
    configs: dict[str, Any] = {}
    for key, section in registry().items():
        if key not in tree:
            continue
        tables[key] = tree[key]
        before = len(top.problems)
        config = section.parse(top.table_at(key, f"[{key}]"), source)
        if len(top.problems) == before:
            configs[key] = config
    return tables, configs


__all__ = ["Section", "parse_sections", "register", "registry", "section_keys"]
