"""What today's platforms promise, tested: each catalogue product's policy, attacked.

The harness (this module) picks the attacker's list and the targets from a generated
population and keeps their truth; the tactics (:mod:`matchsim.oracle.tactics`) see only
an API handle and e-mail addresses. Scoring happens afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.arrays import sorted_unique
from matchsim.errors import ConfigError, InputError
from matchsim.io import read_parquet
from matchsim.join.identity import IdentityIndex, hash_identifiers
from matchsim.oracle._validate import Fields
from matchsim.oracle.api import AudienceSizeAPI
from matchsim.oracle.catalogue import Product
from matchsim.oracle.dp import answers_for_accuracy, membership_check
from matchsim.oracle.policy import PERIODS, Policy
from matchsim.oracle.tactics import (
    TacticResult,
    differencing,
    padding,
    score,
    split_differencing,
)
from matchsim.rng import Stream, stream


@dataclass(frozen=True)
class Setting:
    """The attacker's list and the targets, with the truth the harness keeps.

    Attributes:
        index: the platform's identity index (the platform's, not the attacker's).
        pool: the attacker's own customer e-mails (padding, decoys, base audiences).
        targets: target e-mails; ``truth[i]`` says whether target i has an account
            that is not already in the attacker's list (evaluation only).
        pool_accounts: accounts the whole pool matches (evaluation only).
        platform_emails: the platform's users' e-mail addresses (the harness builds a
            PAIR publisher and a UID2 "bid stream" from them).
    """

    index: IdentityIndex
    pool: list[str]
    targets: list[str]
    truth: list[bool]
    pool_accounts: np.ndarray
    platform_emails: list[str]

    def matched(self, emails: list[str]) -> int:
        """Evaluation: distinct accounts that ``emails`` match on the platform."""
        i = self.index
        data, valid = hash_identifiers(
            pa.array(emails, pa.string()), "email", i.region, i.profile, i.scheme
        )
        uids = i.lookup("email", data, valid)
        return int(sorted_unique(uids[uids >= 0]).size)


def setting(
    population_dir: str | Path,
    *,
    pool: int,
    targets: int,
    seed: int,
    profile: str = "meta",
    scheme: str = "sha256",
    index: IdentityIndex | None = None,
) -> Setting:
    """Draw the attacker's list (its customers' e-mails) and half-member targets.

    Members are platform accounts not matched by the attacker's list; non-members are
    customers of the attacker with no account (their e-mails are real-looking and absent).
    """
    from matchsim.generate import CUSTOMERS_FILE, PLATFORM_FILE, TRUTH_FILE

    d = Path(population_dir)
    for name in (CUSTOMERS_FILE, PLATFORM_FILE, TRUTH_FILE):
        if not (d / name).exists():
            raise InputError(d / name, "not found; run `matchsim generate` first")
    index = index or IdentityIndex.from_population(d, profile=profile, scheme=scheme)
    customers = read_parquet(d / CUSTOMERS_FILE, ["cid", "email"])
    platform = read_parquet(d / PLATFORM_FILE, ["uid", "email"])
    truth = read_parquet(d / TRUTH_FILE, ["cid", "uid"])
    cust_email = customers["email"].combine_chunks()
    have = np.flatnonzero(cust_email.is_valid().to_numpy(zero_copy_only=False))
    order = stream(seed, Stream.PROMISES_POOL).permutation(have)
    pool_list = [str(e) for e in cust_email.take(pa.array(order[:pool])).to_pylist()]
    data, valid = hash_identifiers(
        pa.array(pool_list, pa.string()), "email", index.region, index.profile, index.scheme
    )
    found = index.lookup("email", data, valid)
    pool_accounts = sorted_unique(found[found >= 0])

    p_uid = platform["uid"].to_numpy()
    p_email = platform["email"].combine_chunks()
    ok = p_email.is_valid().to_numpy(zero_copy_only=False) & ~np.isin(p_uid, pool_accounts)
    taken = set(pool_list)
    members = [
        str(e)
        for e in p_email.take(
            pa.array(stream(seed, Stream.PROMISES_MEMBERS).permutation(np.flatnonzero(ok)))
        ).to_pylist()[: targets * 2]
        if e not in taken
    ]
    outside = pc.filter(truth["cid"], pc.is_null(truth["uid"]))
    c_out = pc.filter(customers["email"], pc.is_in(customers["cid"], outside)).combine_chunks()
    c_out = c_out.filter(c_out.is_valid())
    order = stream(seed, Stream.PROMISES_OUTSIDERS).permutation(len(c_out))
    non = [str(e) for e in c_out.take(pa.array(order)).to_pylist() if e not in taken]
    n_in = targets // 2
    chosen = [(e, True) for e in members[:n_in]] + [(e, False) for e in non[: targets - n_in]]
    mix = stream(seed, Stream.PROMISES_MIX).permutation(len(chosen))
    return Setting(
        index=index,
        pool=pool_list,
        targets=[chosen[i][0] for i in mix],
        truth=[chosen[i][1] for i in mix],
        pool_accounts=pool_accounts,
        platform_emails=[str(e) for e in p_email.filter(p_email.is_valid()).to_pylist()],
    )


# --- the experiment ----------------------------------------------------------------------


@dataclass(frozen=True)
class PromisesConfig:
    """The ``[promises]`` table.

    Attributes:
        products: catalogue ids to attack (empty: every product).
        pool: e-mails in the attacker's own customer list (decoys, bases).
        targets: people whose membership the attacker tests (half on the platform).
        max_days: the attacker's patience on the platform's clock.
        dp_trials: seeded trials per differential-privacy check.
        pair_list: records per PAIR upload; pair_rounds: uploads over time (30-day steps).
        phone_victims: victims of the phone-number inference per noise-free product
            (Venkatadri et al.: the victim's e-mail in, the phone number out).
        catalogue: a catalogue file other than the shipped one.
    """

    products: tuple[str, ...] = ()
    pool: int = 2400
    targets: int = 40
    max_days: int = 3650
    dp_trials: int = 20_000
    pair_list: int = 300
    pair_rounds: int = 7
    phone_victims: int = 0
    catalogue: str = ""

    @classmethod
    def problems(
        cls, d: Any, where: str = "[promises]", *, source: Path | None = None
    ) -> tuple[PromisesConfig, list[str]]:
        """The config and every problem as ``location: message``; product ids are
        checked against the catalogue (resolved next to ``source``, the experiment)."""
        f = Fields(d, where)
        config = cls(
            products=f.strings("products", ()),
            pool=f.integer("pool", cls.pool, 10, 1_000_000),
            targets=f.integer("targets", cls.targets, 2, 100_000),
            max_days=f.integer("max_days", cls.max_days, 1),
            dp_trials=f.integer("dp_trials", cls.dp_trials, 100, 10_000_000),
            pair_list=f.integer("pair_list", cls.pair_list, 2, 100_000),
            pair_rounds=f.integer("pair_rounds", cls.pair_rounds, 2, 100),
            phone_victims=f.integer("phone_victims", cls.phone_victims, 0, 1000),
            catalogue=f.string("catalogue", ""),
        )
        if config.catalogue and source is not None and not Path(config.catalogue).is_absolute():
            config = replace(config, catalogue=str((source.parent / config.catalogue).resolve()))
        from matchsim.oracle.catalogue import load_catalogue

        try:
            known = {p.id for p in load_catalogue(config.catalogue or None)}
        except (InputError, ConfigError) as exc:
            f.problem("catalogue", exc.one_line())
            known = None
        unknown = [p for p in config.products if known is not None and p not in known]
        if unknown:
            f.problem(
                "products",
                f"unknown product(s) {', '.join(unknown)}; known: {', '.join(sorted(known or ()))}",
            )
        return config, f.finish()

    @classmethod
    def from_dict(
        cls, d: Any, where: str = "[promises]", *, source: Path | None = None
    ) -> PromisesConfig:
        config, problems = cls.problems(d, where, source=source)
        ConfigError.collect(problems)
        return config

    def to_dict(self) -> dict[str, Any]:
        return {
            "products": list(self.products),
            "pool": self.pool,
            "targets": self.targets,
            "max_days": self.max_days,
            "dp_trials": self.dp_trials,
            "pair_list": self.pair_list,
            "pair_rounds": self.pair_rounds,
            "phone_victims": self.phone_victims,
            "catalogue": self.catalogue or None,
        }


def _tactics(product: Product) -> list[Callable[..., TacticResult]]:
    if product.noise != "none":
        return [differencing]
    out: list[Callable[..., TacticResult]] = [padding]
    if product.observable == "count":
        out.append(differencing)
    if product.difference_check:
        out.append(split_differencing)
    return out


def attack_product(
    product: Product,
    s: Setting,
    *,
    seed: int,
    max_days: int,
    dp_trials: int,
    victims: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Every tactic that fits the product's observable, scored; the best one wins."""
    policy = product.policy()
    tried = []
    for i, tactic in enumerate(_tactics(product)):
        api = AudienceSizeAPI(s.index, policy, seed=seed * 101 + i)
        result = tactic(api, s.pool, s.targets, max_days=max_days)
        scored = score(result.guesses, s.truth)
        days = result.days + result.waves * product.upload_hours / 24.0
        tried.append({**result.to_dict(), **scored, "days_total": days})
    best = max(tried, key=lambda r: (r["success"], -r["queries"]))
    row: dict[str, Any] = {
        "product": product.to_dict(),
        "tactics": tried,
        "best": best["tactic"],
        "succeeds": best["success"] >= 0.95,
        "success": best["success"],
        "members_learned": best["members_learned"],
        "uploads": best["uploads"],
        "queries": best["queries"],
        "days": best["days_total"],
        "money_usd": product.minimum_spend_usd,
        "money_basis": "minimum spend from the catalogue (see that figure's status)"
        if product.minimum_spend_usd
        else "assumed 0: size estimates and counts are free to read",
    }
    if victims and product.noise == "none":
        row["phone"] = _phones(product, s, victims, seed, max_days)
    if product.noise != "none":
        qpp = policy.queries_per_period
        per_period = int(qpp) if not math.isinf(qpp) else 1
        check = membership_check(policy, max(1, per_period), dp_trials, seed)
        row["dp"] = {
            "epsilon_per_answer": policy.epsilon,
            "epsilon_per_period": policy.budget,
            "period": policy.period,
            "answers_per_test": answers_for_accuracy(policy, 0.99, sides=2),
            "days_per_target": _days_per_target(policy),
            "one_target_one_period": check.to_dict(),
        }
    row["verdict"] = _verdict(product, row)
    per_target = row.get("dp", {}).get("days_per_target")
    if per_target is not None:
        row["verdict"] += f"; each target costs {_days(per_target)} of budget"
    return row


def _phones(
    product: Product, s: Setting, victims: list[tuple[str, str]], seed: int, max_days: int
) -> dict[str, Any]:
    """Venkatadri's phone inference under the product's policy; scored afterwards."""
    from matchsim.generate import load_locale
    from matchsim.oracle.attack import infer_phone

    plan = load_locale(s.index.region).mobile_plan
    found, queries, statuses = 0, [], []
    for v_i, (email, national) in enumerate(victims):
        api = AudienceSizeAPI(s.index, product.policy(), seed=seed * 7 + v_i)
        out = infer_phone(api, email, s.pool, plan, max_days=max_days)
        found += out.guess == national  # evaluation
        queries.append(out.queries)
        statuses.append(out.status)
    return {
        "victims": len(victims),
        "phones_learned": found / len(victims),
        "queries_mean": float(np.mean(queries)),
        "statuses": sorted(set(statuses)),
    }


def victims_with_phones(
    population_dir: str | Path, s: Setting, n: int, seed: int
) -> list[tuple[str, str]]:
    """Harness: ``n`` accounts with an e-mail and a mobile number of the country's plan
    (not in the attacker's list), with their true national number."""
    from matchsim.generate import PLATFORM_FILE, load_locale
    from matchsim.oracle.run import in_plan

    if n == 0:
        return []
    plan = load_locale(s.index.region).mobile_plan
    table = read_parquet(Path(population_dir) / PLATFORM_FILE, ["email", "phone"])
    prefix = f"+{plan.country_code}"
    taken = set(s.pool) | set(s.targets)
    out: list[tuple[str, str]] = []
    rows = table.to_pylist()
    for i in stream(seed, Stream.PROMISES_PHONE_VICTIMS).permutation(len(rows)):
        r = rows[int(i)]
        e, ph = r["email"], r["phone"]
        if e and ph and ph.startswith(prefix) and e not in taken:
            national = ph[len(prefix) :]
            if in_plan(plan, national):
                out.append((e, national))
                if len(out) == n:
                    break
    return out


def _days_per_target(policy: Policy) -> float | None:
    """Days one target costs an averaging attacker at 99 % accuracy (both sides)."""
    qpp = policy.queries_per_period
    if math.isinf(qpp) or qpp < 1:
        return None
    answers = 2 * answers_for_accuracy(policy, 0.99, sides=2)
    return float(answers / qpp * PERIODS[policy.period])


def _verdict(product: Product, row: dict[str, Any]) -> str:
    share = f"{100 * row['members_learned']:.0f} %"
    if row["succeeds"]:
        return (
            f"broken: {row['best']} learned the membership of {share} of the members among "
            f"the targets ({row['uploads']} uploads, {row['queries']} queries, "
            f"{row['days']:.1f} days)"
        )
    return (
        f"holds against {row['best']} within {row['days']:.0f} days: "
        f"{100 * row['success']:.0f} % of targets decided right"
    )


def run(
    config: PromisesConfig,
    population_dir: str | Path,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Attack every selected catalogue product; PAIR and the re-identification matrix."""
    from matchsim.oracle.catalogue import load_catalogue
    from matchsim.psi.pair import pair_experiment, uid2_linkability
    from matchsim.psi.who import reidentify_matrix

    products = load_catalogue(config.catalogue or None)
    known = {p.id for p in products}
    unknown = [p for p in config.products if p not in known]
    if unknown:
        raise ConfigError(
            f"[promises].products: unknown product(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    chosen = [p for p in products if not config.products or p.id in config.products]
    s = setting(population_dir, pool=config.pool, targets=config.targets, seed=seed)
    victims = victims_with_phones(population_dir, s, config.phone_victims, seed)
    rows = []
    pair_result: dict[str, Any] | None = None
    uid2_result: dict[str, Any] | None = None
    for i, product in enumerate(chosen):
        if product.observable == "match-rate":
            pair_result = pair_experiment(
                s, list_size=config.pair_list, rounds=config.pair_rounds, seed=seed
            )
            rows.append(_pair_row(product, pair_result))
        elif product.observable == "identifier":
            uid2_result = uid2_linkability(s, seed=seed)
            rows.append(_uid2_row(product, uid2_result))
        else:
            rows.append(
                attack_product(
                    product,
                    s,
                    seed=seed * 1000 + i,
                    max_days=config.max_days,
                    dp_trials=config.dp_trials,
                    victims=victims,
                )
            )
    broken = [
        membership_check(p.policy(), 1, config.dp_trials, seed, noise_scale=0.5).to_dict()
        | {"product": p.id}
        for p in chosen
        if p.noise != "none"
    ]
    unverified = [
        {"product": p.id, **f.to_dict()}
        for p in chosen
        for f in p.figures
        if f.status != "verified"
    ]
    return {
        "config": config.to_dict(),
        "setting": {
            "pool": len(s.pool),
            "pool_accounts": int(s.pool_accounts.size),
            "targets": len(s.targets),
            "members": int(sum(s.truth)),
        },
        "products": rows,
        "broken_mechanism_checks": broken,
        "pair": pair_result,
        "uid2": uid2_result,
        "who_can_reidentify": reidentify_matrix(
            rows, upload=len(s.pool), in_register=s.matched(s.pool)
        ),
        "unverified_figures": unverified,
    }


def _pair_row(product: Product, r: dict[str, Any]) -> dict[str, Any]:
    diff = r["differencing"]
    row = {
        "product": product.to_dict(),
        "tactics": [diff],
        "best": "match-rate differencing",
        "succeeds": diff["success"] >= 0.95,
        "success": diff["success"],
        "members_learned": diff["members_learned"],
        "uploads": diff["uploads"],
        "queries": diff["uploads"],
        "days": diff["days"],
        "money_usd": 0.0,
        "money_basis": "assumed 0: clean-room fees not modelled",
    }
    row["verdict"] = _verdict(product, row)
    return row


def _uid2_row(product: Product, r: dict[str, Any]) -> dict[str, Any]:
    row = {
        "product": product.to_dict(),
        "tactics": [],
        "best": "map own register through the identity map",
        "succeeds": r["reidentified_share_of_register"] >= 0.95,
        "success": r["reidentified_share_of_register"],
        "members_learned": r["reidentified_share_of_register"],
        "uploads": r["map_calls"],
        "queries": r["map_calls"],
        "days": 0.0,
        "money_usd": 0.0,
        "money_basis": "assumed 0: participants map identifiers as part of the service",
    }
    row["verdict"] = (
        f"{'broken' if row['succeeds'] else 'holds'}: a participant re-identifies "
        f"{100 * row['success']:.0f} % of the raw UID2s of people in its own register; "
        f"old and new raw UID2 stay linkable for {r['link_window_days']} days after a rotation"
    )
    return row


def _days(days: float) -> str:
    if days < 1:
        return f"{24 * days:.0f} h"
    if days < 60:
        return f"{days:.0f} day{'s' if round(days) != 1 else ''}"
    return f"{days / 365:.1f} years"


def _money(product: dict[str, Any], usd: float) -> str:
    if not usd:
        return "none documented"
    status = next((f["status"] for f in product["figures"] if "spend" in f["name"]), "unverified")
    return f"${usd:,.0f} lifetime spend ({status})"


def summary(result: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """One sentence and compact tables (human labels) for the report: per product, and
    who can re-identify."""
    rows = result["products"]
    broken = [r for r in rows if r["succeeds"]]
    held = [r["product"]["name"] for r in rows if not r["succeeds"]]
    text = (
        f"An ordinary advertiser account broke {len(broken)} of {len(rows)} product promises "
        "in simulation, learning whether named people are on the platform"
        + (f"; only {', '.join(held)} held within the attacker's patience." if held else ".")
    )
    table = []
    for r in rows:
        p = r["product"]
        table.append(
            {
                "Product": p["name"],
                "Promise": p["claim"],
                "Attack": r["best"],
                "Uploads": f"{r['uploads']:,}",
                "Queries": f"{r['queries']:,}",
                "Time": _days(float(r["days"])),
                "Money": _money(p, r["money_usd"]),
                "Members learned": f"{100 * r['members_learned']:.0f} %",
                "Phones learned": f"{100 * r['phone']['phones_learned']:.0f} %"
                if r.get("phone")
                else "—",
                "Verdict": "broken" if r["succeeds"] else "holds",
                "Unverified figures": str(sum(f["status"] != "verified" for f in p["figures"])),
            }
        )
    who = result["who_can_reidentify"]
    matrix = [
        {"Scheme": w["scheme"], **{party: w["cells"][party]["can"] for party in who["parties"]}}
        for w in who["schemes"]
    ]
    return text, [
        {"title": "per product", "rows": table},
        {"title": "who can re-identify, per scheme and party", "rows": matrix},
    ]
