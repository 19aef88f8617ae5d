"""Dead letters and node status in the users database: bounded list, retained status rule."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from enertrack.core.energy import EnergyParams
from enertrack.db import make_engine, make_session_factory
from enertrack.ingest.batcher import DeadLetter, HealthReport
from enertrack.ingest.payload import Health, Reason, Rejection, StatusUpdate
from enertrack.ingest.users_db import (
    Keep,
    bmp_only,
    current_revision,
    load_node_params,
    recent_rejections,
    record,
    schema_problem,
    script_revisions,
)
from enertrack.models import Node
from tests.ingest_process import make_users_db

T0 = 1_750_000_000.0


def letter(i: int, node: str | None = "n1") -> DeadLetter:
    return DeadLetter(Rejection(Reason.BAD_JSON, f"message {i} " + "m" * 600, node, "x" * 300),
                      "enertrack/n1/telemetry" + "/x" * 200, T0 + i)


def test_dead_letters_are_kept_newest_first_bounded_and_truncated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    make_users_db(url, ["n1", "n2"], interval_s=20)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    assert current_revision(engine) == script_revisions()[0]
    assert load_node_params(sessions) == {"n1": EnergyParams(20), "n2": EnergyParams(20)}
    record(sessions, [letter(i) for i in range(8)], [], keep=Keep(5))
    record(sessions, [letter(8, None), letter(9, "n2")], [], keep=Keep(5))
    rows = recent_rejections(sessions, limit=100)
    assert [r.message.split()[1] for r in rows] == ["9", "8", "7", "6", "5", "4", "3"]
    assert len(rows[0].excerpt) == 200 and len(rows[0].topic) == 200 and len(rows[0].message) == 400
    assert [r.node_id for r in recent_rejections(sessions, "n2")] == ["n2"]
    assert len(recent_rejections(sessions, limit=2)) == 2
    engine.dispose()


def history_survives_a_flood(url: str) -> None:
    """n2's history and the strangers' pool are bounded apart: a flood from one touches only its own."""
    sessions = make_session_factory(engine := make_engine(url))
    try:
        record(sessions, [letter(i, "n1") for i in range(3)], [], keep=Keep(5, 4))
        record(sessions, [letter(100 + i, "n2") for i in range(50)], [], keep=Keep(5, 4))
        record(sessions, [letter(200 + i, f"stranger-{i}") for i in range(30)] + [letter(300, None)], [],
               keep=Keep(5, 4))
        assert [r.message.split()[1] for r in recent_rejections(sessions, "n1")] == ["2", "1", "0"]
        assert [r.message.split()[1] for r in recent_rejections(sessions, "n2")] == [
            "149", "148", "147", "146", "145"]
        everything = recent_rejections(sessions, limit=1000)
        assert [r.message.split()[1] for r in everything if r.node_id not in ("n1", "n2")] == [
            "300", "229", "228", "227"]
    finally:
        engine.dispose()


def test_one_nodes_flood_does_not_erase_another_nodes_history(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    make_users_db(url, ["n1", "n2"])
    history_survives_a_flood(url)


def test_one_nodes_flood_does_not_erase_another_nodes_history_on_mariadb(mysql_url: str) -> None:
    make_users_db(mysql_url, ["n1", "n2"])
    history_survives_a_flood(mysql_url)


def test_status_updates_and_a_repeated_retained_status_keeps_its_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    make_users_db(url, ["n1"])
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def node() -> Node:
        with sessions() as session:
            return session.query(Node).filter_by(node_id="n1").one()

    record(sessions, [], [StatusUpdate("n1", "offline", T0, retained=False)])
    first = node().last_status_at
    assert node().last_status == "offline" and first is not None
    record(sessions, [], [StatusUpdate("n1", "offline", T0 + 100, retained=True)])  # resent on resubscribe
    assert node().last_status_at == first
    record(sessions, [], [StatusUpdate("n1", "online", T0 + 200, retained=True),
                          StatusUpdate("gone", "online", T0 + 200)])
    assert node().last_status == "online" and (node().last_status_at - first).total_seconds() == 200
    engine.dispose()


def test_each_nodes_latest_health_is_kept_value_by_value_and_goes_with_the_node(tmp_path: Path) -> None:
    from sqlalchemy import select

    from enertrack.models import NodeHealth, User

    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    make_users_db(url, ["n1", "n2"])
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    t0 = int(T0)

    def kept() -> dict[str, tuple[int, Health]]:
        with sessions() as session:
            rows = session.execute(select(Node.node_id, NodeHealth).join(NodeHealth, NodeHealth.node_pk == Node.id))
            return {node_id: (int((h.reported_at - datetime(1970, 1, 1)).total_seconds()),  # naive UTC
                              Health(h.fw, h.rssi, h.uptime_s, h.dropped, h.buffered)) for node_id, h in rows}

    record(sessions, [], [], health={"n1": HealthReport("n1", t0, Health("1.0", -70, 100, 0, 5)),
                                     "gone": HealthReport("gone", t0, Health(rssi=-1))})
    assert kept() == {"n1": (t0, Health("1.0", -70, 100, 0, 5))}
    record(sessions, [], [], health={"n1": HealthReport("n1", t0 + 60, Health(rssi=-60, uptime_s=160)),
                                     "n2": HealthReport("n2", t0 + 5, Health(fw="2.0"))})
    assert kept() == {"n1": (t0 + 60, Health("1.0", -60, 160, 0, 5)), "n2": (t0 + 5, Health(fw="2.0"))}
    # A later batch wins value by value (the node measures its health when it sends).
    record(sessions, [], [], health={"n1": HealthReport("n1", t0 + 120, Health(fw="1.1", dropped=3))})
    assert kept()["n1"] == (t0 + 120, Health("1.1", -60, 160, 3, 5))
    # Deleting a node deletes its health; a node created again under that id starts without it.
    with sessions.begin() as session:
        session.delete(session.scalars(select(Node).where(Node.node_id == "n2")).one())
    with sessions.begin() as session:
        session.add(Node(node_id="n2", owner=session.scalars(select(User)).first()))
    assert set(kept()) == {"n1"}
    engine.dispose()


def test_node_params_carry_the_per_node_glitch_bound(tmp_path: Path) -> None:
    from sqlalchemy import update

    from enertrack.models import Node

    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    make_users_db(url, ["n1", "n2"], interval_s=60)
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as db:
        db.execute(update(Node).where(Node.node_id == "n2").values(max_power_w=250_000.0))
    assert load_node_params(sessions) == {"n1": EnergyParams(60, 30_000.0), "n2": EnergyParams(60, 250_000.0)}


def test_the_daemon_needs_the_newest_migration_and_says_how_to_get_it(tmp_path: Path) -> None:
    from sqlalchemy import text

    from enertrack.migrate import upgrade

    head, known = script_revisions()
    assert {"0001", "0002", "0003", head} <= known
    engine = make_engine(f"sqlite:///{tmp_path / 'u.sqlite3'}")

    def problem() -> str | None:
        return schema_problem(current_revision(engine), head, known)

    assert problem() == "the users database has no EnerTrack tables yet: run `enertrack db upgrade`"
    upgrade(engine, "0002")  # node status and dead letters, but not 0003's nodes.max_power_w
    assert problem() == f"the users database is at revision 0002 but this EnerTrack needs {head}: run `enertrack db upgrade`"
    upgrade(engine)
    assert current_revision(engine) == head and problem() is None
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    assert "revision 0099, which this EnerTrack does not know" in (problem() or "")
    engine.dispose()


def test_characters_beyond_the_bmp_are_escaped_for_the_dead_letter_list(tmp_path: Path) -> None:
    assert bmp_only("plain") == "plain"
    assert bmp_only("ñ € 中 ☃") == "ñ € 中 ☃"  # characters of the Basic Multilingual Plane stay
    assert bmp_only("hot 🔥 x") == "hot \\U0001f525 x"
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    make_users_db(url, ["n1"])
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    record(sessions, [DeadLetter(Rejection(Reason.BAD_JSON, "bad 😀", "n1", '{"p": "🔥"}' + "é" * 300),
                                 "enertrack/n1/telemetry😀", T0)], [])
    row = recent_rejections(sessions)[0]
    engine.dispose()
    assert (row.topic, row.message) == ("enertrack/n1/telemetry\\U0001f600", "bad \\U0001f600")
    assert row.excerpt.startswith('{"p": "\\U0001f525"}é') and len(row.excerpt) == 200
