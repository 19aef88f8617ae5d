"""What a site's energy costs: band split of a range, comparisons, the running bill's forecast.

Every function takes the owner explicitly; site ids and node lists come from untrusted input
and are checked here (enertrack.web.services.sites). "All sites" is never priced at one site's
tariff: each site's nodes are priced at that site's own tariffs and the figures are summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from enertrack.core.calendar import EARLIEST, day_start
from enertrack.core.energy import QUARTER_S
from enertrack.core.forecast import WEEKS, Forecast, billing_period, combine, forecast
from enertrack.core.tariffs import (
    BANDS,
    FLAT,
    BandCost,
    TariffSpec,
    add_band_costs,
    cost_by_band,
    energy_costs,
    fixed_charges,
)
from enertrack.models import Site, User
from enertrack.store.base import TimeseriesStore
from enertrack.web.services.analysis import energy_table
from enertrack.web.services.nodes import owned_ids
from enertrack.web.services.sites import ensure_site, list_sites, owned_site, site_node_ids

BAND_SPLIT_MAX_DAYS = 400  # a longer range is not split by band (one query per quarter hour)


@dataclass(frozen=True, slots=True)
class SitePricing:
    """A site's tariffs (oldest first), contracted powers, billing day and the owner's currency."""

    site_id: int
    name: str
    tariffs: list[TariffSpec]
    contracted: tuple[float | None, float | None]
    billing_day: int | None
    currency: str
    node_ids: tuple[str, ...] = ()


def _spec(row: Any) -> TariffSpec:
    def num(value: Any) -> float | None:
        return None if value is None else float(value)

    return TariffSpec(row.valid_from, row.kind, float(row.price_llano), num(row.price_punta), num(row.price_valle),
                      num(row.power_price_kw_day) or 0.0, num(row.power_price_valle_kw_day) or 0.0,
                      num(row.fixed_per_day) or 0.0)


def pricing(db: Session, user_id: int, site_id: Any = None) -> SitePricing:
    """The pricing of the user's site (their first site when site_id is None or 'all').

    A site without tariffs of its own is priced at the profile's flat price per kWh, if any.
    """
    site: Site = ensure_site(db, user_id) if site_id in (None, "", "all") else owned_site(db, user_id, site_id)
    return _site_pricing(site, db.get(User, user_id), tuple(site_node_ids(db, user_id, site.id)))


def _site_pricing(site: Site, user: User | None, node_ids: tuple[str, ...]) -> SitePricing:
    tariffs = [_spec(t) for t in site.tariffs]
    if not tariffs and user is not None and user.price_per_kwh is not None:
        tariffs = [TariffSpec(EARLIEST, FLAT, price_llano=float(user.price_per_kwh))]
    return SitePricing(site.id, site.name, tariffs, (site.contracted_kw, site.contracted_valle_kw),
                       site.billing_day, user.currency if user else "EUR", node_ids)


def pricings(db: Session, user_id: int, site_id: Any = None, requested: Any = None) -> list[SitePricing]:
    """Each site the filter covers (every site of the user for 'all' or None), with its own nodes and tariffs.

    For all sites, a site without nodes drops out (nothing of it is measured, so nothing of it is
    summed); a chosen site is kept even then. requested (untrusted node ids; empty: all) narrows
    each site's nodes, and a site left with none of them drops out. SiteNotFound for a site that
    is not the user's.
    """
    found = list_sites(db, user_id)
    if site_id not in (None, "", "all"):
        chosen = owned_site(db, user_id, site_id).id
        found = [v for v in found if v.id == chosen]
    else:
        found = [v for v in found if v.node_ids]
    wanted = None
    if requested:
        wanted = set(owned_ids(db, user_id, requested if isinstance(requested, list) else [requested]))
    user = db.get(User, user_id)
    result = []
    for view in found:
        ids = view.node_ids if wanted is None else tuple(n for n in view.node_ids if n in wanted)
        if wanted is None or ids:
            result.append(_site_pricing(db.get(Site, view.id), user, ids))
    return result


def quarters(store: TimeseriesStore, node_ids: Sequence[str], start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """kWh per quarter hour of the nodes together in [start, end): (quarter starts, kWh)."""
    start, end = start - start % QUARTER_S, end - end % QUARTER_S
    if not node_ids or end <= start:
        return np.empty(0, dtype=np.int64), np.empty(0)
    frame = store.energy(list(node_ids), list(range(start, end + 1, QUARTER_S)))
    if frame.empty:
        return np.empty(0, dtype=np.int64), np.empty(0)
    totals = frame.groupby("period_start")["energy_kwh"].sum()
    return totals.index.to_numpy(dtype=np.int64), totals.to_numpy(dtype=float)


def days_of(first: date, end: date) -> list[date]:
    """Every local date in [first, end)."""
    return [first + timedelta(days=k) for k in range((end - first).days)]


def band_split(store: TimeseriesStore, node_ids: Sequence[str], first: date, end: date, tz: str,
               price: SitePricing, now: float) -> tuple[BandCost, float] | None:
    """(kWh and cost per band, fixed charges) of [first, end) up to now; None for a range too long to split."""
    if (end - first).days > BAND_SPLIT_MAX_DAYS:
        return None
    zone = ZoneInfo(tz)
    start, stop = day_start(first, zone), min(day_start(end, zone), int(now) - int(now) % QUARTER_S + QUARTER_S)
    starts, kwh = quarters(store, node_ids, start, stop)
    today = datetime.fromtimestamp(now, zone).date()
    charged = [d for d in days_of(first, end) if d <= today]
    return cost_by_band(starts, kwh, price.tariffs, tz), fixed_charges(charged, price.tariffs, *price.contracted)


@dataclass(frozen=True, slots=True)
class BandSplit:
    """kWh and energy cost per band and the fixed charges of one or several sites, summed."""

    costs: BandCost
    fixed: float
    priced: bool  # every site in the sum has a tariff (else its costs are not shown)


def sites_band_split(store: TimeseriesStore, sites: Sequence[SitePricing], first: date, end: date, tz: str,
                     now: float) -> BandSplit | None:
    """band_split of each site (its nodes at its own tariffs), summed; None for a range too long to split."""
    parts = [band_split(store, site.node_ids, first, end, tz, site, now) for site in sites]
    if any(part is None for part in parts):
        return None
    found = [part for part in parts if part is not None]
    empty = BandCost(dict.fromkeys(BANDS, 0.0), dict.fromkeys(BANDS, 0.0), 0.0)
    return BandSplit(add_band_costs([c for c, _ in found]) if found else empty, sum(f for _, f in found),
                     bool(sites) and all(site.tariffs for site in sites))


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February -> 28 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, slots=True)
class Comparison:
    """The shown range's kWh (up to now) against the same span a week and a year before."""

    kwh: float
    week_before_kwh: float
    year_before_kwh: float

    @staticmethod
    def change(now_kwh: float, before: float) -> float | None:
        """Fraction of change, None when the baseline had no energy."""
        return (now_kwh - before) / before if before > 0 else None


def _kwh(store: TimeseriesStore, node_ids: Sequence[str], start: int, end: int) -> float:
    start, end = start - start % QUARTER_S, end - end % QUARTER_S
    if not node_ids or end <= start:
        return 0.0
    frame = store.energy(list(node_ids), [start, end])
    return float(frame["energy_kwh"].sum()) if not frame.empty else 0.0


def comparison(store: TimeseriesStore, node_ids: Sequence[str], first: date, end: date, tz: str,
               now: float) -> Comparison:
    """The range [first, end) against the same local dates 7 days and one year before.

    A running range stops at now, and each baseline at the same wall-clock moment of its own dates.
    """
    zone = ZoneInfo(tz)
    local_now = datetime.fromtimestamp(now, zone)
    running = day_start(first, zone) <= now < day_start(end, zone)

    def span(shift: Any) -> tuple[int, int]:
        a, b = shift(first), shift(end)
        stop = day_start(b, zone)
        if running:
            moment = datetime.combine(shift(local_now.date()), local_now.time(), tzinfo=zone)
            stop = min(stop, int(moment.timestamp()))
        return day_start(a, zone), stop

    return Comparison(
        kwh=_kwh(store, node_ids, *span(lambda d: d)),
        week_before_kwh=_kwh(store, node_ids, *span(lambda d: d - timedelta(days=7))),
        year_before_kwh=_kwh(store, node_ids, *span(lambda d: _shift_year(d, -1))),
    )


def site_forecast(store: TimeseriesStore, price: SitePricing, tz: str, now: float) -> tuple[Forecast, date, date]:
    """The running billing period's forecast of one site's nodes at its tariffs: (forecast, first day, end day)."""
    zone = ZoneInfo(tz)
    first, end = billing_period(datetime.fromtimestamp(now, zone).date(), price.billing_day)
    start, stop = day_start(first, zone), day_start(end, zone)
    now_q = int(now) - int(now) % QUARTER_S
    so_far = quarters(store, price.node_ids, start, now_q)
    history = quarters(store, price.node_ids, now_q - WEEKS * 7 * 86400, now_q)
    result = forecast(start, stop, now, so_far, history, price.tariffs, days_of(first, end), price.contracted, tz)
    return result, first, end


@dataclass(frozen=True, slots=True)
class BillForecast:
    """The running bill of one site or of all of them (each site's own forecast summed)."""

    total: Forecast
    first: date  # the earliest first day of the sites' periods
    end: date  # the latest end day
    name: str | None  # the site's name; None for all sites
    currency: str
    parts: tuple[tuple[SitePricing, Forecast], ...]


def bill_forecast(db: Session, store: TimeseriesStore, user_id: int, site_id: Any, tz: str,
                  now: float) -> BillForecast:
    """The running billing period's forecast for the user's site, or for all of them ('all' or None).

    All sites: every site's own forecast (its billing period, its tariffs) summed over the sites
    with nodes (the first site alone when none has any).
    """
    everything = site_id in (None, "", "all")
    sites = pricings(db, user_id, site_id) or [pricing(db, user_id)]
    parts = [(price, *site_forecast(store, price, tz, now)) for price in sites]
    user = db.get(User, user_id)
    return BillForecast(combine([f for _, f, _, _ in parts]), min(first for _, _, first, _ in parts),
                        max(end for _, _, _, end in parts), None if everything else sites[0].name,
                        user.currency if user else "EUR", tuple((p, f) for p, f, _, _ in parts))


COST_MAX_HOURS = 6 * 366 * 24  # the analysis prices hour by hour: at most six years of hours per node


def hour_costs(store: TimeseriesStore, sites: Sequence[SitePricing], start: int, end: int,
               tz: str) -> pd.DataFrame:
    """Energy cost per local hour of [start, end) and node, each node at its own site's tariffs.

    ENERGY_COLUMNS shaped (period_start, node_id, energy_kwh holding the cost). Hours are what a
    band and a tariff date never split: every 2.0TD band edge is a local hour, every change a day.
    start must be a local hour (a period start of the analysis is).
    """
    marks = [*range(start, end, 3600), end] if end > start else []
    frames = []
    for site in sites:
        if not site.node_ids or len(marks) < 2:
            continue
        frame = store.energy(list(site.node_ids), marks)
        if not frame.empty:
            frame = frame.assign(energy_kwh=energy_costs(frame["period_start"].to_numpy(dtype=np.int64),
                                                         frame["energy_kwh"].to_numpy(dtype=float), site.tariffs, tz))
            frames.append(frame)
    if not frames:
        return pd.DataFrame({"period_start": np.empty(0, dtype=np.int64), "node_id": [], "energy_kwh": []})
    return pd.concat(frames, ignore_index=True)


def priced(sites: Sequence[SitePricing]) -> bool:
    """Whether every site with nodes in the selection has a price (else no cost is shown: it would be partial)."""
    return any(s.node_ids for s in sites) and all(s.tariffs for s in sites if s.node_ids)


def period_costs(store: TimeseriesStore, sites: Sequence[SitePricing], marks: Sequence[int],
                 tz: str) -> pd.DataFrame | None:
    """Energy cost per period of marks and node (energy_table's shape), each node at its site's tariffs.

    None when a site in the selection has no price, or the range is too long to price by the hour.
    """
    if not priced(sites) or marks[-1] - marks[0] > COST_MAX_HOURS * 3600:
        return None
    hours = hour_costs(store, sites, marks[0], marks[-1], tz)
    starts = hours["period_start"].to_numpy(dtype=np.int64)
    hours = hours.assign(period_start=np.asarray(marks, dtype=np.int64)[np.searchsorted(marks, starts, "right") - 1])
    node_ids = [n for site in sites for n in site.node_ids]
    return energy_table(hours, sorted(node_ids), marks, tz)


def range_cost(store: TimeseriesStore, sites: Sequence[SitePricing], start: int, end: int, tz: str) -> float | None:
    """The energy cost of [start, end) of the sites' nodes, each at its own site's tariffs; None as period_costs."""
    if not priced(sites) or end - start > COST_MAX_HOURS * 3600:
        return None
    return float(hour_costs(store, sites, start, end, tz)["energy_kwh"].sum())
