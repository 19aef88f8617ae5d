"""The node dashboard's drawing: six figures of a range, their numbers, and live patches."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Patch, html

from enertrack.core.magnitudes import BY_NAME, NAMES, Magnitude
from enertrack.i18n import translator
from enertrack.store.base import Extreme, RangeSummary
from enertrack.web.downloads import readings_url
from enertrack.web.services.node_dashboard import LiveUpdate, Numbers, TimeRange
from enertrack.web.services.nodes import NodeView
from enertrack.web.ui import charts, fmt
from enertrack.web.ui.live import Drawn, LiveState, new_generation


@dataclass(frozen=True)
class Drawing:
    """The six charts of a range drawn: one figure per magnitude, with what they show."""

    figures: list[Any]
    points: dict[str, charts.Points]
    axis: charts.TimeAxis


def _stat(label: str, value: str, when: Any, kind: str) -> dbc.Col:
    return dbc.Col(
        [html.Div(label, className="kpi-label"),
         html.Div(value, className=f"node-stat-value node-stat-{kind}"),
         when if not isinstance(when, str) else html.Small(when, className="text-body-secondary node-stat-when")],
        xs=4,
    )


def _updated(at: str, age: str) -> html.Small:
    """'hace 7 s · 2026-12-02 10:15:30' on one line: the age first, so a narrow column cuts the time
    (shown whole on hover), never the age (enertrack.css: .node-stat-when-now)."""
    return html.Small([html.Span(age, className="node-stat-age"), " · ", html.Span(at, className="node-stat-at")],
                      className="text-body-secondary node-stat-when node-stat-when-now", title=f"{at} · {age}")


def stats_view(magnitude: Magnitude, summary: RangeSummary, current: Extreme | None, now: float,
               tz: str, lang: str) -> dbc.Row:
    """Current value with its last update, and the range's maximum and minimum with when."""
    _ = translator(lang)
    unit = f" {magnitude.unit}" if magnitude.unit else ""

    def value(extreme: Extreme | None) -> str:
        return "—" if extreme is None else magnitude.format(extreme.value, lang) + unit

    def when(extreme: Extreme | None) -> str:
        return "" if extreme is None else fmt.local_time(extreme.ts, tz)

    updated = _("never") if current is None else _updated(when(current), fmt.age(lang, now - current.ts))
    return dbc.Row(
        [
            _stat(_("Now"), value(current), updated, "current"),
            _stat(_("Maximum"), value(summary.maximum), when(summary.maximum), "max"),
            _stat(_("Minimum"), value(summary.minimum), when(summary.minimum), "min"),
        ],
        class_name="g-1",
    )


def labels(_: Any) -> charts.Labels:
    """The chart words in the user's language."""
    return charts.Labels(_("Maximum"), _("Minimum"), _("Average"), _("No readings in this range"))


def counted(points: dict[str, charts.Points], preset: str) -> dict[str, Drawn]:
    """What a live view has drawn of each magnitude, counted per slot."""
    slot = LiveState.slot_of(preset)
    return {name: Drawn().add(p.owner.tolist(), slot) for name, p in points.items()}


def live_state(node_id: str, rng: TimeRange, drawing: Drawing) -> dict[str, Any] | None:
    """A fresh draw's live state (a new generation), or None for a range that does not tick."""
    if not rng.live:
        return None
    return LiveState(node_id, rng.preset, rng.width, rng.chart_end, counted(drawing.points, rng.preset),
                     new_generation(), 0, drawing.axis.instants).to_json()


def download_url(node_id: str, rng: TimeRange) -> str:
    """The CSV of what the range shows (a live range: from its start on)."""
    return readings_url(node_id, rng.start, None if rng.live else rng.end)


def chart_drawing(node: NodeView, rng: TimeRange, series: Mapping[str, pd.DataFrame], tz: str, lang: str,
                theme: Any) -> Drawing:
    """The six figures of a range."""
    _ = translator(lang)
    # Fixed ranges show all of their time; live ones follow the data.
    axis = charts.time_axis(tz, rng.start, rng.chart_end, rng.width, fixed=not rng.live)
    clock = "utc" if axis.instants else "local"  # a zoom kept across a change of axis would be an hour off
    uirevision = f"{node.node_id}:{rng.preset}:{rng.start}:{rng.end if not rng.live else ''}:{clock}"
    gap = charts.gap_seconds(rng.width, node.interval_s)
    points = {name: charts.points(series.get(name), BY_NAME[name], gap) for name in NAMES}
    figures = [charts.magnitude_figure(points[name], BY_NAME[name], labels(_), theme, uirevision, axis, lang)
               for name in NAMES]
    return Drawing(figures, points, axis)


def numbers_view(numbers: Numbers, now: float, tz: str, lang: str) -> list[Any]:
    """The blocks of numbers of the six magnitudes."""
    return [stats_view(BY_NAME[name], *numbers[name], now, tz, lang) for name in NAMES]


def live_patches(state: LiveState, update: LiveUpdate, axis: charts.TimeAxis, window_start: int,
                 empty_text: str) -> tuple[list[Patch], dict[str, Drawn]]:
    """Per magnitude: append the new buckets, drop those that left the window, and retick."""
    gap = charts.gap_seconds(state.width, update.node.interval_s)
    patches, drawn = [], {}
    for name in NAMES:
        before = state.drawn[name]
        new = charts.points(update.series.get(name), BY_NAME[name], gap, after=before.last)
        dropped, after = before.add(new.owner.tolist(), state.slot).trim(window_start, state.slot)
        patch = Patch()
        charts.append(patch, new, axis)
        charts.drop_oldest(patch, dropped, axis)  # after the append, so the count is exact either way
        charts.retick(patch, axis)
        if (before.total == 0) != (after.total == 0):
            charts.mark_empty(patch, after.total == 0, empty_text)
        patches.append(patch)
        drawn[name] = after
    return patches, drawn
