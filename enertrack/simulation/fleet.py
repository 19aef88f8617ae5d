"""Each simulated node's own character, drawn from the seed and its id (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from enertrack.simulation.characters import CHARACTERS, ROTATION, Character
from enertrack.simulation.grid import GRIDS, Grid
from enertrack.simulation.noise import key_of, scalar

DEFAULT_SEED = 42
DEFAULT_RESET_PER_DAY = 0.01  # a meter restarts about every 100 days
RESET_STAGGER = 5  # restarts of consecutive nodes fall in different fifths of their period
EARLIEST_INSTALL = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())  # no reading is older (docs/payload.md)
SHIFT_H = 0.75  # a node's rhythm runs up to 45 minutes early or late


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """Everything that makes one simulated node itself; all powers already scaled to its grid."""

    node_id: str
    character: Character
    grid: Grid
    timezone: str
    key: int  # the node's random stream
    grid_key: int  # the supply's random stream, shared by every node of a seed
    base_w: float
    activity_w: float
    cycling_w: float
    cycle_period_s: float
    cycle_duty: float
    power_factor: float
    shift_h: float
    voltage_offset: float  # in [-1, 1]: where on the feeder the node sits
    reset_per_day: float
    reset_slot: int  # which fifth of each restart period this node restarts in
    installed_ts: int

    @property
    def scale(self) -> float:
        """Appliance powers are given for 230 V; a 120 V installation draws about half."""
        return self.grid.voltage / 230.0

    @property
    def peak_w(self) -> float:
        """A generous estimate of the node's highest power, for the voltage drop under load."""
        biggest = max((a.power_w[1] for a in self.character.appliances), default=0.0)
        return self.base_w + 1.5 * self.activity_w + self.cycling_w + biggest * self.scale


def node_ids(count: int, prefix: str = "demo-") -> list[str]:
    """prefix01, prefix02, ...: two digits at least, so ids sort and stay stable as fleets grow."""
    return [f"{prefix}{number:02d}" for number in range(1, count + 1)]


def make_spec(
    seed: int,
    node_id: str,
    index: int,
    grid: Grid = GRIDS["230v50"],
    timezone: str = "Europe/Madrid",
    reset_per_day: float = DEFAULT_RESET_PER_DAY,
) -> NodeSpec:
    """The node at position index of a fleet: its kind by rotation, its figures from (seed, id)."""
    character = CHARACTERS[ROTATION[(index + key_of(seed, "rotation") % len(ROTATION)) % len(ROTATION)]]
    key = key_of(seed, node_id)
    scale = grid.voltage / 230.0

    def pick(name: str, bounds: tuple[float, float]) -> float:
        return scalar(key, name, *bounds)

    return NodeSpec(
        node_id=node_id,
        character=character,
        grid=grid,
        timezone=timezone,
        key=key,
        grid_key=key_of(seed, "grid", grid.name),
        base_w=pick("base", character.base_w) * scale,
        activity_w=pick("activity", character.activity_w) * scale,
        cycling_w=pick("cycling", character.cycling_w) * scale,
        cycle_period_s=pick("cycle-period", (1800.0, 3600.0)),
        cycle_duty=pick("cycle-duty", (0.3, 0.5)),
        power_factor=pick("power-factor", character.power_factor),
        shift_h=pick("shift", (-SHIFT_H, SHIFT_H)),
        voltage_offset=pick("voltage-offset", (-1.0, 1.0)),
        reset_per_day=reset_per_day,
        reset_slot=(index + key_of(seed, "reset-rotation")) % RESET_STAGGER,
        installed_ts=EARLIEST_INSTALL + int(pick("installed", (0.0, 365.0)) * 86_400),
    )


def make_fleet(
    seed: int,
    ids: Sequence[str],
    grid: Grid = GRIDS["230v50"],
    timezone: str = "Europe/Madrid",
    reset_per_day: float = DEFAULT_RESET_PER_DAY,
) -> list[NodeSpec]:
    """One spec per node id, in order."""
    return [make_spec(seed, node_id, i, grid, timezone, reset_per_day) for i, node_id in enumerate(ids)]
