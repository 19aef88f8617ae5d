"""A node's weekly power-quality reports for its owner (the node page and the CSV download)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from enertrack.core.calendar import today
from enertrack.quality.report import Nominal, QualityReport
from enertrack.quality.week import cached_week_report, export_csv, monday, week_span
from enertrack.store.base import TimeseriesStore
from enertrack.web.services.nodes import owned
from enertrack.web.services.sites import node_site, nominal_for

WEEKS_OFFERED = 12  # this week and the eleven before it
CSV_WEEKS_MAX = 52


@dataclass(frozen=True, slots=True)
class NodeQuality:
    """One week's report of one node, with what the page needs around it."""

    node_id: str
    week: date  # its Monday
    week_end: int  # the week's full end (the report stops at now for the running week)
    nominal: Nominal
    report: QualityReport


def week_offset(value: Any) -> int:
    """An untrusted 'weeks ago' choice as 0..WEEKS_OFFERED-1 (anything else: this week)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | str) and str(value).isdigit() and int(value) < WEEKS_OFFERED:
        return int(value)
    return 0


def generation(node: Any) -> tuple[int, Any]:
    """What tells this node apart from an earlier one with the same id (deleted, then added again)."""
    return node.id, node.created_at


def week_monday(offset: int, tz: str, now: float) -> date:
    """The Monday of the week `offset` weeks before this one (local)."""
    return monday(today(tz, now)) - timedelta(weeks=offset)


def node_quality(db: Session, store: TimeseriesStore, user_id: int, node_id: Any, offset: Any,
                 tz: str, grid: str, now: float) -> NodeQuality:
    """The report of the user's node for the chosen week; NodeNotFound for anyone else's."""
    node = owned(db, user_id, node_id)
    nominal = nominal_for(node, node_site(db, node), grid)
    week = week_monday(week_offset(offset), tz, now)
    report = cached_week_report(store, node.node_id, generation(node), week, tz, nominal, node.interval_s,
                                now)
    return NodeQuality(node.node_id, week, week_span(week, tz)[1], nominal, report)


def quality_csv(db: Session, store: TimeseriesStore, user_id: int, node_id: Any, weeks: int,
                tz: str, grid: str, now: float) -> tuple[str, str]:
    """(node id, CSV) of the node's last `weeks` weeks, oldest first, the running week last."""
    node = owned(db, user_id, node_id)
    nominal = nominal_for(node, node_site(db, node), grid)
    rows = []
    for offset in range(max(1, min(weeks, CSV_WEEKS_MAX)) - 1, -1, -1):
        week = week_monday(offset, tz, now)
        rows.append((cached_week_report(store, node.node_id, generation(node), week, tz, nominal, node.interval_s,
                                        now),
                     week_span(week, tz)[1]))
    return node.node_id, export_csv(node.node_id, rows, tz)
