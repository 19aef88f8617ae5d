"""Is the daemon connected to its broker? Read from the kernel's TCP tables, for a container health check.

The daemon keeps one TCP connection to the broker while it works; when the broker or the
network is gone it has none (it reconnects with back-off). Reading /proc/net/tcp needs no
access to the daemon itself, so `enertrack ingest health` can run beside it in the container.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

ESTABLISHED = "01"
TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def established_to(port: int, tables: Iterable[str]) -> int:
    """How many ESTABLISHED connections in /proc/net/tcp-style tables have port as their remote port."""
    count = 0
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 4 or fields[3] != ESTABLISHED:
                continue
            remote_port = fields[2].rsplit(":", 1)[-1]
            if int(remote_port, 16) == port:
                count += 1
    return count


def read_tables(paths: Iterable[Path] = TABLES) -> list[str]:
    """The TCP tables this process can see (the container's own network namespace)."""
    return [path.read_text() for path in paths if path.exists()]
