"""The delivery interface every outgoing channel implements, and its one error type."""

from __future__ import annotations

from typing import Protocol

from enertrack.alerts.messages import Message


class DeliveryError(RuntimeError):
    """A message was not delivered; the text says why (shown in the delivery log)."""


class Channel(Protocol):
    """Sends one message to one destination; returns what the other end answered."""

    name: str

    def send(self, destination: str, secret: str | None, message: Message) -> str:
        """Deliver or raise DeliveryError."""
        ...
