"""The simulated meter: rounded readings and a cumulative energy counter, as arrays (pure).

Readings carry a PZEM-004T's resolutions: 0.1 V, 0.001 A, 0.1 W, 1 Wh, 0.01 PF, 0.01 Hz.
The current is computed from the rounded voltage, power and power factor, so
P = V x I x PF holds to within half a milliamp. The counter integrates the
reported power with the trapezoid rule between consecutive readings, in whole
units of 0.05 J (exact integers, so one call and any chunking give the same
counter), and shows whole watt-hours. It restarts from zero at the node's reset
instants (a restarted meter) and wraps at 10,000 kWh like a PZEM-004T.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from enertrack.core.columns import ReadingColumns
from enertrack.simulation.clock import DAY_S, local_time
from enertrack.simulation.fleet import RESET_STAGGER, NodeSpec
from enertrack.simulation.grid import frequency, voltage
from enertrack.simulation.loadcurve import load
from enertrack.simulation.noise import uniform

UNITS_PER_JOULE = 20  # the counter counts 0.05 J: (P0 + P1) in tenths of a watt x seconds
UNITS_PER_WH = 3600 * UNITS_PER_JOULE
UNITS_PER_KWH = 1000 * UNITS_PER_WH
COUNTER_WRAP_KWH = 10_000  # a PZEM-004T counts 0-9999.999 kWh, then starts again
WRAP_UNITS = COUNTER_WRAP_KWH * UNITS_PER_KWH
# Two sample weeks (from a Monday, winter and summer) give a node's mean power.
_SAMPLE_WEEKS = tuple(int(datetime(2024, month, 8, tzinfo=UTC).timestamp()) for month in (1, 7))


@dataclass(frozen=True, slots=True)
class Signals:
    """Rounded instantaneous readings (no counter): what the meter shows at each instant."""

    voltage: np.ndarray
    current: np.ndarray
    power: np.ndarray
    power_dw: np.ndarray  # int64 tenths of a watt: the counter's exact input
    power_factor: np.ndarray
    frequency: np.ndarray


def signals(spec: NodeSpec, ts: np.ndarray) -> Signals:
    """Voltage, current, power, power factor and frequency of a node at sorted epoch seconds."""
    when = local_time(ts, spec.timezone)
    drawn = load(spec, ts, when)
    volts = np.round(voltage(spec.grid, spec.key, spec.voltage_offset, ts, when.hour, drawn.share_of_peak), 1)
    pf = np.round(drawn.power_factor, 2)
    power_dw = np.rint(drawn.power * 10.0).astype(np.int64)
    watts = power_dw / 10.0
    amps = np.round(watts / (volts * pf), 3)
    hz = np.round(frequency(spec.grid, spec.grid_key, spec.key, ts), 2)
    return Signals(volts, amps, watts, power_dw, pf, hz)


def reset_times(spec: NodeSpec, first_day: int, last_day: int) -> np.ndarray:
    """Sorted instants at which the node's meter restarts, in UTC days first_day..last_day.

    Once per period of 1/reset_per_day days, at a random moment of the node's fifth of
    the period: on average reset_per_day restarts a day, and any five consecutive nodes
    of a fleet restart in turn, so the fleet never goes 2/5 of a period without one.
    """
    if spec.reset_per_day <= 0:
        return np.zeros(0, dtype=np.int64)
    period = DAY_S / spec.reset_per_day
    start, end = first_day * DAY_S, (last_day + 1) * DAY_S
    blocks = np.arange(int(start // period) - 1, int(end // period) + 1, dtype=np.int64)
    share = (spec.reset_slot + uniform(spec.key, "reset", blocks)) / RESET_STAGGER
    times = ((blocks + share) * period).astype(np.int64)
    return times[(times >= start) & (times < end)]


def last_reset(spec: NodeSpec, at: int) -> int:
    """When the meter last started from zero at or before `at` (a restart, else its installation)."""
    times = reset_times(spec, spec.installed_ts // DAY_S, at // DAY_S)
    times = times[(times <= at) & (times >= spec.installed_ts)]
    return int(times[-1]) if times.size else spec.installed_ts


def mean_power(spec: NodeSpec) -> float:
    """The node's average power (W), from two sample weeks at 15-minute steps."""
    steps = np.arange(0, 7 * DAY_S, 900, dtype=np.int64)
    return float(np.mean([load(spec, start + steps).power.mean() for start in _SAMPLE_WEEKS]))


def nominal_units(spec: NodeSpec, at: int) -> int:
    """A plausible counter at `at` without simulating the past: mean power since the last restart."""
    elapsed = max(at - last_reset(spec, at), 0)
    return int(mean_power(spec) * elapsed * UNITS_PER_JOULE) % WRAP_UNITS


def kwh_to_units(kwh: float) -> int:
    """A shown counter value (whole Wh) back in counter units."""
    return int(round(kwh * 1000)) * UNITS_PER_WH % WRAP_UNITS


class NodeSimulator:
    """One node's stream of readings every interval_s: arrays for any stretch, one meter throughout."""

    def __init__(self, spec: NodeSpec, interval_s: int, first_ts: int, energy_kwh: float | None = None) -> None:
        if interval_s < 1:
            raise ValueError(f"interval must be at least 1 s, got {interval_s}")
        self.spec = spec
        self.interval_s = interval_s
        self.next_ts = first_ts
        previous = first_ts - interval_s
        self._units = kwh_to_units(energy_kwh) if energy_kwh is not None else nominal_units(spec, previous)

    @property
    def counter_kwh(self) -> float:
        """What the meter shows now, at the last reading taken (or before the first)."""
        return (self._units // UNITS_PER_WH) / 1000

    def take(self, count: int) -> ReadingColumns:
        """The next count readings, continuing the counter."""
        step = self.interval_s
        instants = self.next_ts + (np.arange(count + 1, dtype=np.int64) - 1) * step  # [0] is the previous one
        shown = signals(self.spec, instants)
        power = shown.power_dw
        increments = (power[:-1] + power[1:]) * step
        ts = instants[1:]
        restarts = reset_times(self.spec, int(instants[0]) // DAY_S, int(instants[-1]) // DAY_S)
        restarts = restarts[(restarts > instants[0]) & (restarts <= instants[-1])]
        restarted = np.zeros(count, dtype=bool)
        if restarts.size:
            # The reading at or after each restart counts only from the restart; the latest restart wins.
            reading, last = np.unique(np.searchsorted(ts, restarts, side="left")[::-1], return_index=True)
            since = ts[reading] - restarts[::-1][last]
            before, after = power[reading], power[reading + 1]
            at_restart = np.rint(before + (after - before) * (step - since) / step).astype(np.int64)
            increments[reading] = (at_restart + after) * since
            restarted[reading] = True
        total = self._units + np.cumsum(increments)
        if restarts.size:
            total = total - np.maximum.accumulate(np.where(restarted, total - increments, 0))
        units = total % WRAP_UNITS
        if count:
            self._units = int(units[-1])
            self.next_ts = int(ts[-1]) + step
        energy = (units // UNITS_PER_WH) / 1000
        return ReadingColumns(self.spec.node_id, ts, shown.voltage[1:], shown.current[1:], shown.power[1:], energy,
                       shown.power_factor[1:], shown.frequency[1:])

    def chunks(self, end_ts: int, size: int) -> Iterator[ReadingColumns]:
        """Every reading up to end_ts, at most size at a time (bounded memory for long backfills)."""
        while self.next_ts <= end_ts:
            yield self.take(min(size, (end_ts - self.next_ts) // self.interval_s + 1))
