"""The embedded SQLite time-series store (the default)."""
