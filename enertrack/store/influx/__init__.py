"""InfluxDB v2 behind the store contract: the store, its Flux, the energy ledger and line protocol."""
