"""Quiet hours: a daily local-time window in which e-mail and webhooks wait (pure)."""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value: object) -> time | None:
    """A time from 'HH:MM' (24 h), None for anything else."""
    match = _HHMM.match(str(value).strip()) if isinstance(value, str) else None
    return time(int(match.group(1)), int(match.group(2))) if match else None


def in_quiet_hours(now: float, tz_name: str, start: str | None, end: str | None) -> bool:
    """True when now falls in [start, end) local time; the window may cross midnight (22:00-07:00).

    No window (either end missing, or start == end) means never quiet.
    """
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    if begin is None or finish is None or begin == finish:
        return False
    local = datetime.fromtimestamp(now, ZoneInfo(tz_name)).time().replace(tzinfo=None)
    if begin < finish:
        return begin <= local < finish
    return local >= begin or local < finish
