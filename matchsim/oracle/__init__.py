"""The audience-size oracle (Venkatadri et al., IEEE S&P 2018) and its mitigations.

``run(OracleConfig.from_dict(table), population_dir, seed=...)`` builds the platform's
audience-size API over its own users (:class:`AudienceSizeAPI`, reporting under a
:class:`Policy`), runs the phone-inference attack, the website-visitor variant and the
plain differencing attack against each policy, and scores them against ground truth.
:mod:`matchsim.oracle.promises` attacks the real products of the policy catalogue
(:mod:`matchsim.oracle.catalogue`, ``data/platform-policies.toml``);
:mod:`matchsim.oracle.dp` checks a noisy count against its epsilon promise.
:mod:`matchsim.oracle.figures` (report layer only) draws the results.
"""

from matchsim.join.identity import IdentityIndex, hash_identifiers
from matchsim.oracle.api import AudienceSizeAPI, allowed_digits, count_with_prefix
from matchsim.oracle.attack import Outcome, Prober, difference, infer_phone, visited
from matchsim.oracle.catalogue import Product, load_catalogue
from matchsim.oracle.dp import DPCheck, advantage_bound, membership_check
from matchsim.oracle.policy import Estimate, Policy
from matchsim.oracle.run import OracleConfig, OracleResult, run

__all__ = [
    "AudienceSizeAPI",
    "DPCheck",
    "Estimate",
    "IdentityIndex",
    "OracleConfig",
    "OracleResult",
    "Outcome",
    "Policy",
    "Prober",
    "Product",
    "advantage_bound",
    "allowed_digits",
    "count_with_prefix",
    "difference",
    "hash_identifiers",
    "infer_phone",
    "load_catalogue",
    "membership_check",
    "run",
    "visited",
]
