"""Real receivers for alert deliveries: an SMTP server (aiosmtpd) and an HTTP server, started by the tests."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.services import free_port


@dataclass
class Mailbox:
    """Every message the SMTP server accepted, parsed."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    @property
    def url(self) -> str:
        """ENERTRACK_SMTP_URL for this server."""
        return f"smtp://{self.host}:{self.port}"

    def wait(self, count: int, timeout: float = 20.0) -> list[Message]:
        """At least count messages, or AssertionError with what did arrive."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} e-mails arrived"
        return self.messages


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An aiosmtpd server on a free loopback port collecting messages."""
    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
            box.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Hooks:
    """Every POST the HTTP receiver got, and the status codes it is told to answer with first."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # consumed one per request; then 200

    def wait(self, count: int, timeout: float = 20.0) -> list[tuple[dict[str, str], bytes]]:
        """At least count successful POSTs (answered 2xx), or AssertionError."""
        deadline = time.monotonic() + timeout
        while len(self.ok) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.ok) >= count, f"{len(self.ok)} of {count} webhook calls arrived"
        return self.ok

    @property
    def ok(self) -> list[tuple[dict[str, str], bytes]]:
        """The POSTs that were answered 200."""
        return [r for r in self.received if r[0].get("x-test-answer") == "200"]

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the successful POSTs."""
        return [json.loads(body) for _, body in self.ok]


@contextmanager
def http_receiver() -> Iterator[Hooks]:
    """A threaded HTTP server on a free loopback port recording POSTs."""
    port = free_port()
    hooks = Hooks(f"http://127.0.0.1:{port}/hook")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = hooks.answers.pop(0) if hooks.answers else 200
            headers = {k.lower(): v for k, v in self.headers.items()} | {"x-test-answer": str(status)}
            hooks.received.append((headers, body))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()
