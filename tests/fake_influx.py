"""A scripted InfluxDB HTTP endpoint for tests: records every request, answers what it is told.

The real influxdb-client talks to it over loopback, so the bytes sent, the query JSON and the
handling of recorded annotated-CSV answers and HTTP errors are all exercised end to end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
                return responder(request)
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
