"""Numbers written the way the user's language writes them (Babel's CLDR data).

For people only: CSV, logs and anything a machine reads keep Python's plain formatting.
Spanish groups thousands with '.' and writes decimals after ',' ("4.321,5"), English the
other way round ("4,321.5"); read with the wrong convention, "4,321 W" is four watts.
"""

from __future__ import annotations

import math
from functools import lru_cache

from babel import Locale
from babel.numbers import format_decimal

from enertrack.i18n import language

MISSING = "—"


@lru_cache(maxsize=8)
def _locale(lang: str) -> Locale:
    return Locale.parse(language(lang))


@lru_cache(maxsize=16)
def _pattern(decimals: int, signed: bool) -> str:
    """A CLDR pattern with thousands grouping and exactly `decimals` decimals."""
    body = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return f"+{body};-{body}" if signed else body


def decimal(lang: str, value: float | None, decimals: int, signed: bool = False) -> str:
    """value with `decimals` decimals in lang's separators; an em dash when missing or not finite."""
    if value is None or not math.isfinite(value):
        return MISSING
    if round(value, decimals) == 0:  # a tiny negative (a float sum's last bit) is no "-0,0"
        value = 0.0
    return format_decimal(value, format=_pattern(decimals, signed), locale=_locale(lang))


def separators(lang: str) -> str:
    """Plotly's layout.separators for lang: its decimal symbol, then its group symbol."""
    symbols = _locale(lang).number_symbols["latn"]
    return symbols["decimal"] + symbols["group"]
