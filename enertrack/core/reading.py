"""A validated reading: one node, one instant, any non-empty subset of the six magnitudes."""

from __future__ import annotations

from dataclasses import dataclass, fields

from enertrack.core.magnitudes import NAMES


@dataclass(frozen=True, slots=True)
class Reading:
    """One stored measurement; ts is whole epoch seconds (UTC), the store's resolution."""

    node_id: str
    ts: int
    voltage: float | None = None
    current: float | None = None
    power: float | None = None
    energy: float | None = None
    power_factor: float | None = None
    frequency: float | None = None

    def values(self) -> dict[str, float]:
        """The magnitudes this reading carries, by canonical name."""
        out: dict[str, float] = {}
        for name in NAMES:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


# Guard against the table and the dataclass drifting apart.
assert tuple(f.name for f in fields(Reading))[2:] == NAMES
