"""A flood of rejected messages writes one log line per reason and minute, with a count of the rest."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.ingest_process import make_users_db
from tests.integration.test_ingest_logic import NOW, FlakyStore, make_committer, msg

FLOOD = 20_000


def test_distinct_unknown_node_ids_do_not_flood_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    make_users_db(url, ["n1"], interval_s=15)
    now = [NOW]
    committer, _ack, engine = make_committer(url, FlakyStore(failures=0), clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="enertrack.ingest.daemon")
    try:
        committer.commit([msg(i, {"p": 1}, node=f"ghost-{i}") for i in range(1, FLOOD + 1)])
        committer.commit([msg(FLOOD + 1, b"not json")])  # another reason still gets its own line
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected")]
        assert len(lines) == 2, lines[:5]
        assert lines[0].startswith("rejected unknown_node from node ghost-1 ")
        assert lines[1].startswith("rejected bad_json from node n1 ")
        caplog.clear()
        now[0] += 61
        committer.commit([msg(FLOOD + 2, {"p": 1}, node="ghost-last")])
        [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected")]
        assert line.endswith(f"(+{FLOOD - 1} more rejected for this reason since the last line)"), line
    finally:
        engine.dispose()
    assert committer.stats.totals.rejected["unknown_node"] == FLOOD + 1
