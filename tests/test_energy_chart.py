"""The analysis chart as the browser receives it: stacked bars per node, the total, the theme."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from enertrack.ui.energy_chart import energy_figure


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
    figure = sent(energy_figure(table(), "day", "light", "Total"))
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
    dark = sent(energy_figure(table(), "month", "dark", "Total", price=0.2, currency="EUR"))
    light = sent(energy_figure(table(), "month", "light", "Total"))
    assert dark["layout"]["template"]["layout"]["paper_bgcolor"] == "rgb(17,17,17)"
    assert light["layout"]["template"]["layout"]["paper_bgcolor"] == "white"
    assert dark["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert decoded(dark["data"][0]["customdata"]) == pytest.approx([0.2, 0.4, 0.6])
    assert "EUR" in dark["data"][0]["hovertemplate"] and "customdata" not in light["data"][0]


def test_no_nodes_draws_an_empty_total() -> None:
    empty = pd.DataFrame(index=table().index)
    figure = sent(energy_figure(empty, "day", "light", "Total"))
    assert len(figure["data"]) == 1 and decoded(figure["data"][0]["y"]) == [0.0, 0.0, 0.0]
