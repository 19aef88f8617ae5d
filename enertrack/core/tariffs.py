"""Tariffs over time and their time-of-use bands (pure; no database, no store).

Spain's 2.0TD (CNMC Circular 3/2020): on weekdays punta 10-14 and 18-22, llano 8-10, 14-18 and
22-24, valle 0-8; weekends and the fixed-date national holidays are valle all day. Hours are the
site's local clock hours. Two contracted powers: P1 (punta and llano hours) and P2 (valle).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np

FLAT = "flat"
ES_20TD = "es-2.0td"
BANDS = ("punta", "llano", "valle")
# Fixed-date national holidays (month, day); movable ones (Good Friday) are not valle days in 2.0TD.
ES_NATIONAL_HOLIDAYS = frozenset({(1, 1), (1, 6), (5, 1), (8, 15), (10, 12), (11, 1), (12, 6), (12, 8), (12, 25)})
_WEEKDAY_BANDS = ("valle",) * 8 + ("llano",) * 2 + ("punta",) * 4 + ("llano",) * 4 + ("punta",) * 4 + ("llano",) * 2


@dataclass(frozen=True, slots=True)
class TariffSpec:
    """A tariff's prices from valid_from on (per kWh, per kW contracted and day, per day)."""

    valid_from: date
    kind: str = FLAT
    price_llano: float = 0.0  # flat: the one price of every kWh
    price_punta: float | None = None
    price_valle: float | None = None
    power_price_kw_day: float = 0.0
    power_price_valle_kw_day: float = 0.0
    fixed_per_day: float = 0.0

    def price(self, band: str) -> float:
        """Price of one kWh in band (a flat tariff has one price for every band)."""
        if self.kind == FLAT:
            return self.price_llano
        value = {"punta": self.price_punta, "llano": self.price_llano, "valle": self.price_valle}[band]
        return self.price_llano if value is None else value

    def daily_charge(self, contracted_kw: float | None, contracted_valle_kw: float | None) -> float:
        """Fixed charge of one day: the per-day charge and the power terms."""
        p1 = contracted_kw or 0.0
        p2 = contracted_valle_kw if contracted_valle_kw is not None else p1
        valle = p2 * self.power_price_valle_kw_day if self.kind == ES_20TD else 0.0
        return self.fixed_per_day + p1 * self.power_price_kw_day + valle


def band_of(moment: datetime, kind: str) -> str:
    """The time-of-use band of a local moment ('llano' for flat tariffs, which have one)."""
    if kind != ES_20TD:
        return "llano"
    if moment.weekday() >= 5 or (moment.month, moment.day) in ES_NATIONAL_HOLIDAYS:
        return "valle"
    return _WEEKDAY_BANDS[moment.hour]


def in_force(tariffs: Sequence[TariffSpec], day: date) -> TariffSpec | None:
    """The tariff valid on day: the latest one starting on or before it (tariffs sorted by valid_from)."""
    index = bisect.bisect_right([t.valid_from for t in tariffs], day) - 1
    return tariffs[index] if index >= 0 else None


@dataclass(frozen=True, slots=True)
class BandCost:
    """kWh and cost per band over some quarters; cost None where no tariff applied."""

    kwh: dict[str, float]
    cost: dict[str, float]
    unpriced_kwh: float  # energy on days before the first tariff

    @property
    def total_kwh(self) -> float:
        """Every kWh, priced or not."""
        return sum(self.kwh.values())

    @property
    def total_cost(self) -> float:
        """The energy cost of the priced kWh."""
        return sum(self.cost.values())


def cost_by_band(starts: np.ndarray, kwh: np.ndarray, tariffs: Sequence[TariffSpec], tz: str) -> BandCost:
    """kWh and energy cost per band of 15-minute quarters (start epochs), each at its day's tariff."""
    zone = ZoneInfo(tz)
    energy = dict.fromkeys(BANDS, 0.0)
    cost = dict.fromkeys(BANDS, 0.0)
    unpriced = 0.0
    for start, value in zip(starts.tolist(), kwh.tolist(), strict=True):
        moment = datetime.fromtimestamp(start, zone)
        tariff = in_force(tariffs, moment.date())
        band = band_of(moment, tariff.kind if tariff else FLAT)
        energy[band] += value
        if tariff is None:
            unpriced += value
        else:
            cost[band] += value * tariff.price(band)
    return BandCost(energy, cost, unpriced)


def fixed_charges(days: Sequence[date], tariffs: Sequence[TariffSpec], contracted_kw: float | None,
                  contracted_valle_kw: float | None) -> float:
    """The per-day charges of days, each at its own tariff (days before the first tariff: none)."""
    total = 0.0
    for day in days:
        tariff = in_force(tariffs, day)
        if tariff is not None:
            total += tariff.daily_charge(contracted_kw, contracted_valle_kw)
    return total


def add_band_costs(parts: Sequence[BandCost]) -> BandCost:
    """Several sites' band costs as one: kWh, cost and unpriced kWh summed band by band."""
    return BandCost({b: sum(p.kwh[b] for p in parts) for b in BANDS},
                    {b: sum(p.cost[b] for p in parts) for b in BANDS},
                    sum(p.unpriced_kwh for p in parts))


def energy_costs(starts: np.ndarray, kwh: np.ndarray, tariffs: Sequence[TariffSpec], tz: str) -> np.ndarray:
    """The energy cost of each interval (start epochs), at its day's tariff and its band; 0 before the first tariff.

    An interval is priced at the band of its start, so intervals must not cross a band edge
    (quarters and local hours never do).
    """
    zone = ZoneInfo(tz)
    prices: dict[int, float] = {}
    out = np.zeros(len(kwh))
    for i, (start, value) in enumerate(zip(starts.tolist(), kwh.tolist(), strict=True)):
        if start not in prices:
            moment = datetime.fromtimestamp(start, zone)
            tariff = in_force(tariffs, moment.date())
            prices[start] = 0.0 if tariff is None else tariff.price(band_of(moment, tariff.kind))
        out[i] = value * prices[start]
    return out
