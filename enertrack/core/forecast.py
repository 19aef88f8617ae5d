"""The bill of a running period: energy so far plus the rest projected from the user's own weeks (pure).

Each of the four weeks before now gives one projection of the remaining quarters (the same
weekday and local time of day); the forecast is their mean, its range their lowest and highest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from enertrack.core.tariffs import TariffSpec, cost_by_band, fixed_charges

WEEKS = 4
QUARTER_S = 900
WEEK_S = 7 * 86400

Key = tuple[int, int, int]  # local weekday, hour, minute


@dataclass(frozen=True, slots=True)
class Forecast:
    """Energy and cost of a running period: so far, expected, and the range."""

    start: int
    end: int
    so_far_kwh: float
    expected_kwh: float
    low_kwh: float
    high_kwh: float
    so_far_cost: float | None
    expected_cost: float | None
    low_cost: float | None
    high_cost: float | None
    weeks_used: int  # history weeks that had any energy


def _key(epoch: int, zone: ZoneInfo) -> Key:
    moment = datetime.fromtimestamp(epoch, zone)
    return moment.weekday(), moment.hour, moment.minute


def week_profiles(starts: np.ndarray, kwh: np.ndarray, now_q: int, tz: str) -> list[dict[Key, float]]:
    """kWh per (weekday, hour, minute) of each of the WEEKS weeks before now_q (week 1 the latest)."""
    zone = ZoneInfo(tz)
    profiles: list[dict[Key, float]] = [{} for _ in range(WEEKS)]
    for start, value in zip(starts.tolist(), kwh.tolist(), strict=True):
        week = (now_q - 1 - start) // WEEK_S
        if 0 <= week < WEEKS:
            key = _key(start, zone)
            profiles[week][key] = profiles[week].get(key, 0.0) + value
    return profiles


def projections(remaining: Sequence[int], profiles: list[dict[Key, float]], tz: str) -> list[np.ndarray]:
    """kWh of each remaining quarter as each week with data would have it.

    A quarter a week lacks (a gap in the readings, or before the first one) takes the mean of
    the weeks that have it, so an outage in the history does not pull the forecast down.
    """
    zone = ZoneInfo(tz)
    keys = [_key(q, zone) for q in remaining]
    weeks = [p for p in profiles if p]
    fill = {}
    for key in set(keys):
        values = [p[key] for p in weeks if key in p]
        fill[key] = sum(values) / len(values) if values else 0.0
    return [np.array([p.get(k, fill[k]) for k in keys]) for p in weeks]


def forecast(start: int, end: int, now: float, so_far: tuple[np.ndarray, np.ndarray],
             history: tuple[np.ndarray, np.ndarray], tariffs: Sequence[TariffSpec], days: Sequence[date],
             contracted: tuple[float | None, float | None], tz: str) -> Forecast:
    """The forecast of [start, end) at now from its quarters so far and the four weeks before now."""
    now_q = max(start, min(end, int(now) - int(now) % QUARTER_S))
    remaining = list(range(now_q, end, QUARTER_S))
    runs = projections(remaining, week_profiles(*history, now_q, tz), tz)
    done = float(so_far[1].sum())
    totals = [done + float(r.sum()) for r in runs] or [done]
    fixed = fixed_charges(days, tariffs, *contracted)
    priced = bool(tariffs)

    def cost(extra: np.ndarray | None) -> float:
        starts = np.concatenate([so_far[0], np.array(remaining if extra is not None else [], dtype=np.int64)])
        values = np.concatenate([so_far[1], extra if extra is not None else np.empty(0)])
        return cost_by_band(starts.astype(np.int64), values, tariffs, tz).total_cost + fixed

    costs = [cost(r) for r in runs] or [cost(None)]
    mean_run = np.mean(runs, axis=0) if runs else None
    return Forecast(
        start=start, end=end, so_far_kwh=done, expected_kwh=float(np.mean(totals)),
        low_kwh=min(totals), high_kwh=max(totals),
        so_far_cost=cost(None) - fixed + fixed_charges([d for d in days if d <= _today(now, tz)], tariffs, *contracted)
        if priced else None,
        expected_cost=cost(mean_run) if priced else None,
        low_cost=min(costs) if priced else None, high_cost=max(costs) if priced else None,
        weeks_used=len(runs),
    )


def _today(now: float, tz: str) -> date:
    return datetime.fromtimestamp(now, ZoneInfo(tz)).date()


def billing_period(today: date, billing_day: int | None) -> tuple[date, date]:
    """[first day, day after the last) of the running billing period: the calendar month by default."""
    day = billing_day or 1
    if today.day >= day:
        first = today.replace(day=day)
    else:
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=day)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, day)
    return first, following



def combine(parts: Sequence[Forecast]) -> Forecast:
    """Several sites' forecasts as one: every figure summed, the range the sum of the ranges.

    Each site keeps its own billing period, so start and end span them all. A cost is None
    when any part has none: a total that leaves a site out would look complete and is not.
    """
    def total(name: str) -> float | None:
        values = [getattr(p, name) for p in parts]
        return None if not values or any(v is None for v in values) else float(sum(values))

    return Forecast(
        start=min((p.start for p in parts), default=0), end=max((p.end for p in parts), default=0),
        so_far_kwh=float(sum(p.so_far_kwh for p in parts)), expected_kwh=float(sum(p.expected_kwh for p in parts)),
        low_kwh=float(sum(p.low_kwh for p in parts)), high_kwh=float(sum(p.high_kwh for p in parts)),
        so_far_cost=total("so_far_cost"), expected_cost=total("expected_cost"), low_cost=total("low_cost"),
        high_cost=total("high_cost"), weeks_used=max((p.weeks_used for p in parts), default=0),
    )
