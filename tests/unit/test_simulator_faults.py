"""Injected faults: a dip lowers the voltage inside its window, an outage removes the readings in it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from enertrack.core.columns import ReadingColumns
from enertrack.simulation.faults import Fault, FaultFile, FaultySink, apply, fault


def columns(node: str = "n1", start: int = 1000, count: int = 10) -> ReadingColumns:
    ts = np.arange(start, start + count * 10, 10, dtype=np.int64)
    ones = np.ones(count)
    return ReadingColumns(node, ts, ones * 230.0, ones, ones * 100.0, np.arange(count) / 10, ones * 0.9, ones * 50.0)


def test_a_dip_lowers_only_the_voltage_inside_its_window() -> None:
    out = apply(columns(), [Fault("dip", "n1", 1020, 1050)])
    assert out.voltage.tolist() == [230, 230, 184, 184, 184, 230, 230, 230, 230, 230]
    assert out.power.tolist() == [100.0] * 10


def test_an_outage_removes_the_readings_inside_its_window() -> None:
    out = apply(columns(), [Fault("outage", "n1", 1030, 1070)])
    assert out.ts.tolist() == [1000, 1010, 1020, 1070, 1080, 1090]
    assert out.energy.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.7, 0.8, 0.9])  # the meter kept counting


def test_other_nodes_faults_change_nothing() -> None:
    original = columns()
    assert apply(original, [Fault("outage", "n2", 0, 10**10)]) is original


def test_the_file_is_followed_and_bad_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "faults.jsonl"
    file = FaultFile(path)
    assert file.faults() == []
    file.add(fault("dip", "n1", 1020, 30))
    path.open("a").write("not json\n" + json.dumps({"kind": "flood", "node_id": "n1", "start": 0, "end": 1}) + "\n")
    file.add(fault("outage", "n1", 1080, 100))
    assert [f.kind for f in file.faults()] == ["dip", "outage"]

    sent: list[ReadingColumns] = []

    class Sink:
        def publish_columns(self, c: ReadingColumns) -> int:
            sent.append(c)
            return len(c)

    assert FaultySink(Sink(), file).publish_columns(columns()) == 10
    assert sent[0].ts.tolist() == [1000, 1010, 1020, 1030, 1040, 1050, 1060, 1070]
    assert sent[0].voltage.tolist()[2:5] == [184, 184, 184]


def test_bad_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="dip, outage"):
        fault("flood", "n1", 0, 10)
    with pytest.raises(ValueError, match="at least 1 s"):
        fault("dip", "n1", 0, 0)
