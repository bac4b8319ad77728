"""What the platform learns beyond the hashes: membership and quasi-identifier risk.

- :func:`qi_risk` - equivalence classes, k-anonymity, share unique, ARX's prosecutor /
  journalist / marketer risk and the population-uniqueness estimators (Pitman, Zayatz,
  SNB, Dankar's rule) for any QI combination of a file; hashing the combination changes
  none of these numbers.
- :func:`membership` - who the platform now knows to be a customer of which (sensitive)
  advertiser, accumulated over several uploads.
- :func:`expected_share_unique` / :func:`simulate_share_unique` - whole-population
  uniqueness from census tables (Golle's 63 %, the Dutch DPA's PC4 + date of birth).
- :func:`keyspace_size` - how many values a QI combination can take, for the attack stage
  to price the reversal of a hashed combination.
- :func:`risk_section` - the experiment results' ``risk`` section.
"""

from matchsim.risk.assess import DEFAULT_QI_SETS, QIRisk, qi_risk, risk_section, uploads_from_files
from matchsim.risk.classes import EquivalenceClasses, QIField, equivalence_classes, parse_qi
from matchsim.risk.expected import (
    expected_share_unique,
    keyspace,
    keyspace_size,
    simulate_share_unique,
)
from matchsim.risk.membership import MembershipReport, Upload, membership, read_matched
from matchsim.risk.models import RiskSummary, SampleRisk, sample_risk
from matchsim.risk.uniqueness import PopulationUniqueness, population_uniqueness

__all__ = [
    "DEFAULT_QI_SETS",
    "EquivalenceClasses",
    "MembershipReport",
    "PopulationUniqueness",
    "QIField",
    "QIRisk",
    "RiskSummary",
    "SampleRisk",
    "Upload",
    "equivalence_classes",
    "expected_share_unique",
    "keyspace",
    "keyspace_size",
    "membership",
    "parse_qi",
    "population_uniqueness",
    "qi_risk",
    "read_matched",
    "risk_section",
    "sample_risk",
    "simulate_share_unique",
    "uploads_from_files",
]
