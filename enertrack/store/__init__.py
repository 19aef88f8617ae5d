"""Time-series stores behind one contract: embedded SQLite (default) and InfluxDB v2."""

from enertrack.store.base import (
    RangeSummary,
    StoreRejected,
    StoreUnavailable,
    TimeseriesStore,
    WriteResult,
)

__all__ = ["RangeSummary", "StoreRejected", "StoreUnavailable", "TimeseriesStore", "WriteResult"]
