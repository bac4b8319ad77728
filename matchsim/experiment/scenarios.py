"""The shipped optional sections: tracking pixel, size oracle, PSI, CLK, products' promises.

Each parses its table with its stage's own parser (up front, through the one validator)
and runs its stage; the sentences come from :mod:`matchsim.report.sentences`.
Registration order is run order (and the order of the PSI and CLK rows in the scheme
table).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from matchsim.experiment.fields import Fields
from matchsim.experiment.results import ComparisonRow, SectionResult
from matchsim.experiment.sections import register

if TYPE_CHECKING:
    from matchsim.experiment.config import Experiment


def _sentences() -> Any:
    # imported when a section runs: the report package loads matplotlib, which
    # validating an experiment never needs
    from matchsim.report import sentences

    return sentences


def _read(f: Fields, parsed: tuple[Any, list[str]]) -> Any:
    """A stage parser's ``(config, problems)`` read through ``f`` (its location): the
    problems join the file's one list."""
    config, problems = parsed
    f.problems.extend(problems)
    return config


@register
class PixelSection:
    key: ClassVar[str] = "pixel"

    def parse(self, f: Fields, source: Path | None) -> Any:
        from matchsim.pixel import PixelConfig

        return _read(f, PixelConfig.problems(f.table, f.where))

    def run(self, config: Any, experiment: Experiment, pop_dir: Path) -> SectionResult:
        from matchsim.pixel import simulate

        result = simulate(config, pop_dir, seed=experiment.seed).to_dict()
        base = result["scenarios"][0] if result.get("scenarios") else {}
        return SectionResult(
            text=_sentences().pixel_answer(base),
            summary={"medical visits": base.get("medical_visits")},
            details=result,
        )

    def scheme_row(self, result: SectionResult) -> ComparisonRow | None:
        return None


@register
class OracleSection:
    key: ClassVar[str] = "oracle"

    def parse(self, f: Fields, source: Path | None) -> Any:
        from matchsim.oracle import OracleConfig

        return _read(f, OracleConfig.problems(f.table, f.where))

    def run(self, config: Any, experiment: Experiment, pop_dir: Path) -> SectionResult:
        from matchsim.oracle import run

        result = run(config, pop_dir, seed=experiment.seed).to_dict()
        first = result["phone"][0] if result.get("phone") else {}
        return SectionResult(text=_sentences().oracle_answer(first), summary={}, details=result)

    def scheme_row(self, result: SectionResult) -> ComparisonRow | None:
        return None


@register
class PsiSection:
    """``[psi]``: the protocol's parameters, plus the ``field`` matched and the ``profile``
    that normalises it (default: the first advertiser's)."""

    key: ClassVar[str] = "psi"

    def parse(self, f: Fields, source: Path | None) -> Any:
        from matchsim.normalise import PROFILES
        from matchsim.psi.protocol import PsiParams

        field_name = f.string("field", "email", ("email", "phone"))
        profile = f.name("profile", None, sorted(PROFILES), "profile")
        return PsiParams.read(f), field_name, profile

    def run(self, config: Any, experiment: Experiment, pop_dir: Path) -> SectionResult:
        from matchsim.psi import run_population

        params, field_name, profile = config
        result = run_population(
            pop_dir,
            params,
            field_name=field_name,
            profile=profile or experiment.advertisers[0].profile,
        ).to_dict()
        return SectionResult(text="", summary=result, details=result)

    def scheme_row(self, result: SectionResult) -> ComparisonRow | None:
        r = result.details
        return ComparisonRow(
            name="psi-ecdh",
            label="ECDH private set intersection (X25519)",
            kind="psi",
            threat=_sentences().psi_threat(r),
            deterministic=False,
            needs_secret=True,
            join={"match_rate": r["match_rate"]},
            phone_share=None,
            email_share=0.0,
            reverse_seconds=None,
            cost={"feasible": False, "reason": r["attacker_cost"], "devices": {}},
            outsider_can="no",  # no offline test of a guess (the who matrix)
            learns=r["learns"]["platform"],
        )


@register
class ClkSection:
    """``[clk]``: the Bloom-filter encoding's ``[clk.schema]``."""

    key: ClassVar[str] = "clk"

    def parse(self, f: Fields, source: Path | None) -> Any:
        from matchsim.clk.schema import ClkSchema

        schema = ClkSchema.read(f.table_at("schema", f"[{self.key}.schema]"))
        f.unknown()
        return schema

    def run(self, config: Any, experiment: Experiment, pop_dir: Path) -> SectionResult:
        from matchsim import clk
        from matchsim.rng import Stream, stream
        from matchsim.secrets import Secret

        # The linkage unit's key, drawn from the run's seed so the section's figures repeat
        # (the attacker never sees it; a real deployment keys with a secret of its own).
        key = stream(experiment.seed, Stream.CLK_KEY).bytes(32)
        secret = Secret(key, "drawn from the run's seed")
        linked = clk.link(pop_dir, config, secret).to_dict()
        attacked = clk.attack(pop_dir, config, secret).to_dict()
        return SectionResult(text="", summary={"linkage": linked, "attack": attacked}, details={})

    def scheme_row(self, result: SectionResult) -> ComparisonRow | None:
        link, attack = result.summary["linkage"], result.summary["attack"]
        return ComparisonRow(
            name="clk",
            label="Bloom-filter encodings (CLK) of names and date of birth",
            kind="clk",
            threat=_sentences().clk_threat(link),
            deterministic=True,
            needs_secret=True,
            join={"match_rate": link["match_rate"]},
            phone_share=None,
            email_share=None,
            reverse_seconds=None,
            cost={
                "feasible": False,
                "reason": _sentences().clk_attack_reason(attack),
                "devices": {},
            },
            outsider_can="partly",  # the frequency attack above (the who matrix)
            learns=link["learns"]["platform"],
        )


@register
class PromisesSection:
    key: ClassVar[str] = "promises"

    def parse(self, f: Fields, source: Path | None) -> Any:
        from matchsim.oracle.promises import PromisesConfig

        return _read(f, PromisesConfig.problems(f.table, f.where, source=source))

    def run(self, config: Any, experiment: Experiment, pop_dir: Path) -> SectionResult:
        from matchsim.oracle.promises import run, summary

        result = run(config, pop_dir, seed=experiment.seed)
        text, tables = summary(result)
        verdicts = {r["product"]["name"]: r["verdict"] for r in result["products"]}
        verdicts["Who can re-identify"] = result["who_can_reidentify"]["domain_note"]
        return SectionResult(text, {"tables": tables, "verdicts": verdicts}, result)

    def scheme_row(self, result: SectionResult) -> ComparisonRow | None:
        return None
