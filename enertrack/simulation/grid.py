"""The supply: nominal voltage and frequency, and how they wander (pure numpy).

Each deviation is a sum of bounded parts, so the tolerance holds by construction
(no clipping that would draw flat lines): voltage = nominal x (1 + node offset +
grid daily swing + noise - drop under the node's own load), frequency = nominal +
slow grid-wide wander (the same for every node of a seed, as on a real grid) + noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from enertrack.simulation.noise import triangular, uniform

# Grid voltage over the local day as a fraction of its share of the tolerance:
# highest before dawn (little load on the feeder), lowest at the evening peak.
_DAILY_SWING = np.array([
    0.8, 0.9, 1.0, 1.0, 0.9, 0.6, 0.2, -0.2, -0.3, -0.2, -0.1, -0.2,
    -0.3, -0.2, 0.0, 0.0, -0.1, -0.3, -0.6, -0.9, -1.0, -0.8, -0.3, 0.3, 0.8,
])  # fmt: skip
_HOURS = np.arange(25, dtype=np.float64)

# Shares of the voltage tolerance; they add up to less than 1.
V_NODE_SHARE = 0.32
V_SWING_SHARE = 0.33
V_NOISE_SHARE = 0.20
V_LOAD_SHARE = 0.14

# Frequency wander: (period s, weight); weights add up to 1, then scaled below.
_WANDER = ((420.0, 0.5), (1380.0, 0.3), (11_160.0, 0.2))
F_WANDER_SHARE = 0.75
F_NOISE_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Grid:
    """A supply standard: nominal values and the tolerance the simulator stays within."""

    name: str
    voltage: float
    frequency: float
    voltage_tolerance: float = 0.03  # fraction of nominal
    frequency_tolerance: float = 0.05  # Hz

    @property
    def voltage_bounds(self) -> tuple[float, float]:
        """Lowest and highest voltage the simulator produces."""
        return self.voltage * (1 - self.voltage_tolerance), self.voltage * (1 + self.voltage_tolerance)

    @property
    def frequency_bounds(self) -> tuple[float, float]:
        """Lowest and highest frequency the simulator produces."""
        return self.frequency - self.frequency_tolerance, self.frequency + self.frequency_tolerance


GRIDS: dict[str, Grid] = {
    "230v50": Grid("230v50", 230.0, 50.0),  # Europe, most of the world
    "120v60": Grid("120v60", 120.0, 60.0),  # the Americas (split-phase leg)
}


def voltage(
    grid: Grid,
    node_key: int,
    node_offset: float,
    ts: np.ndarray,
    hour: np.ndarray,
    load: np.ndarray,
) -> np.ndarray:
    """Volts at each instant; node_offset in [-1, 1], hour local, load in [0, 1] of the node's peak."""
    tol = grid.voltage_tolerance
    swing = np.interp(hour, _HOURS, _DAILY_SWING)
    noise = triangular(node_key, "voltage", ts)
    drop = np.clip(load, 0.0, 1.0)
    deviation = tol * (
        V_NODE_SHARE * node_offset + V_SWING_SHARE * swing + V_NOISE_SHARE * noise - V_LOAD_SHARE * drop
    )
    return grid.voltage * (1.0 + deviation)


def frequency(grid: Grid, grid_key: int, node_key: int, ts: np.ndarray) -> np.ndarray:
    """Hz at each instant: a wander shared by the whole grid plus a little measurement noise."""
    t = ts.astype(np.float64)
    wander = np.zeros_like(t)
    for number, (period, weight) in enumerate(_WANDER):
        phase = 2 * np.pi * float(uniform(grid_key, f"frequency-phase-{number}", 0))
        wander += weight * np.sin(2 * np.pi * t / period + phase)
    noise = triangular(node_key, "frequency", ts)
    return grid.frequency + grid.frequency_tolerance * (F_WANDER_SHARE * wander + F_NOISE_SHARE * noise)
