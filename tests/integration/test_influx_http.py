"""InfluxStore through the real influxdb-client against a scripted local HTTP endpoint.

The endpoint records what the client sent (line protocol bytes, Flux text and parameters,
delete predicates) and answers with annotated CSV written as InfluxData documents it
(docs.influxdata.com, "Annotated CSV": #datatype/#group/#default rows, a header row, one
block per table shape, CRLF line ends) or with the HTTP errors InfluxDB gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pandas as pd
import pytest

from enertrack.core.energy import EnergyParams
from enertrack.core.reading import Reading
from enertrack.store.base import (
    ENERGY_COLUMNS,
    SERIES_COLUMNS,
    Extreme,
    RangeSummary,
    StoreRejected,
    StoreUnavailable,
    WriteResult,
)
from enertrack.store.influx.store import InfluxStore
from tests.fake_influx import Answer, FakeInflux, csv_answer, error_answer, flux_params, serve
from tests.services import free_port

T = 1_700_000_000  # 2023-11-14T22:13:20Z
WRITE = "/api/v2/write"
QUERY = "/api/v2/query"
DELETE = "/api/v2/delete"
NO_ROWS = Answer(200, b"\r\n", {"Content-Type": "text/csv; charset=utf-8"})


def epoch(iso: str) -> int:
    """Epoch seconds of an RFC 3339 instant, computed apart from the store's parsing."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


@pytest.fixture
def fake() -> Iterator[FakeInflux]:
    yield from serve()


@pytest.fixture
def store(fake: FakeInflux) -> Iterator[InfluxStore]:
    influx = InfluxStore(fake.url, "secret-token", "acme", "telemetry", timeout_ms=2000)
    yield influx
    influx.close()


# -- writes --------------------------------------------------------------------------------------


def test_write_sends_the_exact_line_protocol_in_one_synchronous_request(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, NO_ROWS)
    fake.answer(WRITE, Answer(204))
    readings = [
        Reading("casa norte,1", T, voltage=230.1, current=1.25, power=287.5, energy=12.5),
        Reading("k=v", T + 10, power_factor=0.95, frequency=50.0),
    ]
    result = store.write(
        readings, {"casa norte,1": EnergyParams(interval_s=60, max_power_w=5000.0)}
    )
    assert result == WriteResult(stored=2, duplicates=0)
    [sent] = fake.sent(WRITE)
    assert sent.body == (
        b"energy,node_id=casa\\ norte\\,1 voltage=230.1,current=1.25,power=287.5,energy=12.5,"
        b"rule_interval_s=60.0,rule_max_power_w=5000.0 1700000000\n"
        b"energy,node_id=k\\=v power_factor=0.95,frequency=50.0 1700000010"
    )
    assert sent.query == {"org": ["acme"], "bucket": ["telemetry"], "precision": ["s"]}
    assert sent.headers["authorization"] == "Token secret-token"
    assert sent.headers["content-type"].startswith("text/plain")


# The pre-write query's answer for a batch around 22:13:20: n1 already has a reading at T (voltage
# only, pivoted into one row); the readings just before and after the batch carry energy.
STORED_AROUND_CSV = """
#datatype,string,long,dateTime:RFC3339,string,double
#group,false,false,false,true,false
#default,in0,,,,
,result,table,_time,node_id,voltage
,,0,2023-11-14T22:13:20Z,n1,230.5

#datatype,string,long,dateTime:RFC3339,double,string,string
#group,false,false,false,false,true,true
#default,before0,,,,,
,result,table,_time,_value,_field,node_id
,,0,2023-11-14T22:03:20Z,100,energy,n1
,,1,2023-11-14T22:03:20Z,60,rule_interval_s,n1
,,2,2023-11-14T22:03:20Z,30000,rule_max_power_w,n1

#datatype,string,long,dateTime:RFC3339,double,string,string
#group,false,false,false,false,true,true
#default,after0,,,,,
,result,table,_time,_value,_field,node_id
,,0,2023-11-14T22:23:20Z,101,energy,n1
"""


def test_readings_already_stored_are_not_sent_again(fake: FakeInflux, store: InfluxStore) -> None:
    fake.answer(QUERY, csv_answer(STORED_AROUND_CSV))
    fake.answer(WRITE, Answer(204))
    result = store.write(
        [
            Reading("n1", T, voltage=1.0),
            Reading("n1", T + 10, voltage=2.0),
            Reading("n2", T, voltage=3.0),
            Reading("n1", T + 10, voltage=9.0),
        ]
    )
    assert result == WriteResult(stored=2, duplicates=2)
    assert (
        fake.sent(WRITE)[0].body
        == b"energy,node_id=n1 voltage=2.0 1700000010\nenergy,node_id=n2 voltage=3.0 1700000000"
    )
    [asked] = fake.sent(QUERY)
    body = asked.json()
    assert "range(start: 1700000000, stop: 1700000011)" in body["query"]
    assert flux_params(body) == {
        "p_bucket": "telemetry",
        "p_measurement": "energy",
        "p_node0": "n1",
        "p_node1": "n2",
        "p_field0": "energy",
        "p_field1": "power",
        "p_field2": "rule_interval_s",
        "p_field3": "rule_max_power_w",
    }


def test_a_batch_entirely_stored_already_sends_no_write(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, csv_answer(STORED_AROUND_CSV.split("\n\n")[0]))
    assert store.write([Reading("n1", T, voltage=1.0)]) == WriteResult(stored=0, duplicates=1)
    assert fake.sent(WRITE) == []


def test_energy_readings_are_sent_with_their_ledger_points_in_the_same_request(
    fake: FakeInflux, store: InfluxStore
) -> None:
    # Stored: 100 kWh at 22:03:20 (before the batch), 101 kWh at 22:23:20 (after it). A reading of
    # 100.4 kWh arrives at 22:13:30: the pairs before -> it and it -> after replace the old pair.
    fake.answer(QUERY, csv_answer(STORED_AROUND_CSV))
    fake.answer(WRITE, Answer(204))
    result = store.write([Reading("n1", T + 10, energy=100.4)], {"n1": EnergyParams(60)})
    assert result == WriteResult(stored=1, duplicates=0)
    [sent] = fake.sent(WRITE)
    lines = sent.body.decode().split("\n")
    assert lines[0] == (
        "energy,node_id=n1 energy=100.4,rule_interval_s=60.0,rule_max_power_w=30000.0 1700000010"
    )
    # 22:03:20 -> 22:13:30 holds 0.4 kWh over 610 s, cut at 22:15:00 (1700000100); then 0.6 kWh
    # from 22:13:30 to 22:23:20 (590 s), cut at 22:15:00 too: 90 s and 500 s of it.
    ledger = [line.split(" ") for line in lines[1:]]
    assert [(key, int(ts)) for key, _, ts in ledger] == [
        ("energy_ledger,node_id=n1", 1_700_000_000 - 600),
        ("energy_ledger,node_id=n1", 1_700_000_010),
        ("energy_ledger,node_id=n1", 1_700_000_100),
    ]
    kwh = [float(value.removeprefix("kwh=")) for _, value, _ in ledger]
    assert kwh == pytest.approx([0.4, 0.6 * 90 / 590, 0.6 * 500 / 590], abs=1e-12)
    assert len(fake.sent(QUERY)) == 1  # one round trip before the write


def test_a_refused_write_is_followed_by_a_repair_of_the_ledger(
    fake: FakeInflux, store: InfluxStore
) -> None:
    # The batch is refused (400, InfluxDB may have kept part of it); a second look at what is
    # stored finds neither new reading, so the pair before -> after is written again and the
    # stamps the refused batch used get 0.
    fake.answer(QUERY, csv_answer(STORED_AROUND_CSV), csv_answer(STORED_AROUND_CSV))
    fake.answer(WRITE, error_answer(400, "invalid", "partial write: field type conflict"), Answer(204))
    with pytest.raises(StoreRejected, match="field type conflict"):
        store.write([Reading("n1", T + 10, energy=100.4)])
    first, repair = fake.sent(WRITE)
    assert len(fake.sent(QUERY)) == 2  # what is stored now, asked again after the refusal
    assert first.body.count(b"energy_ledger") == 3
    assert repair.body.decode().split("\n") == [
        f"energy_ledger,node_id=n1 kwh={1.0 * 700 / 1200!r} 1699999400",
        f"energy_ledger,node_id=n1 kwh={1.0 * 500 / 1200!r} 1700000100",
        "energy_ledger,node_id=n1 kwh=0.0 1700000010",
    ]


def test_an_empty_batch_sends_nothing(fake: FakeInflux, store: InfluxStore) -> None:
    assert store.write([]) == WriteResult(stored=0, duplicates=0)
    assert fake.requests == []


WRITE_FAILURES = [
    (
        error_answer(500, "internal error", "engine: cache-max-memory-size exceeded"),
        StoreUnavailable,
        "500.*cache-max-memory-size",
    ),
    (
        error_answer(503, "unavailable", "too many requests in flight", **{"Retry-After": "30"}),
        StoreUnavailable,
        "503",
    ),
    (
        error_answer(429, "too many requests", "org exceeded write limit"),
        StoreUnavailable,
        "429.*write limit",
    ),
    (error_answer(401, "unauthorized", "unauthorized access"), StoreUnavailable, "INFLUX_TOKEN"),
    (
        error_answer(404, "not found", 'bucket "telemetry" not found'),
        StoreUnavailable,
        "INFLUX_BUCKET",
    ),
    (
        error_answer(
            400,
            "invalid",
            "partial write: unable to parse 'energy,node_id=n1 voltage=x': invalid number",
        ),
        StoreRejected,
        "400.*unable to parse",
    ),
    (
        error_answer(413, "request too large", "unable to read data: points batch is too large"),
        StoreRejected,
        "413",
    ),
    (
        error_answer(
            422,
            "unprocessable entity",
            "failure writing points to database: partial write: points beyond "
            "retention policy dropped=1",
        ),
        StoreRejected,
        "422.*retention",
    ),
    # Not InfluxDB's error JSON (a reverse proxy's page), or a 4xx InfluxDB does not give for
    # data: the readings may be fine, so the batch is held, never dead-lettered.
    (
        Answer(400, b"<html>\r\n<h1>400 Bad Request</h1>\r\n</html>", {"Content-Type": "text/html"}),
        StoreUnavailable,
        "400.*not an InfluxDB refusal.*<html> <h1>400 Bad Request</h1> </html>.*INFLUX_URL",
    ),
    (Answer(413, b"", {}), StoreUnavailable, "413.*not an InfluxDB refusal"),
    (
        Answer(422, b'{"error": "unprocessable"}', {"Content-Type": "application/json"}),
        StoreUnavailable,
        "422.*not an InfluxDB refusal",
    ),
    (error_answer(405, "method not allowed", "allowed: GET"), StoreUnavailable, "405.*allowed: GET"),
    (error_answer(409, "conflict", "write conflict"), StoreUnavailable, "409.*INFLUX_URL"),
]


@pytest.mark.parametrize(("answer", "error", "message"), WRITE_FAILURES)
def test_a_refused_write_raises_and_is_never_reported_stored(
    fake: FakeInflux, store: InfluxStore, answer: Answer, error: type[Exception], message: str
) -> None:
    fake.answer(QUERY, NO_ROWS)
    fake.answer(WRITE, answer)
    with pytest.raises(error, match=message):
        store.write([Reading("n1", T, voltage=230.0)])
    assert len(fake.sent(WRITE)) == 1  # no hidden retries: the daemon owns the retry loop


def test_a_refused_duplicate_check_holds_the_batch_instead_of_blaming_its_readings(
    fake: FakeInflux, store: InfluxStore
) -> None:
    # victoria-metrics answers every Flux query 400: that says nothing about the readings, so
    # it must not be StoreRejected (which the daemon dead-letters) but a condition to fix.
    fake.answer(QUERY, error_answer(400, "invalid", "unsupported path requested: '/api/v2/query'"))
    with pytest.raises(StoreUnavailable, match="400.*INFLUX_CHECK_EXISTING=false"):
        store.write([Reading("n1", T, voltage=230.0)])
    assert fake.sent(WRITE) == []


def test_the_retried_batch_is_sent_again_byte_for_byte(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, NO_ROWS)
    fake.answer(WRITE, error_answer(503, "unavailable", "restarting"), Answer(204))
    batch = [Reading("n1", T, voltage=230.0), Reading("n1", T + 10, energy=1.5)]
    with pytest.raises(StoreUnavailable):
        store.write(batch)
    assert store.write(batch) == WriteResult(stored=2, duplicates=0)
    first, second = fake.sent(WRITE)
    assert first.body == second.body


def test_connection_refused_is_unavailable() -> None:
    store = InfluxStore(f"http://127.0.0.1:{free_port()}", "t", "o", "b", timeout_ms=1000)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        store.write([Reading("n1", T, voltage=230.0)])
    with pytest.raises(StoreUnavailable, match="unreachable"):
        store.latest(["n1"])
    store.close()


def test_a_server_that_does_not_answer_in_time_is_unavailable(fake: FakeInflux) -> None:
    store = InfluxStore(fake.url, "t", "o", "b", timeout_ms=300, check_existing=False)
    fake.answer(WRITE, Answer(204, delay_s=2.0))
    with pytest.raises(StoreUnavailable, match="unreachable.*(?i:timed out|timeout)"):
        store.write([Reading("n1", T, voltage=230.0)])
    store.close()


def test_without_the_existence_check_a_write_is_one_request(fake: FakeInflux) -> None:
    store = InfluxStore(fake.url, "t", "o", "b", check_existing=False)
    fake.answer(WRITE, Answer(204))
    assert store.write(
        [Reading("n1", T, voltage=1.0), Reading("n1", T, voltage=2.0)]
    ) == WriteResult(1, 1)
    assert [r.path for r in fake.requests] == [WRITE]
    store.close()


# -- queries -------------------------------------------------------------------------------------

SERIES_CSV = """
#datatype,string,long,dateTime:RFC3339,double
#group,false,false,false,false
#default,min,,,
,result,table,_time,_value
,,0,2023-11-14T22:13:30Z,228.5
,,0,2023-11-14T22:14:00Z,229.1
,,0,2023-11-14T22:20:00Z,230

#datatype,string,long,dateTime:RFC3339,double
#group,false,false,false,false
#default,max,,,
,result,table,_time,_value
,,0,2023-11-14T22:13:30Z,231
,,0,2023-11-14T22:14:00Z,250.5
,,0,2023-11-14T22:20:00Z,230

#datatype,string,long,dateTime:RFC3339,double
#group,false,false,false,false
#default,mean,,,
,result,table,_time,_value
,,0,2023-11-14T22:13:30Z,229.75
,,0,2023-11-14T22:14:00Z,235.3
,,0,2023-11-14T22:20:00Z,230

#datatype,string,long,dateTime:RFC3339,long
#group,false,false,false,false
#default,count,,,
,result,table,_time,_value
,,0,2023-11-14T22:13:30Z,2
,,0,2023-11-14T22:14:00Z,3
,,0,2023-11-14T22:20:00Z,1
"""


def test_series_parses_the_four_aggregates_into_epoch_aligned_buckets(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, csv_answer(SERIES_CSV))
    start = T + 10  # 22:13:30, not a multiple of the 60 s width: the first window is clipped
    got = store.series("n1", "voltage", start, start + 86_400)
    want = pd.DataFrame(
        {
            "ts": [
                epoch("2023-11-14T22:13:00Z"),
                epoch("2023-11-14T22:14:00Z"),
                epoch("2023-11-14T22:20:00Z"),
            ],
            "min": [228.5, 229.1, 230.0],
            "max": [231.0, 250.5, 230.0],
            "mean": [229.75, 235.3, 230.0],
            "count": [2, 3, 1],
        }
    )
    pd.testing.assert_frame_equal(got, want[SERIES_COLUMNS])
    body = fake.sent(QUERY)[0].json()
    assert body["query"].count("aggregateWindow(every: 60s") == 4
    assert body["dialect"]["annotations"] == ["datatype", "group", "default"]
    assert flux_params(body)["p_field0"] == "voltage"


def test_series_without_rows_is_an_empty_frame_with_the_columns(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, NO_ROWS)
    got = store.series("n1", "power", T, T + 3600)
    assert list(got.columns) == SERIES_COLUMNS and got.empty


# The order of the annotation rows is the documentation's example here (#group first).
SUMMARY_CSV = """
#group,false,false,false,false
#datatype,string,long,dateTime:RFC3339,double
#default,min,,,
,result,table,_time,_value
,,0,2023-11-14T22:13:45Z,190.25

#group,false,false,false,false
#datatype,string,long,dateTime:RFC3339,double
#default,max,,,
,result,table,_time,_value
,,0,2023-11-15T03:20:07Z,251.5

#group,false,false,false,false
#datatype,string,long,dateTime:RFC3339,double
#default,last,,,
,result,table,_time,_value
,,0,2023-11-15T22:12:00Z,230
"""


def test_summary_reads_min_max_and_last_with_their_seconds(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, csv_answer(SUMMARY_CSV))
    got = store.summary("n1", "voltage", T, T + 86_400)
    assert got == RangeSummary(
        Extreme(190.25, epoch("2023-11-14T22:13:45Z")),
        Extreme(251.5, epoch("2023-11-15T03:20:07Z")),
        Extreme(230.0, epoch("2023-11-15T22:12:00Z")),
    )


def test_summary_of_nothing(fake: FakeInflux, store: InfluxStore) -> None:
    fake.answer(QUERY, NO_ROWS)
    assert store.summary("n1", "voltage", T, T + 60) == RangeSummary(None, None, None)


LATEST_CSV = """
#datatype,string,long,dateTime:RFC3339,double,string,string
#group,false,false,false,false,true,true
#default,_result,,,,,
,result,table,_time,_value,_field,node_id
,,0,2023-11-14T22:13:20Z,12.5,energy,casa norte
,,1,2023-11-14T22:13:30Z,287.5,power,casa norte
,,2,2023-11-14T22:13:30Z,60,rule_interval_s,casa norte
,,3,2023-11-14T22:13:30Z,230.1,voltage,casa norte
,,4,2023-11-14T22:10:00Z,1.25,current,n2
"""


def test_latest_rebuilds_the_newest_reading_from_each_fields_last_value(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, csv_answer(LATEST_CSV))
    got = store.latest(["casa norte", "n2", "never-seen"])
    assert got == {
        "casa norte": Reading("casa norte", T + 10, voltage=230.1, power=287.5),  # energy is older
        "n2": Reading("n2", epoch("2023-11-14T22:10:00Z"), current=1.25),
    }
    body = fake.sent(QUERY)[0].json()
    assert "|> last()" in body["query"]
    assert [flux_params(body)[f"p_node{i}"] for i in range(3)] == ["casa norte", "n2", "never-seen"]


def test_latest_of_no_nodes_asks_nothing(fake: FakeInflux, store: InfluxStore) -> None:
    assert store.latest([]) == {}
    assert fake.requests == []


READINGS_CSV = """
#datatype,string,long,dateTime:RFC3339,string,double,double,double
#group,false,false,false,true,false,false,false
#default,_result,,,,,,
,result,table,_time,node_id,current,power,voltage
,,0,2023-11-14T22:13:20Z,n1,1.25,287.5,230.1
,,0,2023-11-14T22:13:30Z,n1,,,231
,,0,2023-11-14T22:13:40Z,n1,1.5,,
"""

READINGS_CSV_2 = """
#datatype,string,long,dateTime:RFC3339,string,double,double,double
#group,false,false,false,true,false,false,false
#default,_result,,,,,,
,result,table,_time,node_id,energy,rule_interval_s,rule_max_power_w
,,0,2023-11-14T22:30:00Z,n1,12.75,10,30000
"""


def test_readings_are_pivoted_rows_fetched_chunk_by_chunk(fake: FakeInflux) -> None:
    store = InfluxStore(fake.url, "t", "o", "b", read_chunk_s=900)
    fake.answer(QUERY, csv_answer(READINGS_CSV), csv_answer(READINGS_CSV_2))
    got = list(store.readings("n1", T, T + 1800))
    assert got == [
        Reading("n1", T, voltage=230.1, current=1.25, power=287.5),
        Reading("n1", T + 10, voltage=231.0),
        Reading("n1", T + 20, current=1.5),
        Reading("n1", epoch("2023-11-14T22:30:00Z"), energy=12.75),
    ]
    texts = [r.json()["query"] for r in fake.sent(QUERY)]
    assert "range(start: 1700000000, stop: 1700000900)" in texts[0]
    assert "range(start: 1700000900, stop: 1700001800)" in texts[1]
    assert all("pivot(" in text and 'sort(columns: ["_time"])' in text for text in texts)
    store.close()


BOUNDS_CSV = """
#datatype,string,long,dateTime:RFC3339,string
#group,false,false,false,true
#default,first,,,
,result,table,_time,_field
,,0,2023-11-14T22:13:30Z,current
,,1,2023-11-14T22:13:20Z,voltage

#datatype,string,long,dateTime:RFC3339,string
#group,false,false,false,true
#default,last,,,
,result,table,_time,_field
,,0,2023-11-14T22:13:40Z,current
,,1,2023-11-14T22:13:30Z,voltage
"""


def test_readings_without_bounds_ask_for_the_nodes_time_span_first(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, csv_answer(BOUNDS_CSV), csv_answer(READINGS_CSV))
    assert [r.ts for r in store.readings("n1")] == [T, T + 10, T + 20]
    bounds, chunk = (r.json()["query"] for r in fake.sent(QUERY))
    assert "|> first()" in bounds and "|> last()" in bounds
    assert "range(start: 1700000000, stop: 1700000021)" in chunk


def test_readings_of_an_unknown_node(fake: FakeInflux, store: InfluxStore) -> None:
    fake.answer(QUERY, NO_ROWS)
    assert list(store.readings("nobody")) == []
    assert len(fake.sent(QUERY)) == 1


B0 = 1_700_000_100  # 2023-11-14T22:15:00Z, a multiple of 15 minutes

# The ledger sums as InfluxDB answers them: one table per node and run, _time the period start.
LEDGER_SUMS_CSV = """
#datatype,string,long,dateTime:RFC3339,double,string
#group,false,false,false,false,true
#default,run0,,,,
,result,table,_time,_value,node_id
,,0,2023-11-14T22:15:00Z,0.95,m
,,0,2023-11-14T22:45:00Z,0.6,m
,,1,2023-11-14T22:15:00Z,0.075,p

#datatype,string,long,dateTime:RFC3339,double,string
#group,false,false,false,false,true
#default,run1,,,,
,result,table,_time,_value,node_id
,,2,2023-11-14T23:15:00Z,0.02,p
,,2,2023-11-15T00:15:00Z,0,p
"""


def test_energy_sums_the_ledger_in_influxdb_one_row_per_node_and_period(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(QUERY, csv_answer(LEDGER_SUMS_CSV))
    bounds = [B0, B0 + 1800, B0 + 3600, B0 + 7200, B0 + 10_800]  # 30 min, 30 min, 1 h, 1 h
    got = store.energy(["m", "p"], bounds)
    assert list(got.columns) == ENERGY_COLUMNS
    assert [tuple(row) for row in got.itertuples(index=False)] == [
        ("m", B0, 0.95),
        ("p", B0, 0.075),
        ("m", B0 + 1800, 0.6),
        ("p", B0 + 3600, 0.02),  # the period with 0 kWh is left out, as in SQLiteStore
    ]
    [asked] = fake.sent(QUERY)
    body = asked.json()
    pipelines = body["query"].split("\n\n")
    assert "range(start: 1700000100, stop: 1700003700)" in pipelines[0]
    assert "aggregateWindow(every: 1800s, offset: 900s, fn: sum" in pipelines[0]
    assert "range(start: 1700003700, stop: 1700010900)" in pipelines[1]
    assert "aggregateWindow(every: 3600s, offset: 900s, fn: sum" in pipelines[1]
    params = flux_params(body)
    assert params["p_measurement"] == "energy_ledger" and params["p_field0"] == "kwh"
    assert [params["p_node0"], params["p_node1"]] == ["m", "p"]


def test_energy_boundaries_are_checked_before_any_query(
    fake: FakeInflux, store: InfluxStore
) -> None:
    with pytest.raises(ValueError, match="15 minutes"):
        store.energy(["m"], [B0, B0 + 1000])
    assert store.energy(["m"], [B0]).empty
    assert fake.requests == []


def test_delete_counts_then_deletes_every_point_of_the_node(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(
        QUERY,
        csv_answer("""
#datatype,string,long,long
#group,false,false,false
#default,_result,,
,result,table,readings
,,0,42
"""),
    )
    fake.answer(DELETE, Answer(204))
    assert store.delete_node('casa "norte"') == 42
    readings, ledger = fake.sent(DELETE)
    assert readings.query == ledger.query == {"org": ["acme"], "bucket": ["telemetry"]}
    assert readings.json() == {
        "start": "1970-01-01T00:00:00Z",
        "stop": "2262-04-11T00:00:00Z",
        "predicate": '_measurement="energy" AND node_id="casa \\"norte\\""',
    }
    assert ledger.json()["predicate"] == '_measurement="energy_ledger" AND node_id="casa \\"norte\\""'


def test_a_failed_delete_raises(fake: FakeInflux, store: InfluxStore) -> None:
    fake.answer(QUERY, NO_ROWS)
    fake.answer(DELETE, error_answer(500, "internal error", "delete failed"))
    with pytest.raises(StoreUnavailable, match="500"):
        store.delete_node("n1")


# -- query failures -------------------------------------------------------------------------------


def test_an_error_table_in_the_csv_is_unavailable_with_the_servers_words(
    fake: FakeInflux, store: InfluxStore
) -> None:
    fake.answer(
        QUERY,
        csv_answer("""
#datatype,string,string
#group,true,true
#default,,
,error,reference
,"query terminated: reached maximum allowed memory limits",576
"""),
    )
    with pytest.raises(StoreUnavailable, match="maximum allowed memory"):
        store.summary("n1", "power", T, T + 60)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (error_answer(500, "internal error", "boom"), StoreUnavailable),
        (error_answer(503, "unavailable", "starting"), StoreUnavailable),
        (
            error_answer(400, "invalid", "error @1:1-1:5: undefined identifier p_bucket"),
            StoreRejected,
        ),
    ],
)
def test_query_failures(
    fake: FakeInflux, store: InfluxStore, answer: Answer, error: type[Exception]
) -> None:
    fake.answer(QUERY, answer)
    with pytest.raises(error):
        store.series("n1", "power", T, T + 60)


def test_hostile_node_ids_travel_only_as_parameters(fake: FakeInflux, store: InfluxStore) -> None:
    hostile = 'x") |> drop(columns: ["_value"]) |> yield(name: "pwned'
    fake.answer(QUERY, NO_ROWS)
    store.summary(hostile, "power", T, T + 60)
    body = fake.sent(QUERY)[0].json()
    assert hostile not in body["query"] and "pwned" not in body["query"]
    assert flux_params(body)["p_node0"] == hostile
