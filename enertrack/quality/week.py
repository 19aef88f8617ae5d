"""The weekly power-quality report of one node, read through the TimeseriesStore contract."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np

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
