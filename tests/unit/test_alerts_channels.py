"""Quiet hours, webhook address rules and signature, and what a message says (pure parts of the channels)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from enertrack.alerts.messages import EventView, compose
from enertrack.alerts.quiet import in_quiet_hours
from enertrack.alerts.webhook import sign, url_problem

T0 = 1_780_000_000  # 2026-05-28 20:26:40 UTC = 22:26:40 in Madrid (CEST)


@pytest.mark.parametrize(("offset_h", "start", "end", "quiet"), [
    (0, "22:00", "07:00", True),  # 22:26, window across midnight
    (-1, "22:00", "07:00", False),  # 21:26
    (8.5, "22:00", "07:00", True),  # 06:56
    (9, "22:00", "07:00", False),  # 07:26: over
    (0, "13:00", "23:00", True),
    (0, "13:00", "22:00", False),
    (0, "22:00", "22:00", False),  # an empty window
    (0, None, "07:00", False),
    (0, "25:00", "07:00", False),
])
def test_quiet_hours_in_the_users_timezone(offset_h: float, start: str | None, end: str | None, quiet: bool) -> None:
    assert in_quiet_hours(T0 + offset_h * 3600, "Europe/Madrid", start, end) is quiet


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://example.org/x", "must start with http:// or https://"),
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("http://user:pw@example.org/", "must not contain a user name"),
    ("http://127.0.0.1:8000/hook", "loopback, private or link-local"),
    ("http://localhost/hook", "loopback, private or link-local"),
    ("http://10.1.2.3/hook", "loopback, private or link-local"),
    ("http://192.168.1.1/hook", "loopback, private or link-local"),
    ("http://169.254.169.254/latest/meta-data", "loopback, private or link-local"),
    ("http://[::1]/hook", "loopback, private or link-local"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback, private or link-local"),
    ("http://0.0.0.0/hook", "loopback, private or link-local"),
    ("http://8.8.8.8/hook", None),
])
def test_webhook_addresses(url: str, problem: str | None) -> None:
    found = url_problem(url, allow_private=False)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_the_operator_may_allow_private_addresses_but_never_other_schemes() -> None:
    assert url_problem("http://127.0.0.1:8000/hook", allow_private=True) is None
    assert url_problem("file:///etc/passwd", allow_private=True) is not None


def test_signature_is_hmac_sha256_of_timestamp_and_body() -> None:
    expected = hmac.new(b"secret", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest()
    assert sign("secret", 1_700_000_000, b'{"a":1}') == f"sha256={expected}"


def test_messages_in_the_users_language_and_timezone() -> None:
    event = EventView(1, "casa", "voltage-low", "firing", T0, 195.25, "< 207 V")
    es = compose([event], "es", "Europe/Madrid", "ana")
    en = compose([event], "en", "America/New_York", "ana")
    assert es.subject == "EnerTrack: Tensión por debajo de < 207 V en casa: activa"
    assert "2026-05-28 22:26:40 CEST" in es.text and "195,2 V" in es.text
    assert en.subject == "EnerTrack: Voltage below < 207 V on casa: firing"
    assert "2026-05-28 16:26:40 EDT" in en.text and "195.2 V" in en.text


def test_a_summary_names_how_many_and_escapes_html() -> None:
    events = [EventView(i, "<b>x</b>", "offline", state, T0 + i, None, "> 60 s")
              for i, state in enumerate(["firing", "resolved"])]
    message = compose(events, "en", "UTC", "ana")
    assert message.subject == "EnerTrack: 2 alerts during your quiet hours"
    assert "<b>x</b>" not in message.html and "&lt;b&gt;x&lt;/b&gt;" in message.html
    assert message.payload["summary"] is True and len(message.payload["events"]) == 2  # type: ignore[arg-type]
