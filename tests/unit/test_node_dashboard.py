"""The node dashboard's pure parts: time ranges, figures, and the live view's bookkeeping."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from dash import Patch

from enertrack.core.magnitudes import BY_NAME, MAGNITUDES, NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import Extreme, RangeSummary, bucket_width
from enertrack.web.services.node_dashboard import (
    LIVE_DELAY_S,
    MAX_CUSTOM_DAYS,
    current_value,
    custom_range,
    preset_range,
    resolve_range,
)
from enertrack.web.ui import charts, plot_theme
from enertrack.web.ui.compact import untyped
from enertrack.web.ui.live import SLOTS, Drawn, LiveState

NOW = 1_767_225_600.4  # 2026-01-01T00:00:00.4Z
LABELS = charts.Labels("max", "min", "mean", "nothing here")


def wall(tz: str = "UTC", start: int = 0, end: int = 86400, fixed: bool = False) -> charts.TimeAxis:
    """An axis on the local wall clock."""
    return charts.TimeAxis(tz, start, end, fixed)


def figure_of(data: charts.Points, name: str = "power", theme: str = "light", lang: str = "en",
              axis: charts.TimeAxis | None = None) -> dict[str, Any]:
    return charts.magnitude_figure(data, BY_NAME[name], LABELS, theme, "r", axis or wall(), lang)


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


# -- ranges ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("preset", "span", "width", "live"), [
    ("1h", 3600, 2, True),
    ("24h", 86400, 60, True),
    ("7d", 7 * 86400, 900, False),
    ("30d", 30 * 86400, 1800, False),
    ("1y", 365 * 86400, 21600, False),
])
def test_presets_pick_bucket_widths_of_at_most_2000_points(preset: str, span: int, width: int, live: bool) -> None:
    rng = preset_range(preset, NOW)
    assert (rng.width, rng.live, rng.end) == (width, live, int(NOW) + 1)
    assert rng.end - span - width < rng.start <= rng.end - span
    assert (rng.end - rng.start) / width <= 2001
    if live:  # whole buckets only, ending LIVE_DELAY_S before now; the store picks exactly `width`
        assert rng.start % width == 0 and rng.chart_end % width == 0
        assert rng.chart_end == int(NOW - LIVE_DELAY_S) // width * width
        assert bucket_width(rng.start, rng.chart_end, rng.max_points) == width
    else:
        assert rng.chart_end == rng.end


def test_custom_range_is_local_midnight_to_local_midnight() -> None:
    rng = custom_range("2026-03-29", "2026-03-29", "Europe/Madrid")  # that day, whole: clocks go forward, 23 hours
    assert not isinstance(rng, str)
    assert (rng.start, rng.end) == (epoch("2026-03-29T00:00:00+01:00"), epoch("2026-03-30T00:00:00+02:00"))
    assert rng.end - rng.start == 23 * 3600 and not rng.live and rng.chart_end == rng.end
    kathmandu = custom_range("2026-01-01T00:00:00", "2026-01-31", "Asia/Kathmandu")
    assert not isinstance(kathmandu, str) and kathmandu.start == epoch("2026-01-01T00:00:00+05:45")


@pytest.mark.parametrize(("start", "end", "error"), [
    (None, "2026-01-02", "bad_date"),
    ("2026-01-01", None, "bad_date"),
    ("yesterday", "2026-01-02", "bad_date"),
    ({"a": 1}, [1], "bad_date"),
    ("x" * 5000, "2026-01-02", "bad_date"),
    ("1999-12-31", "2000-01-02", "bad_date"),
    ("2026-01-03", "2026-01-02", "end_before_start"),
    ("2026-01-09", "2026-01-02", "end_before_start"),
    ("2020-01-01", "2026-01-01", "too_long"),
])
def test_custom_range_errors(start: Any, end: Any, error: str) -> None:
    assert custom_range(start, end, "UTC") == error


def test_the_longest_custom_range_is_accepted_and_a_day_more_is_not() -> None:
    first = date(2023, 1, 1)
    # Both days included: the last day shown is MAX_CUSTOM_DAYS - 1 days after the first.
    rng = custom_range(first.isoformat(), (first + timedelta(days=MAX_CUSTOM_DAYS - 1)).isoformat(), "UTC")
    assert not isinstance(rng, str) and (rng.end - rng.start) // 86400 == MAX_CUSTOM_DAYS
    assert custom_range(first.isoformat(), (first + timedelta(days=MAX_CUSTOM_DAYS)).isoformat(), "UTC") == "too_long"


@pytest.mark.parametrize("preset", [None, "", "2h", 1, ["1h"], {"preset": "1h"}, True, 1e308])
def test_unknown_presets_are_refused(preset: Any) -> None:
    assert resolve_range(preset, "2026-01-01", "2026-01-02", "UTC", NOW) == "bad_preset"


def test_current_value_prefers_the_newest_reading() -> None:
    summary = RangeSummary(Extreme(1.0, 10), Extreme(3.0, 20), Extreme(2.0, 30))
    latest = Reading("n", 40, voltage=231.5)
    assert current_value(latest, "voltage", summary) == Extreme(231.5, 40)
    assert current_value(latest, "power", summary) == Extreme(2.0, 30)  # not carried: last in range
    assert current_value(None, "power", RangeSummary(None, None, None)) is None


# -- figures -----------------------------------------------------------------------------------

def frame(rows: list[tuple[int, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame({"ts": [r[0] for r in rows], "min": [r[1] for r in rows], "max": [r[2] for r in rows],
                         "mean": [r[3] for r in rows], "count": [1] * len(rows)})


def values(array: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in array]


def test_points_keep_min_max_and_break_at_gaps() -> None:
    t0 = 1_767_225_600  # 2026-01-01T00:00:00Z = 01:00 in Madrid
    data = charts.points(frame([(t0, 229.04, 231.06, 230.0), (t0 + 60, 228.0, 262.0, 230.5),
                                (t0 + 3600, 230.0, 230.0, 230.0)]),
                         BY_NAME["voltage"], gap_s=charts.gap_seconds(60, 10))
    # A break is two entries where the band closes (on the next mean) and the mean line has no value.
    assert wall("Europe/Madrid").x_text(data.at) == ["2026-01-01T01:00:00", "2026-01-01T01:01:00", "2026-01-01T01:01:00",
                             "2026-01-01T02:00:00", "2026-01-01T02:00:00"]
    assert values(data.high) == [231.06, 262.0, 230.0, 230.0, 230.0]
    assert values(data.low) == [229.04, 228.0, 230.0, 230.0, 230.0]
    assert values(data.mean) == [230.0, 230.5, None, None, 230.0]
    assert data.owner.tolist() == [t0, t0 + 60, t0 + 3600, t0 + 3600, t0 + 3600]  # a break belongs to the point after it
    appended = charts.points(frame([(t0 + 7200, 1, 2, 1.5)]), BY_NAME["voltage"], 90, after=t0 + 3600)
    assert values(appended.mean) == [None, None, 1.5]  # a gap against what is already drawn
    assert wall().x_text(appended.at) == ["2026-01-01T01:00:00", "2026-01-01T02:00:00", "2026-01-01T02:00:00"]
    assert len(charts.points(frame([]), BY_NAME["voltage"], 90)) == 0
    assert len(charts.points(None, BY_NAME["voltage"], 90)) == 0


def test_a_gaps_closing_entries_sit_one_ms_inside_it() -> None:
    """So the unified hover over the point beside a gap shows that point's band, not the closing one."""
    t0 = 1_767_225_600
    data = charts.points(frame([(t0, 1, 3, 2), (t0 + 60, 1, 3, 2), (t0 + 3600, 5, 7, 6)]), BY_NAME["voltage"], 90)
    axis = wall()
    assert (charts.x_values(data, axis) - axis.x_ms(data.at)).tolist() == [0, 0, 1, -1, 0]
    assert axis.x_ms(data.at)[0] == t0 * 1000  # UTC's wall clock is the instant


def test_local_times_follow_dst() -> None:
    summer, winter = epoch("2026-07-01T12:00:00+00:00"), epoch("2026-12-01T12:00:00+00:00")
    data = charts.points(frame([(summer, 1, 1, 1), (winter, 1, 1, 1)]), BY_NAME["power"], 10**9)
    assert wall("Europe/Madrid").x_text(data.at) == ["2026-07-01T14:00:00", "2026-12-01T13:00:00"]


def test_gap_follows_the_status_rule_tolerance() -> None:
    assert charts.gap_seconds(2, 10) == 32 and charts.gap_seconds(1800, 60) == 1980


def test_values_are_rounded_one_decimal_past_the_cards() -> None:
    data = charts.points(frame([(0, 0.91234, 0.95678, 0.93333)]), BY_NAME["power_factor"], 90)
    assert (values(data.low), values(data.high), values(data.mean)) == ([0.912], [0.957], [0.933])


@pytest.mark.parametrize("name", NAMES)
def test_each_magnitude_has_a_band_a_mean_and_its_unit(name: str) -> None:
    magnitude = BY_NAME[name]
    data = charts.points(frame([(0, 1.0, 3.0, 2.0)]), magnitude, 90)
    figure = charts.magnitude_figure(data, magnitude, LABELS, "light", "rev", wall(), "en")
    high, low, mean = figure["data"]
    assert (values(high["y"]), values(low["y"]), values(mean["y"])) == ([3.0], [1.0], [2.0])
    assert low["fill"] == "tonexty" and low["fillcolor"] == charts.band_color(magnitude) and "fill" not in high
    assert mean["line"]["color"] == charts.color(magnitude) and high["line"]["width"] == 0
    # Each trace tells its own value in the unified hover: nothing of the band is copied into the mean.
    assert "customdata" not in mean and "hoverinfo" not in high and "hoverinfo" not in low
    assert [t["hovertemplate"].split(":")[0] for t in (high, low, mean)] == ["max", "min", "mean"]
    assert figure["layout"]["yaxis"]["title"]["text"] == magnitude.unit
    assert figure["layout"]["uirevision"] == "rev" and figure["layout"]["annotations"] == []
    assert figure["layout"]["xaxis"]["visible"] and figure["layout"]["yaxis"]["visible"]
    assert all(f"f}} {magnitude.unit}".rstrip() in t["hovertemplate"] for t in (high, low, mean))  # with the unit


def test_fixed_ranges_show_the_whole_range_and_live_ones_follow_the_data() -> None:
    start, end = epoch("2026-01-01T00:00:00+01:00"), epoch("2026-01-08T00:00:00+01:00")
    fixed = figure_of(charts.Points(), axis=wall("Europe/Madrid", start, end, fixed=True))
    live = figure_of(charts.Points(), axis=wall("Europe/Madrid", start, end))
    assert fixed["layout"]["xaxis"]["range"] == ["2026-01-01T00:00:00", "2026-01-08T00:00:00"]
    assert "range" not in live["layout"]["xaxis"]


def test_magnitudes_get_distinct_colours() -> None:
    assert len({charts.color(m) for m in MAGNITUDES}) == len(MAGNITUDES)


def test_dark_charts_are_dark_with_transparent_backgrounds() -> None:
    dark = figure_of(charts.Points(), theme="dark")["layout"]
    light = figure_of(charts.Points())["layout"]
    for layout in (dark, light):
        assert layout["paper_bgcolor"] == layout["plot_bgcolor"] == "rgba(0,0,0,0)"
    assert dark["template"]["layout"]["paper_bgcolor"] == "rgb(17,17,17)"  # plotly_dark
    assert light["template"]["layout"]["paper_bgcolor"] == "white"
    assert dark["font"]["color"] != light["font"]["color"]
    assert plot_theme.theme_name({"x": 1}) == "light"


def test_mark_empty_toggles_the_note_and_axes() -> None:
    patch = Patch()
    charts.mark_empty(patch, False, "nothing")
    values_by_place = {tuple(op["location"]): op["params"]["value"] for op in operations(patch)}
    assert values_by_place == {("layout", "annotations"): [], ("layout", "xaxis", "visible"): True,
                               ("layout", "yaxis", "visible"): True}


def test_an_empty_chart_says_so() -> None:
    figure = figure_of(charts.Points())
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["nothing here"]
    assert not figure["layout"]["xaxis"]["visible"] and not figure["layout"]["yaxis"]["visible"]
    assert all(len(trace["x"]) == 0 for trace in figure["data"])  # traces exist so live points can be appended


def operations(patch: Patch) -> list[dict[str, Any]]:
    return patch.to_plotly_json()["operations"]


def test_append_extends_and_drop_deletes_from_the_front() -> None:
    patch = Patch()
    t0 = 1_767_225_600
    charts.append(patch, charts.Points(np.array([t0 + 5]), np.array([t0 + 5]), np.array([1.0]), np.array([2.0]),
                                       np.array([np.nan])), wall())
    charts.drop_oldest(patch, 2, wall())
    ops = operations(patch)
    extends = [(op["location"], op["params"]["value"]) for op in ops if op["operation"] == "Extend"]
    t = [int(datetime.fromisoformat("2026-01-01T00:00:05+00:00").timestamp() * 1000)]  # wall clock in ms
    assert extends[:5] == [(["data", 0, "x"], t), (["data", 0, "y"], [2.0]), (["data", 1, "x"], t),
                           (["data", 1, "y"], [1.0]), (["data", 2, "x"], t)]
    assert extends[5][0] == ["data", 2, "y"] and np.isnan(extends[5][1][0])  # sent as null
    assert len(extends) == 6  # x and y of the three traces, nothing else
    deletes = [op["location"] for op in ops if op["operation"] == "Delete"]
    assert len(deletes) == 2 * 6 and all(loc[-1] == 0 for loc in deletes)  # x, y of 3 traces
    empty = Patch()
    charts.append(empty, charts.Points(), wall())
    charts.retick(empty, wall())
    assert operations(empty) == []  # nothing new, and a wall-clock axis has plotly's own ticks


def test_retheme_patches_the_layout_only() -> None:
    patch = Patch()
    charts.retheme(patch, "dark")
    ops = operations(patch)
    assert all(op["operation"] == "Assign" and op["location"][0] == "layout" for op in ops)
    values = {tuple(op["location"]): op["params"]["value"] for op in ops}
    assert values[("layout", "paper_bgcolor")] == "rgba(0,0,0,0)"
    assert values[("layout", "template")]["layout"]["paper_bgcolor"] == "rgb(17,17,17)"


# -- live bookkeeping --------------------------------------------------------------------------

def test_drawn_counts_entries_per_slot_and_trims_whole_slots() -> None:
    slot = 60
    drawn = Drawn().add([120, 130, 190, 250], slot)
    assert (drawn.first, drawn.counts, drawn.last, drawn.total) == (120, (2, 1, 1), 250, 4)
    drawn = drawn.add([400], slot)
    assert drawn.counts == (2, 1, 1, 0, 1) and drawn.last == 400  # slot [360, 420)
    assert drawn.trim(179, slot) == (0, drawn)  # the first slot [120, 180) still reaches into the window
    dropped, rest = drawn.trim(250, slot)
    assert (dropped, rest.first, rest.counts) == (3, 240, (1, 0, 1))
    dropped, rest = drawn.trim(10_000, slot)
    assert (dropped, rest.first, rest.counts, rest.last) == (5, None, (), 400)
    assert Drawn().trim(10_000, slot) == (0, Drawn())


def state(**changes: Any) -> dict[str, Any]:
    raw = LiveState("n1", "1h", 2, 1000, {name: Drawn(960, (1, 2), 1000) for name in NAMES}, 77, 3).to_json()
    raw.update(changes)
    return raw


def test_live_state_round_trips() -> None:
    parsed = LiveState.from_json(state())
    assert parsed is not None and parsed.to_json() == state()
    assert (parsed.span, parsed.slot) == (3600, 3600 // SLOTS)
    assert (LiveState.width_of("1h"), LiveState.width_of("24h")) == (preset_range("1h", NOW).width,
                                                                     preset_range("24h", NOW).width)


@pytest.mark.parametrize("raw", [
    None, "x", [], {},
    state(node="bad id!"), state(node=["n1"]), state(preset="7d"), state(preset=None),
    state(width=3), state(width=60), state(width=True), state(width=2.0), state(through=1001), state(through=-2),
    state(through=2**62), state(drawn=None), state(drawn={"voltage": [None, [], None]}),
    state(drawn={**state()["drawn"], "voltage": [961, [1], 1000]}),  # not on a slot boundary
    state(drawn={**state()["drawn"], "voltage": [960, [-1], 1000]}),
    state(drawn={**state()["drawn"], "voltage": [960, [True], 1000]}),
    state(drawn={**state()["drawn"], "voltage": [960, [10**9], 1000]}),
    state(drawn={**state()["drawn"], "voltage": [960, [1] * 1000, 1000]}),
    state(drawn={**state()["drawn"], "voltage": [None, [1], 1000]}),
    state(drawn={**state()["drawn"], "voltage": [960, [1], "1000"]}),
    state(drawn={**state()["drawn"], "extra": [None, [], None]}),
    state(generation=None), state(generation=-1), state(generation=2**53), state(generation="77"),
    state(generation=True), state(seq=None), state(seq=-1), state(seq=1.0), state(instants=None),
    state(instants=1),
])
def test_forged_live_states_are_refused(raw: Any) -> None:
    assert LiveState.from_json(raw) is None


# -- time on the x axis ------------------------------------------------------------------------

def madrid_autumn_day(step: int = 60) -> tuple[pd.DataFrame, int, int]:
    """One-minute buckets over Madrid's 2026-10-25, the day of 25 hours (02:00-03:00 twice)."""
    start, end = epoch("2026-10-25T00:00:00+02:00"), epoch("2026-10-26T00:00:00+01:00")
    return frame([(t, 1.0, 3.0, 2.0) for t in range(start, end, step)]), start, end


@pytest.mark.parametrize(("tz", "day", "width", "instants"), [
    ("Europe/Madrid", "2026-10-25", 60, True),  # clocks go back: minute buckets would retrace 02:00-03:00
    ("Europe/Madrid", "2026-10-25", 3600, True),  # two buckets at the same 02:00
    ("Europe/Madrid", "2026-10-25", 21600, False),  # 6-hour buckets still move forward on the wall clock
    ("Europe/Madrid", "2026-03-29", 60, False),  # clocks go forward: a jump, never a step back
    ("Europe/Madrid", "2026-06-01", 60, False),
    ("America/Santiago", "2026-04-04", 60, True),  # back from 00:00 to 23:00 of the day before
    ("Australia/Lord_Howe", "2026-04-05", 1800, True),  # back by half an hour
    ("Asia/Kathmandu", "2026-01-01", 60, False),
])
def test_the_wall_clock_is_kept_unless_it_would_step_back(tz: str, day: str, width: int, instants: bool) -> None:
    start = int(datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(tz)).timestamp())
    assert charts.time_axis(tz, start, start + 90_000, width, fixed=True).instants is instants


def test_the_autumn_day_is_drawn_on_real_instants_with_local_labels() -> None:
    table, start, end = madrid_autumn_day()
    data = charts.points(table, BY_NAME["power"], charts.gap_seconds(60, 60))
    wall_x = wall("Europe/Madrid").x(data.at)
    assert (np.diff(wall_x.astype(np.int64)) < 0).any()  # the wall clock would draw the line backwards
    axis = charts.time_axis("Europe/Madrid", start, end, 60, fixed=True)
    figure = figure_of(data, axis=axis)
    mean = figure["data"][2]
    x = untyped(mean["x"]).astype(np.int64) // 1000  # a fixed range: a typed array of ms
    assert len(x) == 25 * 60 and (np.diff(x) > 0).all()  # 1500 minutes, each after the one before
    assert x[0] == epoch("2026-10-24T22:00:00+00:00")  # UTC instants
    xaxis = figure["layout"]["xaxis"]
    assert xaxis["range"] == ["2026-10-24T22:00:00", "2026-10-25T23:00:00"]
    assert xaxis["tickmode"] == "array" and xaxis["hoverformat"].endswith("UTC")
    ticks = dict(zip(xaxis["tickvals"], xaxis["ticktext"], strict=True))
    assert ticks["2026-10-24T22:00:00"] == "00:00<br>2026-10-25"  # local midnight, CEST
    assert ticks["2026-10-25T05:00:00"] == "06:00"  # after the change, CET
    assert ticks["2026-10-25T23:00:00"] == "00:00<br>2026-10-26"
    hover = dict(zip(x.tolist(), mean["text"].tolist(), strict=True))
    assert hover[epoch("2026-10-25T00:30:00+00:00")] == "2026-10-25 02:30:00 +02"  # the first 02:30
    assert hover[epoch("2026-10-25T01:30:00+00:00")] == "2026-10-25 02:30:00 +01"  # the second one
    assert mean["hovertemplate"].startswith("%{text}<br>")
    ordinary = figure_of(data, axis=wall("Europe/Madrid", start, end, fixed=True))
    assert "text" not in ordinary["data"][2] and "tickvals" not in ordinary["layout"]["xaxis"]


def test_ticks_name_which_reading_of_a_repeated_hour_they_mark() -> None:
    axis = charts.TimeAxis("Europe/Madrid", epoch("2026-10-25T00:30:00+00:00"), epoch("2026-10-25T01:30:00+00:00"),
                           fixed=False, instants=True)
    vals, text = axis.ticks()
    assert vals[0] == "2026-10-25T00:30:00" and vals[-1] == "2026-10-25T01:30:00"
    assert text == ["02:30 +02<br>2026-10-25", "02:40 +02", "02:50 +02", "02:00 +01", "02:10 +01", "02:20 +01",
                    "02:30 +01"]
    spring = charts.TimeAxis("Europe/Madrid", epoch("2026-03-29T00:00:00+00:00"), epoch("2026-03-29T02:00:00+00:00"),
                             fixed=False, instants=True)
    assert spring.ticks()[1][3:6] == ["01:45", "03:00", "03:15"]  # 02:00-03:00 does not exist; no offsets


def test_ticks_fall_on_local_round_times_at_odd_offsets() -> None:
    axis = charts.TimeAxis("Asia/Kathmandu", epoch("2026-01-01T00:00:00+05:45"), epoch("2026-01-02T00:00:00+05:45"),
                           fixed=True, instants=True)
    vals, text = axis.ticks()
    assert (vals[0], text[0]) == ("2025-12-31T18:15:00", "00:00<br>2026-01-01")
    assert (vals[1], text[1]) == ("2025-12-31T21:15:00", "03:00") and len(vals) == 9
    month = charts.TimeAxis("Europe/Madrid", epoch("2026-10-01T00:00:00+02:00"), epoch("2026-10-31T00:00:00+01:00"),
                            fixed=True, instants=True)
    assert month.ticks() == (["2026-09-30T22:00:00", "2026-10-07T22:00:00", "2026-10-14T22:00:00",
                              "2026-10-21T22:00:00", "2026-10-28T23:00:00"],
                             ["2026-10-01", "2026-10-08", "2026-10-15", "2026-10-22", "2026-10-29"])


def test_live_patches_on_instants_carry_the_local_hover_and_new_ticks() -> None:
    axis = charts.TimeAxis("Europe/Madrid", epoch("2026-10-25T00:30:00+00:00"), epoch("2026-10-25T01:30:00+00:00"),
                           fixed=False, instants=True)
    t = epoch("2026-10-25T01:29:00+00:00")
    patch = Patch()
    charts.append(patch, charts.Points(np.array([t]), np.array([t]), np.array([1.0]), np.array([2.0]),
                                       np.array([1.5])), axis)
    charts.drop_oldest(patch, 1, axis)
    charts.retick(patch, axis)
    ops = {(op["operation"], tuple(op["location"])): op["params"].get("value") for op in operations(patch)}
    assert ops["Extend", ("data", 2, "x")] == [t * 1000]  # a real instant, in ms
    assert ops["Extend", ("data", 2, "text")] == ["2026-10-25 02:29:00 +01"]
    assert ("Delete", ("data", 2, "text", 0)) in ops
    assert ops["Assign", ("layout", "xaxis", "ticktext")][-1] == "02:30 +01"


@pytest.mark.parametrize(("lang", "separators"), [("es", ",."), ("en", ".,")])
def test_chart_numbers_use_the_languages_separators(lang: str, separators: str) -> None:
    assert figure_of(charts.Points(), lang=lang)["layout"]["separators"] == separators


def test_a_figures_layout_is_its_own() -> None:
    first = figure_of(charts.Points(), theme="dark")
    first["layout"]["template"]["layout"]["paper_bgcolor"] = "red"
    first["layout"]["font"]["color"] = "red"
    first["layout"]["xaxis"]["gridcolor"] = "red"
    second = figure_of(charts.Points(), theme="dark")
    assert second["layout"]["template"]["layout"]["paper_bgcolor"] == "rgb(17,17,17)"
    assert "red" not in str(second["layout"])
    layout = plot_theme.themed_layout("light")
    layout["template"]["data"].clear()
    assert plot_theme.themed_layout("light")["template"]["data"]
