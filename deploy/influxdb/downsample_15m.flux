// EnerTrack: downsample raw readings into 15-minute buckets (see docs/influxdb.md).
// Create the target bucket first, then the task:
//   influx bucket create --name enertrack_15m --retention 0
//   influx task create --org YOUR_ORG --file deploy/influxdb/downsample_15m.flux
// Replace "enertrack" and "enertrack_15m" below if your buckets have other names.
import "date"

option task = {name: "enertrack-downsample-15m", every: 15m, offset: 1m}

// Whole 15-minute windows only, and the last four of them again on every run: a window is
// rewritten with the same series and timestamp, so readings that arrive up to ~45 minutes
// late (a broker backlog after an outage) are folded in, and nothing is ever half counted.
start = date.truncate(t: -1h, unit: 15m)
stop = date.truncate(t: now(), unit: 15m)

raw = from(bucket: "enertrack")
    |> range(start: start, stop: stop)
    |> filter(fn: (r) => r._measurement == "energy")
    |> filter(
        fn: (r) => r._field == "voltage" or r._field == "current" or r._field == "power"
            or r._field == "energy" or r._field == "power_factor" or r._field == "frequency",
    )

summarize = (tables=<-, fn, suffix) => tables
    |> aggregateWindow(every: 15m, fn: fn, createEmpty: false, timeSrc: "_start")
    |> map(fn: (r) => ({r with _measurement: "energy_15m", _field: r._field + "_" + suffix}))
    |> to(bucket: "enertrack_15m")

raw |> summarize(fn: mean, suffix: "mean")
raw |> summarize(fn: min, suffix: "min")
raw |> summarize(fn: max, suffix: "max")
raw |> summarize(fn: count, suffix: "count")

// kWh per node and quarter from the energy ledger (see docs/influxdb.md, "Energy ledger"): its
// points never cross a quarter boundary, so their sum per 15-minute window is that quarter's
// energy, exactly. Late readings change the ledger; the last hour is summed again on every run.
from(bucket: "enertrack")
    |> range(start: start, stop: stop)
    |> filter(fn: (r) => r._measurement == "energy_ledger" and r._field == "kwh")
    |> aggregateWindow(every: 15m, fn: sum, createEmpty: false, timeSrc: "_start")
    |> map(fn: (r) => ({r with _measurement: "energy_ledger_15m"}))
    |> to(bucket: "enertrack_15m")
