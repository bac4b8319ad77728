"""Every random stream of a run, named once.

A run has one seed. Each stage draws from its own stream: ``stream(seed, Stream.X,
*index)`` is a PCG64 generator on ``SeedSequence(seed, spawn_key=(X, *index))``. Streams
with different keys are independent, so a stage that draws more or fewer numbers never
shifts another stage's draws, and two stages never draw the same numbers (before this
module the oracle's "stream 1" was the generator's selection stream and its "stream 3"
the CRM stream: the oracle's victims were correlated with who is a customer).

The generator's keys 0-4 are the ones it always used, so populations are byte-identical
to those generated before streams were named. Add a stream by adding a member with a
new value; never reuse or renumber one (that changes every figure drawn from it).
"""

from __future__ import annotations

from enum import IntEnum, unique

import numpy as np


@unique
class Stream(IntEnum):
    """The random streams of matchsim, one per use."""

    # generate/build.py (values fixed: generated populations stay byte-identical)
    PLATFORM = 0
    """Platform users' persons, one sub-stream per chunk."""
    SELECT = 1
    """Which platform users are the advertiser's customers."""
    OUTSIDERS = 2
    """Customers who have no platform account, one sub-stream per chunk."""
    CRM = 3
    """How the CRM corrupts customer records."""
    SHUFFLE = 4
    """The order of the customer file."""

    # oracle/run.py
    ORACLE_POOL = 100
    """The attacker's padding list drawn from its own customers."""
    ORACLE_VICTIMS = 101
    """The order in which victims are picked."""
    ORACLE_WEBSITE = 102
    """Website visitors of the pixel-audience variant."""
    ORACLE_DIFFERENCING = 103
    """Targets of the differencing (membership) attack."""
    ORACLE_BASE_SIZES = 104
    """Base-list lengths per differencing setting (sub-stream per policy and repeat)."""

    # pixel/run.py
    PIXEL_WORLD = 200
    """Who visits the insurer's site, and what they do there."""

    # oracle/promises.py and psi/pair.py
    PROMISES_POOL = 300
    """The order in which the attacker's padding list is drawn."""
    PROMISES_MEMBERS = 301
    """Which platform accounts become member targets."""
    PROMISES_OUTSIDERS = 302
    """Which non-members become targets."""
    PROMISES_MIX = 303
    """The order of the targets."""
    PROMISES_PHONE_VICTIMS = 305
    """Whose phone number the noise-free products are asked for."""
    PAIR_WORLD = 310
    """PAIR: the publisher's users, salts and keys, the advertiser's rounds."""

    # attack/reidentify.py
    REGISTER = 400
    """Who is in the register an experiment's re-identification links to."""

    # risk/uniqueness.py, risk/validation.py
    RISK_BOOTSTRAP = 600
    """Resamples of a sample's classes for the population estimate's interval."""
    RISK_VALIDATION = 601
    """Samples drawn from a full population to validate the estimators (sub-stream per
    sampling fraction)."""

    # experiment/scenarios.py ([clk])
    CLK_KEY = 700
    """The simulated linkage unit's CLK key (the attacker is never given it)."""

    # experiment/assess.py (membership)
    ADVERTISERS = 500
    """Which matched upload rows each simulated advertiser holds."""


def stream(seed: int, name: Stream, *index: int) -> np.random.Generator:
    """The generator of stream ``name`` (and sub-stream ``index``) of a run's ``seed``."""
    key = (int(name), *(int(i) for i in index))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))
