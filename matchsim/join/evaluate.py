"""Evaluation of a finished join against the ground truth — the simulator's view, not the
platform's.

Reads ``truth.parquet`` (``cid -> uid`` and the noise applied to each customer row)
*after* the join; nothing in the join reads it. Counts true and false matches, the
customers the join missed, and why each was missed:

* ``salt``: the scheme is not deterministic (a per-record salt): nothing can match;
* ``normalisation mismatch``: the customer and the platform hold the same identifier but
  their digests differ — the advertiser's rules differ from the platform's, or the
  platform's rules do not undo cosmetic noise (case, gmail dots, ``+tags``, formats);
* ``stale e-mail``, ``typo``: the identifier itself differs;
* ``missing identifier``: the customer file or the platform lacks every shared key.

False matches of a truncated scheme are labelled ``truncation collision``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from matchsim.arrays import sorted_unique
from matchsim.errors import InputError
from matchsim.io import UNREADABLE_PARQUET, check_ids, read_parquet
from matchsim.join.keys import EMAIL, MADID, PHONE, UploadKeys
from matchsim.join.platform import table_digests
from matchsim.join.result import MatchResult, distinct
from matchsim.join.upload import ID_COLUMNS
from matchsim.normalise import Profile
from matchsim.schemes import Scheme

SALT = "salt"
MISMATCH = "normalisation mismatch"
STALE = "stale e-mail"
TYPO = "typo"
MISSING = "missing identifier"
TRUNCATION = "truncation collision"
OTHER_USER = "another user's identifier"


@dataclass(frozen=True)
class Evaluation:
    """Precision and recall of a join against the truth, and the reasons for misses."""

    customers: int
    on_platform: int
    true_matches: int
    false_matches: int
    missed: int
    missed_by_reason: dict[str, int] = field(default_factory=dict)
    false_by_reason: dict[str, int] = field(default_factory=dict)
    users_true: int = 0
    users_false: int = 0

    @property
    def precision(self) -> float:
        total = self.true_matches + self.false_matches
        return self.true_matches / total if total else 1.0

    @property
    def recall(self) -> float:
        return self.true_matches / self.on_platform if self.on_platform else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "on_platform": self.on_platform,
            "true_matches": self.true_matches,
            "false_matches": self.false_matches,
            "missed": self.missed,
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "missed_by_reason": dict(sorted(self.missed_by_reason.items())),
            "false_by_reason": dict(sorted(self.false_by_reason.items())),
            "users_true": self.users_true,
            "users_false": self.users_false,
        }


def _flag(truth: pa.Table, name: str, rows: np.ndarray) -> np.ndarray:
    if name not in truth.column_names:
        return np.zeros(len(rows), dtype=bool)
    return np.asarray(truth[name].to_numpy(zero_copy_only=False), dtype=bool)[rows]


def evaluate(
    result: MatchResult,
    truth_path: str | Path,
    *,
    row_cid: np.ndarray | None = None,
    platform_path: str | Path | None = None,
    deterministic: bool = True,
    truncated: bool = False,
    presence: str | Path | None = None,
) -> Evaluation:
    """Score ``result`` against ``truth_path``.

    Args:
        row_cid: the customer id of each upload row (default: row ``i`` is cid ``i``,
            which is how ``matchsim hash`` writes a generated customer file).
        platform_path: the platform table, to tell "the platform lacks the identifier"
            from a normalisation mismatch for missed customers.
        deterministic: False for a per-record-salted scheme.
        truncated: the scheme truncates digests (false matches are collisions).
        presence: the platform's normalised layer, if there is one: who holds which
            identifier, read as booleans instead of from the platform's text columns.
    """
    truth_path = Path(truth_path)
    try:
        truth = read_parquet(truth_path, required=["cid", "uid"])
    except InputError as exc:
        if exc.reason != UNREADABLE_PARQUET:
            raise
        raise InputError(truth_path, "is not a readable truth table") from None
    if truth.num_rows == 0 or truth["cid"].null_count:
        raise InputError(truth_path, "does not describe this upload (no customer id on a row)")
    check_ids(truth["cid"], truth_path, "cid")
    cids = truth["cid"].to_numpy()
    true_uid = truth["uid"].fill_null(-1).to_numpy()
    order = np.argsort(cids)
    if row_cid is None:
        row_cid = np.arange(result.n_rows, dtype=np.int64)
    if len(row_cid) != result.n_rows:
        raise InputError(truth_path, "does not describe this upload (row counts differ)")
    pos = order[np.clip(np.searchsorted(cids, row_cid, sorter=order), 0, len(cids) - 1)]
    if not np.array_equal(cids[pos], row_cid):
        raise InputError(truth_path, "does not describe this upload (unknown customer ids)")
    row_truth = true_uid[pos]

    rows, users = result.row_user_pairs()
    correct = users == row_truth[rows]
    true_rows = distinct(rows[correct])
    false_pairs = int((~correct).sum())

    on_platform = row_truth >= 0
    matched_true = np.zeros(result.n_rows, dtype=bool)
    matched_true[true_rows] = True
    missed_rows = np.flatnonzero(on_platform & ~matched_true)

    members = distinct(true_uid[true_uid >= 0])
    users_true = int(_sorted_isin(result.matched_users, members).sum())

    missed_by_reason = _miss_reasons(
        truth, pos[missed_rows], row_truth[missed_rows], platform_path, deterministic, presence
    )
    false_by_reason = {TRUNCATION if truncated else OTHER_USER: false_pairs} if false_pairs else {}
    return Evaluation(
        customers=result.n_rows,
        on_platform=int(on_platform.sum()),
        true_matches=len(true_rows),
        false_matches=false_pairs,
        missed=len(missed_rows),
        missed_by_reason=missed_by_reason,
        false_by_reason=false_by_reason,
        users_true=users_true,
        users_false=len(result.matched_users) - users_true,
    )


def _sorted_isin(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """``np.isin`` for sorted distinct ``members``, by binary search."""
    if len(members) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(members, values), len(members) - 1)
    return np.asarray(members[at] == values)


def _platform_holds(
    platform_path: str | Path | None, uids: np.ndarray, presence: str | Path | None = None
) -> dict[str, np.ndarray]:
    """Per key, whether the platform holds a value for each of ``uids``.

    ``presence``: the normalised platform layer (:mod:`matchsim.join.index`), which records
    the same per-user presence as booleans; read instead of the platform's text columns.
    """
    if platform_path is None or len(uids) == 0:
        return {}
    keys = (EMAIL, PHONE, MADID)
    wanted = [f"present:{k}" for k in keys]
    table = None
    if presence is not None and Path(presence).exists():
        try:
            table = pq.read_table(presence, columns=["uid", *wanted])
            table = table.rename_columns(["uid", *keys])
        except (OSError, pa.ArrowInvalid, KeyError):
            table = None
    if table is None:
        held = [k for k in keys if k in pq.read_schema(platform_path).names]  # some may be absent
        table = pq.read_table(
            platform_path,
            columns=["uid", *held],
            filters=[("uid", "in", pa.array(sorted_unique(uids)))],
        )
        present = {
            k: table[k].is_valid().to_numpy(zero_copy_only=False)
            if k in held
            else np.zeros(table.num_rows, dtype=bool)
            for k in keys
        }
    else:
        present = {k: table[k].to_numpy(zero_copy_only=False).astype(bool) for k in keys}
    got = table["uid"].to_numpy()
    if len(got) == 0:
        return {key: np.zeros(len(uids), dtype=bool) for key in keys}
    if len(got) < 2 or bool((got[1:] >= got[:-1]).all()):  # stored in uid order: no sort
        where = np.minimum(np.searchsorted(got, uids), len(got) - 1)
    else:
        order = np.argsort(got)
        where = order[np.minimum(np.searchsorted(got, uids, sorter=order), len(got) - 1)]
    known = got[where] == uids  # a user the platform no longer has holds nothing
    return {key: present[key][where] & known for key in keys}


def _miss_reasons(
    truth: pa.Table,
    truth_rows: np.ndarray,
    uids: np.ndarray,
    platform_path: str | Path | None,
    deterministic: bool,
    presence: str | Path | None = None,
) -> dict[str, int]:
    n = len(truth_rows)
    if n == 0:
        return {}
    if not deterministic:
        return {SALT: n}
    holds = _platform_holds(platform_path, uids, presence)
    everywhere = np.ones(n, dtype=bool)
    email_here = ~_flag(truth, "email_missing", truth_rows) & holds.get(EMAIL, everywhere)
    phone_here = ~_flag(truth, "phone_missing", truth_rows) & holds.get(PHONE, everywhere)
    email_typo = _flag(truth, "email_typo", truth_rows)
    stale = _flag(truth, "email_stale", truth_rows)
    phone_typo = _flag(truth, "phone_typo", truth_rows)
    # The same identifier on both sides, yet no match: the digests differ by normalisation.
    same = (email_here & ~email_typo & ~stale) | (phone_here & ~phone_typo)
    reason = np.where(
        same,
        MISMATCH,
        np.where(
            email_here & stale,
            STALE,
            np.where((email_here & email_typo) | (phone_here & phone_typo), TYPO, MISSING),
        ),
    )
    return {str(k): int(v) for k, v in Counter(reason.tolist()).items()}


_SAMPLE = 512  # rows checked to confirm that upload row i is customer row i
_AGREE = 0.5  # share of one key's comparable sampled digests that must agree


@dataclass(frozen=True)
class RowMapping:
    """Which customer each upload row is, or why evaluation cannot tell (``refused``)."""

    cids: np.ndarray | None
    how: str
    refused: str | None = None


def upload_row_cids(
    upload: UploadKeys,
    customers_path: str | Path,
    profile: Profile,
    scheme: Scheme,
    region: str,
) -> RowMapping:
    """The customer id of each upload row, by the upload's own id column or, failing
    that, by row order *once checked*: a sample of customer rows is normalised and hashed
    the platform's way and compared with the upload's digests at the same rows. An upload
    that is a subset or a shuffle of the customer file fails the check and gets no
    evaluation rather than a wrong one.
    """
    if upload.customer_ids is not None:
        return RowMapping(upload.customer_ids, "the upload's customer-id column")
    path = Path(customers_path)
    hint = f"and has no customer-id column ({' / '.join(ID_COLUMNS)})"
    if not path.exists():
        return RowMapping(None, "", f"no customer file beside the truth to align rows {hint}")
    customers = read_parquet(path)
    if customers.num_rows != upload.n_rows:
        return RowMapping(
            None,
            "",
            f"the upload has {upload.n_rows:,} rows, the customer file "
            f"{customers.num_rows:,}: not the same rows {hint}",
        )
    if "cid" not in customers.column_names:
        raise InputError(path, "has no cid column (the customer id matchsim generate writes)")
    check_ids(customers["cid"], path, "cid")  # each customer once, none without an id
    cids = np.asarray(pc.cast(customers["cid"], pa.int64()).to_numpy(), dtype=np.int64)
    if not scheme.deterministic:  # nothing to compare; every figure is order-free
        return RowMapping(cids, "row order (not checkable: the scheme is salted)")
    sample = np.unique(np.linspace(0, upload.n_rows - 1, min(_SAMPLE, upload.n_rows)).astype(int))
    rows = customers.take(pa.array(sample)).append_column("uid", pa.array(sample, pa.int64()))
    theirs = table_digests(rows, profile, scheme, path, region)
    # Per key: sampled rows digested on both sides, and how many agree. Row order is
    # confirmed when some key agrees on most of its rows (keys the advertiser normalised
    # differently from the platform may disagree everywhere; a shuffle agrees nowhere).
    best = (0, 0)
    for key, mine in upload.keys.items():
        if key not in theirs or not len(mine):
            continue
        other = theirs[key]
        at = np.searchsorted(mine.ids, other.ids)
        found = (at < len(mine)) & (mine.ids[np.minimum(at, len(mine) - 1)] == other.ids)
        if mine.words.shape[1] != other.words.shape[1] or not found.any():
            continue
        same = (mine.words[at[found]] == other.words[found]).all(axis=1)
        agree, comparable = int(same.sum()), len(same)
        if agree * best[1] > best[0] * comparable or best[1] == 0:
            best = (agree, comparable)
    agree, comparable = best
    if comparable == 0:
        reason = f"cannot check that the upload's rows are the customers' {hint}"
        return RowMapping(None, "", reason)
    if agree < _AGREE * comparable:
        return RowMapping(
            None,
            "",
            f"the upload's rows are not the customer file's rows in order "
            f"({agree} of {comparable} sampled digests agree) {hint}",
        )
    return RowMapping(cids, f"row order (checked: {agree} of {comparable} sampled digests agree)")


def row_cids(customers_path: str | Path, n_rows: int) -> np.ndarray | None:
    """The cid column of the customer file the upload was hashed from, if it fits."""
    path = Path(customers_path)
    if not path.exists():
        return None
    cid = read_parquet(path, ["cid"])["cid"]
    if len(cid) != n_rows:
        return None
    check_ids(cid, path, "cid")
    return np.asarray(pc.cast(cid, pa.int64()).to_numpy())


__all__ = ["Evaluation", "RowMapping", "evaluate", "row_cids", "upload_row_cids"]
