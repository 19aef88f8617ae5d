"""Helpers every store shares: the energy() frame and the magnitude check."""

from __future__ import annotations

import numpy as np
import pytest

from enertrack.core.groups import sorted_groups
from enertrack.core.magnitudes import NAMES
from enertrack.store.base import ENERGY_COLUMNS, check_magnitude, energy_frame


def test_energy_frame_sums_parts_drops_no_energy_and_sorts() -> None:
    got = energy_frame(
        ["b", "a", "b", "a", "c", "c", "a"],
        np.array([900, 900, 900, 0, 0, 0, 1800]),
        np.array([0.5, 0.25, 0.25, 1.0, 2e-10, -1e-10, -3.0]),
    )
    assert list(got.columns) == ENERGY_COLUMNS
    assert got.values.tolist() == [  # c's 1e-10 kWh is float residue, not energy
        ["a", 0, 1.0],
        ["a", 900, 0.25],
        ["b", 900, 0.75],
        ["a", 1800, -3.0],
    ]
    assert list(got.index) == [0, 1, 2, 3]


def test_energy_frame_of_nothing() -> None:
    got = energy_frame([], np.array([], dtype=np.int64), np.array([]))
    assert list(got.columns) == ENERGY_COLUMNS and got.empty


@pytest.mark.parametrize("name", NAMES)
def test_check_magnitude_accepts_the_table(name: str) -> None:
    assert check_magnitude(name) == name


@pytest.mark.parametrize("name", ["", "Voltage", "v", "power; DROP TABLE readings", "energy_kwh"])
def test_check_magnitude_refuses_anything_else(name: str) -> None:
    with pytest.raises(ValueError, match="unknown magnitude .* expected one of voltage"):
        check_magnitude(name)


def test_sorted_groups() -> None:
    series = np.array([2, 1, 2, 1, 1])
    bucket = np.array([5, 7, 5, 3, 7])
    order, starts = sorted_groups(series, bucket)
    assert order.tolist() == [3, 1, 4, 0, 2]  # stable: equal keys keep their order
    assert starts.tolist() == [0, 1, 3]
    assert np.add.reduceat(np.array([10, 20, 30, 40, 50])[order], starts).tolist() == [40, 70, 40]
    empty_order, empty_starts = sorted_groups(np.array([], dtype=np.int64))
    assert empty_order.size == 0 and empty_starts.size == 0
