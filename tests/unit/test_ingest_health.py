"""`enertrack ingest health` reads the kernel's TCP table: only ESTABLISHED connections to the broker's port count."""

from __future__ import annotations

import pytest

from enertrack.ingest.health import established_to

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
# 0x22B3 = 8883; states: 01 ESTABLISHED, 0A LISTEN, 06 TIME_WAIT, 02 SYN_SENT.
ROWS = {
    "client": "   0: 0100007F:A1B2 0100007F:22B3 01 00000000:00000000 00:00000000 00000000  1000 0 1 1\n",
    "listen": "   1: 00000000:22B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 0 2 1\n",
    "server side": "   2: 0100007F:22B3 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0 0 3 1\n",
    "closing": "   3: 0100007F:A1B3 0100007F:22B3 06 00000000:00000000 00:00000000 00000000  1000 0 4 1\n",
    "connecting": "   4: 0100007F:A1B4 0100007F:22B3 02 00000000:00000000 00:00000000 00000000  1000 0 5 1\n",
    "other port": "   5: 0100007F:A1B5 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000  1000 0 6 1\n",
}
V6 = ("   0: 00000000000000000000000001000000:C350 00000000000000000000000001000000:22B3 01 "
      "00000000:00000000 00:00000000 00000000  1000 0 7 1\n")


@pytest.mark.parametrize(("rows", "expected"), [
    (["client"], 1),
    (["listen", "server side", "closing", "connecting", "other port"], 0),
    (list(ROWS), 1),
    ([], 0),
])
def test_only_established_connections_to_the_broker_port_count(rows: list[str], expected: int) -> None:
    assert established_to(8883, [HEADER + "".join(ROWS[name] for name in rows)]) == expected


def test_ipv6_table_counts_too() -> None:
    assert established_to(8883, [HEADER, HEADER + V6]) == 1
    assert established_to(1883, [HEADER + V6]) == 0
