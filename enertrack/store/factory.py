"""Open the time-series store the settings select."""

from __future__ import annotations

from enertrack.config import Settings
from enertrack.store.base import TimeseriesStore


def open_store(settings: Settings, *, sqlite_cache_mib: int | None = None) -> TimeseriesStore:
    """SQLiteStore on the data directory by default, InfluxStore when INFLUX_* select it.

    sqlite_cache_mib bounds SQLite's page cache per connection (the ingest daemon's writer
    needs far less than the web app's queries); None keeps the store's default.
    """
    if settings.store_kind == "influx":
        from enertrack.store.influx.store import InfluxStore

        return InfluxStore(
            url=settings.influx_url or "",
            token=settings.influx_token.get_secret_value() if settings.influx_token else "",
            org=settings.influx_org or "",
            bucket=settings.influx_bucket or "",
            check_existing=settings.influx_check_existing,
        )
    from enertrack.store.sqlite.store import DEFAULT_CACHE_MIB, SQLiteStore

    cache_mib = DEFAULT_CACHE_MIB if sqlite_cache_mib is None else sqlite_cache_mib
    return SQLiteStore(settings.tsdb_file, cache_mib=cache_mib)
