"""Delivering the outbox: one message per event, or one summary of what quiet hours held.

A row is marked sent only after its channel accepted it, so a crash in between may send
one message twice but never loses one (at-least-once, docs/alerts.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from enertrack.alerts.channels import Channel, DeliveryError
from enertrack.alerts.messages import EventView, compose
from enertrack.alerts.quiet import in_quiet_hours
from enertrack.models import AlertEvent, Delivery, NotifySettings, User, utcnow

log = logging.getLogger("enertrack.alerts")
MAX_CYCLES = 3  # a message that failed this many cycles (each with its channel's own retries) is given up
DETAIL_MAX = 400


def event_view(row: AlertEvent) -> EventView:
    """A detached view of an event row."""
    return EventView(row.id, row.node_id, row.kind, row.state, row.ts, row.value, row.limit_text)


def _batches(rows: Sequence[Delivery]) -> list[list[Delivery]]:
    """Held rows of a (user, channel) go as one summary; every pending row goes on its own."""
    held = [r for r in rows if r.status == "held"]
    return ([held] if held else []) + [[r] for r in rows if r.status == "pending"]


def _send(db: Session, channel: Channel, notify: NotifySettings, user: User, batch: list[Delivery]) -> None:
    events = [event_view(db.get(AlertEvent, r.event_id)) for r in batch]  # type: ignore[arg-type]
    events.sort(key=lambda e: (e.ts, e.id))
    destination = notify.email if channel.name == "email" else notify.webhook_url
    message = compose(events, user.language, user.timezone, user.username)
    try:
        detail, status = channel.send(destination or "", notify.webhook_secret, message), "sent"
    except DeliveryError as exc:
        detail, status = str(exc), "failed"
    for row in batch:
        row.attempts += 1
        row.summary_of = len(batch)
        row.detail = detail[:DETAIL_MAX]
        if status == "sent":
            row.status, row.sent_at = "sent", utcnow()
        elif row.attempts >= MAX_CYCLES:
            row.status = "failed"
        else:
            row.status = "held" if len(batch) > 1 else "pending"
    if status == "failed":
        log.warning("%s to %s for %s failed: %s", channel.name, destination, user.username, detail)


def deliver(factory: sessionmaker[Session], channels: Mapping[str, Channel], now: int) -> int:
    """Send what is due at `now`; returns how many outbox rows were sent."""
    with factory() as db:
        pairs = sorted(set(db.execute(select(Delivery.user_id, Delivery.channel)
                                      .where(Delivery.status.in_(("pending", "held")))).all()))
    sent = 0
    for user_id, name in pairs:
        channel = channels.get(name)
        if channel is None:
            continue  # e-mail not configured on this installation: the rows wait for it
        with factory() as db:
            user, notify = db.get(User, user_id), db.get(NotifySettings, user_id)
            if user is None or notify is None or in_quiet_hours(now, user.timezone, notify.quiet_start,
                                                                 notify.quiet_end):
                continue
            rows = db.scalars(select(Delivery).where(Delivery.user_id == user_id, Delivery.channel == name,
                                                     Delivery.status.in_(("pending", "held")))
                              .order_by(Delivery.id)).all()
            for batch in _batches(rows):
                _send(db, channel, notify, user, batch)
                db.commit()  # each message's outcome on its own: a crash later cannot undo it
                sent += sum(1 for r in batch if r.status == "sent")
    return sent
