"""``matchsim.oracle.run``: the size-oracle experiment, scored against ground truth.

The harness (this module) picks victims and targets and keeps their true phones and
memberships; each attacker gets only an API handle, the victim's e-mail, its padding list
(the advertiser's own customer e-mails) and the number plan. Scoring happens after.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.errors import ConfigError, InputError
from matchsim.io import read_parquet
from matchsim.join.identity import IdentityIndex
from matchsim.locale.numberplan import NumberPlan
from matchsim.oracle._validate import Fields
from matchsim.oracle.api import MATERIALISE_LIMIT, AudienceSizeAPI
from matchsim.oracle.attack import difference, infer_phone, visited
from matchsim.oracle.policy import Policy
from matchsim.rng import Stream, stream

ProgressFn = Callable[[str, int, int], None]

DEFAULT_POLICIES = (
    Policy("2017", granularity=10, floor=20),
    Policy("no-customer-list-estimates", customer_lists=False),
    Policy("ranges-x2-from-1000", granularity=1, floor=1000, ranges=2.0),
    Policy("threshold-1000-exact", granularity=1, floor=1000),
    Policy(
        "laplace-eps0.5-daily",
        granularity=1,
        floor=0,
        noise="laplace",
        epsilon=0.5,
        budget=5.0,
        period="day",
    ),
)

DEFAULT_DIFFERENCING = (
    Policy("exact", granularity=1, floor=0),
    Policy("rounded-10", granularity=10, floor=20),
    Policy("threshold-100", granularity=1, floor=100),
    Policy("threshold-100000", granularity=1, floor=100_000),
    Policy("laplace-eps1", granularity=1, floor=0, noise="laplace", epsilon=1.0, budget=10.0),
    Policy("laplace-eps0.1", granularity=1, floor=0, noise="laplace", epsilon=0.1, budget=1.0),
    Policy(
        "gaussian-eps0.5",
        granularity=1,
        floor=0,
        noise="gaussian",
        epsilon=0.5,
        delta=1e-6,
        budget=5.0,
        period="month",
    ),
)


@dataclass(frozen=True)
class OracleConfig:
    """The ``[oracle]`` table.

    Attributes:
        victims: phone-inference victims (accounts with an e-mail and a phone).
        pool: padding e-mails the attacker holds (from its customer file).
        max_days: the attacker's patience on the simulated clock.
        website_share: share of accounts in the attacker's pixel (website) audience.
        website_victims: victims of the website-visitor variant (half are visitors).
        policies: reporting rules to attack (``[[oracle.policies]]``).
        differencing_targets: targets of the plain differencing attack (half members).
        differencing_repeats: answers averaged per target, one row per value.
        differencing_policies: reporting rules for differencing
            (``[[oracle.differencing_policies]]``).
        profile, scheme: the platform's documented normalisation and hashing.
        materialise_limit: candidate batches up to this size are hashed one by one.
    """

    victims: int = 10
    pool: int = 600
    max_days: int = 365
    website_share: float = 0.05
    website_victims: int = 10
    policies: tuple[Policy, ...] = DEFAULT_POLICIES
    differencing_targets: int = 100
    differencing_repeats: tuple[int, ...] = (1, 16)
    differencing_policies: tuple[Policy, ...] = DEFAULT_DIFFERENCING
    profile: str = "meta"
    scheme: str = "sha256"
    materialise_limit: int = MATERIALISE_LIMIT

    @classmethod
    def problems(cls, d: Any, where: str = "oracle") -> tuple[OracleConfig, list[str]]:
        """The config and every problem in ``d`` as ``location: message`` strings."""
        f = Fields(d, where)
        out: list[str] = []

        def policies(key: str, default: tuple[Policy, ...]) -> tuple[Policy, ...]:
            raw = f.sub(key)
            if raw is None:
                return default
            if not isinstance(raw, list) or not raw:
                f.problem(key, "must be a non-empty array of tables ([[...]])")
                return default
            found = []
            for i, item in enumerate(raw):
                p, errs = Policy.from_dict(item, f"{where}.{key}[{i}]")
                out.extend(errs)
                found.append(p)
            names = [p.name for p in found]
            if len(set(names)) != len(names):
                f.problem(key, f"policy names must be unique, got {names}")
            return tuple(found)

        repeats = f.numbers("differencing_repeats", cls.differencing_repeats, 1)
        if any(r != int(r) for r in repeats):
            f.problem("differencing_repeats", "must be whole numbers")
        config = cls(
            victims=f.integer("victims", cls.victims, 0),
            pool=f.integer("pool", cls.pool, 1),
            max_days=f.integer("max_days", cls.max_days, 0),
            website_share=f.number("website_share", cls.website_share, 0.0, 1.0),
            website_victims=f.integer("website_victims", cls.website_victims, 0),
            policies=policies("policies", DEFAULT_POLICIES),
            differencing_targets=f.integer("differencing_targets", cls.differencing_targets, 0),
            differencing_repeats=tuple(int(r) for r in repeats),
            differencing_policies=policies("differencing_policies", DEFAULT_DIFFERENCING),
            profile=f.string("profile", cls.profile),
            scheme=f.string("scheme", cls.scheme),
            materialise_limit=f.integer("materialise_limit", cls.materialise_limit, 0),
        )
        return config, f.finish() + out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "oracle") -> OracleConfig:
        """The config in ``d``; ConfigError listing every problem otherwise."""
        config, problems = cls.problems(d, where)
        ConfigError.collect(problems)
        return config

    def to_dict(self) -> dict[str, Any]:
        return {
            "victims": self.victims,
            "pool": self.pool,
            "max_days": self.max_days,
            "website_share": self.website_share,
            "website_victims": self.website_victims,
            "policies": [p.to_dict() for p in self.policies],
            "differencing_targets": self.differencing_targets,
            "differencing_repeats": list(self.differencing_repeats),
            "differencing_policies": [p.to_dict() for p in self.differencing_policies],
            "profile": self.profile,
            "scheme": self.scheme,
            "materialise_limit": self.materialise_limit,
        }


@dataclass(frozen=True)
class OracleResult:
    """Scored attacks: ``phone``, ``website`` and ``differencing`` rows per policy."""

    config: OracleConfig
    phone: list[dict[str, Any]] = field(default_factory=list)
    website: list[dict[str, Any]] = field(default_factory=list)
    differencing: list[dict[str, Any]] = field(default_factory=list)
    population: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "population": self.population,
            "phone": self.phone,
            "website": self.website,
            "differencing": self.differencing,
        }


def _read(population_dir: Path, name: str, columns: list[str]) -> pa.Table:
    path = population_dir / name
    if not path.exists():
        raise InputError(path, "not found; run `matchsim generate` first")
    return read_parquet(path, columns)


def run(
    config: OracleConfig,
    population_dir: str | Path,
    *,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> OracleResult:
    """Run every size-oracle attack of ``config`` against the population's platform."""
    from matchsim.generate import CUSTOMERS_FILE, PLATFORM_FILE, TRUTH_FILE, load_locale

    population_dir = Path(population_dir)
    index = IdentityIndex.from_population(
        population_dir, profile=config.profile, scheme=config.scheme
    )
    platform = _read(population_dir, PLATFORM_FILE, ["uid", "email", "phone"])
    customers = _read(population_dir, CUSTOMERS_FILE, ["cid", "email"])
    truth = _read(population_dir, TRUTH_FILE, ["cid", "uid"])
    plan = load_locale(index.region).mobile_plan  # public: the country's mobile plan
    pool = _padding_pool(customers, config.pool, seed)
    uid = platform["uid"].to_numpy()
    email = platform["email"].combine_chunks()
    phone = platform["phone"].combine_chunks()
    victims = _victims(email, phone, plan, pool, config.victims, seed)

    total = len(config.policies) * (len(victims) + config.website_victims) + len(
        config.differencing_policies
    ) * len(config.differencing_repeats)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("size oracle", done, total)

    phone_rows = _phone_attacks(config, index, victims, email, phone, pool, plan, seed, tick)
    website_rows = _website(config, index, uid, email, pool, seed, tick)
    differencing_rows = _differencing(config, index, platform, customers, truth, pool, seed, tick)
    return OracleResult(
        config,
        phone_rows,
        website_rows,
        differencing_rows,
        {
            "platform_users": index.n_users,
            "region": index.region,
            "plan_size": plan.size,
            "pool": len(pool),
        },
    )


def _padding_pool(customers: pa.Table, size: int, seed: int) -> list[str]:
    """The attacker's padding list: ``size`` of its own customers' e-mails, as it holds them."""
    cust_email = customers["email"].combine_chunks()
    have = cust_email.is_valid().to_numpy(zero_copy_only=False)
    rng = stream(seed, Stream.ORACLE_POOL)
    order = rng.permutation(np.flatnonzero(have))
    pool: list[str] = cust_email.take(pa.array(order[:size])).to_pylist()
    return pool


def _victims(
    email: pa.Array, phone: pa.Array, plan: NumberPlan, pool: list[str], wanted: int, seed: int
) -> list[int]:
    """Rows of accounts with an e-mail outside the pool and a phone in the plan, in a
    seeded random order (truth: their national number)."""
    prefix = f"+{plan.country_code}"
    eligible = np.flatnonzero(
        email.is_valid().to_numpy(zero_copy_only=False)
        & pc.starts_with(phone.fill_null(""), prefix).to_numpy(zero_copy_only=False)
    )
    pool_set = set(pool)
    victims: list[int] = []
    for i in stream(seed, Stream.ORACLE_VICTIMS).permutation(eligible):
        if len(victims) == wanted:
            break
        national = str(phone[int(i)].as_py())[len(prefix) :]
        if email[int(i)].as_py() not in pool_set and in_plan(plan, national):
            victims.append(int(i))
    return victims


def _phone_attacks(
    config: OracleConfig,
    index: IdentityIndex,
    victims: list[int],
    email: pa.Array,
    phone: pa.Array,
    pool: list[str],
    plan: NumberPlan,
    seed: int,
    tick: Callable[[], None],
) -> list[dict[str, Any]]:
    """Infer every victim's phone from their e-mail under each policy; one row a policy."""
    prefix = f"+{plan.country_code}"
    phone_rows: list[dict[str, Any]] = []
    for p_i, policy in enumerate(config.policies):
        per_victim = []
        for v_i, row in enumerate(victims):
            api = AudienceSizeAPI(
                index,
                policy,
                seed=seed * 1000 + p_i * 100 + v_i,
                materialise_limit=config.materialise_limit,
            )
            outcome = infer_phone(
                api, str(email[row].as_py()), pool, plan, max_days=config.max_days
            )
            true_national = str(phone[row].as_py())[len(prefix) :]
            entry = outcome.to_dict()
            entry["success"] = outcome.guess == true_national
            per_victim.append(entry)
            tick()
        phone_rows.append(_phone_row(policy, per_victim))
    return phone_rows


def in_plan(plan: NumberPlan, national: str) -> bool:
    """Whether ``national`` is a number of ``plan`` (the attacker's search space)."""
    return any(
        len(shape) == len(national)
        and all(c in pos for c, pos in zip(national, shape, strict=True))
        for shape in plan.shapes
    )


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"mean": None, "median": None, "max": None}
    a = np.asarray(values, dtype=np.float64)
    return {"mean": float(a.mean()), "median": float(np.median(a)), "max": float(a.max())}


def _phone_row(policy: Policy, per_victim: list[dict[str, Any]]) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for v in per_victim:
        statuses[v["status"]] = statuses.get(v["status"], 0) + 1
    n = len(per_victim)
    return {
        "policy": policy.to_dict(),
        "victims": n,
        "success_rate": (sum(v["success"] for v in per_victim) / n) if n else None,
        "queries": _stats([v["queries"] for v in per_victim]),
        "uploads": _stats([v["uploads"] for v in per_victim]),
        "days": _stats([v["days"] for v in per_victim]),
        "projected_queries": _stats([v["projected_queries"] for v in per_victim]),
        "projected_days": _projected_days(policy, [v["projected_queries"] for v in per_victim]),
        "statuses": statuses,
        "per_victim": per_victim,
    }


def _projected_days(policy: Policy, queries: list[float]) -> float | None:
    qpp = policy.queries_per_period
    if not queries or math.isinf(qpp):
        return None
    from matchsim.oracle.policy import PERIODS

    return float(np.mean(queries) / max(qpp, 1) * PERIODS[policy.period])


def _website(
    config: OracleConfig,
    index: IdentityIndex,
    uid: np.ndarray,
    email: pa.Array,
    pool: list[str],
    seed: int,
    tick: Callable[[], None],
) -> list[dict[str, Any]]:
    """The website-visitor variant: the platform's pixel audience of the attacker's site."""
    rng = stream(seed, Stream.ORACLE_WEBSITE)
    has_email = email.is_valid().to_numpy(zero_copy_only=False)
    visitors = rng.random(len(uid)) < config.website_share
    pool_set = set(pool)
    inside = [int(i) for i in rng.permutation(np.flatnonzero(visitors & has_email))]
    outside = [int(i) for i in rng.permutation(np.flatnonzero(~visitors & has_email))]
    n_in = config.website_victims // 2
    chosen = [(i, True) for i in inside if email[i].as_py() not in pool_set][:n_in] + [
        (i, False) for i in outside if email[i].as_py() not in pool_set
    ][: config.website_victims - n_in]
    rows = []
    for p_i, policy in enumerate(config.policies):
        per_victim = []
        for v_i, (row, truth) in enumerate(chosen):
            api = AudienceSizeAPI(index, policy, seed=seed * 1000 + 500 + p_i * 100 + v_i)
            site = api._platform_audience(uid[visitors])
            answer, outcome = visited(
                api, str(email[row].as_py()), site, pool, max_days=config.max_days
            )
            entry = outcome.to_dict()
            entry["visitor"] = truth
            entry["success"] = answer is not None and answer == truth
            per_victim.append(entry)
            tick()
        n = len(per_victim)
        rows.append(
            {
                "policy": policy.to_dict(),
                "victims": n,
                "success_rate": (sum(v["success"] for v in per_victim) / n) if n else None,
                "undecided": sum(v["status"] != "done" for v in per_victim),
                "queries": _stats([v["queries"] for v in per_victim]),
                "days": _stats([v["days"] for v in per_victim]),
                "per_victim": per_victim,
            }
        )
    return rows


def _differencing(
    config: OracleConfig,
    index: IdentityIndex,
    platform: pa.Table,
    customers: pa.Table,
    truth: pa.Table,
    pool: list[str],
    seed: int,
    tick: Callable[[], None],
) -> list[dict[str, Any]]:
    """Two uploads differing by one person: membership leakage per setting."""
    rng = stream(seed, Stream.ORACLE_DIFFERENCING)
    n_members = config.differencing_targets // 2
    p_email = platform["email"].combine_chunks()
    members = p_email.filter(p_email.is_valid()).to_pylist()
    # Non-members: customers without an account (the truth is the harness's, not the
    # attacker's: it only decides who the targets are).
    outside_cids = pc.filter(truth["cid"], pc.is_null(truth["uid"]))
    c_email = pc.filter(customers["email"], pc.is_in(customers["cid"], outside_cids))
    non_members = [e for e in c_email.to_pylist() if e is not None]
    pool_set = set(pool)
    members = [members[i] for i in rng.permutation(len(members))]
    non_members = [non_members[i] for i in rng.permutation(len(non_members))]
    targets = [(e, True) for e in members if e not in pool_set][:n_members] + [
        (e, False) for e in non_members if e not in pool_set
    ][: config.differencing_targets - n_members]
    rows = []
    for p_i, policy in enumerate(config.differencing_policies):
        for r_i, repeats in enumerate(config.differencing_repeats):
            api = AudienceSizeAPI(index, policy, seed=seed * 1000 + 900 + p_i * 10 + r_i)
            from matchsim.join.identity import hash_identifiers

            data, valid = hash_identifiers(
                pa.array(pool, pa.string()), "email", api.region, api.profile, api.scheme
            )
            # The attacker does not know where a rounding boundary lies: each target gets
            # a base of a random length from its list.
            base_rng = stream(seed, Stream.ORACLE_BASE_SIZES, p_i, r_i)
            sizes = base_rng.integers(len(pool) // 2, len(pool) + 1, len(targets))
            guesses = []
            for (target, _), size in zip(targets, sizes, strict=True):
                base = api.upload("email", data[:size], valid[:size])
                guesses.append(difference(api, base, target, repeats)[0])
            tick()
            rows.append(_membership_row(policy, repeats, targets, guesses, api))
    return rows


def _membership_row(
    policy: Policy,
    repeats: int,
    targets: list[tuple[str, bool]],
    guesses: list[bool | None],
    api: AudienceSizeAPI,
) -> dict[str, Any]:
    truth = np.array([t for _, t in targets], dtype=bool)
    guess = np.array([bool(g) for g in guesses], dtype=bool)
    answered = np.array([g is not None for g in guesses], dtype=bool)
    tpr = float(guess[truth].mean()) if truth.any() else 0.0
    fpr = float(guess[~truth].mean()) if (~truth).any() else 0.0
    n = len(targets)
    return {
        "policy": policy.to_dict(),
        "repeats": repeats,
        "targets": n,
        "answered": int(answered.sum()),
        "tpr": tpr,
        "fpr": fpr,
        "advantage": tpr - fpr,
        "accuracy": float((guess == truth).mean()) if n else None,
        "queries_per_target": api.usage.queries / n if n else None,
        "days": api.usage.day,
    }
