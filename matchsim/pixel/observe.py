"""What the pixel tells the platform, and how the platform links it to people.

Threat model: the advertiser places the platform's pixel on some page categories. For a
browser that consented (or on a site that does not ask), each page view with the pixel
sends an event: URL, timestamp, the first-party cookie, the referrer (the previous page),
the platform's login cookie when the browser holds one, and, with advanced matching, the
hashed e-mail and phone the visitor typed into a form (from the form page onward in that
session). The platform links every event of a first-party cookie to

1. the account whose login cookie any of them carried; else
2. the account whose e-mail or phone digest (under the platform's own normalisation and
   hashing) equals a digest they carried; else
3. a shadow profile keyed by that digest (a person without an account, or a digest it
   cannot match; the same digest from another browser lands in the same profile); else
4. a shadow profile keyed by the cookie alone.

Hashing with a key the platform lacks (``hmac-sha256``) turns step 2 into step 3; only a
per-record salt (``salted-sha256``) stops digests linking visits at all. None of it
changes what the page views themselves reveal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from matchsim.arrays import sorted_unique
from matchsim.pixel.world import CATEGORIES, MEDICAL, World

if TYPE_CHECKING:  # the join (numba) loads when a pixel runs, not when its table is read
    from matchsim.join.identity import IdentityIndex

SCHEMES = ("sha256", "hmac-sha256", "pepper-sha256", "salted-sha256", "none")
"""Advanced-matching hashing: the platform's own rule (sha256), an advertiser-held key,
a per-record salt, or advanced matching switched off."""


@dataclass(frozen=True)
class Rules:
    """One scenario's pixel rules.

    Attributes:
        name: label in results.
        placement: page categories that carry the pixel.
        consent_rate: share of browsers that give the active consent the AVG requires
            (1.0: the pixel fires without asking, as in the 2018 cases).
        scheme: advanced-matching hashing (:data:`SCHEMES`).
        send_referrer: events carry the previous page's URL.
    """

    name: str = "baseline"
    placement: tuple[str, ...] = CATEGORIES
    consent_rate: float = 1.0
    scheme: str = "sha256"
    send_referrer: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "placement": list(self.placement),
            "consent_rate": self.consent_rate,
            "scheme": self.scheme,
            "send_referrer": self.send_referrer,
        }


@dataclass(frozen=True)
class Events:
    """The pixel events the platform receives (one row per event).

    ``pv`` is the page view each event reports (for evaluation; the platform sees its
    URL), ``cookie`` the first-party cookie (browser id), ``c_user`` the login cookie
    (account id, -1 if absent), ``em``/``ph`` the advanced-matching digests with validity
    masks, and ``referrer_pv`` the page view named as referrer (-1 if none sent).
    """

    pv: np.ndarray
    cookie: np.ndarray
    c_user: np.ndarray
    em: np.ndarray
    em_valid: np.ndarray
    ph: np.ndarray
    ph_valid: np.ndarray
    referrer_pv: np.ndarray

    def table(self, world: World) -> pa.Table:
        """The events as the platform's log would hold them (URLs as text)."""
        from matchsim.schemes import encode_text

        ref = self.referrer_pv
        ref_urls = world.urls(np.maximum(ref, 0))
        return pa.table(
            {
                "ts": world.session_start[world.pv_session[self.pv]] + 60 * world.pv_order[self.pv],
                "url": world.urls(self.pv),
                "referrer": pa.array(ref_urls.to_pylist(), mask=ref < 0),
                "fp_cookie": self.cookie,
                "c_user": pa.array(self.c_user, mask=self.c_user < 0),
                "em": encode_text(self.em, self.em_valid, "hex"),
                "ph": encode_text(self.ph, self.ph_valid, "hex"),
            }
        )


def _am_digests(
    world: World, rules: Rules, index: IdentityIndex, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Advanced-matching digests per session (rows of the returned arrays) and which
    session each row belongs to. Deterministic schemes give every session of a visitor the
    same digest; the salted one a fresh one per session."""
    from matchsim.normalise import get_profile
    from matchsim.schemes import SCHEMES, get_scheme
    from matchsim.secrets import Secret

    sessions = np.flatnonzero(world.form_at >= 0)
    visitor = world.browser_visitor[world.session_browser[sessions]]
    cls = SCHEMES[rules.scheme]
    # A per-record salt drawn from the run's seed; a keyed scheme's key is the
    # advertiser's own, never shared with the platform in this scenario.
    params = {"seed": seed} if "seed" in cls.defaults else {}
    secret = None
    if cls.needs_secret:
        secret = Secret(np.random.default_rng(seed).bytes(32), "simulated advertiser key")
    scheme = get_scheme(rules.scheme, secret=secret, **params)
    profile = get_profile(index.profile)
    take = pa.array(visitor)
    email = profile.normalise("email", world.email.take(take), index.region).values
    phone = profile.normalise("phone", world.phone.take(take), index.region).values
    em, ph = scheme.encode(email), scheme.encode(phone)
    return sessions, em.data, em.valid, ph.data, ph.valid


def pixel_events(world: World, rules: Rules, index: IdentityIndex, seed: int = 0) -> Events:
    """The events the pixel sends under ``rules`` (vectorised over page views)."""
    placed = np.isin(np.arange(len(CATEGORIES)), [CATEGORIES.index(c) for c in rules.placement])
    browser = world.pv_browser
    fires = placed[world.pv_category] & (world.consent_u[browser] < rules.consent_rate)
    pv = np.flatnonzero(fires)
    cookie = browser[pv]
    c_user = np.where(world.logged_in[cookie], world.uid[world.browser_visitor[cookie]], -1)
    session = world.pv_session[pv]
    width = 0
    em = ph = np.zeros((pv.size, 32), np.uint8)
    em_valid = ph_valid = np.zeros(pv.size, dtype=bool)
    if rules.scheme != "none":
        sessions, em_s, em_v, ph_s, ph_v = _am_digests(world, rules, index, seed)
        width = em_s.shape[1]
        row = np.searchsorted(sessions, session)
        row = np.minimum(row, max(sessions.size - 1, 0))
        has = (
            (sessions.size > 0)
            & (world.form_at[session] >= 0)
            & (world.pv_order[pv] >= world.form_at[session])
        )
        if sessions.size:
            em = np.where(has[:, None], em_s[row], 0).astype(np.uint8)
            ph = np.where(has[:, None], ph_s[row], 0).astype(np.uint8)
            em_valid, ph_valid = has & em_v[row], has & ph_v[row]
        else:
            em = ph = np.zeros((pv.size, width), np.uint8)
    first = world.pv_order[pv] == 0
    referrer = np.where(first | (not rules.send_referrer), -1, pv - 1)
    return Events(pv, cookie, c_user, em, em_valid, ph, ph_valid, referrer)


# Link kinds per first-party cookie, in the order the platform tries them.
UNSEEN, ACCOUNT_COOKIE, ACCOUNT_IDENTIFIER, SHADOW_IDENTIFIER, SHADOW_COOKIE = range(5)
LINK_KINDS = (
    "unseen",
    "account_cookie",
    "account_identifier",
    "shadow_identifier",
    "shadow_cookie",
)


@dataclass(frozen=True)
class Links:
    """The platform's linking, per first-party cookie (browser).

    ``kind`` is one of :data:`LINK_KINDS` (by index); ``account`` the linked account
    (-1 unless an account kind); ``shadow`` the shadow-profile key (-1 if none; equal keys
    are one profile).
    """

    kind: np.ndarray
    account: np.ndarray
    shadow: np.ndarray


def link(events: Events, index: IdentityIndex, n_cookies: int) -> Links:
    """Link every cookie seen in ``events`` (what the platform does; no ground truth)."""
    kind = np.full(n_cookies, UNSEEN, dtype=np.int64)
    kind[events.cookie] = SHADOW_COOKIE
    account = np.full(n_cookies, -1, dtype=np.int64)
    # 1. login cookie
    by_cookie = np.full(n_cookies, -1, dtype=np.int64)
    np.maximum.at(by_cookie, events.cookie, events.c_user)
    # 2. hashed identifiers -> accounts
    em_uid = index.lookup("email", events.em, events.em_valid)
    ph_uid = index.lookup("phone", events.ph, events.ph_valid)
    matched = np.where(em_uid >= 0, em_uid, ph_uid)
    by_identifier = np.full(n_cookies, -1, dtype=np.int64)
    np.maximum.at(by_identifier, events.cookie, matched)
    # 3. shadow keys: the first 8 bytes of the e-mail digest, else of the phone digest
    key = np.full(events.pv.size, -1, dtype=np.int64)
    if events.em.shape[1] >= 8:
        em_key = np.ascontiguousarray(events.em[:, :8]).view(np.uint64)[:, 0] >> np.uint64(2)
        ph_key = np.ascontiguousarray(events.ph[:, :8]).view(np.uint64)[:, 0] >> np.uint64(2)
        key = np.where(
            events.em_valid,
            em_key.astype(np.int64),
            np.where(events.ph_valid, ph_key.astype(np.int64), -1),
        )
    shadow = np.full(n_cookies, -1, dtype=np.int64)
    np.maximum.at(shadow, events.cookie, key)

    has_shadow = shadow >= 0
    kind[has_shadow] = SHADOW_IDENTIFIER
    kind[by_identifier >= 0] = ACCOUNT_IDENTIFIER
    kind[by_cookie >= 0] = ACCOUNT_COOKIE
    account = np.where(by_cookie >= 0, by_cookie, by_identifier)
    shadow = np.where(kind == SHADOW_IDENTIFIER, shadow, -1)
    return Links(kind, account, shadow)


def measure(world: World, events: Events, links: Links) -> dict[str, Any]:
    """Shares of medical-page visits by what the platform learned (scored with truth)."""
    medical = world.pv_category == MEDICAL
    n_med = int(medical.sum())
    direct = np.zeros(world.pv_category.size, dtype=bool)
    direct[events.pv] = True
    via_ref = np.zeros_like(direct)
    ref = events.referrer_pv[events.referrer_pv >= 0]
    via_ref[ref] = True
    via_ref &= ~direct
    observed = direct | via_ref
    browser = world.pv_browser
    kind = links.kind[browser]
    true_uid = world.uid[world.browser_visitor[browser]]
    account = links.account[browser]

    def share(mask: np.ndarray) -> float:
        return float((mask & medical).sum() / n_med) if n_med else 0.0

    is_account = observed & ((kind == ACCOUNT_COOKIE) | (kind == ACCOUNT_IDENTIFIER))
    visitor = world.browser_visitor[browser]
    n_vis = world.n_visitors

    def people(mask: np.ndarray) -> int:
        hit = np.zeros(n_vis, dtype=bool)
        hit[visitor[mask & medical]] = True
        return int(hit.sum())

    users = true_uid >= 0
    shadow_profiles = sorted_unique(links.shadow[links.shadow >= 0]).size
    return {
        "medical_visits": n_med,
        "events": int(events.pv.size),
        "cookies_seen": int((links.kind != UNSEEN).sum()),
        "observed_share": share(observed),
        "via_referrer_share": share(via_ref),
        "account_share": share(is_account),
        "account_cookie_share": share(observed & (kind == ACCOUNT_COOKIE)),
        "account_identifier_share": share(observed & (kind == ACCOUNT_IDENTIFIER)),
        "correct_account_share": share(is_account & (account == true_uid)),
        "shadow_identifier_share": share(observed & (kind == SHADOW_IDENTIFIER)),
        "shadow_cookie_share": share(observed & (kind == SHADOW_COOKIE)),
        "non_user_medical_observed_share": (
            float((observed & medical & ~users).sum() / max(int((medical & ~users).sum()), 1))
        ),
        "people_with_medical_visits": people(np.ones_like(observed)),
        "people_medical_linked_to_account": people(is_account),
        "people_medical_in_identifier_shadow": people(observed & (kind == SHADOW_IDENTIFIER)),
        "shadow_identifier_profiles": int(shadow_profiles),
    }
