"""A node's power-quality figures for one span of time, from raw readings (pure numpy).

Indicative, not an EN 50160 measurement: the standard counts dips on half-cycle RMS values,
a meter reporting every few seconds sees only the dips it happens to sample. docs/power-quality.md
says exactly how each figure is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from enertrack.core.energy import GAP_INTERVALS

VOLTAGE_WINDOW_S = 600  # EN 50160 judges 10-minute mean voltages
FREQUENCY_WINDOW_S = 10  # ... and 10-second mean frequencies
VOLTAGE_BAND = 0.10  # +-10 % of nominal
VOLTAGE_LOW_LIMIT = 0.85  # every 10-minute mean within -15 % / +10 %
FREQUENCY_BAND = 0.01  # +-1 % of nominal
VOLTAGE_SHARE_REQUIRED = 0.95  # 95 % of the week's 10-minute means
FREQUENCY_SHARE_REQUIRED = 0.995  # 99.5 % of the 10-second means
DIP_BELOW = 0.90  # a dip: voltage under 90 % of nominal
SWELL_ABOVE = 1.10  # a swell: voltage over 110 % of nominal
MIN_COVERAGE = 0.5  # fewer 10-minute windows with readings than this share: no verdict


class Verdict(StrEnum):
    """The report's conclusion."""

    WITHIN = "within"  # every limit met
    OUTSIDE = "outside"  # at least one limit missed
    INSUFFICIENT = "insufficient_data"  # too few readings to say


@dataclass(frozen=True, slots=True)
class Nominal:
    """A supply's nominal voltage (V) and frequency (Hz)."""

    voltage: float
    frequency: float


GRIDS: dict[str, Nominal] = {"230v50": Nominal(230.0, 50.0), "120v60": Nominal(120.0, 60.0)}


@dataclass(frozen=True, slots=True)
class Event:
    """A dip or a swell: from its first reading past the threshold for duration_s seconds."""

    kind: str  # "dip" or "swell"
    start: int
    duration_s: int
    extreme_v: float  # the lowest (dip) or highest (swell) voltage read in it


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The figures of one span [start, end)."""

    start: int
    end: int
    nominal: Nominal
    windows: int  # 10-minute windows in the span
    voltage_windows: int  # ... of which had voltage readings
    voltage_within: float | None  # share of those means within +-10 %
    voltage_extended_ok: bool  # every mean within -15 % / +10 %
    frequency_windows: int  # 10-second windows with frequency readings
    frequency_within: float | None  # share of those means within +-1 %
    events: tuple[Event, ...]
    verdict: Verdict

    @property
    def coverage(self) -> float:
        """Share of the 10-minute windows that had voltage readings."""
        return self.voltage_windows / self.windows if self.windows else 0.0

    def count(self, kind: str) -> int:
        """How many dips or swells."""
        return sum(1 for e in self.events if e.kind == kind)

    def seconds(self, kind: str) -> int:
        """Total duration of the dips or swells."""
        return sum(e.duration_s for e in self.events if e.kind == kind)

    def longest(self, kind: str) -> int:
        """Duration of the longest dip or swell (0 without any)."""
        return max((e.duration_s for e in self.events if e.kind == kind), default=0)


def window_means(ts: np.ndarray, values: np.ndarray, start: int, width: int) -> np.ndarray:
    """Mean of the finite values per window [start + k*width, ...) that has any (empty windows left out)."""
    keep = np.isfinite(values)
    index = (ts[keep] - start) // width
    if index.size == 0:
        return np.empty(0)
    sums = np.bincount(index, weights=values[keep])
    counts = np.bincount(index)
    return sums[counts > 0] / counts[counts > 0]


def events(ts: np.ndarray, voltage: np.ndarray, threshold: float, kind: str,
           interval_s: int, end: int) -> list[Event]:
    """Runs of readings past threshold (below for a dip, above for a swell), with their duration.

    An event lasts from its first reading past the threshold to the first reading back within
    it. If the readings stop (a gap longer than GAP_INTERVALS intervals, or the span's end),
    it is closed one interval after its last reading: nothing says how long it really lasted.
    """
    keep = np.isfinite(voltage)
    ts, voltage = ts[keep], voltage[keep]
    past = voltage < threshold if kind == "dip" else voltage > threshold
    found: list[Event] = []
    first: int | None = None
    last = 0
    extreme = 0.0
    for t, v, out in zip(ts.tolist(), voltage.tolist(), past.tolist(), strict=True):
        if first is not None and t - last > GAP_INTERVALS * interval_s:
            found.append(Event(kind, first, min(last + interval_s, end) - first, extreme))
            first = None
        if first is not None and not out:
            found.append(Event(kind, first, t - first, extreme))
            first = None
        elif out and first is None:
            first, extreme = t, v
        elif out:
            extreme = min(extreme, v) if kind == "dip" else max(extreme, v)
        last = t
    if first is not None:
        found.append(Event(kind, first, max(min(last + interval_s, end) - first, 1), extreme))
    return found


def _share(means: np.ndarray, low: float, high: float) -> float | None:
    return float(np.mean((means >= low) & (means <= high))) if means.size else None


def verdict(voltage_windows: int, windows: int, voltage_within: float | None, extended_ok: bool,
            frequency_within: float | None) -> Verdict:
    """WITHIN when every limit is met on enough data; frequency is judged only when read."""
    if windows == 0 or voltage_within is None or voltage_windows / windows < MIN_COVERAGE:
        return Verdict.INSUFFICIENT
    ok = voltage_within >= VOLTAGE_SHARE_REQUIRED and extended_ok
    if frequency_within is not None:
        ok = ok and frequency_within >= FREQUENCY_SHARE_REQUIRED
    return Verdict.WITHIN if ok else Verdict.OUTSIDE


def report(ts: np.ndarray, voltage: np.ndarray, frequency: np.ndarray, start: int, end: int,
           nominal: Nominal, interval_s: int) -> QualityReport:
    """The figures of [start, end) from readings sorted by ts (NaN: the magnitude was not sent).

    `end` is where the judged span stops: the week's end, or now for the running week
    (windows are counted up to the last one that has begun).
    """
    inside = (ts >= start) & (ts < end)
    ts = ts[inside].astype(np.int64)
    voltage, frequency = voltage[inside].astype(float), frequency[inside].astype(float)
    windows = -(-(end - start) // VOLTAGE_WINDOW_S) if end > start else 0
    un, fn = nominal.voltage, nominal.frequency
    v_means = window_means(ts, voltage, start, VOLTAGE_WINDOW_S)
    f_means = window_means(ts, frequency, start, FREQUENCY_WINDOW_S)
    v_within = _share(v_means, un * (1 - VOLTAGE_BAND), un * (1 + VOLTAGE_BAND))
    extended = bool(np.all((v_means >= un * VOLTAGE_LOW_LIMIT) & (v_means <= un * (1 + VOLTAGE_BAND))))
    f_within = _share(f_means, fn * (1 - FREQUENCY_BAND), fn * (1 + FREQUENCY_BAND))
    found = (events(ts, voltage, un * DIP_BELOW, "dip", interval_s, end)
             + events(ts, voltage, un * SWELL_ABOVE, "swell", interval_s, end))
    return QualityReport(
        start=start, end=end, nominal=nominal, windows=windows, voltage_windows=int(v_means.size),
        voltage_within=v_within, voltage_extended_ok=extended, frequency_windows=int(f_means.size),
        frequency_within=f_within, events=tuple(sorted(found, key=lambda e: e.start)),
        verdict=verdict(int(v_means.size), windows, v_within, extended, f_within),
    )
