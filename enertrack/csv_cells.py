"""CSV cells that a spreadsheet will not run as formulas (OWASP "CSV Injection").

Every CSV EnerTrack writes passes its rows through safe_row: a text cell that begins with
= + - @, tab or carriage return gets a leading single quote, so Excel, LibreOffice and Google
Sheets show it as text instead of evaluating it. Node ids come from users and may start with "-".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number ("-3.5", "+1e3") is data, not a formula: spreadsheets read it as a number.
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """value, with a leading ' when it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    """Every cell of row through safe_cell."""
    return [safe_cell(cell) for cell in row]
