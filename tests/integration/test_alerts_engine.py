"""The alert engine on a real users database and SQLite store, with an injected clock:
episodes, restart without repeats, and delivery by real SMTP and HTTP receivers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from enertrack.alerts import manage
from enertrack.alerts.engine import evaluate
from enertrack.alerts.mailer import SmtpMailer
from enertrack.alerts.outbox import deliver
from enertrack.alerts.rules import make_spec
from enertrack.alerts.webhook import WebhookSender
from enertrack.config import Settings
from enertrack.core.reading import Reading
from enertrack.db import make_engine, make_session_factory
from enertrack.models import AlertEvent, AlertTrack, Delivery, Node, User
from enertrack.store.base import TimeseriesStore
from enertrack.store.factory import open_store
from tests.alert_receivers import http_receiver, smtp_server

T0 = 1_780_000_000  # 2026-05-28, a Thursday, 20:26 UTC


@dataclass
class World:
    """A user with two nodes, the users database and the store."""

    factory: sessionmaker[Session]
    store: TimeseriesStore
    user_id: int

    def write(self, node: str, start: int, values: list[float], magnitude: str = "voltage", step: int = 10) -> None:
        self.store.write([Reading(node, start + i * step, **{magnitude: v}) for i, v in enumerate(values)])

    def events(self) -> list[tuple[str, str, int]]:
        with self.factory() as db:
            return [(e.node_id, e.state, e.ts) for e in db.scalars(select(AlertEvent).order_by(AlertEvent.id))]

    def rule(self, node: str | None, *args: object, now: int = T0) -> int:
        with self.factory.begin() as db:
            return manage.add_rule(db, self.user_id, node, make_spec(*args), now).id


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    engine = make_engine(settings.sqlalchemy_url)
    factory = make_session_factory(engine)
    with factory.begin() as db:
        user = User(username="ana", email="ana@example.com", password_hash="x", timezone="Europe/Madrid",
                    language="es")
        db.add(user)
        db.flush()
        db.add_all([Node(node_id="casa", owner_id=user.id, interval_s=10),
                    Node(node_id="taller", owner_id=user.id, interval_s=10)])
        uid = user.id
    store = open_store(settings)
    yield World(factory, store, uid)
    store.close()
    engine.dispose()


def test_a_dip_fires_once_and_resolves_once_across_many_cycles(world: World) -> None:
    world.rule("casa", "voltage-low", "60s", "207")
    world.write("casa", T0, [230, 230, *[195] * 9, *[231] * 9])  # 90 s below, then 90 s back
    for now in range(T0, T0 + 240, 5):  # a cycle every 5 s of the injected clock
        evaluate(world.factory, world.store, now, email_ready=False)
    assert world.events() == [("casa", "firing", T0 + 80), ("casa", "resolved", T0 + 170)]


def test_a_blip_shorter_than_the_duration_gives_nothing(world: World) -> None:
    world.rule("casa", "voltage-low", "60s", "207")
    world.write("casa", T0, [230, *[195] * 5, *[230] * 10])
    evaluate(world.factory, world.store, T0 + 200, email_ready=False)
    assert world.events() == []


def test_a_rule_for_all_nodes_judges_each_node(world: World) -> None:
    world.rule(None, "power-above", "20s", "1000")
    world.write("casa", T0, [500] * 6, magnitude="power")
    world.write("taller", T0, [1500] * 6, magnitude="power")
    evaluate(world.factory, world.store, T0 + 60, email_ready=False)
    assert world.events() == [("taller", "firing", T0 + 20)]


def test_offline_is_judged_on_the_injected_clock_and_resolved_by_the_next_reading(world: World) -> None:
    world.rule("casa", "offline", "2m")
    world.write("casa", T0, [230] * 3)  # last reading at T0+20: disconnected from T0+50
    evaluate(world.factory, world.store, T0 + 169, email_ready=False)
    assert world.events() == []
    evaluate(world.factory, world.store, T0 + 170, email_ready=False)
    evaluate(world.factory, world.store, T0 + 400, email_ready=False)
    world.write("casa", T0 + 500, [230])
    evaluate(world.factory, world.store, T0 + 505, email_ready=False)
    assert world.events() == [("casa", "firing", T0 + 170), ("casa", "resolved", T0 + 500)]


def test_a_node_silent_before_the_rule_counts_from_the_rules_start(world: World) -> None:
    world.write("casa", T0 - 86_400, [230])  # a day of silence before the rule
    world.rule("casa", "offline", "2m", now=T0)
    evaluate(world.factory, world.store, T0 + 119, email_ready=False)
    assert world.events() == []
    evaluate(world.factory, world.store, T0 + 120, email_ready=False)
    assert world.events() == [("casa", "firing", T0 + 120)]


def test_state_lives_in_the_database_so_a_new_engine_neither_repeats_nor_misses(world: World,
                                                                                settings: Settings) -> None:
    world.rule("casa", "voltage-low", "60s", "207")
    world.write("casa", T0, [230, *[195] * 4])
    evaluate(world.factory, world.store, T0 + 45, email_ready=False)  # pending, not yet firing
    with world.factory() as db:
        assert db.scalar(select(AlertTrack.state)) == "pending"
    # "Restart": a new engine, session factory and store on the same files; readings came meanwhile.
    engine = make_engine(settings.sqlalchemy_url)
    store = open_store(settings)
    try:
        world.write("casa", T0 + 50, [195] * 5 + [231] * 8)
        evaluate(make_session_factory(engine), store, T0 + 200, email_ready=False)
        evaluate(make_session_factory(engine), store, T0 + 205, email_ready=False)
    finally:
        store.close()
        engine.dispose()
    assert world.events() == [("casa", "firing", T0 + 70), ("casa", "resolved", T0 + 160)]


def test_energy_of_the_day_over_budget_fires_once(world: World) -> None:
    world.rule("casa", "energy-day-above", "0s", "1")
    # 2 kW for an hour: 2 kWh by the meter's counter.
    world.store.write([Reading("casa", T0 + i * 60, power=2000.0, energy=100 + i * 2 / 60) for i in range(61)])
    evaluate(world.factory, world.store, T0 + 3700, email_ready=False)
    evaluate(world.factory, world.store, T0 + 3800, email_ready=False)
    assert [e[:2] for e in world.events()] == [("casa", "firing")]


def test_paused_rules_are_not_judged_and_resume_from_now(world: World) -> None:
    rule_id = world.rule("casa", "voltage-low", "0s", "207")
    with world.factory.begin() as db:
        manage.set_paused(db, world.user_id, rule_id, True, T0)
    world.write("casa", T0, [195] * 3)
    evaluate(world.factory, world.store, T0 + 60, email_ready=False)
    with world.factory.begin() as db:
        manage.set_paused(db, world.user_id, rule_id, False, T0 + 100)
    evaluate(world.factory, world.store, T0 + 110, email_ready=False)
    assert world.events() == []  # the dip happened while paused


def test_email_and_signed_webhook_in_the_users_language_and_timezone(world: World) -> None:
    with smtp_server() as box, http_receiver() as hooks:
        with world.factory.begin() as db:
            manage.set_notify(db, world.user_id, email="ana@example.com", webhook_url=hooks.url,
                              webhook_secret="s" * 20, allow_private=True)
        world.rule("casa", "voltage-low", "0s", "207")
        world.write("casa", T0, [230, 195])
        evaluate(world.factory, world.store, T0 + 15, email_ready=True)
        channels = {"email": SmtpMailer(box.url, "EnerTrack <alerts@example.org>"),
                    "webhook": WebhookSender(allow_private=True, attempts=2, backoff_s=0.01)}
        assert deliver(world.factory, channels, T0 + 15) == 2
        assert deliver(world.factory, channels, T0 + 20) == 0  # nothing twice
        mail = box.wait(1)[0]
        assert "Tensión por debajo" in mail["Subject"] and mail["To"] == "ana@example.com"
        parts = {p.get_content_type(): p.get_content() for p in mail.walk()
                 if not p.is_multipart()}
        # 20:26:50 UTC is 22:26:50 in Madrid (summer time); Spanish decimals.
        assert "22:26:50 CEST" in parts["text/plain"] and "195,0 V" in parts["text/plain"]
        assert "<li>" in parts["text/html"]
        headers, body = hooks.wait(1)[0]
        stamp = headers["x-enertrack-timestamp"]
        expected = hmac.new(b"s" * 20, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert headers["x-enertrack-signature"] == f"sha256={expected}"
        assert hooks.bodies()[0]["events"][0] | {"id": 0} == {
            "id": 0, "node_id": "casa", "rule": "voltage-low", "state": "firing", "ts": T0 + 10,
            "time": "2026-05-28T20:26:50+00:00", "value": 195.0, "limit": "< 207 V"}


def test_webhook_retries_with_backoff_and_logs_the_delivery(world: World) -> None:
    with http_receiver() as hooks:
        hooks.answers = [503, 500]
        with world.factory.begin() as db:
            manage.set_notify(db, world.user_id, webhook_url=hooks.url, allow_private=True)
        world.rule("casa", "voltage-low", "0s", "207")
        world.write("casa", T0, [195])
        evaluate(world.factory, world.store, T0 + 5, email_ready=False)
        sender = WebhookSender(allow_private=True, attempts=3, backoff_s=0.01)
        assert deliver(world.factory, {"webhook": sender}, T0 + 5) == 1
        assert [h["x-test-answer"] for h, _ in hooks.received] == ["503", "500", "200"]
    with world.factory() as db:
        row = db.scalar(select(Delivery))
        assert (row.status, row.detail) == ("sent", "HTTP 200 after 3 attempts")


def test_webhook_refuses_loopback_unless_allowed(world: World) -> None:
    with http_receiver() as hooks:
        with world.factory.begin() as db:
            manage.set_notify(db, world.user_id, webhook_url=hooks.url, allow_private=True)
        world.rule("casa", "voltage-low", "0s", "207")
        world.write("casa", T0, [195])
        evaluate(world.factory, world.store, T0 + 5, email_ready=False)
        for _ in range(3):
            deliver(world.factory, {"webhook": WebhookSender(allow_private=False, backoff_s=0.01)}, T0 + 5)
        assert hooks.received == []
    with world.factory() as db:
        row = db.scalar(select(Delivery))
        assert row.status == "failed" and "ENERTRACK_WEBHOOK_ALLOW_PRIVATE" in row.detail


def test_quiet_hours_hold_then_send_one_summary(world: World) -> None:
    with http_receiver() as hooks:
        with world.factory.begin() as db:
            # T0 is 22:26 in Madrid: inside 22:00-07:00.
            manage.set_notify(db, world.user_id, webhook_url=hooks.url, quiet="22:00-07:00", allow_private=True)
        world.rule("casa", "voltage-low", "0s", "207")
        world.write("casa", T0, [195, 231, 195, 231])
        evaluate(world.factory, world.store, T0 + 40, email_ready=False)
        sender = {"webhook": WebhookSender(allow_private=True, backoff_s=0.01)}
        assert deliver(world.factory, sender, T0 + 40) == 0
        assert deliver(world.factory, sender, T0 + 3600) == 0  # 23:26, still quiet
        morning = T0 + 9 * 3600  # 07:26 in Madrid
        assert deliver(world.factory, sender, morning) == 4
        bodies = hooks.bodies()
        assert len(bodies) == 1 and bodies[0]["summary"] is True
        assert [e["state"] for e in bodies[0]["events"]] == ["firing", "resolved", "firing", "resolved"]


def test_in_app_notifications_unread_and_mark_read(world: World) -> None:
    world.rule("casa", "voltage-low", "0s", "207")
    world.write("casa", T0, [195, 231])
    evaluate(world.factory, world.store, T0 + 20, email_ready=False)
    with world.factory.begin() as db:
        assert manage.unread_count(db, world.user_id) == 2
        first = manage.notifications(db, world.user_id)[-1][0].id
        assert manage.mark_read(db, world.user_id, [first, 999_999]) == 1
        assert manage.unread_count(db, world.user_id) == 1
        assert manage.mark_read(db, world.user_id + 1) == 0  # someone else's: nothing
        manage.mark_read(db, world.user_id)
        assert manage.unread_count(db, world.user_id) == 0
