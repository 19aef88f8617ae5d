"""Flux text InfluxStore generates: pushed-down heads, aggregateWindow, and no injected strings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from enertrack.core.magnitudes import NAMES
from enertrack.store.influx import flux
from enertrack.store.influx.ledger import Cluster, Run

HOSTILE = 'n1" or r._measurement != "x") |> drop(columns: ["_value"]) //${danger}'

ALL_QUERIES = {
    "series": lambda node: flux.series_query("b", node, "power", 100, 200, 10),
    "summary": lambda node: flux.summary_query("b", node, "voltage", 100, 200),
    "latest": lambda node: flux.latest_query("b", [node, "other"]),
    "bounds": lambda node: flux.bounds_query("b", node),
    "readings": lambda node: flux.readings_query("b", node, 100, 200),
    "energy_points": lambda node: flux.energy_points_query("b", node, 900, 1800),
    "write_window": lambda node: flux.write_window_query(
        "b", [Cluster(900, 1000, (node, "other")), Cluster(5000, 5001, ("other",))]
    ),
    "ledger": lambda node: flux.ledger_query("b", [node, "other"], [Run(900, 2700, 900)]),
    "count": lambda node: flux.count_readings_query("b", node),
}

HEAD = re.compile(
    r"^from\(bucket: p_bucket\)\n"
    r"  \|> range\(start: \d+, stop: \d+\)\n"
    r"  \|> filter\(fn: \(r\) => r\._measurement == p_measurement( and [^\n]+)?\)\n"
)


def test_series_query_text_is_exactly_this() -> None:
    query = flux.series_query("telemetry", "node-1", "power", 1_700_000_010, 1_700_086_410, 60)
    pipeline = (
        "from(bucket: p_bucket)\n"
        "  |> range(start: 1700000010, stop: 1700086410)\n"
        "  |> filter(fn: (r) => r._measurement == p_measurement and r.node_id == p_node0"
        " and r._field == p_field0)\n"
        '  |> aggregateWindow(every: 60s, fn: {fn}, createEmpty: false, timeSrc: "_start")\n'
        '  |> keep(columns: ["_time", "_value"])\n'
        '  |> yield(name: "{fn}")\n'
    )
    assert query.text == "\n".join(
        pipeline.replace("{fn}", fn) for fn in ("min", "max", "mean", "count")
    )
    assert query.params == {
        "p_bucket": "telemetry",
        "p_measurement": "energy",
        "p_node0": "node-1",
        "p_field0": "power",
    }


@pytest.mark.parametrize("name", sorted(ALL_QUERIES))
def test_every_pipeline_starts_with_from_range_filter(name: str) -> None:
    text = ALL_QUERIES[name]("n1").text
    pipelines = [p for p in text.split("\n\n") if p.strip()]
    assert pipelines
    for pipeline in pipelines:
        assert HEAD.match(pipeline), pipeline


@pytest.mark.parametrize("name", sorted(ALL_QUERIES))
def test_node_ids_never_reach_the_text_only_the_parameters(name: str) -> None:
    query = ALL_QUERIES[name](HOSTILE)
    assert HOSTILE not in query.text
    assert '"n1' not in query.text and "danger" not in query.text
    assert HOSTILE in query.params.values()
    for identifier in re.findall(r"\bp_\w+", query.text):
        assert identifier in query.params, identifier


def test_several_nodes_become_an_or_of_equalities_which_storage_can_push_down() -> None:
    query = flux.latest_query("b", ["a", "b", "c"])
    assert "(r.node_id == p_node0 or r.node_id == p_node1 or r.node_id == p_node2)" in query.text
    assert [query.params[f"p_node{i}"] for i in range(3)] == ["a", "b", "c"]
    assert "contains(" not in query.text


def test_summary_selects_min_max_and_last_rows_with_their_time() -> None:
    text = flux.summary_query("b", "n1", "voltage", 100, 200).text
    for fn in ("min", "max", "last"):
        assert (
            f'  |> {fn}()\n  |> keep(columns: ["_time", "_value"])\n  |> yield(name: "{fn}")'
            in text
        )


def test_readings_are_pivoted_and_sorted_by_time() -> None:
    text = flux.readings_query("b", "n1", 100, 200).text
    assert text.endswith(
        '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")\n'
        '  |> drop(columns: ["_start", "_stop", "_measurement"])\n'
        '  |> sort(columns: ["_time"])\n'
    )
    assert "range(start: 100, stop: 200)" in text


def test_the_pre_write_query_is_exactly_this() -> None:
    query = flux.write_window_query(
        "telemetry", [Cluster(1000, 1011, ("n1", "n2")), Cluster(90_000, 90_001, ("n2",))]
    )
    nodes = "(r.node_id == p_node0 or r.node_id == p_node1)"
    fields = "(r._field == p_field0 or r._field == p_field1 or r._field == p_field2 or r._field == p_field3)"

    def head(start: int, stop: int, predicate: str) -> str:
        return (
            "from(bucket: p_bucket)\n"
            f"  |> range(start: {start}, stop: {stop})\n"
            f"  |> filter(fn: (r) => r._measurement == p_measurement and {predicate})\n"
        )

    def cluster(index: int, start: int, stop: int, who: str) -> list[str]:
        return [
            head(start, stop, who)
            + '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")\n'
            + '  |> drop(columns: ["_start", "_stop", "_measurement"])\n'
            + f'  |> yield(name: "in{index}")\n',
            head(0, start, f"{who} and {fields}")
            + "  |> last()\n"
            + '  |> keep(columns: ["_time", "_value", "_field", "node_id"])\n'
            + f'  |> yield(name: "before{index}")\n',
            head(stop, 4_102_444_800, f"{who} and {fields}")
            + "  |> first()\n"
            + '  |> keep(columns: ["_time", "_value", "_field", "node_id"])\n'
            + f'  |> yield(name: "after{index}")\n',
        ]

    assert query.text == "\n".join(
        [*cluster(0, 1000, 1011, nodes), *cluster(1, 90_000, 90_001, "r.node_id == p_node1")]
    )
    assert query.params == {
        "p_bucket": "telemetry",
        "p_measurement": "energy",
        "p_node0": "n1",
        "p_node1": "n2",  # bound once, used by both clusters
        "p_field0": "energy",
        "p_field1": "power",
        "p_field2": "rule_interval_s",
        "p_field3": "rule_max_power_w",
    }


def test_the_ledger_query_is_exactly_this() -> None:
    query = flux.ledger_query(
        "telemetry", ["n1"], [Run(1000 * 900, 1001 * 900, 900), Run(1001 * 900, 1001 * 900 + 3 * 86_400, 86_400)]
    )
    head = (
        "from(bucket: p_bucket)\n"
        "  |> range(start: {start}, stop: {stop})\n"
        "  |> filter(fn: (r) => r._measurement == p_measurement and r.node_id == p_node0"
        " and r._field == p_field0)\n"
        "  |> aggregateWindow(every: {every}s, offset: {offset}s, fn: sum, createEmpty: false, "
        'timeSrc: "_start")\n'
        '  |> keep(columns: ["_time", "_value", "node_id"])\n'
        '  |> yield(name: "run{index}")\n'
    )
    assert query.text == "\n".join(
        [
            head.format(start=900_000, stop=900_900, every=900, offset=0, index=0),
            head.format(start=900_900, stop=1_160_100, every=86_400, offset=900_900 % 86_400, index=1),
        ]
    )
    assert query.params == {
        "p_bucket": "telemetry",
        "p_measurement": "energy_ledger",
        "p_node0": "n1",
        "p_field0": "kwh",
    }
    with pytest.raises(ValueError, match="run"):
        flux.ledger_query("b", ["n1"], [])


def test_the_node_list_uses_the_pattern_influxdb_answers_from_its_index() -> None:
    text = flux.node_ids_query("b").text
    assert text.endswith(
        '  |> keep(columns: ["node_id"])\n  |> group()\n  |> distinct(column: "node_id")\n'
    )
    assert HEAD.match(text)


def test_only_integers_are_formatted_into_the_text() -> None:
    query = flux.series_query("b", "n1", "power", 100.9, 200.2, 10)  # type: ignore[arg-type]
    assert "range(start: 100, stop: 200)" in query.text


@pytest.mark.parametrize("magnitude", ["watts", "power) |> drop(", ""])
def test_unknown_magnitudes_are_refused_before_any_query(magnitude: str) -> None:
    with pytest.raises(ValueError, match="unknown magnitude"):
        flux.series_query("b", "n1", magnitude, 0, 10, 1)


def test_every_magnitude_is_accepted() -> None:
    for name in NAMES:
        assert flux.summary_query("b", "n1", name, 0, 10).params["p_field0"] == name


@pytest.mark.parametrize(
    ("node_id", "predicate"),
    [
        ("node-1", '_measurement="energy" AND node_id="node-1"'),
        ('say "hi"', '_measurement="energy" AND node_id="say \\"hi\\""'),
        ("back\\slash", '_measurement="energy" AND node_id="back\\\\slash"'),
    ],
)
def test_delete_predicate_quotes_the_node_id(node_id: str, predicate: str) -> None:
    assert flux.delete_predicate(node_id) == predicate


TASK = Path(__file__).resolve().parents[2] / "deploy" / "influxdb" / "downsample_15m.flux"
DOC = Path(__file__).resolve().parents[2] / "docs" / "influxdb.md"


def test_the_downsampling_task_covers_every_magnitude_with_four_aggregates() -> None:
    text = TASK.read_text()
    raw = text.split("raw = ", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r'r\._field == "(\w+)"', raw)) == set(NAMES)
    for fn in ("mean", "min", "max", "count"):
        assert f'raw |> summarize(fn: {fn}, suffix: "{fn}")' in text
    assert 'aggregateWindow(every: 15m, fn: fn, createEmpty: false, timeSrc: "_start")' in text
    assert text.count("range(start: start, stop: stop)") == 2


def test_the_downsampling_task_sums_the_energy_ledger_per_quarter() -> None:
    ledger = TASK.read_text().rsplit("\n\n", 1)[1]
    assert 'r._measurement == "energy_ledger" and r._field == "kwh"' in ledger
    assert 'aggregateWindow(every: 15m, fn: sum, createEmpty: false, timeSrc: "_start")' in ledger
    assert '_measurement: "energy_ledger_15m"' in ledger and 'to(bucket: "enertrack_15m")' in ledger


def test_the_documented_task_is_the_shipped_one() -> None:
    code = "\n".join(
        line for line in TASK.read_text().splitlines() if not line.lstrip().startswith("//")
    )
    documented = DOC.read_text().split("```flux\n", 1)[1].split("```", 1)[0]
    strip = lambda text: [line for line in text.splitlines() if line.strip()]  # noqa: E731
    assert strip(documented) == strip(code)
