"""A scripted InfluxDB HTTP endpoint for tests: records every request, answers what it is told.

The real influxdb-client talks to it over loopback, so the bytes sent, the query JSON and the
handling of recorded annotated-CSV answers and HTTP errors are all exercised end to end.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the fake endpoint received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        """The body parsed as JSON (query and delete requests)."""
        return json.loads(self.body)


@dataclass
class Answer:
    """What the endpoint answers: status, body, headers, and an optional delay before it."""

    status: int = 204
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def csv_answer(text: str) -> Answer:
    """An annotated-CSV query answer as InfluxDB sends it (CRLF line ends)."""
    body = "\r\n".join(text.strip("\n").split("\n")) + "\r\n"
    return Answer(200, body.encode("utf-8"), {"Content-Type": "text/csv; charset=utf-8"})


def error_answer(status: int, code: str, message: str, **headers: str) -> Answer:
    """An InfluxDB v2 JSON error body."""
    body = json.dumps({"code": code, "message": message}).encode()
    return Answer(status, body, {"Content-Type": "application/json; charset=utf-8", **headers})


class FakeInflux:
    """Serve scripted answers per path on a free loopback port; keep every request."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._answers: dict[str, list[Answer]] = {}
        self._responders: dict[str, Callable[[Request], Answer]] = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                answer = fake._next_answer(request)
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout tests)

            do_GET = do_POST = _handle  # noqa: N815 - http.server's naming

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str, *answers: Answer) -> None:
        """Queue answers for a path; the last one repeats once the others are used."""
        with self._lock:
            self._answers.setdefault(path, []).extend(answers)

    def respond(self, path: str, responder: Callable[[Request], Answer]) -> None:
        """Answer every request on a path with what responder makes of it (scripted answers win)."""
        with self._lock:
            self._responders[path] = responder

    def _next_answer(self, request: Request) -> Answer:
        with self._lock:
            self.requests.append(request)
            queue = self._answers.get(request.path)
            responder = self._responders.get(request.path)
            if not queue and responder is not None:
                try:
                    return responder(request)
                except Exception as exc:  # noqa: BLE001 - a broken test double must say why, not hang up
                    return error_answer(500, "fake failed", f"{type(exc).__name__}: {exc}")
            if not queue:
                return Answer(404, b'{"code":"not found","message":"no scripted answer"}')
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def sent(self, path: str) -> list[Request]:
        """The requests received on one path, in order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def start(self) -> FakeInflux:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve() -> Iterator[FakeInflux]:
    """Generator for a pytest fixture: a started fake, stopped afterwards."""
    fake = FakeInflux().start()
    try:
        yield fake
    finally:
        fake.stop()


# -- a model of InfluxDB's storage, answering EnerTrack's own Flux ---------------------------------

Series = tuple[str, str]  # (measurement, node_id)
_RANGE = re.compile(r"range\(start: (-?\d+), stop: (-?\d+)\)")
_WINDOW = re.compile(r"aggregateWindow\(every: (\d+)s(?:, offset: (\d+)s)?, fn: (\w+)")
_AGGREGATES = {"sum": sum, "min": min, "max": max, "count": len, "mean": lambda v: sum(v) / len(v)}
_YIELD = re.compile(r'yield\(name: "(\w+)"\)')


def flux_params(request_json: dict) -> dict[str, object]:
    """The parameters a query request carried, from its extern AST (option statements)."""
    return {
        statement["assignment"]["id"]["name"]: statement["assignment"]["init"]["value"]
        for statement in request_json.get("extern", {}).get("body", [])
    }


def _unescape(text: str) -> str:
    """A tag value without the line protocol's escapes (backslash before space, comma, equals)."""
    return re.sub(r"\\([ ,=])", r"\1", text)


def parse_line(line: str) -> tuple[str, str, dict[str, float], int]:
    """(measurement, node_id, fields, ts) of one EnerTrack line (one tag, float fields only)."""
    key, rest = _split_key(line)
    measurement, tag = key.split(",", 1)
    node_id = _unescape(tag.split("=", 1)[1])
    fields_text, ts = rest.rsplit(" ", 1)
    fields = {name: float(value) for name, value in (f.split("=") for f in fields_text.split(","))}
    return measurement, node_id, fields, int(ts)


def _split_key(line: str) -> tuple[str, str]:
    """The series key (escaped) and the rest of the line, split at the first unescaped space."""
    index = 0
    while index < len(line):
        if line[index] == "\\":
            index += 2
            continue
        if line[index] == " ":
            return line[:index], line[index + 1 :]
        index += 1
    raise ValueError(f"not a line of line protocol: {line!r}")


def _rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _block(name: str, columns: list[tuple[str, str, bool]], rows: list[list[object]], table: int) -> str:
    """One annotated-CSV table: columns are (name, datatype, in group key)."""
    head = [
        "#datatype,string,long," + ",".join(kind for _, kind, _ in columns),
        "#group,false,false," + ",".join("true" if group else "false" for _, _, group in columns),
        f"#default,{name},," + ",".join("" for _ in columns),
        ",result,table," + ",".join(column for column, _, _ in columns),
    ]
    body = [
        f",,{table}," + ",".join("" if value is None else _cell(value) for value in row) for row in rows
    ]
    return "\n".join(head + body) + "\n"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return f'"{text}"' if any(c in text for c in ',"\n') else text


class InfluxModel:
    """InfluxDB's semantics for EnerTrack's points, and its answers to EnerTrack's Flux queries.

    Storage: a point is (measurement, node_id, ts) with float fields; writing a field again at
    the same point keeps the last value (InfluxDB's overwrite). Queries: the shapes built by
    enertrack.store.influx.flux, evaluated from what their text and parameters say (range, node and
    field filters, pivot, first()/last() per field, aggregateWindow(sum) with every and offset,
    distinct node ids), answered as annotated CSV. A model, not InfluxDB: it proves the store's
    arithmetic and parsing, never that InfluxDB reads the Flux the same way.
    """

    def __init__(self) -> None:
        self.points: dict[Series, dict[int, dict[str, float]]] = {}
        self._lock = threading.Lock()

    def put(self, measurement: str, node_id: str, ts: int, fields: dict[str, float]) -> None:
        with self._lock:
            self.points.setdefault((measurement, node_id), {}).setdefault(ts, {}).update(fields)

    def write(self, body: bytes) -> None:
        """Apply a line-protocol body (as the fake's write responder)."""
        for line in filter(None, body.decode("utf-8").split("\n")):
            self.put(*_apply_order(parse_line(line)))

    def field(self, measurement: str, field_name: str) -> dict[tuple[str, int], float]:
        """Every stored value of one field: {(node_id, ts): value}."""
        with self._lock:
            return {
                (node, ts): fields[field_name]
                for (m, node), stamps in self.points.items()
                if m == measurement
                for ts, fields in stamps.items()
                if field_name in fields
            }

    def delete(self, measurement: str, node_id: str | None) -> None:
        """Delete a node's points of one measurement (every node's when node_id is None)."""
        with self._lock:
            for series in [key for key in self.points if key[0] == measurement and node_id in (None, key[1])]:
                del self.points[series]

    # -- queries ---------------------------------------------------------------------------------

    def answer(self, request: Request) -> Answer:
        """The annotated-CSV answer to one of EnerTrack's query requests."""
        body = request.json()
        params = flux_params(body)
        blocks: list[str] = []
        table = 0
        for pipeline in filter(str.strip, body["query"].split("\n\n")):
            for block in self._evaluate(pipeline, params, table):
                blocks.append(block)
                table += 1
        if not blocks:
            return Answer(200, b"\r\n", {"Content-Type": "text/csv; charset=utf-8"})
        return csv_answer("\n".join(blocks))

    def _select(self, pipeline: str, params: dict[str, object]) -> dict[Series, dict[int, dict[str, float]]]:
        """What `from |> range |> filter` keeps: per series, the rows in range with the fields kept."""
        start, stop = (int(v) for v in _RANGE.search(pipeline).groups())  # type: ignore[union-attr]
        where = pipeline.split("filter(fn: (r) => ", 1)[1].split("\n", 1)[0]
        nodes = {params[name] for name in re.findall(r"r\.node_id == (p_node\d+)", where)}
        fields = {params[name] for name in re.findall(r"r\._field == (p_field\d+)", where)}
        measurement = params["p_measurement"]
        out: dict[Series, dict[int, dict[str, float]]] = {}
        with self._lock:
            for (m, node), stamps in self.points.items():
                if m != measurement or (nodes and node not in nodes):
                    continue
                for ts, values in stamps.items():
                    kept = {k: v for k, v in values.items() if not fields or k in fields}
                    if start <= ts < stop and kept:
                        out.setdefault((m, node), {})[ts] = kept
        return out

    def _evaluate(self, pipeline: str, params: dict[str, object], table: int) -> list[str]:
        name_match = _YIELD.search(pipeline)
        name = name_match.group(1) if name_match else "_result"
        rows = self._select(pipeline, params)
        blocks: list[str] = []
        if "pivot(" in pipeline:  # one table per node, one row per timestamp
            for (_, node), stamps in sorted(rows.items()):
                names = sorted({f for values in stamps.values() for f in values})
                columns = [("_time", "dateTime:RFC3339", False), ("node_id", "string", True)]
                columns += [(f, "double", False) for f in names]
                data = [[_rfc3339(ts), node, *(values.get(f) for f in names)] for ts, values in sorted(stamps.items())]
                blocks.append(_block(name, columns, data, table + len(blocks)))
        elif (selector := re.search(r"\|> (last|first|min|max)\(\)", pipeline)) is not None:
            data = []  # one row per node and field: the selected row, the earliest one on ties
            for (_, node), stamps in sorted(rows.items()):
                for f in sorted({f for values in stamps.values() for f in values}):
                    found = sorted((ts, values[f]) for ts, values in stamps.items() if f in values)
                    pick = {
                        "last": found[-1],
                        "first": found[0],
                        "min": min(found, key=lambda row: (row[1], row[0])),
                        "max": min(found, key=lambda row: (-row[1], row[0])),
                    }[selector.group(1)]
                    data.append([_rfc3339(pick[0]), pick[1], f, node])
            columns = [("_time", "dateTime:RFC3339", False), ("_value", "double", False),
                       ("_field", "string", True), ("node_id", "string", True)]
            if data:
                blocks.append(_block(name, columns, data, table))
        elif (window := _WINDOW.search(pipeline)) is not None:  # per window, _time its clipped start
            every, offset, fn = int(window.group(1)), int(window.group(2) or 0), window.group(3)
            range_start = int(_RANGE.search(pipeline).group(1))  # type: ignore[union-attr]
            data = []
            for (_, node), stamps in sorted(rows.items()):
                for f in sorted({f for values in stamps.values() for f in values}):
                    windows: dict[int, list[float]] = {}
                    for ts, values in sorted(stamps.items()):
                        if f in values:
                            windows.setdefault(ts - (ts - offset) % every, []).append(values[f])
                    data += [[_rfc3339(max(start, range_start)), float(_AGGREGATES[fn](found)), f, node]
                             for start, found in sorted(windows.items())]
            columns = [("_time", "dateTime:RFC3339", False), ("_value", "double", False),
                       ("_field", "string", True), ("node_id", "string", True)]
            if data:
                blocks.append(_block(name, columns, data, table))
        elif 'count(column: "_time")' in pipeline:  # distinct timestamps of the selection
            count = len({ts for stamps in rows.values() for ts in stamps})
            blocks.append(_block(name, [("readings", "long", False)], [[count]], table))
        elif 'distinct(column: "node_id")' in pipeline:
            data = [[node] for node in sorted({node for _, node in rows})]
            if data:
                blocks.append(_block(name, [("node_id", "string", False)], data, table))
        else:
            raise AssertionError(f"the model does not know this pipeline:\n{pipeline}")
        return blocks


def _apply_order(parsed: tuple[str, str, dict[str, float], int]) -> tuple[str, str, int, dict[str, float]]:
    measurement, node_id, fields, ts = parsed
    return measurement, node_id, ts, fields


_PREDICATE = re.compile(r'^_measurement="([^"]*)"(?: AND node_id="((?:[^"\\]|\\.)*)")?$')


def install_model(fake: FakeInflux, model: InfluxModel | None = None) -> InfluxModel:
    """Make the fake behave as an InfluxDB holding `model`: writes, queries and deletes."""
    model = model or InfluxModel()

    def write(request: Request) -> Answer:
        model.write(request.body)
        return Answer(204)

    def delete(request: Request) -> Answer:
        found = _PREDICATE.match(request.json()["predicate"])
        assert found, request.json()
        node = None if found.group(2) is None else re.sub(r"\\(.)", r"\1", found.group(2))
        model.delete(found.group(1), node)
        return Answer(204)

    fake.respond("/api/v2/write", write)
    fake.respond("/api/v2/query", model.answer)
    fake.respond("/api/v2/delete", delete)
    return model
