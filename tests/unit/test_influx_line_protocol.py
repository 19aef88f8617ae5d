"""Line protocol rendering for InfluxStore: the exact text of every line it writes."""

from __future__ import annotations

import math

import pytest

from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.store.base import StoreRejected
from enertrack.store.influx.ledger import LedgerPoint
from enertrack.store.influx.line_protocol import (
    escape_tag,
    format_float,
    render_batch,
    render_ledger,
    render_reading,
)

TS = 1_700_000_000


@pytest.mark.parametrize(
    ("node_id", "escaped"),
    [
        ("node-1", "node-1"),
        ("casa norte", r"casa\ norte"),
        ("a,b", r"a\,b"),
        ("k=v", r"k\=v"),
        ("a b,c=d", r"a\ b\,c\=d"),
        (r"back\slash", r"back\slash"),  # InfluxDB keeps a backslash before an ordinary character
        ("ñandú", "ñandú"),
    ],
)
def test_tag_values_are_escaped(node_id: str, escaped: str) -> None:
    assert escape_tag(node_id) == escaped


@pytest.mark.parametrize("node_id", ["", "two\nlines", "cr\rhere", "ends\\"])
def test_unwritable_node_ids_are_rejected_with_a_reason(node_id: str) -> None:
    with pytest.raises(StoreRejected, match="node id|empty"):
        render_reading(Reading(node_id, TS, voltage=230.0))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (230.0, "230.0"),
        (230, "230.0"),  # an int must still be a float field, never 230i
        (0.1, "0.1"),
        (-0.98, "-0.98"),
        (1e-05, "1e-05"),
        (12345678.123456789, "12345678.12345679"),
        (1e16, "1e+16"),
        (True, "1.0"),
    ],
)
def test_floats_round_trip_and_stay_floats(value: float, text: str) -> None:
    assert format_float(value) == text
    assert float(text) == float(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_have_no_text(value: float) -> None:
    assert format_float(value) is None


def test_a_full_reading_renders_every_field_in_table_order() -> None:
    reading = Reading(
        "n1",
        TS,
        voltage=230.1,
        current=1.25,
        power=287.5,
        energy=12.5,
        power_factor=0.95,
        frequency=50.01,
    )
    assert render_reading(reading) == (
        "energy,node_id=n1 voltage=230.1,current=1.25,power=287.5,energy=12.5,"
        "power_factor=0.95,frequency=50.01 1700000000"
    )


def test_missing_and_non_finite_fields_are_omitted() -> None:
    reading = Reading("n1", TS, voltage=math.nan, current=None, power=100.0, frequency=math.inf)
    assert render_reading(reading) == "energy,node_id=n1 power=100.0 1700000000"


def test_a_reading_without_finite_fields_is_not_written() -> None:
    assert render_reading(Reading("n1", TS)) is None
    assert render_reading(Reading("n1", TS, voltage=math.nan, energy=-math.inf)) is None


def test_rule_knobs_ride_on_energy_and_power_points_only() -> None:
    knobs = EnergyParams(interval_s=60, max_power_w=5000.0)
    assert render_reading(Reading("n1", TS, energy=3.5), knobs) == (
        "energy,node_id=n1 energy=3.5,rule_interval_s=60.0,rule_max_power_w=5000.0 1700000000"
    )
    assert (
        render_reading(Reading("n1", TS, voltage=230.0), knobs)
        == "energy,node_id=n1 voltage=230.0 1700000000"
    )
    assert render_reading(Reading("n1", TS, voltage=230.0, power=math.nan), knobs) == (
        "energy,node_id=n1 voltage=230.0 1700000000"
    )


def test_batch_keeps_the_first_reading_per_node_and_second_and_counts_the_rest() -> None:
    batch = render_batch(
        [
            Reading("n1", TS, voltage=230.0),
            Reading("n1", TS, voltage=999.0, power=1.0),  # redelivered or clashing: dropped
            Reading("n2", TS, voltage=231.0),
            Reading("n1", TS + 1, voltage=math.nan),  # nothing finite: not written, not stored
            Reading("n1", TS + 2, voltage=229.0),
        ],
        {"n1": EnergyParams(10, 30_000.0)},
    )
    assert batch.body == (
        b"energy,node_id=n1 voltage=230.0 1700000000\n"
        b"energy,node_id=n2 voltage=231.0 1700000000\n"
        b"energy,node_id=n1 voltage=229.0 1700000002"
    )
    assert (batch.stored, batch.duplicates, batch.empty) == (3, 1, 1)


def test_an_empty_batch_has_an_empty_body() -> None:
    batch = render_batch([Reading("n1", TS)])
    assert batch.body == b""
    assert (batch.stored, batch.duplicates, batch.empty) == (0, 0, 1)


def test_non_ascii_node_ids_are_sent_as_utf8() -> None:
    assert (
        render_batch([Reading("ñandú", TS, power=1.0)]).body
        == "energy,node_id=ñandú power=1.0 1700000000".encode()
    )


def test_the_batch_names_the_readings_it_wrote_in_order() -> None:
    first, empty, repeat, other = (
        Reading("n", TS, power=1.0),
        Reading("n", TS + 1),
        Reading("n", TS, power=2.0),
        Reading("m", TS, energy=3.0),
    )
    assert render_batch([first, empty, repeat, other]).readings == (first, other)


def test_ledger_points_are_one_float_field_at_their_stamp() -> None:
    body = render_ledger([LedgerPoint("casa norte", TS, 0.125), LedgerPoint("n", TS + 900, 0)])
    assert body == (
        b"energy_ledger,node_id=casa\\ norte kwh=0.125 1700000000\n"
        b"energy_ledger,node_id=n kwh=0.0 1700000900"
    )
    assert render_ledger([]) == b""
    with pytest.raises(ValueError, match="not a finite number"):
        render_ledger([LedgerPoint("n", TS, math.nan)])
