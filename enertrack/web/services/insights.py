"""The panel's insight cards for one user (and optionally one site): plain facts with a link each.

Each card is data (a msgid, its values, where its chart is); the UI module translates and formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from enertrack.config import URL_PREFIX
from enertrack.core.tariffs import cost_by_band
from enertrack.quality.report import Verdict
from enertrack.quality.week import cached_week_report
from enertrack.store.base import TimeseriesStore
from enertrack.web.services import bill
from enertrack.web.services.consumption import load_base_load, past_days, today_so_far
from enertrack.web.services.nodes import owned
from enertrack.web.services.quality import generation, week_monday
from enertrack.web.services.sites import node_site, nominal_for, site_node_ids

QUALITY_NODES_MAX = 3  # a week of raw readings per node (about 1 s each at 10 s on SQLite): at most this many


@dataclass(frozen=True, slots=True)
class Insight:
    """One card: its kind, the figures it states and the page that shows them."""

    kind: str  # base_load | today | unusual_day | forecast | quality
    values: dict[str, Any] = field(default_factory=dict)
    href: str = ""


def analysis_url(period: str, first: date, last: date, anchor: str = "") -> str:
    """The analysis page showing [first, last] (both shown) by period."""
    return f"{URL_PREFIX}analysis?period={period}&start={first.isoformat()}&end={last.isoformat()}" + (
        f"#{anchor}" if anchor else "")


def standby_price(price: bill.SitePricing, tz: str, now: float) -> float | None:
    """The mean price of one kWh used evenly around the clock: a constant load over the coming week's bands."""
    if not price.tariffs:
        return None
    start = int(now) - int(now) % 900
    starts = np.arange(start, start + 7 * 86400, 900, dtype=np.int64)
    split = cost_by_band(starts, np.full(starts.size, 0.25), price.tariffs, tz)  # 1 kW for a week
    return split.total_cost / (7 * 24) if split.unpriced_kwh == 0 else None


def standby_cost(store: TimeseriesStore, sites: list[bill.SitePricing], tz: str, now: float) -> float | None:
    """The yearly cost of the base load: each site's own base load at its own standby price, summed.

    None when a site with a base load has no price: a sum that leaves it out would look complete.
    """
    total = 0.0
    for site in sites:
        found = load_base_load(store, list(site.node_ids), tz, now)
        if found is None or found.watts <= 0:
            continue
        cost = found.yearly_cost(standby_price(site, tz, now))
        if cost is None:
            return None
        total += cost
    return total


def _base_load(store: TimeseriesStore, ids: list[str], tz: str, now: float, sites: list[bill.SitePricing],
               currency: str, yesterday: date) -> Insight | None:
    found = load_base_load(store, ids, tz, now)
    if found is None or found.watts <= 0:
        return None
    # One site: its base load at its price. Several: each site's at its own price, summed.
    cost = found.yearly_cost(standby_price(sites[0], tz, now)) if len(sites) == 1 else standby_cost(
        store, sites, tz, now)
    return Insight("base_load", {"watts": found.watts, "share": found.share, "yearly_kwh": found.yearly_kwh(),
                                 "yearly_cost": cost, "currency": currency},
                   analysis_url("hour", yesterday, yesterday))


def _today(store: TimeseriesStore, ids: list[str], tz: str, now: float, today: date) -> Insight | None:
    check = today_so_far(store, ids, tz, now)
    if check is None or check.usual_kwh is None or check.ratio is None:
        return None
    return Insight("today", {"kwh": check.kwh, "usual_kwh": check.usual_kwh, "change": check.ratio - 1,
                             "weekday": today.weekday(), "unusual": check.unusual},
                   analysis_url("hour", today, today))


def _unusual(store: TimeseriesStore, ids: list[str], tz: str, now: float) -> Insight | None:
    flagged = [c for c in past_days(store, ids, tz, now) if c.unusual and c.ratio is not None]
    if not flagged:
        return None
    day = flagged[-1]
    return Insight("unusual_day", {"day": day.day, "kwh": day.kwh, "usual_kwh": day.usual_kwh,
                                   "ratio": day.ratio, "direction": day.unusual, "weekday": day.day.weekday()},
                   analysis_url("hour", day.day, day.day))


def _forecast(db: Session, store: TimeseriesStore, user_id: int, site: Any, tz: str, now: float) -> Insight | None:
    found = bill.bill_forecast(db, store, user_id, site, tz, now)
    result = found.total
    if result.weeks_used == 0 and result.so_far_kwh == 0:
        return None
    return Insight("forecast", {"kwh": result.expected_kwh, "low_kwh": result.low_kwh, "high_kwh": result.high_kwh,
                                "cost": result.expected_cost, "low_cost": result.low_cost,
                                "high_cost": result.high_cost, "currency": found.currency},
                   analysis_url("day", found.first, found.end - timedelta(days=1), "analysis-forecast"))


def _quality(db: Session, store: TimeseriesStore, user_id: int, ids: list[str], tz: str, grid: str,
             now: float) -> Insight | None:
    monday = week_monday(1, tz, now)
    judged = []
    for node_id in ids[:QUALITY_NODES_MAX]:
        node = owned(db, user_id, node_id)
        report = cached_week_report(store, node_id, generation(node), monday, tz,
                                    nominal_for(node, node_site(db, node), grid), node.interval_s, now)
        if report.verdict is not Verdict.INSUFFICIENT:
            judged.append((node_id, report))
    if not judged:
        return None
    outside = [(n, r) for n, r in judged if r.verdict is Verdict.OUTSIDE]
    node_id, report = (outside or judged)[0]
    return Insight("quality", {"node": node_id, "outside": len(outside), "judged": len(judged),
                               "dips": report.count("dip"), "swells": report.count("swell")},
                   f"{URL_PREFIX}nodes/{node_id}#node-quality")


def insights(db: Session, store: TimeseriesStore, user_id: int, site: Any, tz: str, grid: str,
             now: float) -> list[Insight]:
    """Up to five cards for the user's nodes of site ('all' or None: every node, each site at its own tariffs)."""
    ids = site_node_ids(db, user_id, site)
    if not ids:
        return []
    sites = [p for p in bill.pricings(db, user_id, site) if p.node_ids]
    currency = sites[0].currency if sites else "EUR"
    today = datetime.fromtimestamp(now, ZoneInfo(tz)).date()
    found = [
        _base_load(store, ids, tz, now, sites, currency, today - timedelta(days=1)),
        _today(store, ids, tz, now, today),
        _unusual(store, ids, tz, now),
        _forecast(db, store, user_id, None if site in (None, "", "all") else site, tz, now),
        _quality(db, store, user_id, ids, tz, grid, now),
    ]
    return [card for card in found if card is not None]
