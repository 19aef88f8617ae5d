"""InfluxStore's energy ledger end to end, through influxdb-client, against a model of InfluxDB.

The fake endpoint stores what is written with InfluxDB's rule (a field written again at the
same series and time keeps the last value) and answers the store's Flux from that state
(tests/fake_influx.py, InfluxModel). Whatever order readings arrive in, redeliveries, restarts,
glitches and refused writes included, the ledger points summed per quarter must be the energy
rules applied to every stored reading, and energy() must give them per period.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from enertrack.cli.main import main
from enertrack.core.energy import QUARTER_S, EnergyParams
from enertrack.core.reading import Reading
from enertrack.ingest.isolate import write_isolating
from enertrack.store.base import StoreRejected, WriteResult
from enertrack.store.influx.ledger import LEDGER_FIELD, LEDGER_MEASUREMENT
from enertrack.store.influx.store import InfluxStore
from tests.fake_influx import Answer, FakeInflux, InfluxModel, Request, error_answer, install_model, serve
from tests.store_contract import assert_energy_equal, energy_by_period, local_midnights, reference_energy

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
PARAMS = {"c": EnergyParams(interval_s=120, max_power_w=20_000.0), "w": EnergyParams(interval_s=10)}


def history(seed: int, hours: int = 36) -> list[Reading]:
    """A counter node with restarts, glitches and readings without it; a power-only node with gaps."""
    rng = random.Random(seed)
    out: list[Reading] = []
    energy = 500.0
    for i in range(hours * 30):
        ts = T0 + 600 + i * 120 + rng.randrange(0, 30)
        roll = rng.random()
        if roll < 0.02:
            energy = rng.uniform(0.0, 0.5)  # the meter restarted from zero
        elif roll < 0.03:
            out.append(Reading("c", ts, energy=energy + 500.0))  # a glitch
            continue
        elif roll < 0.06:
            out.append(Reading("c", ts, voltage=230.0))  # no counter in this one
            continue
        energy += rng.uniform(0.0, 0.1)
        out.append(Reading("c", ts, energy=round(energy, 6), power=rng.uniform(0, 3000)))
    t = T0 + 7
    while t < T0 + hours * 3600:
        t += rng.choice([10, 10, 10, 12, 25, 45, 1200])  # gaps longer than 3 intervals too
        out.append(Reading("w", t, power=rng.uniform(0.0, 4000.0)))
    return out


def ledger_by_quarter(model: InfluxModel) -> dict[tuple[str, int], float]:
    """The stored ledger summed per (node, quarter), quarters with no energy left out."""
    out: dict[tuple[str, int], float] = defaultdict(float)
    for (node, ts), kwh in model.field(LEDGER_MEASUREMENT, LEDGER_FIELD).items():
        out[(node, ts - ts % QUARTER_S)] += kwh
    return {key: kwh for key, kwh in out.items() if abs(kwh) > 1e-9}


@pytest.fixture
def fake() -> Iterator[FakeInflux]:
    yield from serve()


@pytest.fixture
def model(fake: FakeInflux) -> InfluxModel:
    return install_model(fake)


@pytest.fixture
def store(fake: FakeInflux, model: InfluxModel) -> Iterator[InfluxStore]:
    influx = InfluxStore(fake.url, "t", "o", "b", timeout_ms=5000)
    yield influx
    influx.close()


@pytest.mark.parametrize(("seed", "order"), [(1, "in order"), (2, "shuffled"), (3, "shuffled"), (4, "late day")])
def test_the_ledger_equals_the_rules_whatever_the_arrival_order(
    store: InfluxStore, model: InfluxModel, seed: int, order: str
) -> None:
    rng = random.Random(seed)
    data = history(seed)
    arrival = sorted(data, key=lambda r: r.ts) + rng.sample(data, 30)  # redeliveries too
    if order == "shuffled":
        rng.shuffle(arrival)
    elif order == "late day":  # the first day arrives after everything else, in small batches
        arrival = [r for r in arrival if r.ts >= T0 + DAY] + [r for r in arrival if r.ts < T0 + DAY]
    stored = duplicates = 0
    while arrival:
        size = rng.choice([1, 3, 20, 100, 400])
        result = store.write(arrival[:size], PARAMS)
        stored, duplicates = stored + result.stored, duplicates + result.duplicates
        arrival = arrival[size:]
    assert stored == len({(r.node_id, r.ts) for r in data}) and duplicates == 30
    assert_energy_equal(ledger_by_quarter(model), reference_energy(data, PARAMS, QUARTER_S))
    days = [T0 - DAY, T0, T0 + DAY, T0 + 2 * DAY]
    assert_energy_equal(energy_by_period(store.energy(["c", "w"], days)), reference_energy(data, PARAMS, DAY))
    quarters = list(range(T0, T0 + 2 * DAY, QUARTER_S))  # 192 periods, 1 run of windows
    assert_energy_equal(
        energy_by_period(store.energy(["c", "w"], quarters)), reference_energy(data, PARAMS, QUARTER_S)
    )


def test_energy_in_local_days_with_a_dst_change_and_many_runs(store: InfluxStore) -> None:
    # 1200 W every 60 s from 27 to 31 March 2026: Madrid's 29 March has 23 hours.
    start = local_midnights("Europe/Madrid", "2026-03-27", 4)
    store.write([Reading("k", start[0] + i * 60, power=1200.0) for i in range(4 * 24 * 60 + 1)], {"k": EnergyParams(60)})
    got = energy_by_period(store.energy(["k"], start))
    assert got == pytest.approx({("k", start[0]): 28.8, ("k", start[1]): 28.8, ("k", start[2]): 27.6,
                                 ("k", start[3]): 28.8}, abs=1e-9)
    hours = list(range(start[0], start[-1] + 1, 3600))  # 95 hours, one run
    assert sum(energy_by_period(store.energy(["k"], hours)).values()) == pytest.approx(1.2 * 95)


def test_energy_asks_for_at_most_32_runs_per_query(store: InfluxStore, fake: FakeInflux) -> None:
    store.write([Reading("k", T0 + i * 3600, energy=float(i)) for i in range(24 * 80)])
    # 79 days whose lengths alternate: every period is its own run, 79 runs -> 3 queries.
    bounds = [T0]
    for i in range(79):
        bounds.append(bounds[-1] + DAY + (900 if i % 2 == 0 else -900))
    before = len(fake.sent("/api/v2/query"))
    got = energy_by_period(store.energy(["k"], bounds))
    queries = [r.json()["query"] for r in fake.sent("/api/v2/query")[before:]]
    assert [q.count("aggregateWindow(") for q in queries] == [32, 32, 15]
    assert len(got) == 79 and sum(got.values()) == pytest.approx((bounds[-1] - T0) / 3600)


def test_a_late_reading_in_a_batch_is_looked_up_around_itself_only(
    store: InfluxStore, model: InfluxModel, fake: FakeInflux
) -> None:
    data = [Reading("m", T0 + i * 60, energy=1.0 + i / 1000) for i in range(60 * 24 * 3)]
    store.write([r for r in data if r.ts != T0 + 3600], {"m": EnergyParams(60)})
    late, now = data[60], Reading("m", T0 + 3 * DAY, energy=5.0)
    assert store.write([late, now], {"m": EnergyParams(60)}) == WriteResult(2, 0)
    query = fake.sent("/api/v2/query")[-1].json()["query"]
    spans = [tuple(map(int, m)) for m in re.findall(r"range\(start: (\d+), stop: (\d+)\)", query)]
    assert (T0 + 3600, T0 + 3601) in spans and (T0 + 3 * DAY, T0 + 3 * DAY + 1) in spans
    assert all(stop - start <= 1 for start, stop in spans if start > 0 and stop < 4_102_444_800)
    assert_energy_equal(ledger_by_quarter(model), reference_energy([*data, now], {"m": EnergyParams(60)}, QUARTER_S))


def test_a_partly_refused_write_leaves_a_ledger_of_what_was_stored(fake: FakeInflux) -> None:
    # InfluxDB stores the valid lines of a refused batch and answers 400 ("partial write"). The
    # ledger points sent with a refused reading would count it: the store mends them, and the
    # daemon's halving (write_isolating) stores everything else.
    model = install_model(fake)
    refusal = "partial write: field type conflict: input field \"power\" is type float, already exists as type integer"

    def partial(request: Request) -> Answer:
        lines = request.body.decode().split("\n")
        model.write("\n".join(line for line in lines if "power=666.0" not in line).encode())
        if len(lines) != len([line for line in lines if "power=666.0" not in line]):
            return error_answer(400, "invalid", refusal)
        return Answer(204)

    fake.respond("/api/v2/write", partial)
    store = InfluxStore(fake.url, "t", "o", "b")
    rng = random.Random(9)
    data = [Reading("p", T0 + i * 10, power=rng.uniform(100, 2000)) for i in range(400)]
    data[150] = Reading("p", data[150].ts, power=666.0)
    data[151] = Reading("p", data[151].ts, power=666.0)
    params = {"p": EnergyParams(10)}
    outcome = write_isolating(lambda batch: store.write(batch, params), data[:300])
    assert [r.index for r in outcome.refused] == [150, 151]
    assert all(isinstance(r.error, StoreRejected) and "field type conflict" in str(r.error) for r in outcome.refused)
    store.write(data[300:], params)
    stored = [r for i, r in enumerate(data) if i not in (150, 151)]
    assert_energy_equal(ledger_by_quarter(model), reference_energy(stored, params, QUARTER_S))
    store.close()


def test_without_the_pre_write_query_no_ledger_is_written(fake: FakeInflux, model: InfluxModel) -> None:
    store = InfluxStore(fake.url, "t", "o", "b", check_existing=False)
    store.write([Reading("m", T0, energy=1.0), Reading("m", T0 + 60, energy=1.1)])
    assert model.field(LEDGER_MEASUREMENT, LEDGER_FIELD) == {}
    assert [r.path for r in fake.requests] == ["/api/v2/write"]
    store.close()


def test_rebuild_writes_the_ledger_of_readings_stored_before_it(fake: FakeInflux, model: InfluxModel) -> None:
    data = history(5, hours=30)
    legacy = InfluxStore(fake.url, "t", "o", "b", check_existing=False)  # as before the ledger
    legacy.write(data, PARAMS)
    legacy.close()
    assert model.field(LEDGER_MEASUREMENT, LEDGER_FIELD) == {}
    store = InfluxStore(fake.url, "t", "o", "b", read_chunk_s=7 * 3600)  # several chunks a node
    written = {node: store.rebuild_ledger(node) for node in store.node_ids()}
    assert set(written) == {"c", "w"} and all(written.values())
    want = reference_energy(data, PARAMS, QUARTER_S)
    assert_energy_equal(ledger_by_quarter(model), want)
    assert store.rebuild_ledger("c") == written["c"]  # idempotent: the same points again
    assert_energy_equal(ledger_by_quarter(model), want)
    model.put(LEDGER_MEASUREMENT, "c", T0 + 5, {LEDGER_FIELD: 99.0})  # a stray point
    store.rebuild_ledger("c", replace=True)
    assert_energy_equal(ledger_by_quarter(model), want)
    assert store.rebuild_ledger("never-seen") == 0
    store.close()


def test_the_rebuild_command(fake: FakeInflux, model: InfluxModel, monkeypatch: pytest.MonkeyPatch) -> None:
    data = [Reading(node, T0 + 30 + i * 60, power=600.0) for node in ("a", "b") for i in range(121)]
    legacy = InfluxStore(fake.url, "t", "o", "b", check_existing=False)
    legacy.write(data, {"a": EnergyParams(60), "b": EnergyParams(60)})
    legacy.close()
    for name, value in {"ENERTRACK_STORE": "influx", "INFLUX_URL": fake.url, "INFLUX_TOKEN": "t",
                        "INFLUX_ORG": "o", "INFLUX_BUCKET": "b"}.items():
        monkeypatch.setenv(name, value)
    done = CliRunner().invoke(main, ["influx", "rebuild-ledger", "--all"])
    assert done.exit_code == 0, done.output
    # 120 pairs over two hours, 8 of them across a quarter boundary: 128 pieces a node
    assert done.output.splitlines() == ["a\t128 ledger points", "b\t128 ledger points"]
    assert sum(ledger_by_quarter(model).values()) == pytest.approx(2 * 0.01 * 120)
    refused = CliRunner().invoke(main, ["influx", "rebuild-ledger"])
    assert refused.exit_code == 2 and "--node ID" in refused.output


def test_the_rebuild_command_refuses_the_sqlite_store(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setenv("ENERTRACK_STORE", "sqlite")
    monkeypatch.setenv("ENERTRACK_TSDB_PATH", str(tmp_path / "t.sqlite3"))
    done = CliRunner().invoke(main, ["influx", "rebuild-ledger", "--node", "a"])
    assert done.exit_code == 2 and "not InfluxDB" in done.output


def test_deleting_a_node_deletes_its_ledger(store: InfluxStore, model: InfluxModel, fake: FakeInflux) -> None:
    store.write([Reading("m", T0 + i * 60, energy=1.0 + i / 100) for i in range(10)])
    store.write([Reading("k", T0 + i * 60, energy=1.0 + i / 100) for i in range(10)])
    assert store.delete_node("m") == 10
    assert {node for node, _ in model.field(LEDGER_MEASUREMENT, LEDGER_FIELD)} == {"k"}
    assert [r.json()["predicate"] for r in fake.sent("/api/v2/delete")] == [
        '_measurement="energy" AND node_id="m"',
        '_measurement="energy_ledger" AND node_id="m"',
    ]


def test_a_batch_scattered_over_time_asks_in_several_bounded_queries(
    store: InfluxStore, model: InfluxModel, fake: FakeInflux
) -> None:
    data = [Reading("m", T0 + i * 60, energy=1.0 + i / 1000) for i in range(60 * 24 * 2)]
    store.write(data[::2], {"m": EnergyParams(60)})
    scattered = data[1::24]  # 120 readings an hour apart, each its own cluster
    before = len(fake.sent("/api/v2/query"))
    assert store.write(scattered, {"m": EnergyParams(60)}) == WriteResult(120, 0)
    queries = [r.json()["query"] for r in fake.sent("/api/v2/query")[before:]]
    assert [q.count('yield(name: "in') for q in queries] == [50, 50, 20]
    assert len(fake.sent("/api/v2/write")) == 2  # still one write for the batch
    assert_energy_equal(ledger_by_quarter(model), reference_energy(data[::2] + scattered, {"m": EnergyParams(60)}, QUARTER_S))
