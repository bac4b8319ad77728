"""Library entry points on a generated population: :func:`link` and :func:`attack`.

Both play the honest parties (advertiser and platform encode with one shared secret)
and score the outcome against the ground truth, which only the scoring reads.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.clk.attack import AttackParams, frequency_attack, public_first_names, score_guesses
from matchsim.clk.encode import Clks, encode, format_field
from matchsim.clk.link import match
from matchsim.clk.schema import ClkSchema, LinkParams
from matchsim.io import population_manifest, read_parquet
from matchsim.secrets import Secret

PopLike = str | os.PathLike[str] | Any


def _out(pop: PopLike) -> Path:
    return Path(getattr(pop, "out", pop))


def _read(pop: PopLike, name: str, columns: list[str]) -> pa.Table:
    from matchsim.generate import CUSTOMERS_FILE, PLATFORM_FILE, TRUTH_FILE

    files = {"customers": CUSTOMERS_FILE, "platform": PLATFORM_FILE, "truth": TRUTH_FILE}
    return read_parquet(_out(pop) / files[name], columns)


def _columns(schema: ClkSchema) -> list[str]:
    cols = [f.name for f in schema.fields]
    if schema.salt_field and schema.salt_field not in cols:
        cols.append(schema.salt_field)
    return cols


def _prf(tp: int, links: int, true: int) -> dict[str, float]:
    p = tp / links if links else 0.0
    r = tp / true if true else 0.0
    return {"precision": p, "recall": r, "f_measure": 2 * p * r / (p + r) if p + r else 0.0}


def _exact_key(table: pa.Table, schema: ClkSchema) -> pa.Array:
    parts = [format_field(f.name, table.column(f.name)).fill_null("") for f in schema.fields]
    return pc.binary_join_element_wise(*parts, "\x1f")


@dataclass
class LinkResult:
    """CLK linkage scored against the truth, next to exact hashing of the same fields."""

    schema: ClkSchema
    params: LinkParams
    customers: int
    platform_users: int
    true_pairs: int
    clk: dict[str, float]
    exact: dict[str, float]
    typo_recall: dict[str, float]
    seconds: dict[str, float]
    bytes_per_record: int
    pairs: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": "clk",
            "hardening": self.schema.hardening,
            "schema": self.schema.to_dict(),
            "threshold": self.params.threshold,
            "customers": self.customers,
            "platform_users": self.platform_users,
            "true_pairs": self.true_pairs,
            "clk": dict(self.clk),
            "exact_hash": dict(self.exact),
            "recall_on_name_typos": dict(self.typo_recall),
            "match_rate": self.clk["links"] / self.customers if self.customers else 0.0,
            "bytes": {
                "advertiser_to_platform": self.bytes_per_record * self.customers,
                "per_record": self.bytes_per_record,
            },
            "seconds": dict(self.seconds),
            "learns": {
                "platform": "every customer's filter: similar names give similar bits, open "
                "to frequency and pattern-mining attacks without the secret",
                "advertiser": "nothing from the platform (it only uploads)",
            },
        }


def link(
    pop: PopLike,
    schema: ClkSchema | None = None,
    secret: Secret | bytes | None = None,
    params: LinkParams | None = None,
) -> LinkResult:
    """Encode customers and platform users with one shared secret and link them."""
    schema = schema or ClkSchema()
    params = params or LinkParams()
    secret = secret if secret is not None else Secret(os.urandom(32), "os-random")
    cols = _columns(schema)
    cust = _read(pop, "customers", ["cid", *cols])
    plat = _read(pop, "platform", ["uid", *cols])
    truth = _read(pop, "truth", ["cid", "uid", "name_typo"])
    t = time.perf_counter()
    a = encode(cust, schema, secret)
    t_enc_a = time.perf_counter() - t
    t = time.perf_counter()
    b = encode(plat, schema, secret)
    t_enc_b = time.perf_counter() - t
    t = time.perf_counter()
    pairs, _dice = match(a, b, params)
    t_match = time.perf_counter() - t

    # --- scoring (reads the truth) ---
    cid = cust.column("cid").to_numpy()
    uid = plat.column("uid").to_numpy()
    truth_uid = dict(
        zip(truth.column("cid").to_pylist(), truth.column("uid").to_pylist(), strict=True)
    )
    typo = dict(
        zip(truth.column("cid").to_pylist(), truth.column("name_typo").to_pylist(), strict=True)
    )
    want = np.array([truth_uid[c] if truth_uid[c] is not None else -1 for c in cid.tolist()])
    is_typo = np.array([bool(typo[c]) for c in cid.tolist()])
    true_pairs = int((want >= 0).sum())
    ok = want[pairs[:, 0]] == uid[pairs[:, 1]]
    clk_tp = int(ok.sum())

    key_c = _exact_key(cust, schema).to_pylist()
    first: dict[str, int] = {}
    for j, k in enumerate(_exact_key(plat, schema).to_pylist()):
        first.setdefault(k, j)
    ex = np.array([first.get(k, -1) for k in key_c])
    ex_links = int((ex >= 0).sum())
    ex_ok = (ex >= 0) & (want == np.where(ex >= 0, uid[np.maximum(ex, 0)], -2))
    typo_true = int(((want >= 0) & is_typo).sum())
    clk_typo = int(is_typo[pairs[ok, 0]].sum())
    return LinkResult(
        schema=schema,
        params=params,
        customers=len(a),
        platform_users=len(b),
        true_pairs=true_pairs,
        clk={"links": len(pairs), "correct": clk_tp, **_prf(clk_tp, len(pairs), true_pairs)},
        exact={
            "links": ex_links,
            "correct": int(ex_ok.sum()),
            **_prf(int(ex_ok.sum()), ex_links, true_pairs),
        },
        typo_recall={
            "pairs_with_name_typo": typo_true,
            "clk": clk_typo / typo_true if typo_true else 0.0,
            "exact_hash": int((ex_ok & is_typo).sum()) / typo_true if typo_true else 0.0,
        },
        seconds={"encode_advertiser": t_enc_a, "encode_platform": t_enc_b, "match": t_match},
        bytes_per_record=a.nbytes_per_record,
        pairs=np.stack([cid[pairs[:, 0]], uid[pairs[:, 1]]], axis=1),
    )


@dataclass
class AttackResult:
    """The frequency attack on one party's encodings, scored against the truth."""

    schema: ClkSchema
    params: AttackParams
    scores: dict[str, float]
    aligned: int
    decoded: int
    seconds: float

    @property
    def success(self) -> float:
        """Share of records whose name the attacker re-identified correctly."""
        return self.scores["reidentified"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "attack": "clk-frequency-atoms",
            "hardening": self.schema.hardening,
            "target": self.params.target,
            "success": self.success,
            **self.scores,
            "aligned_filters": self.aligned,
            "decoded_filters": self.decoded,
            "seconds": self.seconds,
            "attacker_knows": "encodings, public schema, public first-name frequencies; "
            "not the secret",
        }


def attack(
    pop: PopLike,
    schema: ClkSchema | None = None,
    secret: Secret | bytes | None = None,
    params: AttackParams | None = None,
    *,
    victim: str = "customers",
    clks: Clks | None = None,
) -> AttackResult:
    """Encode ``victim``'s records (the advertiser's upload by default) and attack them."""
    schema = schema or ClkSchema()
    params = params or AttackParams()
    secret = secret if secret is not None else Secret(os.urandom(32), "os-random")
    table = _read(pop, victim, _columns(schema))
    if clks is None:
        clks = encode(table, schema, secret)
    country = population_manifest(_out(pop))["parameters"]["country"]
    public = public_first_names(country)
    g = frequency_attack(clks, public, params)
    truth_names = format_field(params.target, table.column(params.target)).to_pylist()
    frequent = {n for n, _ in public[: params.align]}
    scores = score_guesses(g.guesses, truth_names, frequent)
    return AttackResult(schema, params, scores, g.aligned, g.decoded, g.seconds)
