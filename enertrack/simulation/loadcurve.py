"""A node's power and power factor at any instants: daily curve, season, appliance spikes (pure).

Power = always-on load + activity load (the character's curve at the local hour,
weekday or weekend, a seasonal swing, a busier-or-quieter day, a little noise) +
a compressor cycling on and off + appliance events. Appliance events are drawn
per UTC hour from (node, appliance, hour), so a time range gives the same events
in one call or in chunks. The power factor follows from the mix: resistive
spikes pull it towards 1, motors and electronics at low load keep it near 0.8-0.9.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enertrack.simulation.characters import SATURDAY, SUNDAY, WEEKDAY, Appliance
from enertrack.simulation.clock import LocalTime, local_time
from enertrack.simulation.fleet import NodeSpec
from enertrack.simulation.noise import triangular, uniform, uniform_between

SLOT_S = 3600  # appliance events are drawn per hour
NOISE = 0.04  # +/- share of the activity load
DAY_SPREAD = 0.15  # a day is up to 15 % busier or quieter than the curve
MOTOR_TAN = np.tan(np.arccos(0.78))  # reactive/active power of a motor
COMPRESSOR_TAN = np.tan(np.arccos(0.80))
HEATER_TAN = np.tan(np.arccos(0.995))
PF_BOUNDS = (0.80, 0.99)
PF_NOISE = 0.005
MID_JANUARY = 14  # day of the year with the most heating


@dataclass(frozen=True, slots=True)
class Load:
    """Active power (W) and power factor at each instant, unrounded."""

    power: np.ndarray
    power_factor: np.ndarray
    share_of_peak: np.ndarray  # power / the node's peak, for the voltage drop


def activity(spec: NodeSpec, when: LocalTime) -> np.ndarray:
    """The character's curve (0-1) at each local instant, shifted by the node's habit."""
    curves = np.array([c + c[:1] for c in spec.character.curves])  # (3, 25): wraps at midnight
    kind = np.where(when.weekday == 6, SUNDAY, np.where(when.weekday == 5, SATURDAY, WEEKDAY))
    hour = np.mod(when.hour - spec.shift_h, 24.0)
    whole = hour.astype(np.int64)
    frac = hour - whole
    return curves[kind, whole] * (1.0 - frac) + curves[kind, whole + 1] * frac


def seasonal(spec: NodeSpec, day: np.ndarray) -> np.ndarray:
    """1 + the character's seasonal swing, largest in mid-January (northern hemisphere)."""
    angle = 2 * np.pi * (np.mod(day, 365.2425) - MID_JANUARY) / 365.2425
    return 1.0 + spec.character.season * np.cos(angle)


def compressor(spec: NodeSpec, ts: np.ndarray) -> np.ndarray:
    """A fridge or cold room compressor: on for its duty share of every cycle."""
    if spec.cycling_w == 0.0:
        return np.zeros(ts.shape, dtype=np.float64)
    phase = np.mod(ts.astype(np.float64), spec.cycle_period_s) / spec.cycle_period_s
    return np.where(phase < spec.cycle_duty, spec.cycling_w, 0.0)


def appliance_events(
    spec: NodeSpec, number: int, appliance: Appliance, start: int, end: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, watts) of the events of one appliance that overlap [start, end]."""
    first = (start - int(appliance.duration_s[1])) // SLOT_S
    slots = np.arange(first, end // SLOT_S + 1, dtype=np.int64)
    slot_start = slots * SLOT_S
    when = local_time(slot_start + SLOT_S // 2, spec.timezone)
    weekday_total = float(sum(spec.character.curves[WEEKDAY]))
    chance = np.minimum(appliance.per_day * activity(spec, when) / weekday_total, 0.95)
    stream = f"appliance-{number}"
    happens = uniform(spec.key, stream + ":happens", slots) < chance
    slots, slot_start = slots[happens], slot_start[happens]
    begin = slot_start + (uniform(spec.key, stream + ":at", slots) * SLOT_S).astype(np.int64)
    length = uniform_between(spec.key, stream + ":length", slots, *appliance.duration_s).astype(np.int64)
    watts = uniform_between(spec.key, stream + ":watts", slots, *appliance.power_w) * spec.scale
    keep = (begin <= end) & (begin + length > start)
    return begin[keep], (begin + length)[keep], watts[keep]


def _paint(ts: np.ndarray, begin: np.ndarray, end: np.ndarray, watts: np.ndarray) -> np.ndarray:
    """Sum of the events active at each sorted instant (begin <= t < end)."""
    step = np.zeros(ts.size + 1, dtype=np.float64)
    np.add.at(step, np.searchsorted(ts, begin, side="left"), watts)
    np.add.at(step, np.searchsorted(ts, end, side="left"), -watts)
    return np.cumsum(step[:-1])


def load(spec: NodeSpec, ts: np.ndarray, when: LocalTime | None = None) -> Load:
    """Power and power factor of the node at each sorted epoch second (when: their local time)."""
    when = local_time(ts, spec.timezone) if when is None else when
    day_factor = 1.0 + DAY_SPREAD * (2.0 * uniform(spec.key, "day", when.day) - 1.0)
    wobble = 1.0 + NOISE * triangular(spec.key, "activity", ts)
    busy = spec.activity_w * activity(spec, when) * seasonal(spec, when.day) * day_factor * wobble
    always = spec.base_w * (1.0 + 0.5 * NOISE * triangular(spec.key, "base", ts))
    cycling = compressor(spec, ts)
    heaters = np.zeros(ts.shape, dtype=np.float64)
    motors = np.zeros(ts.shape, dtype=np.float64)
    if ts.size:
        for number, appliance in enumerate(spec.character.appliances):
            events = appliance_events(spec, number, appliance, int(ts[0]), int(ts[-1]))
            target = heaters if appliance.resistive else motors
            target += _paint(ts, *events)
    power = always + busy + cycling + heaters + motors
    base_tan = np.tan(np.arccos(spec.power_factor))
    reactive = ((always + busy) * base_tan + cycling * COMPRESSOR_TAN
                + motors * MOTOR_TAN + heaters * HEATER_TAN)
    pf = power / np.hypot(power, reactive) + PF_NOISE * triangular(spec.key, "power-factor", ts)
    return Load(power, np.clip(pf, *PF_BOUNDS), power / spec.peak_w)

