"""A node's readings with what real data has: gaps, a meter restart, a DST change, dips and swells.

Europe/Madrid, 30-second readings from Monday 2026-02-23 to Tuesday 2026-03-31 local: the week
of 2026-03-23 holds the spring-forward night (Sunday 29 March, 02:00 -> 03:00, a 167-hour week).
A second span, HOLIDAY (30 April and 1 May 2026, Labour Day), has an outage and a restart of its
own. Every special event is a constant below (GAPS, RESTARTS, DIPS, ...) so tests derive their
expectations from the plan, not from the code under test.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from enertrack.core.reading import Reading

TZ = "Europe/Madrid"
ZONE = ZoneInfo(TZ)
NODE = "scn-1"
INTERVAL = 30
NOMINAL_V, NOMINAL_F = 230.0, 50.0


def local(*args: int) -> int:
    """Epoch second of a Madrid wall-clock time."""
    return int(datetime(*args, tzinfo=ZONE).timestamp())  # type: ignore[misc]


FIRST = local(2026, 2, 23)
LAST = local(2026, 3, 31)
DST_WEEK = local(2026, 3, 23), local(2026, 3, 30)
# (start, end) of spans without readings: an outage of 3 h and a short 60-s hole (two missing readings).
GAPS = [(local(2026, 3, 25, 14), local(2026, 3, 25, 17)), (local(2026, 3, 24, 9), local(2026, 3, 24, 9, 1))]
RESTART = local(2026, 3, 26, 12)  # the energy counter starts again from 0 here
# (first second, seconds, volts): readings in [first, first + seconds) read these volts.
DIPS = [(local(2026, 3, 24, 7, 0), 90, 190.0), (local(2026, 3, 29, 3, 30), 30, 150.0),
        (local(2026, 3, 25, 13, 59), 60, 200.0)]  # the last runs into the outage
SWELLS = [(local(2026, 3, 27, 20, 0), 120, 260.0)]
LOW_SPAN = (local(2026, 3, 28, 18, 0), local(2026, 3, 28, 21, 0), 204.0)  # 3 h at -11 %
FREQ_SPAN = (local(2026, 3, 24, 12, 0), local(2026, 3, 24, 12, 30), 49.2)  # 30 min at -1.6 %
# A busy Thursday: 4 kW more from 10:00 to 14:00 (an unusual day).
BUSY_DAY = (local(2026, 3, 19, 10), local(2026, 3, 19, 14), 4000.0)
BASE_W = 150.0  # always-on power
# A separate span, Thursday 30 April and Friday 1 May 2026 (Labour Day, a fixed-date national holiday:
# valle all day in 2.0TD), with a meter of its own: readings(*HOLIDAY, origin=HOLIDAY[0]). It has an
# outage and a restart of its own too.
HOLIDAY = (local(2026, 4, 30), local(2026, 5, 2))
GAPS.append((local(2026, 5, 1, 10, 30), local(2026, 5, 1, 11, 30)))
RESTARTS = (RESTART, local(2026, 4, 30, 20))


def power_at(ts: int) -> float:
    """Watts: the base load, a daytime load by local hour and the busy day's extra."""
    hour = datetime.fromtimestamp(ts, ZONE).hour
    power = BASE_W + (900.0 if 7 <= hour < 23 else 0.0) + (300.0 if hour in (8, 14, 21) else 0.0)
    power += 40.0 * (1 + math.sin(ts / 977.0))  # never below the base: night minimum is BASE_W
    if BUSY_DAY[0] <= ts < BUSY_DAY[1]:
        power += BUSY_DAY[2]
    return power


def voltage_at(ts: int) -> float:
    """Volts: nominal with a gentle wave, the planned dips, swells and low span."""
    for first, seconds, volts in DIPS + SWELLS:
        if first <= ts < first + seconds:
            return volts
    if LOW_SPAN[0] <= ts < LOW_SPAN[1]:
        return LOW_SPAN[2]
    return NOMINAL_V + 3.0 * math.sin(ts / 3600.0)


def frequency_at(ts: int) -> float:
    """Hz: nominal with a small wave, and the low-frequency span."""
    if FREQ_SPAN[0] <= ts < FREQ_SPAN[1]:
        return FREQ_SPAN[2]
    return NOMINAL_F + 0.05 * math.sin(ts / 420.0)


def in_gap(ts: int) -> bool:
    """Whether no reading exists at ts."""
    return any(start <= ts < end for start, end in GAPS)


def readings(first: int = FIRST, last: int = LAST, origin: int = FIRST) -> list[Reading]:
    """Every reading of the scenario in [first, last), energy counted by the meter itself from origin."""
    out: list[Reading] = []
    counter = 5000.0  # kWh on the meter at the start
    previous: int | None = None
    for ts in range(origin, last, INTERVAL):
        if previous is not None:
            counter += power_at(previous) * (ts - previous) / 3_600_000.0
        previous = ts
        if any(ts >= restart > ts - INTERVAL for restart in RESTARTS):
            counter = 0.0
        if in_gap(ts) or ts < first:
            continue
        out.append(Reading(NODE, ts, voltage=voltage_at(ts), current=power_at(ts) / 230.0,
                           power=power_at(ts), energy=round(counter, 3), power_factor=0.95,
                           frequency=frequency_at(ts)))
    return out
