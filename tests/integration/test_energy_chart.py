"""The analysis chart as the browser receives it: stacked bars per node, the total, the theme."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from enertrack.core.calendar import boundaries
from enertrack.web.services.analysis import energy_table
from enertrack.web.ui.energy_chart import energy_figure


def table(tz: str = "Europe/Madrid") -> pd.DataFrame:
    """Two nodes over three local days (the 2026-03-29 one has 23 hours)."""
    index = pd.DatetimeIndex(pd.to_datetime(["2026-03-28", "2026-03-29", "2026-03-30"])).tz_localize(tz)
    return pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.0, 4.25]}, index=index)


def sent(figure: dict) -> dict:
    """The figure after the app's serializer (plotly's JSON with orjson), as the browser reads it."""
    return json.loads(pio.to_json(figure, engine="orjson"))


def decoded(values: object) -> list[float]:
    import base64

    if isinstance(values, dict):  # plotly sends numeric arrays base64-encoded
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values)  # type: ignore[arg-type]


def test_bars_per_node_stacked_with_the_total_on_local_midnights() -> None:
    figure = sent(energy_figure(table(), "day", "light", "Total", lang="en"))
    bars = [t for t in figure["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars] == ["a", "b"]
    assert decoded(bars[1]["y"]) == [0.5, 0.0, 4.25]
    total = figure["data"][-1]
    assert total["type"] == "scatter" and total["name"] == "Total"
    assert decoded(total["y"]) == [1.5, 2.0, 7.25]
    assert total["x"] == bars[0]["x"] == ["2026-03-28T00:00:00", "2026-03-29T00:00:00", "2026-03-30T00:00:00"]
    assert figure["layout"]["barmode"] == "stack"
    assert figure["layout"]["xaxis"]["hoverformat"] == "%Y-%m-%d"
    assert figure["layout"]["yaxis"]["title"]["text"] == "kWh"
    assert bars[0]["marker"]["color"] != bars[1]["marker"]["color"]


def test_dark_theme_and_tariff_hover() -> None:
    dark = sent(energy_figure(table(), "month", "dark", "Total", price=0.2, currency="EUR", lang="es"))
    light = sent(energy_figure(table(), "month", "light", "Total", lang="en"))
    assert dark["layout"]["template"]["layout"]["paper_bgcolor"] == "rgb(17,17,17)"
    assert light["layout"]["template"]["layout"]["paper_bgcolor"] == "white"
    assert dark["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert decoded(dark["data"][0]["customdata"]) == pytest.approx([0.2, 0.4, 0.6])
    assert "EUR" in dark["data"][0]["hovertemplate"] and "customdata" not in light["data"][0]


def test_no_nodes_draws_an_empty_total() -> None:
    empty = pd.DataFrame(index=table().index)
    figure = sent(energy_figure(empty, "day", "light", "Total", lang="en"))
    assert len(figure["data"]) == 1 and decoded(figure["data"][0]["y"]) == [0.0, 0.0, 0.0]


def hourly(day: date, tz: str) -> pd.DataFrame:
    """The analysis table of one local day by hour, as the page builds it (one node, 1 kWh an hour)."""
    marks = boundaries(day, date.fromordinal(day.toordinal() + 1), "hour", tz)
    raw = pd.DataFrame({"node_id": "a", "period_start": marks[:-1], "energy_kwh": 1.0})
    return energy_table(raw, ["a"], marks, tz)


@pytest.mark.parametrize(("day", "tz", "hours"), [
    (date(2026, 10, 25), "Europe/Madrid", 25),  # clocks go back: 02:00 twice
    (date(2026, 3, 29), "Europe/Madrid", 23),
    (date(2026, 4, 4), "America/Santiago", 25),  # back at midnight: 23:00 of the 4th twice
    (date(2026, 1, 1), "Asia/Kathmandu", 24),
])
def test_every_hour_of_a_dst_day_is_its_own_bar(day: date, tz: str, hours: int) -> None:
    figure = sent(energy_figure(hourly(day, tz), "hour", "light", "Total", lang="es"))
    bars = figure["data"][0]
    assert len(bars["x"]) == len(set(bars["x"])) == hours  # one slot per period: nothing stacks by accident
    assert decoded(bars["y"]) == [1.0] * hours and figure["data"][-1]["x"] == bars["x"]
    assert figure["layout"]["xaxis"]["type"] == "category"
    assert bars["x"][0] == f"{day.isoformat()} 00:00" or tz == "America/Santiago"


def test_the_repeated_hour_says_which_offset_it_is() -> None:
    labels = sent(energy_figure(hourly(date(2026, 10, 25), "Europe/Madrid"), "hour", "light", "Total", lang="en"))
    x = labels["data"][0]["x"]
    assert x[1:5] == ["2026-10-25 01:00", "2026-10-25 02:00 +02", "2026-10-25 02:00 +01", "2026-10-25 03:00"]
    santiago = sent(energy_figure(hourly(date(2026, 4, 4), "America/Santiago"), "hour", "light", "Total", lang="en"))
    assert santiago["data"][0]["x"][-2:] == ["2026-04-04 23:00 -03", "2026-04-04 23:00 -04"]


@pytest.mark.parametrize(("lang", "separators"), [("es", ",."), ("en", ".,")])
def test_axis_and_hover_numbers_use_the_languages_separators(lang: str, separators: str) -> None:
    figure = energy_figure(table(), "day", "light", "Total", price=0.2, currency="EUR", lang=lang)
    assert figure["layout"]["separators"] == separators
    assert "%{y:,.3f}" in figure["data"][0]["hovertemplate"]  # grouped, with the layout's separators


def test_the_app_serializes_figures_with_orjson(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from enertrack.web.app import create_app

    monkeypatch.setattr(pio.json.config, "default_engine", "json")
    server = create_app(settings)
    try:
        assert pio.json.config.default_engine == "orjson"  # what Dash's callback responses go through
    finally:
        server.extensions["enertrack"].store.close()
        server.extensions["enertrack"].engine.dispose()
