"""On/off switches read from the environment (``MATCHSIM_AOT``, ``MATCHSIM_PLATFORM_INDEX``,
``MATCHSIM_MD5_REVERSE``): one spelling of "off" for all of them."""

from __future__ import annotations

import os

OFF = ("0", "no", "off", "false")


def switched_on(name: str) -> bool:
    """False when the environment variable ``name`` is ``0``, ``no``, ``off`` or
    ``false`` (any case, surrounding blanks ignored); True when it is unset or
    anything else."""
    return os.environ.get(name, "1").strip().lower() not in OFF
