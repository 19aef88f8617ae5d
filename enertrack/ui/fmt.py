"""Numbers, ages and dates as the UI shows them (pure, language passed explicitly)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from enertrack.i18n import tr
from enertrack.magnitudes import BY_NAME


def number(magnitude: str, value: float | None) -> str:
    """A value with its magnitude's decimals, or an em dash."""
    return BY_NAME[magnitude].format(value)


def power(watts: float | None) -> tuple[str, str]:
    """Power as (number, unit): W below 10 kW, kW above."""
    if watts is None:
        return "—", "W"
    if abs(watts) >= 10_000:
        return f"{watts / 1000:,.1f}", "kW"
    return f"{watts:,.0f}", "W"


def energy(kwh: float | None) -> str:
    """kWh with sensible precision."""
    if kwh is None:
        return "—"
    return f"{kwh:,.1f}" if abs(kwh) >= 100 else f"{kwh:,.2f}"


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
    return tr(lang, "{n} d ago", n=round(s / 86400))


def local_time(epoch: int | None, tz: str, with_date: bool = True) -> str:
    """Local date and time of an epoch second."""
    if epoch is None:
        return "—"
    moment = datetime.fromtimestamp(epoch, ZoneInfo(tz))
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def money(amount: float | None, currency: str) -> str:
    """An amount with its currency code."""
    return "—" if amount is None else f"{amount:,.2f} {currency}"


def percent(fraction: float | None, signed: bool = False) -> str:
    """A fraction as a percentage."""
    if fraction is None:
        return "—"
    return f"{fraction * 100:+.1f} %" if signed else f"{fraction * 100:.1f} %"
