"""The MQTT ingest daemon and what only it uses: payload parsing, batching, the commit rule, node directory, stats."""
