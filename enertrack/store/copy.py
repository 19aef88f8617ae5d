"""Copy readings from one store into another: in batches, idempotent, resumable from a checkpoint file.

`enertrack migrate-store` moves an installation up from the embedded SQLite store. Each batch is
written (the target keeps the first reading of a node and second, so a batch written twice
changes nothing) and only then recorded in the checkpoint, so an interrupted copy starts again
after the last recorded batch, and a finished one has nothing left to copy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.store.base import TimeseriesStore
from enertrack.store.sqlite.store import SQLiteStore

DEFAULT_BATCH = 5000


@dataclass
class Checkpoint:
    """The newest second copied per node, kept in a JSON file beside the source."""

    path: Path
    done: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        """The checkpoint at path, or an empty one; ValueError when the file is not one."""
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text())
            done = {str(node): int(ts) for node, ts in data["done"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path} is not a migrate-store checkpoint ({exc}): remove it to copy from the start "
                             "(copying again stores nothing twice)") from None
        return cls(path, done)

    def record(self, node_id: str, ts: int) -> None:
        """Note that node_id is copied up to ts, atomically (a crash leaves the old or the new file)."""
        self.done[node_id] = ts
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps({"done": self.done}, sort_keys=True))
        os.replace(temporary, self.path)


@dataclass(frozen=True)
class CopyResult:
    """What a copy did: readings written and the ones the target already held."""

    stored: int
    duplicates: int
    nodes: int


def pending(source: SQLiteStore, checkpoint: Checkpoint) -> dict[str, int]:
    """Readings per node that the checkpoint does not cover yet."""
    return {node: count for node, count in source.reading_counts(checkpoint.done).items() if count}


def copy_readings(source: SQLiteStore, target: TimeseriesStore, checkpoint: Checkpoint,
                  params: Mapping[str, EnergyParams], *, batch_size: int = DEFAULT_BATCH,
                  on_batch: Callable[[int], None] = lambda _n: None) -> CopyResult:
    """Copy what the checkpoint does not cover, node by node, oldest first; StoreUnavailable stops it."""
    stored = duplicates = 0
    nodes = pending(source, checkpoint)
    for node_id in nodes:
        start = checkpoint.done.get(node_id)
        batch: list[Reading] = []
        readings = source.readings(node_id, None if start is None else start + 1)
        for reading in readings:
            batch.append(reading)
            if len(batch) >= batch_size:
                stored, duplicates = _flush(target, batch, params, checkpoint, stored, duplicates, on_batch)
                batch = []
        if batch:
            stored, duplicates = _flush(target, batch, params, checkpoint, stored, duplicates, on_batch)
    return CopyResult(stored, duplicates, len(nodes))


def _flush(target: TimeseriesStore, batch: list[Reading], params: Mapping[str, EnergyParams],
           checkpoint: Checkpoint, stored: int, duplicates: int, on_batch: Callable[[int], None]) -> tuple[int, int]:
    node_id = batch[0].node_id
    result = target.write(batch, {node_id: params[node_id]} if node_id in params else None)
    checkpoint.record(node_id, int(batch[-1].ts))  # only after the write: a crash between them repeats a batch
    on_batch(len(batch))
    return stored + result.stored, duplicates + result.duplicates
