"""CSV cells a spreadsheet would run as formulas get a leading quote; data stays as it is."""

from __future__ import annotations

import pytest

from enertrack.csv_cells import safe_cell, safe_row


@pytest.mark.parametrize(("cell", "written"), [
    ("=1+2", "'=1+2"),
    ("+cmd", "'+cmd"),
    ("-node-7", "'-node-7"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTAB", "'\tTAB"),
    ("\rCR", "'\rCR"),
    ("-1+2", "'-1+2"),
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("casa", "casa"),
    ("n-1", "n-1"),
    ("", ""),
    ("-3.5", "-3.5"),  # numbers are data: a spreadsheet reads them as numbers
    ("+12", "+12"),
    ("-1e-3", "-1e-3"),
    ("2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"),
    (-3.5, -3.5),
    (None, None),
])
def test_safe_cell(cell: object, written: object) -> None:
    assert safe_cell(cell) == written


def test_safe_row_neutralises_every_cell() -> None:
    assert safe_row(["-x", 1.0, "=y", "ok"]) == ["'-x", 1.0, "'=y", "ok"]
