"""The platform's audience-size estimate API, simulated over its own user table.

Threat model: the advertiser (here, the attacker) uploads hashed identifiers; the
platform matches them to accounts, de-duplicating several identifiers of one account
across everything uploaded into the queried audiences, and answers only with the
obfuscated size (:class:`~matchsim.oracle.policy.Policy`). The attacker sees nothing
else: no account ids, no match flags. Whatever it learns comes through :meth:`estimate`.

Audiences are uploaded once and combined in queries (Facebook let an advertiser ask for
the reach of several custom audiences together), so the matching cost is paid per upload
and a query is a union of account sets. A simulated clock counts days; a query that the
privacy budget cannot pay for is refused until :meth:`wait_for_refresh`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.arrays import sorted_unique
from matchsim.join.identity import IdentityIndex, hash_identifiers
from matchsim.locale.numberplan import NumberPlan
from matchsim.oracle.policy import PERIODS, Estimate, Policy

MATERIALISE_LIMIT = 20_000
"""Candidate-number ranges up to this size are really hashed and matched by digest."""


@dataclass
class Usage:
    """What the API counted for one advertiser account."""

    queries: int = 0
    refused: int = 0
    uploads: int = 0
    uploaded_records: int = 0
    hashed_records: int = 0
    day: int = 0
    spent: float = 0.0


class AudienceSizeAPI:
    """One advertiser account's view of the platform's audience-size estimates."""

    def __init__(
        self,
        index: IdentityIndex,
        policy: Policy,
        *,
        seed: int = 0,
        materialise_limit: int = MATERIALISE_LIMIT,
    ) -> None:
        self._index = index
        self.policy = policy
        self._rng = np.random.default_rng(seed)
        self._audiences: list[np.ndarray] = []
        self._counts: dict[tuple[int, ...], int] = {}
        self._answered: dict[tuple[int, ...], np.ndarray] = {}
        self._materialise_limit = materialise_limit
        self.usage = Usage()

    # -- what the platform documents publicly -----------------------------------------

    @property
    def profile(self) -> str:
        return self._index.profile

    @property
    def scheme(self) -> str:
        return self._index.scheme

    @property
    def region(self) -> str:
        return self._index.region

    # -- uploads ------------------------------------------------------------------------

    def upload(self, field: str, digests: np.ndarray, valid: np.ndarray | None = None) -> int:
        """Create a custom audience from hashed ``field`` values; returns its handle."""
        if valid is None:
            valid = np.ones(digests.shape[0], dtype=bool)
        uids = self._index.lookup(field, digests, valid)
        self.usage.uploaded_records += int(digests.shape[0])
        return self._add(uids[uids >= 0])

    def upload_phone_prefix(self, plan: NumberPlan, prefix: str) -> int:
        """Create an audience from the hashed upload of every number of ``plan`` that
        starts with the national-number ``prefix`` (the attacker's candidate batch).

        Batches up to ``materialise_limit`` numbers are enumerated, normalised, hashed and
        matched by digest; larger ones are matched by the equivalent range lookup
        (:meth:`IdentityIndex.phone_range`) because hashing 10^7 numbers per upload would
        dominate the simulation without changing its answer.
        """
        numbers = candidates_with_prefix(plan, prefix, self._materialise_limit)
        size = count_with_prefix(plan, prefix)
        self.usage.uploaded_records += size
        if numbers is not None:
            data, valid = hash_identifiers(numbers, "phone", self.region, self.profile, self.scheme)
            self.usage.hashed_records += len(numbers)
            uids = self._index.lookup("phone", data, valid)
            return self._add(uids[uids >= 0])
        cc = str(plan.country_code)
        lengths = {len(s) for s in plan.shapes}
        found = [self._index.phone_range(cc + prefix, len(cc) + n) for n in sorted(lengths)]
        return self._add(np.concatenate(found) if found else np.zeros(0, np.int64))

    def _add(self, uids: np.ndarray) -> int:
        self.usage.uploads += 1
        self._audiences.append(sorted_unique(uids))
        return len(self._audiences) - 1

    def _platform_audience(self, uids: np.ndarray) -> int:
        """An audience the platform itself builds (e.g. visitors its pixel linked)."""
        self._audiences.append(sorted_unique(np.asarray(uids, dtype=np.int64)))
        return len(self._audiences) - 1

    # -- the one thing the advertiser sees --------------------------------------------

    def estimate(self, audiences: Sequence[int]) -> Estimate:
        """The reported size of the union of ``audiences`` (distinct accounts)."""
        key = tuple(sorted(set(audiences)))
        policy = self.policy
        if policy.noise != "none" and not math.isinf(policy.budget):
            if self.usage.spent + policy.epsilon > policy.budget + 1e-9:
                self.usage.refused += 1
                return Estimate("budget_exhausted")
            self.usage.spent += policy.epsilon
        self.usage.queries += 1
        if self._fails_difference_check(key):
            return Estimate("below_floor", None, float(policy.floor))
        return policy.report(self._count(key), self._rng)

    def estimate_many(self, audiences: Sequence[int], n: int) -> np.ndarray:
        """Up to ``n`` answers for the same union, as many as the budget still pays for
        (the rest are refused); returns their ordinals (:meth:`Policy.keys`), vectorised.
        """
        key = tuple(sorted(set(audiences)))
        policy = self.policy
        k = n
        if policy.noise != "none" and not math.isinf(policy.budget):
            k = min(
                n, max(0, math.floor((policy.budget - self.usage.spent) / policy.epsilon + 1e-9))
            )
            self.usage.spent += k * policy.epsilon
        self.usage.refused += n - k
        self.usage.queries += k
        if self._fails_difference_check(key):
            return np.full(k, -1.0)
        return policy.keys(np.full(k, self._count(key)), self._rng)

    def _union(self, key: tuple[int, ...]) -> np.ndarray:
        parts = [self._audiences[a] for a in key]
        return sorted_unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)

    def _count(self, key: tuple[int, ...]) -> int:
        count = self._counts.get(key)
        if count is None:
            count = int(self._union(key).size)
            self._counts[key] = count
        return count

    def _fails_difference_check(self, key: tuple[int, ...]) -> bool:
        """The platform's difference check: does this answer's account set differ from
        an earlier answered one by fewer than ``floor`` accounts (but not zero)?"""
        if not self.policy.difference_check:
            return False
        accounts = self._union(key)
        for earlier in self._answered.values():
            common = np.intersect1d(accounts, earlier, assume_unique=True).size
            if 0 < accounts.size + earlier.size - 2 * common < self.policy.floor:
                return True
        self._answered.setdefault(key, accounts)
        return False

    def wait_for_refresh(self) -> int:
        """Advance the simulated clock to the next budget refresh; returns the day."""
        step = PERIODS[self.policy.period]
        self.usage.day = (self.usage.day // step + 1) * step
        self.usage.spent = 0.0
        return self.usage.day


def _prefix_shapes(plan: NumberPlan, prefix: str) -> list[tuple[str, ...]]:
    """The remaining positions of every shape that ``prefix`` can start."""
    out = []
    for shape in plan.shapes:
        if len(shape) >= len(prefix) and all(
            c in pos for c, pos in zip(prefix, shape, strict=False)
        ):
            out.append(shape[len(prefix) :])
    return out


def allowed_digits(plan: NumberPlan, prefix: str) -> list[str]:
    """Digits that can follow ``prefix`` in some number of ``plan``."""
    digits = {d for rest in _prefix_shapes(plan, prefix) if rest for d in rest[0]}
    return sorted(digits)


def count_with_prefix(plan: NumberPlan, prefix: str) -> int:
    """How many numbers of ``plan`` start with ``prefix``."""
    return sum(math.prod(len(p) for p in rest) for rest in _prefix_shapes(plan, prefix))


def candidates_with_prefix(plan: NumberPlan, prefix: str, limit: int) -> pa.Array | None:
    """Every number of ``plan`` starting with ``prefix``, as E.164 text (None if over
    ``limit`` numbers)."""
    if count_with_prefix(plan, prefix) > limit:
        return None
    parts: list[pa.Array] = []
    for rest in _prefix_shapes(plan, prefix):
        values = np.array([int(prefix or "0")], dtype=np.int64)
        for pos in rest:
            digits = np.array([int(c) for c in pos], dtype=np.int64)
            values = (values[:, None] * 10 + digits[None, :]).ravel()
        text = pc.utf8_lpad(pa.array(values).cast(pa.string()), len(prefix) + len(rest), "0")
        parts.append(pc.binary_join_element_wise(f"+{plan.country_code}", text, ""))
    if not parts:
        return pa.array([], pa.string())
    return pc.unique(pa.concat_arrays(parts))
