"""What an alert says: subject, plain text, HTML and the webhook's JSON, in the user's language and timezone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from enertrack.alerts.rules import LABELS, UNITS, Kind, RuleSpec
from enertrack.i18n import tr
from enertrack.i18n_markers import N_
from enertrack.numerals import decimal

DECIMALS = {"V": 1, "Hz": 2, "": 2, "W": 0, "kWh": 2}


@dataclass(frozen=True, slots=True)
class EventView:
    """One event as channels show it (detached from the database)."""

    id: int
    node_id: str
    kind: str
    state: str  # firing | resolved
    ts: int
    value: float | None
    limit_text: str


@dataclass(frozen=True, slots=True)
class Message:
    """One message for one user on one channel: one event, or a quiet-hours summary of several."""

    subject: str
    text: str
    html: str
    payload: dict[str, object]


def limit_text(spec: RuleSpec) -> str:
    """The rule's limit in a few language-neutral characters: '< 207 V', '49.5-50.5 Hz', '> 10 min'."""
    unit = UNITS[spec.kind]
    if spec.kind is Kind.OFFLINE:
        return f"> {spec.for_s} s"
    if spec.kind is Kind.FREQUENCY:
        return f"{spec.minimum:g}-{spec.maximum:g} {unit}"
    sign = "<" if spec.kind in (Kind.VOLTAGE_LOW, Kind.POWER_FACTOR_LOW) else ">"
    return f"{sign} {spec.threshold:g} {unit}".rstrip()


def local_time(ts: int, tz_name: str) -> str:
    """'2026-12-02 10:15:03 CET' in the user's timezone."""
    return datetime.fromtimestamp(ts, ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M:%S %Z")


def _kind(value: str) -> Kind | None:
    try:
        return Kind(value)
    except ValueError:  # a kind from a newer version, stored in the history
        return None


def headline(event: EventView, lang: str) -> str:
    """'Voltage below < 207 V on casa-01: firing' in lang."""
    kind = _kind(event.kind)
    label = tr(lang, LABELS[kind]) if kind is not None else event.kind
    state = tr(lang, N_("firing")) if event.state == "firing" else tr(lang, N_("resolved"))
    return tr(lang, N_("{rule} {limit} on {node}: {state}"), rule=label, limit=event.limit_text,
              node=event.node_id, state=state)


def _value(event: EventView, lang: str) -> str:
    if event.value is None:
        return ""
    kind = _kind(event.kind)
    unit = UNITS[kind] if kind is not None else ""
    return f"{decimal(lang, event.value, DECIMALS.get(unit, 2))} {unit}".rstrip()


def _line(event: EventView, lang: str, tz_name: str) -> str:
    value = _value(event, lang)
    return f"{local_time(event.ts, tz_name)}  {headline(event, lang)}" + (f" ({value})" if value else "")


def payload(events: Sequence[EventView], username: str) -> dict[str, object]:
    """The webhook body: machine-readable, UTC epoch seconds and ISO times, no translation."""
    return {
        "user": username,
        "summary": len(events) > 1,
        "events": [
            {"id": e.id, "node_id": e.node_id, "rule": e.kind, "state": e.state, "ts": e.ts,
             "time": datetime.fromtimestamp(e.ts, ZoneInfo("UTC")).isoformat(), "value": e.value,
             "limit": e.limit_text}
            for e in events
        ],
    }


def compose(events: Sequence[EventView], lang: str, tz_name: str, username: str) -> Message:
    """One message about events (several make a quiet-hours summary)."""
    if len(events) == 1:
        subject = "EnerTrack: " + headline(events[0], lang)
        intro = ""
    else:
        subject = "EnerTrack: " + tr(lang, N_("{count} alerts during your quiet hours"), count=len(events))
        intro = tr(lang, N_("While your quiet hours lasted:"))
    lines = [_line(e, lang, tz_name) for e in events]
    text = "\n".join(([intro, ""] if intro else []) + lines) + "\n"
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    html = (f"<html><body><h3>{escape(subject)}</h3>" + (f"<p>{escape(intro)}</p>" if intro else "")
            + f"<ul>{items}</ul></body></html>")
    return Message(subject, text, html, payload(events, username))
