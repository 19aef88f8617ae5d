"""The evaluation service: judge, then deliver, every poll interval until asked to stop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from enertrack.alerts.channels import Channel
from enertrack.alerts.engine import evaluate
from enertrack.alerts.mailer import SmtpMailer
from enertrack.alerts.outbox import deliver
from enertrack.alerts.webhook import WebhookSender
from enertrack.config import Settings
from enertrack.mail import smtp_config

log = logging.getLogger("enertrack.alerts")


def channels_from(settings: Settings) -> dict[str, Channel]:
    """The outgoing channels this installation has (e-mail only when SMTP is configured)."""
    found: dict[str, Channel] = {"webhook": WebhookSender(
        settings.webhook_allow_private, settings.webhook_attempts, settings.webhook_backoff_s,
        settings.webhook_timeout_s)}
    config = smtp_config(settings)
    if config is not None:
        found["email"] = SmtpMailer(config)
    return found


def run(settings: Settings, stop: threading.Event, *, clock: Callable[[], float] = time.time,
        once: bool = False) -> None:
    """Cycle until stop is set (SIGTERM); each cycle judges at clock() and sends what is due."""
    from enertrack.db import make_engine, make_session_factory
    from enertrack.store.factory import open_store

    engine = make_engine(settings.sqlalchemy_url)
    factory = make_session_factory(engine)
    store = open_store(settings)
    channels = channels_from(settings)
    log.info("alerts: judging every %s s (e-mail %s)", settings.alerts_poll_s,
             "on" if "email" in channels else "off: ENERTRACK_SMTP_URL is not set")
    try:
        while not stop.is_set():
            started = clock()
            try:
                created = evaluate(factory, store, int(started), email_ready="email" in channels)
                sent = deliver(factory, channels, int(clock()))
                if created or sent:
                    log.info("alerts: %d new events, %d messages sent", len(created), sent)
            except Exception:  # the database or store is down: say so and try again next cycle
                log.exception("alerts: cycle failed; retrying in %s s", settings.alerts_poll_s)
            if once:
                break
            stop.wait(settings.alerts_poll_s)
    finally:
        store.close()
        engine.dispose()
