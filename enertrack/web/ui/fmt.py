"""Numbers, ages and dates as the UI shows them (pure, language passed explicitly).

Numbers use the language's separators (enertrack.numerals); CSV and other machine output
never come through here.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from enertrack.core.magnitudes import BY_NAME
from enertrack.i18n import tr
from enertrack.numerals import MISSING, decimal


def number(lang: str, magnitude: str, value: float | None) -> str:
    """A value with its magnitude's decimals, or an em dash."""
    return BY_NAME[magnitude].format(value, lang)


def power(lang: str, watts: float | None) -> tuple[str, str]:
    """Power as (number, unit): W below 10 kW, kW above."""
    if watts is None:
        return MISSING, "W"
    if abs(watts) >= 10_000:
        return decimal(lang, watts / 1000, 1), "kW"
    return decimal(lang, watts, 0), "W"


def energy(lang: str, kwh: float | None) -> str:
    """kWh with sensible precision."""
    if kwh is None:
        return MISSING
    return decimal(lang, kwh, 1 if abs(kwh) >= 100 else 2)


def age(lang: str, seconds: float | None) -> str:
    """'hace 4 s' / '4 s ago', '12 min', '3 h', '2 d'; never negative."""
    if seconds is None:
        return tr(lang, "never")
    s = max(int(seconds), 0)
    if s < 90:
        return tr(lang, "{n} s ago", n=s)
    if s < 90 * 60:
        return tr(lang, "{n} min ago", n=round(s / 60))
    if s < 36 * 3600:
        return tr(lang, "{n} h ago", n=round(s / 3600))
    return tr(lang, "{n} d ago", n=decimal(lang, round(s / 86400), 0))  # a node silent for 1.200 days


def local_time(epoch: int | None, tz: str, with_date: bool = True) -> str:
    """Local date and time of an epoch second, with its offset when clocks went back over it
    (the repeated hour names two instants: '02:30:00 +02' and '02:30:00 +01')."""
    if epoch is None:
        return MISSING
    moment = datetime.fromtimestamp(epoch, ZoneInfo(tz))
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    if moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset():
        text += " " + utc_offset(moment.strftime("%z"))
    return text


def utc_offset(z: str) -> str:
    """A strftime %z offset as people write it: '+0200' -> '+02', '+0545' -> '+05:45'."""
    return z[:3] if z[3:] == "00" else f"{z[:3]}:{z[3:]}"


def money(lang: str, amount: float | None, currency: str) -> str:
    """An amount with its currency code."""
    return MISSING if amount is None else f"{decimal(lang, amount, 2)} {currency}"


def percent(lang: str, fraction: float | None, signed: bool = False) -> str:
    """A fraction as a percentage."""
    if fraction is None:
        return MISSING
    return f"{decimal(lang, fraction * 100, 1, signed)} %"
