"""Faults injected into simulated nodes on demand: a voltage dip, or an outage (the node falls silent).

A running simulator follows a JSON-lines file (one fault a line); `enertrack simulate-fault`
appends to it. Applying faults to a node's columns is pure.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from enertrack.core.columns import ReadingColumns
from enertrack.core.magnitudes import NAMES

log = logging.getLogger("enertrack.simulation")
DIP_DEPTH = 0.8  # a dip to 80 % of the voltage: below EN 50160's 90 % band
FaultKind = Literal["dip", "outage"]
KINDS: tuple[str, ...] = ("dip", "outage")


@dataclass(frozen=True, slots=True)
class Fault:
    """A dip or an outage of one node over [start, end) (epoch seconds)."""

    kind: str
    node_id: str
    start: int
    end: int
    depth: float = DIP_DEPTH


def apply(columns: ReadingColumns, faults: list[Fault]) -> ReadingColumns:
    """The readings as the faults leave them: dipped voltages, outage rows gone."""
    keep = np.ones(len(columns), dtype=bool)
    voltage = columns.voltage.copy()
    for fault in faults:
        if fault.node_id != columns.node_id:
            continue
        inside = (columns.ts >= fault.start) & (columns.ts < fault.end)
        if fault.kind == "dip":
            voltage = np.where(inside, voltage * fault.depth, voltage)
        elif fault.kind == "outage":
            keep &= ~inside
    if keep.all() and np.array_equal(voltage, columns.voltage, equal_nan=True):
        return columns
    values = {name: getattr(columns, name)[keep] for name in NAMES} | {"voltage": voltage[keep]}
    return ReadingColumns(columns.node_id, columns.ts[keep], **values)


class FaultFile:
    """The faults a JSON-lines file lists, re-read when it changes; bad lines are logged and skipped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Append one fault (what `enertrack simulate-fault` does)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(fault)) + "\n")

    def faults(self) -> list[Fault]:
        """Every fault in the file now."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        if self._stamp != (stat.st_mtime, stat.st_size):
            self._stamp = (stat.st_mtime, stat.st_size)
            self._faults = list(self._read())
        return self._faults

    def _read(self) -> list[Fault]:
        found = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                raw = json.loads(line)
                fault = Fault(str(raw["kind"]), str(raw["node_id"]), int(raw["start"]), int(raw["end"]),
                              float(raw.get("depth", DIP_DEPTH)))
                if fault.kind not in KINDS:
                    raise ValueError(f"kind must be one of {KINDS}")
                found.append(fault)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("%s line %d ignored: %s", self.path, number, exc)
        return found


class FaultySink:
    """A sink that passes each node's readings through the faults of a file first."""

    def __init__(self, inner: object, faults: FaultFile) -> None:
        self.inner = inner
        self.faults = faults

    def publish_columns(self, columns: ReadingColumns) -> int:
        """Publish what the faults leave; counts the readings taken, published or not."""
        kept = apply(columns, self.faults.faults())
        if len(kept):
            self.inner.publish_columns(kept)  # type: ignore[attr-defined]
        return len(columns)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def fault(kind: str, node_id: str, start: int, seconds: int, depth: float = DIP_DEPTH) -> Fault:
    """A checked fault; ValueError says what is wrong."""
    if kind not in KINDS:
        raise ValueError(f"fault must be one of {', '.join(KINDS)}")
    if seconds < 1:
        raise ValueError("a fault lasts at least 1 s")
    return replace(Fault(kind, node_id, start, start + seconds), depth=depth)
