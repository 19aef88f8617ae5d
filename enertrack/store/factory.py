"""Open the time-series store the settings select."""

from __future__ import annotations

from enertrack.config import Settings
from enertrack.store.base import TimeseriesStore


def open_store(settings: Settings) -> TimeseriesStore:
    """SQLiteStore on the data directory by default, InfluxStore when INFLUX_* select it."""
    if settings.store_kind == "influx":
        from enertrack.store.influx import InfluxStore

        return InfluxStore(
            url=settings.influx_url or "",
            token=settings.influx_token.get_secret_value() if settings.influx_token else "",
            org=settings.influx_org or "",
            bucket=settings.influx_bucket or "",
        )
    from enertrack.store.sqlite import SQLiteStore

    return SQLiteStore(settings.tsdb_file)
