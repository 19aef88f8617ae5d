"""InfluxStore: the production time-series store on InfluxDB v2 (docs/influxdb.md).

Writes are synchronous, so a write() that returns means InfluxDB accepted the batch and the
daemon may acknowledge it; nothing is queued or retried in here (the daemon retries with
backoff). Failures are sorted in two: StoreUnavailable (network, timeout, 5xx, 429, bad
credentials, missing bucket, an answer not from InfluxDB: retry later) and StoreRejected
(InfluxDB's own 400/413/422 about the data: retrying the same batch fails again). Energy is
kept as an energy ledger written with the readings (enertrack.store.influx.ledger) and summed by
InfluxDB. Query text comes from enertrack.store.influx.flux, bytes on the wire from
enertrack.store.influx.line_protocol, the ledger's arithmetic from enertrack.store.influx.ledger; this module
only moves data between them. Errors are sorted in enertrack.store.influx.errors, records
become readings and frames in enertrack.store.influx.records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import urllib3
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.flux_csv_parser import FluxCsvParserException, FluxQueryException
from influxdb_client.client.flux_table import FluxRecord
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from enertrack.core.energy import EnergyParams
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading
from enertrack.store.base import (
    DEFAULT_MAX_POINTS,
    Extreme,
    RangeSummary,
    StoreRejected,
    StoreUnavailable,
    WriteResult,
    bucket_width,
    check_boundaries,
    check_magnitude,
    empty_energy_frame,
    energy_frame,
)
from enertrack.store.influx import flux
from enertrack.store.influx.errors import classify
from enertrack.store.influx.ledger import (
    LEDGER_MEASUREMENT,
    EnergyRow,
    LedgerPoint,
    Window,
    clusters,
    ledger_points,
    plan_ledger,
    plan_repair,
    runs,
)
from enertrack.store.influx.line_protocol import MEASUREMENT, render_batch, render_ledger
from enertrack.store.influx.records import (
    edge_row,
    energy_row,
    epoch,
    newest_reading,
    record_reading,
    series_frame,
)

if TYPE_CHECKING:  # imported where a query builds a frame: the ingest daemon never loads it
    import pandas as pd

DELETE_START = "1970-01-01T00:00:00Z"
DELETE_STOP = "2262-04-11T00:00:00Z"  # the largest instant InfluxDB stores
READ_CHUNK_S = 7 * 86_400  # readings() asks for a week at a time: bounded memory on both sides
RUNS_PER_QUERY = 32  # energy(): runs of equal periods per Flux query (a year by month is 12)
CLUSTERS_PER_QUERY = 50  # write(): a live batch is 1 cluster; only a scattered one needs more


class InfluxStore:
    """TimeseriesStore on an InfluxDB v2 bucket: measurement ``energy``, tag ``node_id``."""

    def __init__(
        self,
        url: str,
        token: str,
        org: str,
        bucket: str,
        *,
        timeout_ms: int = 10_000,
        read_chunk_s: int = READ_CHUNK_S,
        check_existing: bool = True,
    ) -> None:
        self.url = url
        self.check_existing = check_existing
        self.org = org
        self.bucket = bucket
        self.read_chunk_s = read_chunk_s
        # retries=False: a failed write surfaces at once, so the daemon never acks a batch
        # the server did not take and its own backoff stays the only retry loop.
        self._client = InfluxDBClient(
            url=url, token=token, org=org, timeout=timeout_ms, retries=False
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._query_api = self._client.query_api()
        self._delete_api = self._client.delete_api()

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn the client's many failure types into StoreUnavailable or StoreRejected."""
        try:
            yield
        except ApiException as exc:
            raise classify(exc, action) from exc
        except FluxQueryException as exc:
            raise StoreUnavailable(f"InfluxDB failed while {action}: {exc.message}") from exc
        except FluxCsvParserException as exc:
            raise StoreUnavailable(
                f"unreadable answer from InfluxDB at {self.url} while {action}: {exc}"
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StoreUnavailable(
                f"InfluxDB at {self.url} is unreachable while {action} "
                f"({type(exc).__name__}: {exc}); will retry"
            ) from exc

    def _records(self, query: flux.FluxQuery, action: str) -> Iterator[FluxRecord]:
        """Stream a query's records, failures translated."""
        with self._guard(action):
            yield from self._query_api.query_stream(query.text, org=self.org, params=query.params)

    # -- writing ---------------------------------------------------------------------------

    def write(
        self, readings: Sequence[Reading], params: Mapping[str, EnergyParams] | None = None
    ) -> WriteResult:
        """Write a batch and its energy ledger in one synchronous request; return once accepted.

        The first reading of a (node, ts) wins, as in the SQLite store: readings already
        stored and repeats inside the batch are not sent and count as duplicates. ``stored``
        counts the points sent. A reading with no finite value is not written and counts as
        neither. One query first asks what is stored around the batch (enertrack.store.influx.ledger);
        without it (check_existing=False, a server without Flux) no ledger is written.
        """
        if not readings:
            return WriteResult(stored=0, duplicates=0)
        if not self.check_existing:
            batch = render_batch(readings, params)
            self._send(batch.body, f"writing {batch.stored} readings to bucket {self.bucket!r}")
            return WriteResult(stored=batch.stored, duplicates=batch.duplicates)
        window = self._window(readings)
        fresh = [r for r in readings if (r.node_id, int(r.ts)) not in window.existing]
        batch = render_batch(fresh, params)
        touched = [(r.node_id, int(r.ts)) for r in readings]
        ledger = plan_ledger(window, batch.readings, params, touched)
        body = b"\n".join(part for part in (batch.body, render_ledger(ledger)) if part)
        action = f"writing {batch.stored} readings to bucket {self.bucket!r}"
        if ledger:
            action += f" with {len(ledger)} energy ledger points"
        try:
            self._send(body, action)
        except StoreRejected:
            if ledger:  # InfluxDB keeps the valid lines of a refused batch: mend the ledger
                self._repair(readings, touched, ledger)
            raise
        return WriteResult(
            stored=batch.stored, duplicates=len(readings) - len(fresh) + batch.duplicates
        )

    def _send(self, body: bytes, action: str) -> None:
        """One synchronous write request (nothing is sent for an empty body)."""
        if not body:
            return
        with self._guard(action):
            self._write_api.write(
                bucket=self.bucket,
                org=self.org,
                record=body,
                write_precision=WritePrecision.S,  # type: ignore[arg-type]  # a str constant
            )

    def _repair(
        self, readings: Sequence[Reading], touched: Iterable[tuple[str, int]], sent: Sequence[LedgerPoint]
    ) -> None:
        """Rewrite the ledger around a refused batch from what InfluxDB really stored."""
        points = plan_repair(self._window(readings), touched, sent)
        self._send(render_ledger(points), f"repairing {len(points)} energy ledger points")

    def _window(self, readings: Sequence[Reading]) -> Window:
        """Which readings of the batch are stored, and the stored energy points around them.

        One query for a batch (one per CLUSTERS_PER_QUERY clusters of a batch scattered in time).
        """
        groups = clusters(readings)
        existing: set[tuple[str, int]] = set()
        rows: dict[str, list[EnergyRow]] = {}
        for first in range(0, len(groups), CLUSTERS_PER_QUERY):
            query = flux.write_window_query(self.bucket, groups[first : first + CLUSTERS_PER_QUERY])
            edges: dict[tuple[str, str], list[tuple[int, str, float]]] = {}
            for record in self._check(query):
                node_id, result = record.values["node_id"], str(record.values["result"])
                if result.startswith("in"):
                    existing.add((node_id, epoch(record.get_time())))
                    row = energy_row(record)
                    if row is not None:
                        rows.setdefault(node_id, []).append(row)
                else:
                    edges.setdefault((node_id, result), []).append(
                        (epoch(record.get_time()), record.get_field(), float(record.get_value()))
                    )
            for (node_id, result), fields in edges.items():
                row = edge_row(fields, newest=result.startswith("before"))
                if row is not None:
                    rows.setdefault(node_id, []).append(row)
        return Window(frozenset(existing), rows)

    def _check(self, query: flux.FluxQuery) -> Iterator[FluxRecord]:
        """The pre-write query's records; a refused query holds the batch (StoreUnavailable)."""
        try:
            yield from self._records(query, "checking which readings are already stored")
        except StoreRejected as exc:
            # The query is ours, not the readings': refusing it says nothing about the data, so
            # the batch must be held (and retried), never dead-lettered as refused readings.
            raise StoreUnavailable(
                f"{exc}. This check is a Flux query; a server that does not run Flux (such as "
                "victoria-metrics) refuses it: there, set INFLUX_CHECK_EXISTING=false"
            ) from exc

    # -- reading ---------------------------------------------------------------------------

    def latest(self, node_ids: Sequence[str]) -> dict[str, Reading]:
        """The newest reading of each node, rebuilt from each field's last value."""
        if not node_ids:
            return {}
        query = flux.latest_query(self.bucket, list(dict.fromkeys(node_ids)))
        lasts: dict[str, list[tuple[int, str, float]]] = {}
        for record in self._records(query, "reading the latest values"):
            if record.get_field() in NAMES:
                lasts.setdefault(record.values["node_id"], []).append(
                    (epoch(record.get_time()), record.get_field(), float(record.get_value()))
                )
        return {node_id: newest_reading(node_id, fields) for node_id, fields in lasts.items()}

    def series(
        self,
        node_id: str,
        magnitude: str,
        start: int,
        end: int,
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> pd.DataFrame:
        """min/max/mean/count per epoch-aligned bucket, computed by InfluxDB (aggregateWindow)."""
        check_magnitude(magnitude)
        if end <= start:
            return series_frame({}, 1)
        width = bucket_width(start, end, max_points)
        query = flux.series_query(self.bucket, node_id, magnitude, start, end, width)
        buckets: dict[int, dict[str, float]] = {}
        for record in self._records(query, f"reading the {magnitude} series"):
            ts = epoch(record.get_time())
            buckets.setdefault(ts - ts % width, {})[record.values["result"]] = record.get_value()
        return series_frame(buckets, width)

    def summary(self, node_id: str, magnitude: str, start: int, end: int) -> RangeSummary:
        """Min and max with their time, and the last value, selected by InfluxDB."""
        check_magnitude(magnitude)
        if end <= start:
            return RangeSummary(None, None, None)
        query = flux.summary_query(self.bucket, node_id, magnitude, start, end)
        found: dict[str, Extreme] = {}
        for record in self._records(query, f"summarizing {magnitude}"):
            found[record.values["result"]] = Extreme(
                float(record.get_value()), epoch(record.get_time())
            )
        return RangeSummary(found.get("min"), found.get("max"), found.get("last"))

    def readings(
        self, node_id: str, start: int | None = None, end: int | None = None
    ) -> Iterator[Reading]:
        """Raw readings in [start, end), oldest first, fetched a chunk of time at a time."""
        if start is None or end is None:
            first, last = self._bounds(node_id)
            if first is None or last is None:
                return
            start = first if start is None else start
            end = last + 1 if end is None else end
        for chunk_start in range(int(start), int(end), self.read_chunk_s):
            chunk_end = min(chunk_start + self.read_chunk_s, int(end))
            query = flux.readings_query(self.bucket, node_id, chunk_start, chunk_end)
            for record in self._records(query, f"reading the readings of {node_id!r}"):
                yield record_reading(node_id, record)

    def _bounds(self, node_id: str) -> tuple[int | None, int | None]:
        """The first and last timestamp a node has, or (None, None)."""
        first: int | None = None
        last: int | None = None
        for record in self._records(
            flux.bounds_query(self.bucket, node_id), "finding a node's time span"
        ):
            ts = epoch(record.get_time())
            if record.values["result"] == "first":
                first = ts if first is None else min(first, ts)
            else:
                last = ts if last is None else max(last, ts)
        return first, last

    def energy(self, node_ids: Sequence[str], boundaries: Sequence[int]) -> pd.DataFrame:
        """kWh per node and period: the energy ledger summed per period by InfluxDB."""
        bounds = check_boundaries(boundaries).tolist()
        nodes = list(dict.fromkeys(node_ids))
        if not nodes or len(bounds) < 2:
            return empty_energy_frame()
        periods = runs(bounds)
        node_col: list[str] = []
        start_col: list[int] = []
        kwh_col: list[float] = []
        for first in range(0, len(periods), RUNS_PER_QUERY):
            query = flux.ledger_query(self.bucket, nodes, periods[first : first + RUNS_PER_QUERY])
            for record in self._records(query, "summing the energy ledger"):
                node_col.append(record.values["node_id"])
                start_col.append(epoch(record.get_time()))
                kwh_col.append(float(record.get_value()))
        # Each row's time is its period's start; searchsorted also places any time inside one.
        edges = np.asarray(bounds, dtype=np.int64)
        period = np.searchsorted(edges, np.asarray(start_col, dtype=np.int64), side="right") - 1
        inside = (period >= 0) & (period < edges.size - 1)
        return energy_frame(
            np.asarray(node_col, dtype=object)[inside], edges[period[inside]], np.asarray(kwh_col)[inside]
        )

    def rebuild_ledger(self, node_id: str, *, replace: bool = False) -> int:
        """Write a node's whole energy ledger from its stored readings; return the points written.

        For readings stored before the ledger existed. The ledger's points are idempotent, so
        running it twice is harmless; ``replace`` deletes the node's ledger first (only with the
        ingest daemon stopped: it would race with the daemon's own ledger writes).
        """
        if replace:
            self._delete(node_id, LEDGER_MEASUREMENT)
        first, last = self._bounds(node_id)
        if first is None or last is None:
            return 0
        written = 0
        carry: list[EnergyRow] = []  # the last point of the previous chunk: the pair across chunks
        for chunk_start in range(first, last + 1, self.read_chunk_s):
            query = flux.energy_points_query(
                self.bucket, node_id, chunk_start, min(chunk_start + self.read_chunk_s, last + 1)
            )
            rows = [row for r in self._records(query, "reading energy and power") if (row := energy_row(r))]
            if not rows:
                continue
            points = ledger_points({node_id: carry + rows})
            self._send(render_ledger(points), f"writing {len(points)} energy ledger points of {node_id!r}")
            written += len(points)
            carry = [max(rows)]
        return written

    def node_ids(self) -> list[str]:
        """Every node id that has readings in the bucket."""
        query = flux.node_ids_query(self.bucket)
        return sorted(str(r.values["node_id"]) for r in self._records(query, "listing the nodes"))

    # -- deleting --------------------------------------------------------------------------

    def delete_node(self, node_id: str) -> int:
        """Count a node's readings, then delete every point of it over all time."""
        count = 0
        for record in self._records(
            flux.count_readings_query(self.bucket, node_id), "counting readings"
        ):
            count += int(record.values["readings"])
        self._delete(node_id, MEASUREMENT)
        self._delete(node_id, LEDGER_MEASUREMENT)
        return count

    def _delete(self, node_id: str, measurement: str) -> None:
        """Delete every point of one node in one measurement, over all time."""
        with self._guard(f"deleting the {measurement} data of node {node_id!r}"):
            self._delete_api.delete(
                DELETE_START,
                DELETE_STOP,
                flux.delete_predicate(node_id, measurement),
                bucket=self.bucket,
                org=self.org,
            )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


__all__ = ["MEASUREMENT", "InfluxStore"]
