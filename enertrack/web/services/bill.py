"""What a site's energy costs: band split of a range, comparisons, the running bill's forecast.

Every function takes the owner explicitly; site ids and node lists come from untrusted input
and are checked here (enertrack.web.services.sites).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from enertrack.core.calendar import EARLIEST, day_start
from enertrack.core.energy import QUARTER_S
from enertrack.core.forecast import WEEKS, Forecast, billing_period, forecast
from enertrack.core.tariffs import FLAT, BandCost, TariffSpec, cost_by_band, fixed_charges
from enertrack.models import Site, User
from enertrack.store.base import TimeseriesStore
from enertrack.web.services.sites import ensure_site, owned_site, site_node_ids

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
    user = db.get(User, user_id)
    currency = user.currency if user else "EUR"
    tariffs = [_spec(t) for t in site.tariffs]
    if not tariffs and user is not None and user.price_per_kwh is not None:
        tariffs = [TariffSpec(EARLIEST, FLAT, price_llano=float(user.price_per_kwh))]
    return SitePricing(site.id, site.name, tariffs, (site.contracted_kw, site.contracted_valle_kw),
                       site.billing_day, currency)


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


def bill_forecast(db: Session, store: TimeseriesStore, user_id: int, site_id: Any, tz: str,
                  now: float) -> tuple[Forecast, SitePricing, date, date]:
    """The running billing period's forecast for the user's site: (forecast, pricing, first day, end day)."""
    price = pricing(db, user_id, site_id)
    node_ids = site_node_ids(db, user_id, price.site_id)
    zone = ZoneInfo(tz)
    first, end = billing_period(datetime.fromtimestamp(now, zone).date(), price.billing_day)
    start, stop = day_start(first, zone), day_start(end, zone)
    now_q = int(now) - int(now) % QUARTER_S
    so_far = quarters(store, node_ids, start, now_q)
    history = quarters(store, node_ids, now_q - WEEKS * 7 * 86400, now_q)
    result = forecast(start, stop, now, so_far, history, price.tariffs, days_of(first, end), price.contracted, tz)
    return result, price, first, end
