"""ReadingColumns: arrays of one node's readings that any store takes as a Sequence[Reading]."""

from __future__ import annotations

import numpy as np
import pytest

from enertrack.core.columns import ReadingColumns
from enertrack.core.magnitudes import NAMES
from enertrack.core.reading import Reading


def columns(ts: list[int], power: list[float]) -> ReadingColumns:
    values = {name: np.full(len(ts), 1.0) for name in NAMES}
    values["power"] = np.array(power, dtype=np.float64)
    return ReadingColumns("n1", np.array(ts, dtype=np.int64), **values)


def test_it_is_a_sequence_of_readings() -> None:
    batch = columns([10, 20, 30], [1.5, 2.5, 3.5])
    assert len(batch) == 3
    assert batch[1] == Reading("n1", 20, 1.0, 1.0, 2.5, 1.0, 1.0, 1.0)
    assert [r.ts for r in batch] == [10, 20, 30]
    assert [r.ts for r in batch[1:]] == [20, 30]
    assert batch.readings() is batch.readings()  # made once


def test_nan_is_a_magnitude_the_reading_lacks() -> None:
    batch = columns([10, 20], [np.nan, 4.0])
    assert batch[0].power is None and "power" not in batch[0].values()
    assert batch[1].power == 4.0


def test_matrix_follows_the_magnitudes_table() -> None:
    batch = columns([10, 20], [5.0, 6.0])
    assert batch.matrix().shape == (2, len(NAMES))
    np.testing.assert_array_equal(batch.matrix()[:, NAMES.index("power")], [5.0, 6.0])


@pytest.mark.parametrize("ts", [[10, 10], [20, 10]])
def test_timestamps_must_increase(ts: list[int]) -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        columns(ts, [1.0, 2.0])


def test_columns_must_have_one_value_per_timestamp() -> None:
    with pytest.raises(ValueError, match="one value per timestamp"):
        columns([10, 20, 30], [1.0, 2.0])
