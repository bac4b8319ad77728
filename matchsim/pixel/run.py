"""``matchsim.pixel.simulate``: the tracking-pixel experiment (the Dutch insurer case).

One world of visits is simulated; the baseline pixel rules and one-factor variations
(placement, consent rate, advanced-matching hashing) are applied to the same visits, so
each difference in the results comes from the rule that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matchsim.errors import ConfigError
from matchsim.oracle._validate import Fields
from matchsim.pixel.observe import SCHEMES, Rules, link, measure, pixel_events
from matchsim.pixel.world import CATEGORIES, Behaviour, World, build_world

if TYPE_CHECKING:  # the join (numba) loads when a pixel runs, not when its table is read
    from matchsim.join.identity import IdentityIndex
from matchsim.rng import Stream, stream

ProgressFn = Callable[[str, int, int], None]

DEFAULT_PLACEMENTS: dict[str, tuple[str, ...]] = {
    "general-only": ("general",),
    "no-medical": ("general", "product"),
}


@dataclass(frozen=True)
class PixelConfig:
    """The ``[pixel]`` table.

    Behaviour: ``visitors`` (drawn from the customer file), ``browsers_mean``,
    ``sessions_mean`` and ``pages_mean`` (each 1 + Poisson), ``page_mix`` (shares of
    general, product, medical page views), ``form_rate`` (sessions with a filled form),
    ``logged_in_share`` (account holders' browsers with a live platform cookie), ``days``.

    Baseline rules: ``placement`` (categories with the pixel), ``consent_rate``,
    ``scheme`` (advanced matching: sha256, hmac-sha256, pepper-sha256, salted-sha256,
    none), ``send_referrer``.

    Variations, each applied alone to the baseline: ``placements`` (name -> categories),
    ``consent_rates``, ``schemes``.
    """

    behaviour: Behaviour = field(default_factory=Behaviour)
    baseline: Rules = field(default_factory=Rules)
    placements: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_PLACEMENTS)
    )
    consent_rates: tuple[float, ...] = (0.5, 0.2)
    schemes: tuple[str, ...] = ("hmac-sha256", "salted-sha256", "none")
    profile: str = "meta"

    @classmethod
    def problems(cls, d: Any, where: str = "pixel") -> tuple[PixelConfig, list[str]]:
        """The config and every problem in ``d`` as ``location: message`` strings."""
        f = Fields(d, where)
        b = Behaviour
        mix = f.numbers("page_mix", b.page_mix, 0.0)
        if len(mix) != 3 or sum(mix) <= 0:
            f.problem("page_mix", "must be three non-negative shares (general, product, medical)")
            mix = b.page_mix
        behaviour = Behaviour(
            visitors=f.integer("visitors", b.visitors, 1),
            browsers_mean=f.number("browsers_mean", b.browsers_mean, 1.0, 4.0),
            sessions_mean=f.number("sessions_mean", b.sessions_mean, 1.0, 50.0),
            pages_mean=f.number("pages_mean", b.pages_mean, 1.0, 40.0),
            page_mix=(mix[0], mix[1], mix[2]),
            form_rate=f.share("form_rate", b.form_rate),
            logged_in_share=f.share("logged_in_share", b.logged_in_share),
            days=f.integer("days", b.days, 1),
        )
        baseline = Rules(
            name="baseline",
            placement=f.strings("placement", CATEGORIES, CATEGORIES),
            consent_rate=f.share("consent_rate", 1.0),
            scheme=f.string("scheme", "sha256", SCHEMES),
            send_referrer=f.boolean("send_referrer", True),
        )
        raw = f.sub("placements")
        placements = dict(DEFAULT_PLACEMENTS)
        if raw is not None:
            if not isinstance(raw, Mapping):
                f.problem("placements", "must be a table of name = [categories]")
            else:
                placements = {}
                for name, cats in raw.items():
                    ok = isinstance(cats, list) and all(c in CATEGORIES for c in cats)
                    if not ok:
                        f.problem(
                            f"placements.{name}",
                            f"must be a list of categories from {', '.join(CATEGORIES)}",
                        )
                    else:
                        placements[str(name)] = tuple(cats)
        config = cls(
            behaviour=behaviour,
            baseline=baseline,
            placements=placements,
            consent_rates=f.numbers("consent_rates", cls.consent_rates, 0.0, 1.0),
            schemes=f.strings("schemes", cls.schemes, SCHEMES),
            profile=f.string("profile", cls.profile),
        )
        return config, f.finish()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "pixel") -> PixelConfig:
        """The config in ``d``; ConfigError listing every problem otherwise."""
        config, problems = cls.problems(d, where)
        ConfigError.collect(problems)
        return config

    def scenarios(self) -> list[Rules]:
        """The baseline, then each variation applied alone."""
        base = self.baseline
        out = [base]
        for name, cats in self.placements.items():
            out.append(
                Rules(f"placement={name}", cats, base.consent_rate, base.scheme, base.send_referrer)
            )
        for rate in self.consent_rates:
            out.append(
                Rules(f"consent={rate:g}", base.placement, rate, base.scheme, base.send_referrer)
            )
        for scheme in self.schemes:
            out.append(
                Rules(
                    f"scheme={scheme}",
                    base.placement,
                    base.consent_rate,
                    scheme,
                    base.send_referrer,
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        b = self.behaviour
        return {
            "visitors": b.visitors,
            "browsers_mean": b.browsers_mean,
            "sessions_mean": b.sessions_mean,
            "pages_mean": b.pages_mean,
            "page_mix": list(b.page_mix),
            "form_rate": b.form_rate,
            "logged_in_share": b.logged_in_share,
            "days": b.days,
            "baseline": self.baseline.to_dict(),
            "placements": {k: list(v) for k, v in self.placements.items()},
            "consent_rates": list(self.consent_rates),
            "schemes": list(self.schemes),
            "profile": self.profile,
        }


@dataclass(frozen=True)
class PixelResult:
    """One row of measurements per scenario (see :func:`matchsim.pixel.observe.measure`)."""

    config: PixelConfig
    world: dict[str, Any]
    scenarios: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "world": self.world, "scenarios": self.scenarios}


def run_scenarios(
    world: World,
    index: IdentityIndex,
    scenarios: list[Rules],
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> list[dict[str, Any]]:
    """Apply each scenario's pixel rules to one world; measure what the platform links."""
    n_cookies = int(world.browser_visitor.size)
    rows = []
    for i, rules in enumerate(scenarios):
        events = pixel_events(world, rules, index, seed=seed + i)
        links = link(events, index, n_cookies)
        rows.append({"rules": rules.to_dict(), **measure(world, events, links)})
        if progress is not None:
            progress("pixel scenarios", i + 1, len(scenarios))
    return rows


def describe_world(world: World) -> dict[str, Any]:
    has_account = world.uid >= 0
    return {
        "visitors": world.n_visitors,
        "visitors_with_account": int(has_account.sum()),
        "browsers": int(world.browser_visitor.size),
        "browsers_logged_in": int(world.logged_in.sum()),
        "sessions": int(world.session_browser.size),
        "sessions_with_form": int((world.form_at >= 0).sum()),
        "page_views": int(world.pv_session.size),
        "page_views_by_category": {
            c: int((world.pv_category == i).sum()) for i, c in enumerate(CATEGORIES)
        },
    }


def simulate(
    config: PixelConfig,
    population_dir: str | Path,
    *,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> PixelResult:
    """Simulate visits to the insurer's site and every pixel scenario of ``config``."""
    from matchsim.join.identity import IdentityIndex

    index = IdentityIndex.from_population(population_dir, profile=config.profile)
    world = build_world(population_dir, config.behaviour, stream(seed, Stream.PIXEL_WORLD))
    rows = run_scenarios(world, index, config.scenarios(), seed=seed, progress=progress)
    return PixelResult(config, describe_world(world), rows)
