"""The tracking pixel with advanced matching: the Dutch health-insurer case.

``simulate(PixelConfig.from_dict(table), population_dir, seed=...)`` simulates visits to
an insurer's website (general, product and medical pages), the events its platform pixel
sends, and how the platform links them to accounts and shadow profiles.
:mod:`matchsim.pixel.figures` (report layer only) draws the results.
"""

from matchsim.pixel.observe import (
    LINK_KINDS,
    SCHEMES,
    Events,
    Links,
    Rules,
    link,
    measure,
    pixel_events,
)
from matchsim.pixel.run import PixelConfig, PixelResult, run_scenarios, simulate
from matchsim.pixel.world import CATEGORIES, PAGES, Behaviour, World, build_world, simulate_visits

__all__ = [
    "CATEGORIES",
    "LINK_KINDS",
    "PAGES",
    "SCHEMES",
    "Behaviour",
    "Events",
    "Links",
    "PixelConfig",
    "PixelResult",
    "Rules",
    "World",
    "build_world",
    "link",
    "measure",
    "pixel_events",
    "run_scenarios",
    "simulate",
    "simulate_visits",
]
