"""The weekly power-quality report of one node, read through the TimeseriesStore contract."""

from __future__ import annotations

import csv
import io
import threading
import weakref
from collections.abc import Hashable, Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from cachetools import TTLCache

from enertrack.core.calendar import day_start, local_iso
from enertrack.quality.report import Nominal, QualityReport, report
from enertrack.store.base import TimeseriesStore

CSV_HEADER = (
    "node_id", "week_start", "week_end", "nominal_voltage", "nominal_frequency", "windows",
    "windows_with_voltage", "voltage_within_share", "voltage_all_within_-15_+10", "frequency_values",
    "frequency_within_share", "dips", "dip_seconds", "longest_dip_s", "swells", "swell_seconds",
    "longest_swell_s", "verdict", "partial",
)  # fmt: skip


def monday(day: date) -> date:
    """The Monday of day's week (ISO weeks start on Monday)."""
    return day - timedelta(days=day.weekday())


def week_span(day: date, tz: str) -> tuple[int, int]:
    """[local Monday 00:00, next Monday 00:00) of day's week: 167 or 169 hours across a DST change."""
    zone = ZoneInfo(tz)
    first = monday(day)
    return day_start(first, zone), day_start(first + timedelta(days=7), zone)


def week_report(store: TimeseriesStore, node_id: str, day: date, tz: str, nominal: Nominal,
                interval_s: int, now: float) -> QualityReport:
    """The report of day's week for node_id; a running week is judged up to now."""
    start, end = week_span(day, tz)
    end = max(start, min(end, int(now)))
    ts: list[int] = []
    voltage: list[float] = []
    frequency: list[float] = []
    for reading in store.readings(node_id, start, end):
        ts.append(reading.ts)
        voltage.append(np.nan if reading.voltage is None else reading.voltage)
        frequency.append(np.nan if reading.frequency is None else reading.frequency)
    return report(np.asarray(ts, dtype=np.int64), np.asarray(voltage, dtype=float),
                  np.asarray(frequency, dtype=float), start, end, nominal, interval_s)


# A finished week changes only through late readings (a node replaying its buffer after an outage),
# so its report is kept for an hour: the panel's insight and the node page's card then read a week of
# raw readings (~0.15 s a node) once an hour instead of on every visit. Bounded, per store and process.
FINISHED_TTL_S = 3600
FINISHED_MAX = 2048
_finished: weakref.WeakKeyDictionary[TimeseriesStore, TTLCache[Hashable, QualityReport]] = weakref.WeakKeyDictionary()
_finished_lock = threading.Lock()


def cached_week_report(store: TimeseriesStore, node_id: str, generation: Hashable, day: date, tz: str,
                       nominal: Nominal, interval_s: int, now: float) -> QualityReport:
    """week_report, kept for FINISHED_TTL_S once the week is over.

    generation (the node row's id and creation time) and forget_reports keep a deleted node's
    reports from ever reaching the next node to take its id, in this process and in the others.
    """
    start, end = week_span(day, tz)
    if end > now:  # the running week: judged up to now, every time
        return week_report(store, node_id, day, tz, nominal, interval_s, now)
    key = (node_id, generation, start, tz, nominal, interval_s)
    with _finished_lock:
        cache = _finished.setdefault(store, TTLCache(maxsize=FINISHED_MAX, ttl=FINISHED_TTL_S))
        found = cache.get(key)
    if found is None:
        found = week_report(store, node_id, day, tz, nominal, interval_s, now)
        with _finished_lock:
            cache[key] = found
    return found


def forget_reports(store: TimeseriesStore, node_id: str) -> None:
    """Drop the kept reports of node_id (its readings are being deleted: the id may soon be someone else's)."""
    with _finished_lock:
        cache = _finished.get(store)
        if cache is not None:
            for key in [k for k in cache if k[0] == node_id]:
                cache.pop(key, None)


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def csv_rows(node_id: str, reports: Iterable[tuple[QualityReport, int]], tz: str) -> Iterable[list[str]]:
    """One row per (report, the week's full end) in CSV_HEADER's order."""
    for item, week_end in reports:
        yield [
            node_id, local_iso(item.start, tz), local_iso(week_end, tz), f"{item.nominal.voltage:g}",
            f"{item.nominal.frequency:g}", str(item.windows), str(item.voltage_windows),
            _share(item.voltage_within), str(item.voltage_extended_ok).lower(), str(item.frequency_windows),
            _share(item.frequency_within), str(item.count("dip")), str(item.seconds("dip")),
            str(item.longest("dip")), str(item.count("swell")), str(item.seconds("swell")),
            str(item.longest("swell")), item.verdict.value, str(item.end < week_end).lower(),
        ]


def export_csv(node_id: str, reports: Iterable[tuple[QualityReport, int]], tz: str) -> str:
    """The power-quality CSV: a header and one row per week."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(node_id, reports, tz))
    return buffer.getvalue()
