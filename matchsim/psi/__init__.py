"""Private set intersection (ECDH on X25519): the matching that reveals only the match.

``matchsim.psi.run(advertiser_ids, platform_ids, PsiParams(...)) -> PsiResult`` plays
both parties and records every message as it would cross the wire;
``run_population(pop_dir)`` does it on a generated population. See
:mod:`matchsim.psi.protocol` for the threat model and :mod:`matchsim.psi.curve` for the
hash-to-curve.
"""

from matchsim.psi.curve import encode_to_u
from matchsim.psi.protocol import (
    POINT_BYTES,
    Message,
    PsiParams,
    PsiResult,
    population_identifiers,
    run,
    run_population,
)

__all__ = [
    "POINT_BYTES",
    "Message",
    "PsiParams",
    "PsiResult",
    "encode_to_u",
    "population_identifiers",
    "run",
    "run_population",
]
