"""The cost column of a run: seconds to exhaust each scheme's phone keyspace.

Prices come from the scheme registry through :func:`matchsim.attack.cost.price_catalogue`;
this module only times the experiment's KDFs with their parameters and turns a price and
an attack's keyspace into the ``cost`` entry of ``schemes[]``.
"""

from __future__ import annotations

from typing import Any

from matchsim.experiment.config import Experiment

_KEYED = frozenset({"hmac-sha256", "pepper-sha256"})


def price_catalogue(experiment: Experiment, measure: bool) -> dict[str, Any]:
    """Prices of the experiment's schemes: reference GPU rates, and KDF rates timed here.

    Fast hashes are not timed separately: each phone attack's own rate is the figure
    for "here" (see :func:`cost_for`). A KDF is timed over a few evaluations with the
    experiment's parameters, never brute-forced.
    """
    from matchsim.attack.cost import measure_kdf
    from matchsim.attack.cost import price_catalogue as catalogue
    from matchsim.schemes import SCHEMES

    params: dict[str, dict[str, int]] = {}
    measured: dict[str, float] = {}
    for spec in experiment.schemes:
        if SCHEMES[spec.name].kind != "kdf":
            continue
        numeric = {k: v for k, v in spec.params.items() if isinstance(v, int)}
        params[spec.name] = numeric
        if measure:
            measured[spec.name] = measure_kdf(spec.name, numeric)
    return {p.scheme: p for p in catalogue(measure=False, params=params, measured=measured)}


def cost_for(name: str, attack: dict[str, Any], prices: dict[str, Any]) -> dict[str, Any]:
    """Seconds to exhaust the attack's keyspace under scheme ``name``, here and on GPUs."""
    price = prices.get(name)
    size = attack.get("keyspace_size")
    if price is not None and not price.reversible:
        return {"feasible": False, "reason": price.reason, "devices": {}}
    if price is None or not size:
        return {"feasible": False, "reason": "not priced", "devices": {}}
    devices = {"here": size / price.measured_rate} if price.measured_rate else {}
    if not devices and attack.get("recovered") and attack.get("hashes_per_second"):
        devices["here"] = size / attack["hashes_per_second"]  # this attack's own rate
    devices.update(
        {_device_name(k): v for k, v in price.seconds(int(size)).items() if "reference" in k}
    )
    if attack.get("knows_secret") is False and name in _KEYED:
        return {
            "feasible": False,
            "reason": "not enumerable without the key (the platform holds it)",
            "devices": {},
            "with_key": devices,
        }
    return {
        "feasible": True,
        "reason": price.reason or None,
        "keyspace_size": size,
        "devices": devices,
        "measured_rate": price.measured_rate or attack.get("hashes_per_second"),
    }


def _device_name(label: str) -> str:
    if label.startswith("this machine"):
        return "here"
    return label.split(" (")[0]
