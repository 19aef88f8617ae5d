"""Readings sent without ts: each gets its own second, so a burst of them is stored in full."""

from __future__ import annotations

import json

import pytest

from enertrack.core.reading import Reading
from enertrack.ingest.arrival import ArrivalSeconds
from enertrack.ingest.batcher import Inbound, plan_batch
from enertrack.ingest.payload import Reason

NOW = 1_750_000_000.6


def untimed(mid: int, node: str = "n1", at: float = NOW, retained: bool = False) -> Inbound:
    return Inbound(mid, f"enertrack/{node}/telemetry", json.dumps({"p": mid}).encode(), at, retained, 1, 1)


def timed(mid: int, ts: int, node: str = "n1") -> Inbound:
    return Inbound(mid, f"enertrack/{node}/telemetry", json.dumps({"ts": ts, "p": mid}).encode(), NOW, False, 1, 1)


def known(_node_id: str) -> bool:
    return True


@pytest.mark.parametrize(("arrivals", "expected"), [
    # (node, received_at) in order -> the seconds given
    ([("n1", NOW)], [1_750_000_000]),
    ([("n1", NOW), ("n1", NOW), ("n1", NOW + 0.3)], [1_750_000_000, 1_750_000_001, 1_750_000_002]),
    ([("n1", NOW), ("n1", NOW + 5)], [1_750_000_000, 1_750_000_005]),  # the clock moved on: no gap kept
    ([("n1", NOW), ("n2", NOW), ("n1", NOW)], [1_750_000_000, 1_750_000_000, 1_750_000_001]),  # per node
    ([("n1", NOW), ("n1", NOW), ("n1", NOW + 1)], [1_750_000_000, 1_750_000_001, 1_750_000_002]),
    ([("n1", NOW + 10), ("n1", NOW)], [1_750_000_010, 1_750_000_011]),  # never backwards
])
def test_each_untimed_reading_gets_a_strictly_increasing_second_per_node(
    arrivals: list[tuple[str, float]], expected: list[int]
) -> None:
    clock = ArrivalSeconds()
    assert [clock.assign(node, at) for node, at in arrivals] == expected


def test_a_node_not_seen_yet_continues_after_where_first_seen_says() -> None:
    asked: list[str] = []

    def newest_stored(node_id: str) -> int | None:
        asked.append(node_id)
        return {"n1": int(NOW) + 40}.get(node_id)

    clock = ArrivalSeconds(newest_stored)
    assert clock.assign("n1", NOW) == int(NOW) + 41  # a previous run stamped up to +40
    assert clock.assign("n1", NOW) == int(NOW) + 42
    assert clock.assign("n2", NOW) == int(NOW)
    assert asked == ["n1", "n2"]  # once per node


def test_a_copy_is_independent_so_a_retried_batch_gets_the_same_seconds() -> None:
    clock = ArrivalSeconds()
    clock.assign("n1", NOW)
    attempt = clock.copy()
    assert attempt.assign("n1", NOW) == int(NOW) + 1
    assert clock.last("n1") == int(NOW)
    assert clock.copy().assign("n1", NOW) == int(NOW) + 1


def test_a_backlog_burst_of_untimed_readings_is_kept_in_full_and_none_is_a_duplicate() -> None:
    # A node reconnecting flushes its buffer: 500 messages without ts, all received in one second.
    burst = [untimed(mid) for mid in range(500)]
    plan = plan_batch(burst, "enertrack", known, ArrivalSeconds())
    assert plan.duplicates_in_batch == 0 and plan.untimed == 500
    assert [r.ts for r in plan.readings] == list(range(int(NOW), int(NOW) + 500))
    assert [r.power for r in plan.readings] == [float(mid) for mid in range(500)]


def test_the_next_batch_continues_where_the_last_one_stopped() -> None:
    arrivals = ArrivalSeconds()
    first = plan_batch([untimed(1), untimed(2)], "enertrack", known, arrivals)
    second = plan_batch([untimed(3, at=NOW + 1)], "enertrack", known, arrivals)
    assert [r.ts for r in first.readings + second.readings] == [int(NOW), int(NOW) + 1, int(NOW) + 2]


def test_an_untimed_reading_skips_a_second_a_timed_reading_of_the_batch_holds() -> None:
    plan = plan_batch([timed(1, int(NOW)), untimed(2), timed(3, int(NOW)), untimed(4, node="n2")],
                      "enertrack", known, ArrivalSeconds())
    assert plan.readings == [Reading("n1", int(NOW), power=1.0), Reading("n1", int(NOW) + 1, power=2.0),
                             Reading("n2", int(NOW), power=4.0)]
    assert plan.duplicates_in_batch == 1 and plan.untimed == 2  # only the repeated timed one


def test_retained_telemetry_is_dead_lettered_not_stored() -> None:
    plan = plan_batch([untimed(1, retained=True), untimed(2)], "enertrack", known, ArrivalSeconds())
    assert [r.power for r in plan.readings] == [2.0]
    assert [d.rejection.reason for d in plan.dead_letters] == [Reason.RETAINED]
    assert "without retain" in plan.dead_letters[0].rejection.message
