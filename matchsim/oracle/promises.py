"""What today's platforms promise, tested: each catalogue product's policy, attacked.

The harness (this module) picks the attacker's list and the targets from a generated
population and keeps their truth; the tactics (:mod:`matchsim.oracle.tactics`) see only
an API handle and e-mail addresses. Scoring happens afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from matchsim.errors import InputError
from matchsim.oracle.index import IdentityIndex, hash_identifiers


def _stream(seed: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@dataclass(frozen=True)
class Setting:
    """The attacker's list and the targets, with the truth the harness keeps.

    Attributes:
        index: the platform's identity index (the platform's, not the attacker's).
        pool: the attacker's own customer e-mails (padding, decoys, base audiences).
        targets: target e-mails; ``truth[i]`` says whether target i has an account
            that is not already in the attacker's list (evaluation only).
        pool_accounts: accounts the whole pool matches (evaluation only).
    """

    index: IdentityIndex
    pool: list[str]
    targets: list[str]
    truth: list[bool]
    pool_accounts: np.ndarray

    def matched(self, emails: list[str]) -> int:
        """Evaluation: distinct accounts that ``emails`` match on the platform."""
        i = self.index
        data, valid = hash_identifiers(pa.array(emails, pa.string()), "email", i.region,
                                       i.profile, i.scheme)  # fmt: skip
        uids = i.lookup("email", data, valid)
        return int(np.unique(uids[uids >= 0]).size)


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
    customers = pq.read_table(d / CUSTOMERS_FILE, columns=["cid", "email"])
    platform = pq.read_table(d / PLATFORM_FILE, columns=["uid", "email"])
    truth = pq.read_table(d / TRUTH_FILE, columns=["cid", "uid"])
    cust_email = customers["email"].combine_chunks()
    have = np.flatnonzero(cust_email.is_valid().to_numpy(zero_copy_only=False))
    order = _stream(seed, 0).permutation(have)
    pool_list = [str(e) for e in cust_email.take(pa.array(order[:pool])).to_pylist()]
    data, valid = hash_identifiers(pa.array(pool_list, pa.string()), "email", index.region,
                                   index.profile, index.scheme)  # fmt: skip
    found = index.lookup("email", data, valid)
    pool_accounts = np.unique(found[found >= 0])

    p_uid = platform["uid"].to_numpy()
    p_email = platform["email"].combine_chunks()
    ok = p_email.is_valid().to_numpy(zero_copy_only=False) & ~np.isin(p_uid, pool_accounts)
    taken = set(pool_list)
    members = [
        str(e)
        for e in p_email.take(
            pa.array(_stream(seed, 1).permutation(np.flatnonzero(ok)))
        ).to_pylist()[: targets * 2]
        if e not in taken
    ]
    outside = pc.filter(truth["cid"], pc.is_null(truth["uid"]))
    c_out = pc.filter(customers["email"], pc.is_in(customers["cid"], outside)).combine_chunks()
    c_out = c_out.filter(c_out.is_valid())
    non = [str(e) for e in c_out.take(pa.array(_stream(seed, 2).permutation(len(c_out))))
           .to_pylist() if e not in taken]  # fmt: skip
    n_in = targets // 2
    chosen = [(e, True) for e in members[:n_in]] + [(e, False) for e in non[: targets - n_in]]
    mix = _stream(seed, 3).permutation(len(chosen))
    return Setting(
        index=index,
        pool=pool_list,
        targets=[chosen[i][0] for i in mix],
        truth=[chosen[i][1] for i in mix],
        pool_accounts=pool_accounts,
    )
