"""Membership disclosure: what a platform learns from matching advertisers' uploads.

**Threat model.** The platform joins each uploaded (hashed) customer list to its users.
Whatever the hashing, the match result itself is information the platform did not have:
every matched user is now known to be a customer of that advertiser. When the advertiser
is sensitive (a health insurer, a clinic, a debt collector), the user has acquired a
sensitive attribute in the platform's eyes. Across several advertisers' uploads to one
platform the knowledge accumulates per user. Nothing here needs to reverse a hash.

Input: one ``matched.parquet`` per upload (written by the join stage; at least a ``uid``
int64 column of matched platform users), each with an advertiser label and a sensitive
flag. Counting is vectorised: one concatenation of de-duplicated (uid, upload) pairs,
one ``np.unique`` over uids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matchsim.arrays import sorted_unique
from matchsim.errors import ConfigError, InputError

MATCHED_FILE = "matched.parquet"


@dataclass(frozen=True)
class Upload:
    """One advertiser's matched upload.

    Attributes:
        advertiser: a label, e.g. ``"insurer-a"``.
        uids: matched platform user ids (int64; repeats are counted once).
        sensitive: whether being this advertiser's customer is a sensitive attribute.
        category: what the attribute is (``"health insurance"``); informational.
    """

    advertiser: str
    uids: np.ndarray
    sensitive: bool = False
    category: str | None = None


def read_matched(path: str | Path) -> np.ndarray:
    """The ``uid`` column of a join result (a ``matched.parquet`` file or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / MATCHED_FILE
    if not path.exists():
        raise InputError(path, "no such file")
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError):
        raise InputError(path, "not a readable Parquet file") from None
    if "uid" not in schema.names:
        raise InputError(path, "no such column", column="uid")
    column = pq.read_table(path, columns=["uid"]).column("uid")
    if not pa.types.is_integer(column.type):
        raise InputError(path, f"expected integer user ids, found {column.type}", column="uid")
    if column.null_count:
        raise InputError(path, f"{column.null_count} null user ids", column="uid")
    return column.to_numpy().astype(np.int64, copy=False)


@dataclass(frozen=True)
class MembershipReport:
    """What the platform knows after all uploads, and how it accumulated."""

    platform_users: int | None
    uploads: list[dict[str, Any]]
    users_known: int
    users_sensitive: int
    by_advertiser_count: dict[str, int]
    by_sensitive_count: dict[str, int]
    by_category: dict[str, int] = field(default_factory=dict)
    cumulative: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def share(count: int) -> float | None:
            return None if not self.platform_users else count / self.platform_users

        return {
            "platform_users": self.platform_users,
            "uploads": self.uploads,
            "users_known_customers": self.users_known,
            "users_known_customers_share": share(self.users_known),
            "users_with_sensitive_attribute": self.users_sensitive,
            "users_with_sensitive_attribute_share": share(self.users_sensitive),
            "users_by_number_of_advertisers": self.by_advertiser_count,
            "users_by_number_of_sensitive_advertisers": self.by_sensitive_count,
            "users_by_sensitive_category": self.by_category,
            "cumulative": self.cumulative,
        }


def membership(uploads: Sequence[Upload], platform_users: int | None = None) -> MembershipReport:
    """Per-upload and accumulated membership disclosure.

    Args:
        uploads: in the order the platform received them (for ``cumulative``).
        platform_users: the platform's size, to express counts as shares (optional).

    Returns:
        per upload: users matched and whether they acquired a sensitive attribute; over
        all uploads: users known to be customers of ``k`` advertisers (``k = 1..``), of
        ``k`` sensitive advertisers, per sensitive category, and the running totals.
    """
    if not uploads:
        raise ConfigError("membership: give at least one matched upload")
    labels = [u.advertiser for u in uploads]
    repeated = sorted({a for a in labels if labels.count(a) > 1})
    if repeated:
        raise ConfigError(f"membership: advertiser label repeated: {', '.join(repeated)}")
    per_upload = [sorted_unique(np.asarray(u.uids, dtype=np.int64)) for u in uploads]
    all_uids = np.concatenate(per_upload)
    upload_of = np.repeat(np.arange(len(uploads)), [p.size for p in per_upload])
    sensitive = np.array([u.sensitive for u in uploads], dtype=bool)

    users, inverse = np.unique(all_uids, return_inverse=True)
    n_adv = np.bincount(inverse, minlength=users.size)
    n_sens = np.bincount(inverse, weights=sensitive[upload_of], minlength=users.size).astype(
        np.int64
    )
    by_count = np.bincount(n_adv)
    by_sens = np.bincount(n_sens)

    categories: dict[str, int] = {}
    for cat in sorted({u.category or u.advertiser for u in uploads if u.sensitive}):
        members = [
            i for i, u in enumerate(uploads) if u.sensitive and (u.category or u.advertiser) == cat
        ]
        categories[cat] = int(sorted_unique(np.concatenate([per_upload[i] for i in members])).size)

    # Running totals: a user is first known at the earliest upload that matched them.
    first_seen = np.full(users.size, len(uploads), dtype=np.int64)
    np.minimum.at(first_seen, inverse, upload_of)
    first_sensitive = np.full(users.size, len(uploads), dtype=np.int64)
    sens_rows = sensitive[upload_of]
    np.minimum.at(first_sensitive, inverse[sens_rows], upload_of[sens_rows])
    known_after = np.cumsum(np.bincount(first_seen, minlength=len(uploads) + 1)[:-1])
    sens_after = np.cumsum(np.bincount(first_sensitive, minlength=len(uploads) + 1)[:-1])

    rows = []
    cumulative = []
    for i, (u, uids) in enumerate(zip(uploads, per_upload, strict=True)):
        rows.append(
            {
                "advertiser": u.advertiser,
                "sensitive": u.sensitive,
                "category": u.category,
                "users_matched": int(uids.size),
                "users_acquiring_sensitive_attribute": int(uids.size) if u.sensitive else 0,
            }
        )
        cumulative.append(
            {
                "after": u.advertiser,
                "users_known_customers": int(known_after[i]),
                "users_with_sensitive_attribute": int(sens_after[i]),
            }
        )
    return MembershipReport(
        platform_users=platform_users,
        uploads=rows,
        users_known=int(users.size),
        users_sensitive=int((n_sens > 0).sum()),
        by_advertiser_count={str(k): int(by_count[k]) for k in range(1, by_count.size)},
        by_sensitive_count={str(k): int(by_sens[k]) for k in range(0, by_sens.size)},
        by_category=categories,
        cumulative=cumulative,
    )
