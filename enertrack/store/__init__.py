"""Time-series stores behind one contract: embedded SQLite (default) and InfluxDB v2."""

from enertrack.store.base import (
    RangeSummary,
    StoreUnavailable,
    TimeseriesStore,
    WriteResult,
)

__all__ = ["RangeSummary", "StoreUnavailable", "TimeseriesStore", "WriteResult"]
