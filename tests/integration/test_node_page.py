"""The node dashboard through HTTP, as the browser calls it: draw, ranges, live ticks, theme, CSV."""

from __future__ import annotations

import csv
import inspect
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from enertrack.core.magnitudes import BY_NAME, NAMES
from enertrack.core.reading import Reading
from enertrack.models import User
from enertrack.store.base import StoreUnavailable
from enertrack.web.services import nodes
from enertrack.web.services.exports import HEADER, csv_rows, iso_utc
from enertrack.web.services.node_dashboard import LIVE_DELAY_S
from enertrack.web.ui import fmt
from enertrack.web.ui.compact import untyped
from enertrack.web.ui.live import Drawn, LiveState
from tests.conftest import create_user, login
from tests.dash_client import UPDATE, DashClient, components, has_class

DRAW = "node-missing.children"  # the name and numbers of a range
CHARTS = "node-tick.disabled"  # its six charts and live state, a callback of their own
TICK = "in:node-tick"
TZ = "Europe/Madrid"
STEP = 60


def response(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.data[:500]
    return resp.get_json()["response"]


def draw(dash: DashClient, node: Any, preset: Any = "24h", start: Any = None, end: Any = None,
         theme: Any = "light", triggered: int = 0) -> dict[str, Any]:
    """Both callbacks a range change runs, their answers together (the charts' may be 204: nothing)."""
    out = response(dash.call(DRAW, [node, preset, start, end], triggered=triggered))
    charts = dash.call(CHARTS, [node, preset, start, end], [theme], triggered=triggered)
    return out | (response(charts) if charts.status_code != 204 else {})


def by_class(tree: Any, cls: str) -> list[str]:
    """Texts of the components whose className contains cls, in document order."""
    return [str(c["props"].get("children")) for c in components(tree) if has_class(c["props"], cls)]


def tick(dash: DashClient, node: Any, raw: Any, preset: Any = "1h", n: int = 1) -> Any:
    """POST a live tick as the browser does: the state it holds and the preset chosen now."""
    return dash.call(TICK, [n], [node, raw, preset, "light"])


def answer(resp: Any) -> dict[str, Any]:
    """A tick's answer (what the browser applies if its state still matches), by output."""
    data = response(resp)["node-live"]["data"]
    out: dict[str, Any] = {f"node-chart-{name}": {"figure": figure} for name, figure in zip(NAMES, data["figures"],
                                                                                         strict=True)}
    out |= {f"node-stats-{name}": {"children": stats} for name, stats in zip(NAMES, data["stats"], strict=True)}
    return out | {"node-state": {"data": data["state"]}, "node-download": {"href": data["href"]},
                  "expects": (data["generation"], data["seq"])}


def local(ts: int) -> str:
    return fmt.local_time(ts, TZ)


class Seeded:
    """Two days of one-minute readings of ana's node n1 with known extremes."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.uid = create_user(app, "ana", language="en", timezone=TZ)
        with app.extensions["enertrack"].transaction() as db:
            nodes.create_node(db, self.uid, {"node_id": "n1", "description": "Kitchen", "location": "Madrid",
                                             "interval_s": STEP})
        self.base = int(time.time()) // STEP * STEP
        self.v_max_1h, self.v_max_24h, self.v_min = self.base - 600, self.base - 6000, self.base - 1800
        voltages = {self.v_max_1h: 240.2, self.base - 300: 240.2, self.v_max_24h: 251.3, self.v_min: 205.7}
        self.readings = [
            Reading("n1", ts, voltage=voltages.get(ts, 230.0), current=2.0, power=460.0 + (ts // STEP) % 7,
                    energy=100 + (ts - self.base) / 3_600_000 * 460.0, power_factor=0.95, frequency=50.0)
            for ts in range(self.base - 2 * 86400, self.base, STEP)
        ]
        app.extensions["enertrack"].store.write(self.readings)


@pytest.fixture
def seeded(app: Flask, client: FlaskClient, dash: DashClient) -> Seeded:
    data = Seeded(app)
    assert login(client, dash, "ana").status_code == 303
    return data


def seconds(x: float) -> int:
    """A chart x value (local wall-clock in TZ, in ms as plotly reads numbers) as epoch seconds."""
    wall = datetime.fromtimestamp(x / 1000, UTC).replace(tzinfo=ZoneInfo(TZ))
    return int(wall.timestamp())


def xs(trace: dict[str, Any]) -> list[float]:
    """A trace's x values, whether a list (live charts) or a typed array (fixed ranges)."""
    return [float(x) for x in untyped(trace["x"])]


def wall_ms(iso: str) -> float:
    """The x value of a local wall-clock time."""
    return datetime.fromisoformat(iso + "+00:00").timestamp() * 1000


def test_owner_sees_six_charts_and_the_exact_extremes(seeded: Seeded, dash: DashClient) -> None:
    out = draw(dash, "n1", "24h")
    assert out["node-missing"]["children"] is None and out["node-frame"]["style"] == {}
    assert (out["node-title"]["children"], out["node-subtitle"]["children"]) == ("n1", "Kitchen · Madrid")
    for name in NAMES:
        traces = out[f"node-chart-{name}"]["figure"]["data"]
        assert len(traces) == 3 and len(traces[2]["x"]) > 1000
    stats = out["node-stats-voltage"]["children"]
    assert by_class(stats, "node-stat-max") == ["251.3 V"] and by_class(stats, "node-stat-min") == ["205.7 V"]
    assert by_class(stats, "node-stat-current") == ["230.0 V"]
    assert by_class(stats, "node-stat-when")[1:] == [local(seeded.v_max_24h), local(seeded.v_min)]
    assert by_class(stats, "node-stat-at") == [local(seeded.base - STEP)]  # last update, after its age
    assert by_class(stats, "node-stat-age")[0].endswith(" ago")
    # The spike is in the chart's max band, the dip in its min band, at their local times.
    voltage = out["node-chart-voltage"]["figure"]["data"]
    assert 251.3 in voltage[0]["y"] and 205.7 in voltage[1]["y"]
    assert seconds(voltage[0]["x"][voltage[0]["y"].index(251.3)]) == seeded.v_max_24h
    power = by_class(out["node-stats-power"]["children"], "node-stat-max")
    assert power == [f"{466:,} W"]


def test_the_numbers_do_not_wait_for_the_charts(seeded: Seeded, dash: DashClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's first answer (name, numbers, CSV link) reads no chart data: the six charts
    come from a callback of their own, which the browser calls at the same time."""
    def no_charts(*_args: Any) -> Any:
        raise AssertionError("the numbers' callback read chart data")

    monkeypatch.setattr(seeded.app.extensions["enertrack"].store, "series", no_charts)
    out = response(dash.call(DRAW, ["n1", "24h", None, None]))
    assert out["node-title"]["children"] == "n1"
    assert by_class(out["node-stats-voltage"]["children"], "node-stat-max") == ["251.3 V"]
    assert not [key for key in out if key.startswith("node-chart-") or key in ("node-state", "node-tick")]
    monkeypatch.undo()
    charts = response(dash.call(CHARTS, ["n1", "24h", None, None], ["light"]))
    assert set(charts) == {f"node-chart-{name}" for name in NAMES} | {"node-state", "node-tick"}


def test_the_hour_has_its_own_extremes_earliest_on_ties(seeded: Seeded, dash: DashClient) -> None:
    stats = draw(dash, "n1", "1h")["node-stats-voltage"]["children"]
    assert by_class(stats, "node-stat-max") == ["240.2 V"]
    assert by_class(stats, "node-stat-when")[1:] == [local(seeded.v_max_1h), local(seeded.v_min)]


@pytest.mark.parametrize(("preset", "width"), [("24h", 60), ("7d", 900), ("30d", 1800), ("1y", 21600)])
def test_presets_switch_bucket_widths(seeded: Seeded, dash: DashClient, preset: str, width: int) -> None:
    drawn = [seconds(x) for x in xs(draw(dash, "n1", preset)["node-chart-power"]["figure"]["data"][2])]
    steps = {b - a for a, b in zip(drawn, drawn[1:], strict=False)}
    assert steps == {width}, steps
    # Up to the newest data (live charts stop LIVE_DELAY_S short of now, on a bucket edge).
    assert drawn[-1] >= seeded.base - STEP - LIVE_DELAY_S - 2 * width


def test_live_presets_start_ticking_and_others_stop(seeded: Seeded, dash: DashClient) -> None:
    hour = draw(dash, "n1", "1h")
    state = LiveState.from_json(hour["node-state"]["data"])
    assert state is not None and (state.node, state.preset, state.width) == ("n1", "1h", 2)
    assert hour["node-tick"]["disabled"] is False
    assert hour["node-download"]["href"].startswith("/enertrack/nodes/n1/readings.csv?start=")
    assert "end=" not in hour["node-download"]["href"]  # live: until now, whenever it is clicked
    week = draw(dash, "n1", "7d")
    assert week["node-state"]["data"] is None and week["node-tick"]["disabled"] is True
    assert "end=" in week["node-download"]["href"]


def test_custom_range_draws_exactly_that_range(seeded: Seeded, dash: DashClient) -> None:
    # The day before today in the user's timezone, midnight to midnight (not the server's days).
    first = datetime.fromtimestamp(seeded.base - 86400, ZoneInfo(TZ)).date()
    last = first + timedelta(days=1)
    out = draw(dash, "n1", "custom", first.isoformat(), first.isoformat(), triggered=3)  # that day, whole
    voltage = out["node-chart-voltage"]["figure"]["data"][2]
    assert isinstance(voltage["x"], dict) and voltage["x"]["dtype"] == "f8"  # a fixed range: a typed array
    drawn = xs(voltage)
    midnight = int(datetime.combine(first, datetime.min.time(), ZoneInfo(TZ)).timestamp())
    next_midnight = int(datetime.combine(last, datetime.min.time(), ZoneInfo(TZ)).timestamp())
    assert drawn[0] == wall_ms(f"{first.isoformat()}T00:00:00") and drawn[-1] == wall_ms(f"{first.isoformat()}T23:59:00")
    assert len(drawn) == (next_midnight - midnight) // STEP
    assert out["node-message"]["is_open"] is False and out["node-tick"]["disabled"] is True


@pytest.mark.parametrize(("start", "end", "message"), [
    (None, None, "Choose a start and an end date."),
    ("2026-01-05", "2026-01-04", "The end date cannot be before the start date."),
    ("2026-01-05", "2026-01-01", "The end date cannot be before the start date."),
    ("2020-01-01", "2026-01-01", "That range is too long"),
    ("not a date", "2026-01-01", "Choose a start and an end date."),
])
def test_custom_range_validation(seeded: Seeded, dash: DashClient, start: Any, end: Any, message: str) -> None:
    out = draw(dash, "n1", "custom", start, end, triggered=2)
    assert out["node-message"]["is_open"] is True and message in out["node-message"]["children"]
    assert all(f"node-chart-{name}" not in out for name in NAMES)  # what is drawn stays as it was
    assert out["node-tick"]["disabled"] is True


def test_dates_do_nothing_unless_the_range_is_custom(seeded: Seeded, dash: DashClient) -> None:
    for fragment, state in ((DRAW, []), (CHARTS, ["light"])):
        assert dash.call(fragment, ["n1", "24h", "2026-01-01", "2026-01-02"], state, triggered=2).status_code == 204


def not_found(out: dict[str, Any]) -> None:
    assert "node-not-found" in json.dumps(out["node-missing"]["children"])
    assert out["node-frame"]["style"] == {"display": "none"} and out["node-title"]["children"] == ""
    assert out["node-state"]["data"] is None and out["node-download"]["href"] is None
    for name in NAMES:
        assert out[f"node-chart-{name}"]["figure"]["data"] == []
        assert out[f"node-stats-{name}"]["children"] is None


def test_another_users_node_and_a_missing_one_look_the_same(app: Flask, client: FlaskClient,
                                                           dash: DashClient) -> None:
    Seeded(app)
    create_user(app, "bob", language="en")
    login(client, dash, "bob")
    for preset, start, end in [("1h", None, None), ("24h", None, None), ("1y", None, None),
                               ("custom", "2025-01-01", "2027-01-01")]:
        theirs, missing = draw(dash, "n1", preset, start, end), draw(dash, "nobody", preset, start, end)
        not_found(theirs)
        assert json.dumps(theirs).replace("n1", "nobody") == json.dumps(missing)
        assert "230" not in json.dumps(theirs) and "Kitchen" not in json.dumps(theirs)
    assert client.get("/enertrack/nodes/n1/readings.csv").status_code == 404
    assert client.get("/enertrack/nodes/nobody/readings.csv").status_code == 404


def test_garbage_node_ids_get_not_found(seeded: Seeded, dash: DashClient) -> None:
    for node in (None, "", "x" * 5000, ["n1"], {"node": "n1"}, 1, "n1/x", "../n1", "n1\x00"):
        not_found(draw(dash, node, "1h"))


def live_state(seeded: Seeded, dash: DashClient, drawn_ago: int) -> tuple[dict[str, Any], LiveState]:
    """A 1 h view as if drawn `drawn_ago` seconds ago (its through and counts moved back)."""
    state = LiveState.from_json(draw(dash, "n1", "1h")["node-state"]["data"])
    assert state is not None
    through = (state.through - drawn_ago) // state.width * state.width
    drawn = {}
    for name in NAMES:
        before = [r.ts // state.width * state.width for r in seeded.readings
                  if state.through - 3600 <= r.ts < through]
        drawn[name] = Drawn().add(before, state.slot)
    old = LiveState("n1", "1h", state.width, through, drawn, state.generation)
    return old.to_json(), old


def test_live_tick_appends_only_the_new_buckets(seeded: Seeded, dash: DashClient) -> None:
    raw, old = live_state(seeded, dash, drawn_ago=600)
    out = answer(tick(dash, "n1", raw, n=3))
    state = LiveState.from_json(out["node-state"]["data"])
    assert out["expects"] == (old.generation, 0) and state is not None and state.seq == 1
    assert state is not None and state.through > old.through  # drawn up to the live cutoff now
    new = [r for r in seeded.readings if old.through <= r.ts < state.through]
    assert 8 <= len(new) <= 11
    for name in NAMES:
        ops = out[f"node-chart-{name}"]["figure"]["operations"]
        assert {op["operation"] for op in ops} <= {"Extend", "Delete", "Assign"}
        assert not any(op["location"] in (["data"], [], ["layout"]) for op in ops)  # never a redraw
        extends = {tuple(op["location"]): op["params"]["value"] for op in ops if op["operation"] == "Extend"}
        assert [seconds(x) for x in extends[("data", 2, "x")]] == [r.ts for r in new]
        assert extends[("data", 2, "y")] == [round(getattr(r, name), BY_NAME[name].decimals + 1) for r in new]
    assert state.drawn["power"].total == old.drawn["power"].total + len(new) - sum(
        op["operation"] == "Delete" for op in out["node-chart-power"]["figure"]["operations"]) // 6
    # The numbers are fresh too.
    assert by_class(out["node-stats-voltage"]["children"], "node-stat-current") == ["230.0 V"]
    # A second tick right after has nothing new to append.
    again = answer(tick(dash, "n1", out["node-state"]["data"], n=4))
    assert not any(op["operation"] == "Extend" for op in again["node-chart-power"]["figure"]["operations"])


def test_live_tick_drops_buckets_that_left_the_window(seeded: Seeded, dash: DashClient) -> None:
    raw, old = live_state(seeded, dash, drawn_ago=0)
    slot = old.slot
    # Pretend 7 more points were drawn ten minutes before the oldest: they left the window.
    stale = {name: [d.first - 10 * slot, [3, 4, *[0] * 8, *d.counts], d.last] for name, d in old.drawn.items()}
    out = answer(tick(dash, "n1", {**raw, "drawn": stale}))
    after = LiveState.from_json(out["node-state"]["data"])
    assert after is not None
    for name in NAMES:
        deletes = [op for op in out[f"node-chart-{name}"]["figure"]["operations"] if op["operation"] == "Delete"]
        assert len(deletes) % 6 == 0 and all(op["location"][-1] == 0 for op in deletes)
        dropped = len(deletes) // 6  # x and y of three traces
        assert 7 <= dropped <= 8  # the stale ones, and the oldest real one if it has just left too
        assert after.drawn[name].total == old.drawn[name].total + 7 - dropped


def test_live_tick_refuses_other_nodes_and_forged_states(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    seeded = Seeded(app)
    login(client, dash, "ana")
    raw, _old = live_state(seeded, dash, drawn_ago=600)
    assert tick(dash, "other", raw).status_code == 204  # state for another node
    assert tick(dash, "n1", {**raw, "width": 7}).status_code == 204
    assert tick(dash, "n1", {**raw, "generation": "1"}).status_code == 204
    assert tick(dash, "n1", None).status_code == 204
    assert tick(dash, "n1", {**raw, "through": 0}).status_code == 200  # clamped to the window: cheap
    create_user(app, "bob")
    bob = app.test_client()
    bob_dash = DashClient(bob, app.extensions["dash_app"])
    login(bob, bob_dash, "bob")
    assert tick(bob_dash, "n1", raw).status_code == 204  # ana's node and state: nothing


def retheme(dash: DashClient, theme: Any, node: Any) -> Any:
    spec = next(c for c in dash.server_callbacks()
                if c["inputs"][0]["id"] == "theme-resolved" and "node-chart" in c["output"])
    return dash.client.post(UPDATE, json=dash.body(spec, [theme], [node]))


def test_theme_switch_patches_layouts_only(seeded: Seeded, dash: DashClient) -> None:
    out = response(retheme(dash, "dark", "n1"))
    for name in NAMES:
        ops = out[f"node-chart-{name}"]["figure"]["operations"]
        assert ops and all(op["location"][0] == "layout" for op in ops)
        template = next(op for op in ops if op["location"] == ["layout", "template"])["params"]["value"]
        assert template["layout"]["paper_bgcolor"] == "rgb(17,17,17)"
    assert retheme(dash, "dark", "nobody").status_code == 204
    dark = draw(dash, "n1", "24h", theme="dark")["node-chart-power"]["figure"]["layout"]
    assert dark["paper_bgcolor"] == "rgba(0,0,0,0)" and dark["template"]["layout"]["paper_bgcolor"] == "rgb(17,17,17)"


class BrokenStore:
    """A store that is down."""

    def __getattr__(self, name: str) -> Any:
        def fail(*_args: Any, **_kwargs: Any) -> Any:
            if name == "close":
                return None
            raise StoreUnavailable("down")

        return fail


def test_a_store_outage_is_explained(settings: Any) -> None:
    from enertrack.web.app import create_app

    app = create_app(settings, store=BrokenStore())  # type: ignore[arg-type]
    client = app.test_client()
    dash = DashClient(client, app.extensions["dash_app"])
    uid = create_user(app, "ana", language="en")
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "interval_s": 10})
    login(client, dash, "ana")
    out = draw(dash, "n1", "24h")
    assert "not available right now" in out["node-message"]["children"]
    assert client.get("/enertrack/nodes/n1/readings.csv").status_code == 503
    app.extensions["enertrack"].engine.dispose()


# -- CSV ---------------------------------------------------------------------------------------

def expected_csv(readings: Iterator[Reading]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(csv_rows(readings))
    return buffer.getvalue()


def test_csv_streams_exactly_the_readings_of_the_range(seeded: Seeded, client: FlaskClient,
                                                       dash: DashClient) -> None:
    start, end = seeded.base - 7200 + 30, seeded.base - 3600
    href = draw(dash, "n1", "custom", "2026-01-01", "2026-01-01", triggered=2)["node-download"]["href"]
    assert href.endswith("start=2025-12-31T23%3A00%3A00Z&end=2026-01-01T23%3A00%3A00Z")  # Madrid days
    resp = client.get(f"/enertrack/nodes/n1/readings.csv?start={iso_utc(start)}&end={iso_utc(end)}")
    assert resp.status_code == 200 and resp.is_streamed and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    body = resp.get_data(as_text=True)
    wanted = [r for r in seeded.readings if start <= r.ts < end]
    assert body == expected_csv(iter(wanted)) and len(wanted) == 59
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == HEADER and rows[1][0] == iso_utc(wanted[0].ts)
    everything = client.get("/enertrack/nodes/n1/readings.csv").get_data(as_text=True)
    assert everything == expected_csv(iter(seeded.readings))  # longer than one streamed chunk
    assert len(everything) > 64 * 1024


@pytest.mark.parametrize(("query", "status"), [
    ("start=yesterday", 400), ("end=2026-13-01", 400), ("start=2026-01-02&end=2026-01-01", 400),
    ("start=" + "9" * 100, 400), ("start=2026-01-01&end=2026-01-01", 400), ("start=&end=", 200),
])
def test_csv_rejects_bad_ranges_clearly(seeded: Seeded, client: FlaskClient, query: str, status: int) -> None:
    resp = client.get(f"/enertrack/nodes/n1/readings.csv?{query}")
    assert resp.status_code == status, resp.data[:200]
    if status == 400:
        assert resp.mimetype == "text/plain" and b"start" in resp.data.lower()


def test_csv_is_behind_the_login(app: Flask) -> None:
    Seeded(app)
    anonymous = app.test_client()
    resp = anonymous.get("/enertrack/nodes/n1/readings.csv?start=2026-01-01")
    assert resp.status_code == 302 and "/enertrack/login?next=" in resp.headers["Location"]


def test_the_page_itself_holds_only_the_node_id_from_the_url(seeded: Seeded, dash: DashClient) -> None:
    page = response(dash.call("_pages_content.children", ["/enertrack/nodes/n1", "", "en"]))
    text = json.dumps(page)
    assert '"id": "node-store"' in text and '"data": "n1"' in text
    assert "Kitchen" not in text and "230" not in text  # description and data come from callbacks
    assert '"node-frame"' in text and '{"display": "none"}' in text


@pytest.mark.parametrize("path", ["/enertrack/nodes/n1", "/enertrack/analysis"])
def test_date_pickers_speak_spanish(seeded: Seeded, dash: DashClient, path: str) -> None:
    def shown(profile: str, remembered: str) -> str:
        with seeded.app.extensions["enertrack"].transaction() as db:
            db.query(User).filter_by(id=seeded.uid).one().language = profile
        return json.dumps(response(dash.call("_pages_content.children", [path, "", remembered])))

    # Logged in, the profile's language counts, not the one the browser remembered.
    text = shown("es", "en")
    # Dash's own placeholders are English ("Start Date"): the pages pass translated ones.
    assert '"start_date_placeholder_text": "Fecha de inicio"' in text
    assert '"end_date_placeholder_text": "Fecha de fin"' in text
    assert '"locale": "es"' in text  # plotly's month names and tips in Spanish too
    assert '"locale"' not in shown("en", "es")


def test_the_node_page_lists_what_the_daemon_rejected(seeded: Seeded, dash: DashClient, app: Flask) -> None:
    from enertrack.ingest.batcher import DeadLetter
    from enertrack.ingest.payload import Reason, Rejection
    from enertrack.ingest.users_db import record

    sessions = app.extensions["enertrack"].sessions
    record(sessions, [DeadLetter(Rejection(Reason.OUT_OF_RANGE, "voltage 999 is outside 0-300 V", "n1",
                                           '{"v": 999, "<b>": 1}'), "enertrack/n1/telemetry", time.time()),
                      DeadLetter(Rejection(Reason.BAD_JSON, "not JSON", "other", "xx"), "enertrack/other/telemetry",
                                 time.time())], [])
    shown = json.dumps(response(dash.call("node-rejections.children", ["n1"])))
    assert "out_of_range" in shown and "voltage 999 is outside 0-300 V" in shown
    assert json.dumps('{"v": 999, "<b>": 1}')[1:-1] in shown  # the payload excerpt, as text
    assert "not JSON" not in shown  # another node's dead letters are not listed
    empty = response(dash.call("node-rejections.children", ["n2-missing"]))
    assert empty["node-rejections"]["children"] is None


def test_another_users_rejections_stay_hidden(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    from enertrack.ingest.batcher import DeadLetter
    from enertrack.ingest.payload import Reason, Rejection
    from enertrack.ingest.users_db import record

    Seeded(app)
    create_user(app, "bob")
    login(client, dash, "bob")
    record(app.extensions["enertrack"].sessions,
           [DeadLetter(Rejection(Reason.BAD_JSON, "secret-ish", "n1", "x"), "enertrack/n1/telemetry", time.time())], [])
    result = response(dash.call("node-rejections.children", ["n1"]))
    assert result["node-rejections"]["children"] is None


def test_the_node_page_shows_the_devices_latest_health_in_the_users_language(
    seeded: Seeded, dash: DashClient, app: Flask
) -> None:
    from enertrack.ingest.batcher import HealthReport
    from enertrack.ingest.payload import Health
    from enertrack.ingest.users_db import record

    def card() -> str:
        return json.dumps(response(dash.call("node-health.children", ["n1"]))["node-health"]["children"],
                          ensure_ascii=False)

    assert "has not reported its device health yet" in card()
    at = seeded.base - 90
    record(app.extensions["enertrack"].sessions, [], [], health={
        "n1": HealthReport("n1", at, Health(fw="1.4.0", rssi=-67, uptime_s=3 * 86400 + 4 * 3600, dropped=1234)),
    })
    english = card()
    for shown in ("Device health", "1.4.0", "-67 dBm", "3 d 4 h", "1,234", f"Reported {local(at)}"):
        assert shown in english, shown
    assert by_class(json.loads(english), "node-health-value")[-1] == "—"  # buffered: never reported
    set_language(app, "ana", "es")
    spanish = card()
    assert "Estado del dispositivo" in spanish and "1.234" in spanish and "Señal wifi" in spanish
    assert response(dash.call("node-health.children", ["n2-missing"]))["node-health"]["children"] is None


def test_another_users_device_health_stays_hidden(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    from enertrack.ingest.batcher import HealthReport
    from enertrack.ingest.payload import Health
    from enertrack.ingest.users_db import record

    Seeded(app)
    record(app.extensions["enertrack"].sessions, [], [],
           health={"n1": HealthReport("n1", int(time.time()), Health(fw="secret-fw"))})
    create_user(app, "bob")
    login(client, dash, "bob")
    assert response(dash.call("node-health.children", ["n1"]))["node-health"]["children"] is None


# -- numbers in the user's language --------------------------------------------------------------

def set_language(app: Flask, username: str, language: str) -> None:
    from sqlalchemy import update

    from enertrack.models import User

    with app.extensions["enertrack"].transaction() as db:
        db.execute(update(User).where(User.username == username).values(language=language))


def test_numbers_follow_the_users_language(seeded: Seeded, dash: DashClient, app: Flask) -> None:
    app.extensions["enertrack"].store.write([Reading("n1", seeded.base - 30, power=4321.0)])
    english = draw(dash, "n1", "24h")
    assert by_class(english["node-stats-voltage"]["children"], "node-stat-max") == ["251.3 V"]
    assert by_class(english["node-stats-power"]["children"], "node-stat-current") == ["4,321 W"]
    assert english["node-chart-power"]["figure"]["layout"]["separators"] == ".,"
    set_language(app, "ana", "es")
    spanish = draw(dash, "n1", "24h")
    assert by_class(spanish["node-stats-voltage"]["children"], "node-stat-max") == ["251,3 V"]
    assert by_class(spanish["node-stats-power"]["children"], "node-stat-current") == ["4.321 W"]
    assert by_class(spanish["node-stats-frequency"]["children"], "node-stat-min") == ["50,00 Hz"]
    assert spanish["node-chart-power"]["figure"]["layout"]["separators"] == ",."


# -- a tick answered late ------------------------------------------------------------------------

def test_a_tick_that_started_before_a_redraw_changes_nothing(seeded: Seeded, dash: DashClient) -> None:
    hour = draw(dash, "n1", "1h")["node-state"]["data"]
    day = draw(dash, "n1", "24h")["node-state"]["data"]
    assert day["generation"] != hour["generation"] and day["seq"] == hour["seq"] == 0
    # The browser sends what it holds: the 1 h state, but the preset is 24 h by now.
    assert tick(dash, "n1", hour, preset="24h").status_code == 204
    assert tick(dash, "n1", hour, preset="7d").status_code == 204
    # Sent before the redraw (preset still 1 h), answered after it: the answer names the draw it
    # patches, which is not the one on the page; the browser drops it (tests/browser).
    late = answer(tick(dash, "n1", hour, preset="1h"))
    again = draw(dash, "n1", "1h")["node-state"]["data"]
    assert late["expects"] == (hour["generation"], 0) != (again["generation"], again["seq"])
    # A tick of the current draw is applied, and the next one must start from its result.
    fresh = answer(tick(dash, "n1", again))
    assert fresh["expects"] == (again["generation"], 0) and fresh["node-state"]["data"]["seq"] == 1
    assert answer(tick(dash, "n1", fresh["node-state"]["data"]))["expects"] == (again["generation"], 1)


# -- the day clocks go back ------------------------------------------------------------------------

AUTUMN_START = int(datetime(2026, 10, 25, tzinfo=ZoneInfo(TZ)).timestamp())  # 2026-10-24T22:00Z


def autumn(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    """ana in Madrid, whose node reported every minute around 2026-10-25 (25 hours long)."""
    uid = create_user(app, "ana", language="en", timezone=TZ)
    with app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "interval_s": STEP})
    app.extensions["enertrack"].store.write([
        Reading("n1", ts, voltage=230.0, power=400.0 + ts % 7) for ts in range(AUTUMN_START - 86400,
                                                                             AUTUMN_START + 2 * 86400, STEP)])
    assert login(client, dash, "ana").status_code == 303


def test_the_autumn_day_is_drawn_in_time_order(app: Flask, client: FlaskClient, dash: DashClient) -> None:
    autumn(app, client, dash)
    figure = draw(dash, "n1", "custom", "2026-10-25", "2026-10-25", triggered=3)["node-chart-power"]["figure"]
    mean = figure["data"][2]
    instants = [int(x / 1000) for x in xs(mean)]
    assert instants == list(range(AUTUMN_START, AUTUMN_START + 25 * 3600, STEP))  # every minute once, in order
    ticks = dict(zip(figure["layout"]["xaxis"]["tickvals"], figure["layout"]["xaxis"]["ticktext"], strict=True))
    assert ticks["2026-10-24T22:00:00"] == "00:00<br>2026-10-25" and ticks["2026-10-25T11:00:00"] == "12:00"
    assert {mean["text"][150], mean["text"][210]} == {"2026-10-25 02:30:00 +02", "2026-10-25 02:30:00 +01"}


def page_clock(app: Flask, monkeypatch: pytest.MonkeyPatch, now: float) -> None:
    """The node page's callbacks see `now` as the time (the session, the guard and the store do not)."""
    dash_app = app.extensions["dash_app"]
    entry = next(v for k, v in dash_app.callback_map.items() if "node-live.data" in k)
    module = inspect.unwrap(entry["callback"]).__globals__
    monkeypatch.setitem(module, "time", SimpleNamespace(time=lambda: now))


def test_a_live_chart_is_redrawn_on_instants_when_clocks_go_back(app: Flask, client: FlaskClient,
                                                                 dash: DashClient,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    autumn(app, client, dash)
    change = AUTUMN_START + 3 * 3600  # 01:00Z: 03:00 CEST becomes 02:00 CET
    page_clock(app, monkeypatch, change - 20 * 60 + 0.5)  # 02:40 CEST
    drawn = draw(dash, "n1", "1h")
    state = LiveState.from_json(drawn["node-state"]["data"])
    assert state is not None and not state.instants  # the last hour moved forward: the wall clock
    assert drawn["node-chart-voltage"]["figure"]["data"][2]["x"][-1] == wall_ms("2026-10-25T02:39:00")  # wall clock
    page_clock(app, monkeypatch, change + 10 * 60 + 0.5)  # 02:10 CET, after 02:59 CEST
    out = answer(tick(dash, "n1", drawn["node-state"]["data"]))
    figure = out["node-chart-voltage"]["figure"]
    assert "operations" not in figure  # redrawn whole, once
    x = [int(v / 1000) for v in xs(figure["data"][2])]
    assert x == sorted(x) and len(set(x)) == len(x) and x[-1] > change  # in time order across the change
    assert figure["data"][2]["text"][-1].endswith("+01") and figure["data"][2]["text"][0].endswith("+02")
    after = LiveState.from_json(out["node-state"]["data"])
    assert after is not None and after.instants and after.seq == 1 and after.generation == state.generation
    # From then on ticks patch again, with local hover text for each new point.
    page_clock(app, monkeypatch, change + 11 * 60 + 0.5)
    app.extensions["enertrack"].store.write([Reading("n1", change + 10 * 60 + s, voltage=231.0) for s in (0, 2)])
    patched = answer(tick(dash, "n1", out["node-state"]["data"]))
    ops = {tuple(op["location"]) for op in patched["node-chart-voltage"]["figure"]["operations"]
           if op["operation"] == "Extend"}
    assert ("data", 2, "text") in ops and patched["expects"] == (state.generation, 1)
