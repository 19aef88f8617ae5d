"""Flux text for InfluxStore's queries: pure builders, no I/O.

Every query starts ``from |> range |> filter`` so InfluxDB pushes the time range and the
tag/field predicates down to storage, and series queries push ``aggregateWindow`` down too.
No string from outside is ever pasted into the text: node ids, field names, the bucket and
the measurement travel as query parameters (the client sends them as ``extern`` option
statements and Flux resolves them into literals before planning, so pushdown still applies).
Only integers (epoch seconds, bucket widths) are formatted into the text, with ``%d``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from enertrack.store.base import check_magnitude
from enertrack.store.influx.ledger import LEDGER_FIELD, LEDGER_MEASUREMENT, Cluster, Run
from enertrack.store.influx.line_protocol import MEASUREMENT, RULE_FIELDS

EPOCH_S = 0
FAR_FUTURE_S = 4_102_444_800  # 2100-01-01: readings may be stamped a few minutes ahead of now
SERIES_AGGREGATES = ("min", "max", "mean", "count")
SUMMARY_SELECTORS = ("min", "max", "last")
ENERGY_FIELDS = ("energy", "power", *RULE_FIELDS)


@dataclass(frozen=True, slots=True)
class FluxQuery:
    """Flux text and the parameters it references by name."""

    text: str
    params: dict[str, object] = field(default_factory=dict)


def _base_params(bucket: str, measurement: str = MEASUREMENT) -> dict[str, object]:
    return {"p_bucket": bucket, "p_measurement": measurement}


def _bind(prefix: str, value: str, params: dict[str, object]) -> str:
    """The parameter holding value (p_node0, p_field1, ...): bound once, reused after that."""
    taken = [name for name in params if name.startswith(prefix)]
    for name in taken:
        if params[name] == value:
            return name
    name = f"{prefix}{len(taken)}"
    params[name] = value
    return name


def _equals_any(column: str, prefix: str, values: Sequence[str], params: dict[str, object]) -> str:
    """``r.column == p_x0 or ...``, each value a bound parameter (pushable, unlike contains())."""
    names = [f"r.{column} == {_bind(prefix, str(value), params)}" for value in values]
    return names[0] if len(names) == 1 else "(" + " or ".join(names) + ")"


def _node_predicate(node_ids: Sequence[str], params: dict[str, object]) -> str:
    if not node_ids:
        raise ValueError("at least one node id is needed")
    return _equals_any("node_id", "p_node", node_ids, params)


def _field_predicate(fields: Sequence[str], params: dict[str, object]) -> str:
    return _equals_any("_field", "p_field", fields, params)


def _source(start: int, stop: int, predicates: Sequence[str]) -> str:
    """The pushed-down head every query starts with."""
    where = " and ".join(["r._measurement == p_measurement", *predicates])
    return (
        "from(bucket: p_bucket)\n"
        f"  |> range(start: {int(start):d}, stop: {int(stop):d})\n"
        f"  |> filter(fn: (r) => {where})\n"
    )


def _one_magnitude(bucket: str, node_id: str, magnitude: str, start: int, end: int) -> tuple[str, dict[str, object]]:
    """The source of one node's one magnitude over [start, end), with its parameters."""
    params = _base_params(bucket)
    predicates = [
        _node_predicate([node_id], params),
        _field_predicate([check_magnitude(magnitude)], params),
    ]
    return _source(start, end, predicates), params


def series_query(
    bucket: str, node_id: str, magnitude: str, start: int, end: int, width_s: int
) -> FluxQuery:
    """min, max, mean and count per window of width_s (epoch-aligned), one yield each."""
    head, params = _one_magnitude(bucket, node_id, magnitude, start, end)
    parts = [
        head
        + f"  |> aggregateWindow(every: {int(width_s):d}s, fn: {fn}, "
        + 'createEmpty: false, timeSrc: "_start")\n'
        + '  |> keep(columns: ["_time", "_value"])\n'
        + f'  |> yield(name: "{fn}")\n'
        for fn in SERIES_AGGREGATES
    ]
    return FluxQuery("\n".join(parts), params)


def summary_query(bucket: str, node_id: str, magnitude: str, start: int, end: int) -> FluxQuery:
    """The minimum and maximum rows (with their time) and the last row, one yield each."""
    head, params = _one_magnitude(bucket, node_id, magnitude, start, end)
    parts = [
        head
        + f"  |> {fn}()\n"
        + '  |> keep(columns: ["_time", "_value"])\n'
        + f'  |> yield(name: "{fn}")\n'
        for fn in SUMMARY_SELECTORS
    ]
    return FluxQuery("\n".join(parts), params)


def latest_query(bucket: str, node_ids: Sequence[str]) -> FluxQuery:
    """The last value and time of each field of each node (the newest reading is built from it)."""
    params = _base_params(bucket)
    head = _source(EPOCH_S, FAR_FUTURE_S, [_node_predicate(node_ids, params)])
    return FluxQuery(
        head + "  |> last()\n" + '  |> keep(columns: ["_time", "_value", "_field", "node_id"])\n',
        params,
    )


def bounds_query(bucket: str, node_id: str) -> FluxQuery:
    """The first and last row of each field of one node, yielded as "first" and "last"."""
    params = _base_params(bucket)
    head = _source(EPOCH_S, FAR_FUTURE_S, [_node_predicate([node_id], params)])
    parts = [
        head
        + f"  |> {fn}()\n"
        + '  |> keep(columns: ["_time", "_field"])\n'
        + f'  |> yield(name: "{fn}")\n'
        for fn in ("first", "last")
    ]
    return FluxQuery("\n".join(parts), params)


def _pivoted(head: str) -> str:
    return (
        head
        + '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")\n'
        + '  |> drop(columns: ["_start", "_stop", "_measurement"])\n'
        + '  |> sort(columns: ["_time"])\n'
    )


def readings_query(bucket: str, node_id: str, start: int, end: int) -> FluxQuery:
    """Raw readings of one node in [start, end), one row per timestamp, oldest first."""
    params = _base_params(bucket)
    return FluxQuery(_pivoted(_source(start, end, [_node_predicate([node_id], params)])), params)


def energy_points_query(bucket: str, node_id: str, start: int, end: int) -> FluxQuery:
    """Energy, power and the rules' knobs of one node in [start, end), one row per timestamp."""
    params = _base_params(bucket)
    predicates = [_node_predicate([node_id], params), _field_predicate(ENERGY_FIELDS, params)]
    return FluxQuery(_pivoted(_source(start, end, predicates)), params)


def write_window_query(bucket: str, clusters: Sequence[Cluster]) -> FluxQuery:
    """What the store holds around a batch, per cluster i of its readings, in one request.

    ``in{i}``: every stored point of the cluster's nodes in its span, one row per timestamp
    (duplicates are readings already stored; their energy, power and rule knobs feed the
    ledger). ``before{i}``/``after{i}``: per node and field the last energy/power row before the
    span and the first after it, the neighbours a new reading forms pairs with.
    """
    if not clusters:
        raise ValueError("at least one cluster is needed")
    params = _base_params(bucket)
    parts = []
    for index, cluster in enumerate(clusters):
        nodes = _node_predicate(cluster.nodes, params)
        parts.append(
            _source(cluster.start, cluster.stop, [nodes])
            + '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")\n'
            + '  |> drop(columns: ["_start", "_stop", "_measurement"])\n'
            + f'  |> yield(name: "in{index}")\n'
        )
        fields = _field_predicate(ENERGY_FIELDS, params)
        for name, start, stop, selector in (
            ("before", EPOCH_S, cluster.start, "last"),
            ("after", cluster.stop, FAR_FUTURE_S, "first"),
        ):
            parts.append(
                _source(start, stop, [nodes, fields])
                + f"  |> {selector}()\n"
                + '  |> keep(columns: ["_time", "_value", "_field", "node_id"])\n'
                + f'  |> yield(name: "{name}{index}")\n'
            )
    return FluxQuery("\n".join(parts), params)


def ledger_query(bucket: str, node_ids: Sequence[str], runs: Sequence[Run]) -> FluxQuery:
    """kWh per node and period summed by InfluxDB: one aggregateWindow(sum) per run of periods.

    Each run's windows are exactly its periods (every = the period length, offset = the run's
    start modulo it), so the answer is one row per node and period that has ledger points,
    ``_time`` the period's start.
    """
    if not runs:
        raise ValueError("at least one run of periods is needed")
    params = _base_params(bucket, LEDGER_MEASUREMENT)
    predicates = [_node_predicate(node_ids, params), _field_predicate([LEDGER_FIELD], params)]
    parts = [
        _source(run.start, run.stop, predicates)
        + f"  |> aggregateWindow(every: {int(run.every):d}s, offset: {int(run.start % run.every):d}s, "
        + 'fn: sum, createEmpty: false, timeSrc: "_start")\n'
        + '  |> keep(columns: ["_time", "_value", "node_id"])\n'
        + f'  |> yield(name: "run{index}")\n'
        for index, run in enumerate(runs)
    ]
    return FluxQuery("\n".join(parts), params)


def node_ids_query(bucket: str) -> FluxQuery:
    """Every node id with readings in the bucket (the pattern InfluxDB answers from its index)."""
    params = _base_params(bucket)
    return FluxQuery(
        _source(EPOCH_S, FAR_FUTURE_S, [])
        + '  |> keep(columns: ["node_id"])\n'
        + "  |> group()\n"
        + '  |> distinct(column: "node_id")\n',
        params,
    )


def count_readings_query(bucket: str, node_id: str) -> FluxQuery:
    """How many distinct timestamps (readings) a node has over all time."""
    params = _base_params(bucket)
    head = _source(EPOCH_S, FAR_FUTURE_S, [_node_predicate([node_id], params)])
    return FluxQuery(
        head
        + '  |> keep(columns: ["_time"])\n'
        + "  |> group()\n"
        + '  |> unique(column: "_time")\n'
        + '  |> count(column: "_time")\n'
        + '  |> rename(columns: {_time: "readings"})\n',
        params,
    )


def delete_predicate(node_id: str, measurement: str = MEASUREMENT) -> str:
    """The /api/v2/delete predicate for every point of one node (double quotes, \\-escaped)."""
    quoted = str(node_id).replace("\\", "\\\\").replace('"', '\\"')
    return f'_measurement="{measurement}" AND node_id="{quoted}"'
