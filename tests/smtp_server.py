"""A real SMTP server for tests (aiosmtpd on a free loopback port) that keeps what it receives."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default
from typing import Any

import pytest

from tests.services import free_port, need


class Inbox:
    """Messages the server accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 10) -> list[Message]:
        """The first count messages, waiting up to timeout seconds for them."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} messages arrived"
        return self.messages[:count]


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, Inbox]]:
    """(host, port, inbox) of a running SMTP server without TLS or authentication."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        need(False, "aiosmtpd is not installed (pip install -e '.[test]')")
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, inbox
    finally:
        controller.stop()
