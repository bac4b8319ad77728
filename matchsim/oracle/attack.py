"""The size-estimate oracle attacks of Venkatadri et al. (IEEE S&P 2018), and differencing.

Threat model: the attacker is an ordinary advertiser account. It knows the victim's
e-mail address, holds a list of other people's e-mail addresses (its own customer file,
used as padding), knows the country's number plan, and reads the platform's public
documentation (how to normalise and hash; how estimates are reported, including any
published epsilon). It calls nothing but :class:`~matchsim.oracle.api.AudienceSizeAPI`.

The membership test (:func:`Prober.contains`): pad a base audience ``B`` with the first
``k`` padding records so that its true size sits one below a reporting boundary (the
smallest ``k`` at which the estimate moves, minus one); then add the victim's e-mail. If
the estimate moves, the victim's account was not yet in ``B``; if it stays, it was:
de-duplication counted the account once. With noise there is no boundary: the attacker
averages repeated answers with and without the victim and compares the means.

Phone inference: the candidate batch for digit ``d`` at position ``i`` is every number of
the plan with the known prefix followed by ``d``; the victim's account is in that batch's
audience exactly when its phone starts that way, so the number falls digit by digit in
about (positions x 10 / 2) membership tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from matchsim.join.identity import hash_identifiers
from matchsim.locale.numberplan import NumberPlan
from matchsim.oracle.api import AudienceSizeAPI, allowed_digits

Z_SCORE = 3.3
"""How many standard errors the averaging attacker wants between 'in' and 'out'."""


class GaveUp(Exception):
    """The attacker stops: no answers, no boundary within its padding, or out of time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Prober:
    """Membership tests through the estimate API, with padding and optional averaging.

    Attributes:
        api: the only door to the platform.
        pool: the attacker's padding e-mails (raw, as held).
        max_days: the attacker stops when the simulated clock passes this.
        repeats: answers averaged per comparison (1: deterministic boundary method).
    """

    api: AudienceSizeAPI
    pool: Sequence[str]
    max_days: int = 365
    repeats: int = 1
    _pads: dict[int, int] = field(default_factory=dict)
    _digests: tuple[np.ndarray, np.ndarray] | None = None
    tests: int = 0

    def hash_emails(self, emails: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        api = self.api
        return hash_identifiers(
            pa.array(list(emails), pa.string()), "email", api.region, api.profile, api.scheme
        )

    def pad(self, k: int) -> list[int]:
        """The audience of the first ``k`` padding records (uploaded once, on demand)."""
        if k == 0:
            return []
        if k not in self._pads:
            if self._digests is None:
                self._digests = self.hash_emails(self.pool)
            data, valid = self._digests
            self._pads[k] = self.api.upload("email", data[:k], valid[:k])
        return [self._pads[k]]

    def ask(self, audiences: Sequence[int]) -> float:
        """One answer's ordinal (averaged over ``repeats``), waiting out empty budgets."""
        total = 0.0
        for _ in range(self.repeats):
            while True:
                answer = self.api.estimate(audiences)
                if answer.status != "budget_exhausted":
                    break
                if self.api.wait_for_refresh() > self.max_days:
                    raise GaveUp("out of time")
            if answer.key is None:
                raise GaveUp("no estimate for customer-list audiences")
            total += answer.key
        return total / self.repeats

    def contains(self, base: Sequence[int], victim: int) -> bool:
        """Whether the victim's account is already counted in ``base``."""
        self.tests += 1
        if self.repeats > 1:
            # Averaging: the whole pool lifts the audience above any floor.
            padded = [*base, *self.pad(len(self.pool))]
            return self.ask([*padded, victim]) - self.ask(padded) < 0.5
        k, before = self._boundary(base)
        after = self.ask([*base, *self.pad(k), victim])
        return after == before

    def _boundary(self, base: Sequence[int]) -> tuple[int, float]:
        """The largest ``k`` whose padded estimate still equals the unpadded one, when
        ``k + 1`` moves it: the padded audience is exactly one below a boundary."""
        start = self.ask(base)
        cache = {0: start}

        def moved(k: int) -> bool:
            if k not in cache:
                cache[k] = self.ask([*base, *self.pad(k)])
            return cache[k] > start

        hi = 1
        while not moved(min(hi, len(self.pool))):
            if hi >= len(self.pool):
                raise GaveUp("padding pool too small to reach a reporting boundary")
            hi *= 2
        hi = min(hi, len(self.pool))
        lo = hi // 2  # not moved at lo (or lo == 0)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if moved(mid):
                hi = mid
            else:
                lo = mid
        return lo, cache[lo]


@dataclass(frozen=True)
class Outcome:
    """One victim's attack, as the attacker ended it (scored later against truth)."""

    guess: str | None
    status: str
    queries: int
    refused: int
    uploads: int
    tests: int
    days: int
    projected_queries: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "guess_found": self.guess is not None,
            "status": self.status,
            "queries": self.queries,
            "refused": self.refused,
            "uploads": self.uploads,
            "tests": self.tests,
            "days": self.days,
            "projected_queries": self.projected_queries,
        }


def averaging_repeats(api: AudienceSizeAPI) -> int:
    """Answers to average per comparison so that a difference of one account stands
    ``Z_SCORE`` standard errors clear (from the published noise; 1 without noise)."""
    sd = api.policy.noise_sd
    if sd == 0:
        return 1
    # Difference of two means of m answers each has sd * sqrt(2 / m); need 0.5 / that >= z.
    return max(1, math.ceil(2 * (sd * Z_SCORE / 0.5) ** 2))


def expected_tests(plan: NumberPlan) -> float:
    """Membership tests a digit-by-digit attack needs on average: at a position with n
    candidate digits tried in order (the last by elimination), (n - 1)(n + 2) / 2n; plus
    one final confirmation."""
    total = 1.0
    for i in range(max(len(s) for s in plan.shapes)):
        n = len({d for s in plan.shapes if len(s) > i for d in s[i]})
        if n > 1:
            total += (n - 1) * (n + 2) / (2 * n)
    return total


def _outcome(prober: Prober, guess: str | None, status: str, tests_needed: float) -> Outcome:
    u = prober.api.usage
    if prober.repeats > 1:
        per_test = 2.0 * prober.repeats  # known in advance: with and without the victim
    else:
        per_test = u.queries / prober.tests if prober.tests else 0.0
    projected = float(u.queries) if status == "done" else per_test * tests_needed
    return Outcome(guess, status, u.queries, u.refused, u.uploads, prober.tests, u.day, projected)


def infer_phone(
    api: AudienceSizeAPI,
    victim_email: str,
    pool: Sequence[str],
    plan: NumberPlan,
    *,
    max_days: int = 365,
    known_prefix: str = "",
) -> Outcome:
    """Infer the victim's phone (national number) from their e-mail, digit by digit."""
    prober = Prober(api, [e for e in pool if e != victim_email], max_days, averaging_repeats(api))
    positions = max(len(s) for s in plan.shapes)
    tests_needed = expected_tests(plan)
    try:
        data, valid = prober.hash_emails([victim_email])
        victim = api.upload("email", data, valid)
        prefix = known_prefix
        while len(prefix) < positions:
            digits = allowed_digits(plan, prefix)
            if not digits:
                break
            if len(digits) == 1:
                prefix += digits[0]
                continue
            chosen = None
            for d in digits[:-1]:
                batch = api.upload_phone_prefix(plan, prefix + d)
                if prober.contains([batch], victim):
                    chosen = d
                    break
            prefix += chosen if chosen is not None else digits[-1]
        # Confirm the last digit chosen by elimination: the whole number must hold them.
        final = api.upload_phone_prefix(plan, prefix)
        if not prober.contains([final], victim):
            return _outcome(prober, None, "no phone found", tests_needed)
        return _outcome(prober, prefix, "done", tests_needed)
    except GaveUp as stop:
        return _outcome(prober, None, stop.reason, tests_needed)


def visited(
    api: AudienceSizeAPI,
    victim_email: str,
    website_audience: int,
    pool: Sequence[str],
    *,
    max_days: int = 365,
) -> tuple[bool | None, Outcome]:
    """The website-visitor variant: is the victim's account in the pixel audience?"""
    prober = Prober(api, [e for e in pool if e != victim_email], max_days, averaging_repeats(api))
    try:
        data, valid = prober.hash_emails([victim_email])
        victim = api.upload("email", data, valid)
        answer = prober.contains([website_audience], victim)
        return answer, _outcome(prober, None, "done", 1)
    except GaveUp as stop:
        return None, _outcome(prober, None, stop.reason, 1)


def difference(
    api: AudienceSizeAPI, base: int, target_email: str, repeats: int
) -> tuple[bool | None, int]:
    """The plain differencing attack: ``est(B + x) - est(B)``, averaged over ``repeats``.

    Returns the membership guess (None when no estimate is given at all) and the day on
    which the attacker had its answers (waiting out exhausted budgets).
    """
    prober = Prober(api, [], max_days=10**9, repeats=repeats)
    data, valid = prober.hash_emails([target_email])
    target = api.upload("email", data, valid)
    try:
        with_x = prober.ask([base, target])
        without = prober.ask([base])
    except GaveUp:
        return None, api.usage.day
    return with_x - without > 0.5, api.usage.day
