"""The advertiser's website and its visitors: browsers, sessions and page views.

Everything is a numpy column; ids are row numbers (visitor, browser, session, page view).
A :class:`World` is what happened in browsers, independent of any pixel: the pixel rules
of a scenario (:mod:`matchsim.pixel.observe`) then decide what the platform is told, so
every scenario of one run sees the same visits.

Visitors are drawn from the advertiser's customer file; whether a visitor holds a
platform account, and which, is world state (a browser logged in to the platform carries
that account's cookie), taken from the ground truth. The platform never reads it: it
sees only the cookie values and hashed identifiers in pixel events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchsim.errors import ConfigError, InputError
from matchsim.io import read_parquet

CATEGORIES = ("general", "product", "medical")
GENERAL, PRODUCT, MEDICAL = range(3)

PAGES: dict[str, tuple[str, ...]] = {
    "general": ("/", "/contact", "/over-ons", "/inloggen", "/nieuws"),
    "product": (
        "/zorgverzekering/basis",
        "/zorgverzekering/aanvullend",
        "/tandartsverzekering",
        "/premie-berekenen",
        "/overstappen",
    ),
    # Reimbursement pages for named treatments: visiting one says something about health.
    "medical": (
        "/vergoedingen/ivf-behandeling",
        "/vergoedingen/psychologische-zorg",
        "/vergoedingen/anticonceptie",
        "/vergoedingen/fysiotherapie",
        "/vergoedingen/stoppen-met-roken",
        "/vergoedingen/dieetadvies",
        "/vergoedingen/verslavingszorg",
        "/vergoedingen/kraamzorg",
    ),
}
SITE = "https://www.zorgverzekeraar.example"


@dataclass(frozen=True)
class World:
    """Visits to the advertiser's site.

    Per visitor: ``uid`` (their platform account, -1 if none; world state), ``email`` and
    ``phone`` (as they would type them into a form). Per browser: ``browser_visitor``,
    ``logged_in`` (holds a live platform cookie), ``consent_u`` (uniform draw: consents
    when below the consent rate). Per session: ``session_browser``, ``session_start``
    (seconds), ``form_at`` (order of the page view where a form was filled, -1 if none).
    Per page view: ``pv_session``, ``pv_order`` (0, 1, ... within its session),
    ``pv_category`` (index into :data:`CATEGORIES`), ``pv_page`` (index into that
    category's :data:`PAGES`). Page views are sorted by session, then order.
    """

    uid: np.ndarray
    email: pa.Array
    phone: pa.Array
    browser_visitor: np.ndarray
    logged_in: np.ndarray
    consent_u: np.ndarray
    session_browser: np.ndarray
    session_start: np.ndarray
    form_at: np.ndarray
    pv_session: np.ndarray
    pv_order: np.ndarray
    pv_category: np.ndarray
    pv_page: np.ndarray

    @property
    def n_visitors(self) -> int:
        return int(self.uid.size)

    @property
    def pv_browser(self) -> np.ndarray:
        return self.session_browser[self.pv_session]

    @property
    def pv_visitor(self) -> np.ndarray:
        return self.browser_visitor[self.pv_browser]

    def urls(self, rows: np.ndarray | None = None) -> pa.Array:
        """The full URL of each page view (or of ``rows``)."""
        paths = [p for c in CATEGORIES for p in PAGES[c]]
        offsets = np.cumsum([0] + [len(PAGES[c]) for c in CATEGORIES])[:-1]
        idx = offsets[self.pv_category] + self.pv_page
        if rows is not None:
            idx = idx[rows]
        text = pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), pa.array(paths))
        return pc.binary_join_element_wise(SITE, text.cast(pa.string()), "")


@dataclass(frozen=True)
class Behaviour:
    """How visitors browse (the ``[pixel]`` table's behaviour keys; see PixelConfig)."""

    visitors: int = 2000
    browsers_mean: float = 1.5
    sessions_mean: float = 3.0
    pages_mean: float = 4.0
    page_mix: tuple[float, float, float] = (0.5, 0.3, 0.2)
    form_rate: float = 0.15
    logged_in_share: float = 0.6
    days: int = 30


def _counts(rng: np.random.Generator, n: int, mean: float, cap: int) -> np.ndarray:
    """1 + Poisson(mean - 1), capped: at least one of each."""
    return 1 + np.minimum(rng.poisson(max(mean - 1.0, 0.0), n), cap - 1)


def _order_within(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2... within each run of equal (sorted) group ids."""
    n = groups.size
    if n == 0:
        return np.zeros(0, np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    return np.arange(n) - run_start


def build_world(
    population_dir: str | Path, behaviour: Behaviour, rng: np.random.Generator
) -> World:
    """Draw visitors from the customer file and simulate their visits (vectorised)."""
    from matchsim.generate import CUSTOMERS_FILE, TRUTH_FILE

    population_dir = Path(population_dir)
    for name in (CUSTOMERS_FILE, TRUTH_FILE):
        if not (population_dir / name).exists():
            raise InputError(population_dir / name, "not found; run `matchsim generate` first")
    customers = read_parquet(population_dir / CUSTOMERS_FILE, ["cid", "email", "phone"])
    truth = read_parquet(population_dir / TRUTH_FILE, ["cid", "uid"])
    n = behaviour.visitors
    if n > customers.num_rows:
        raise ConfigError(
            f"pixel.visitors: {n} visitors but the customer file has {customers.num_rows} rows"
        )
    pick = np.sort(rng.choice(customers.num_rows, size=n, replace=False))
    cid = customers["cid"].to_numpy()[pick]
    t_cid = truth["cid"].to_numpy()
    t_uid = truth["uid"].fill_null(-1).to_numpy()
    order = np.argsort(t_cid)
    uid = t_uid[order][np.searchsorted(t_cid[order], cid)]
    return simulate_visits(
        uid,
        customers["email"].combine_chunks().take(pa.array(pick)),
        customers["phone"].combine_chunks().take(pa.array(pick)),
        behaviour,
        rng,
    )


def simulate_visits(
    uid: np.ndarray,
    email: pa.Array,
    phone: pa.Array,
    behaviour: Behaviour,
    rng: np.random.Generator,
) -> World:
    """Browsers, sessions and page views for visitors with these accounts and identifiers."""
    b = behaviour
    n = uid.size
    nb = _counts(rng, n, b.browsers_mean, 4)
    browser_visitor = np.repeat(np.arange(n), nb)
    first_browser = np.r_[0, np.cumsum(nb)[:-1]]
    logged_in = (uid[browser_visitor] >= 0) & (rng.random(browser_visitor.size) < b.logged_in_share)
    consent_u = rng.random(browser_visitor.size)

    ns = _counts(rng, n, b.sessions_mean, 50)
    session_visitor = np.repeat(np.arange(n), ns)
    pick = np.floor(rng.random(session_visitor.size) * nb[session_visitor]).astype(np.int64)
    session_browser = first_browser[session_visitor] + pick
    session_start = np.floor(rng.random(session_visitor.size) * b.days * 86_400).astype(np.int64)

    pages = _counts(rng, session_visitor.size, b.pages_mean, 40)
    pv_session = np.repeat(np.arange(session_visitor.size), pages)
    pv_order = _order_within(pv_session)
    mix = np.asarray(b.page_mix, dtype=np.float64)
    pv_category = rng.choice(len(CATEGORIES), size=pv_session.size, p=mix / mix.sum())
    sizes = np.array([len(PAGES[c]) for c in CATEGORIES])
    pv_page = np.floor(rng.random(pv_session.size) * sizes[pv_category]).astype(np.int64)

    has_form = rng.random(session_visitor.size) < b.form_rate
    form_at = np.where(has_form, np.floor(rng.random(session_visitor.size) * pages), -1)
    return World(
        uid=np.asarray(uid, dtype=np.int64),
        email=email,
        phone=phone,
        browser_visitor=browser_visitor,
        logged_in=logged_in,
        consent_u=consent_u,
        session_browser=session_browser,
        session_start=session_start,
        form_at=form_at.astype(np.int64),
        pv_session=pv_session,
        pv_order=pv_order,
        pv_category=pv_category.astype(np.int64),
        pv_page=pv_page,
    )
