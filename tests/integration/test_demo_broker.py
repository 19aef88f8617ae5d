"""`enertrack demo`'s broker: never a production daemon's session, never its nodes' topics."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from paho.mqtt.client import topic_matches_sub

from enertrack.cli.demo import Broker, DemoError, choose_broker, demo_mqtt_env
from tests.conftest import make_settings

PREFIXES = ["enertrack", "enertrack/", "site/a", "enertrack-demo", "x" * 64, "/"]


def subscriptions(prefix: str) -> list[str]:
    """What an ingest daemon with this MQTT_TOPIC_PREFIX subscribes to."""
    base = prefix.rstrip("/")
    return [f"{base}/+/telemetry", f"{base}/+/status"]


def topics(prefix: str) -> list[str]:
    """What nodes (and the simulator) with this MQTT_TOPIC_PREFIX publish to."""
    return [f"{prefix}/demo-01/telemetry", f"{prefix}/demo-01/status"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_demo_topics_and_production_topics_never_meet(tmp_path: Path, prefix: str) -> None:
    production = make_settings(tmp_path, MQTT_TOPIC_PREFIX=prefix)
    demo = make_settings(tmp_path, **demo_mqtt_env(production, tmp_path))  # a valid MQTT_TOPIC_PREFIX
    for sub in subscriptions(production.mqtt_topic_prefix):  # the production daemon gets no demo message
        assert not any(topic_matches_sub(sub, t) for t in topics(demo.mqtt_topic_prefix)), sub
    for sub in subscriptions(demo.mqtt_topic_prefix):  # the demo's ingest gets no production node's message
        assert not any(topic_matches_sub(sub, t) for t in topics(production.mqtt_topic_prefix)), sub


def test_demo_ingest_has_its_own_session_per_data_directory(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    own = demo_mqtt_env(settings, tmp_path)["MQTT_CLIENT_ID"]
    assert own != settings.mqtt_client_id  # never the production daemon's `enertrack-ingest`
    assert own == demo_mqtt_env(settings, tmp_path)["MQTT_CLIENT_ID"]  # a restarted demo resumes its session
    assert own != demo_mqtt_env(settings, tmp_path / "other")["MQTT_CLIENT_ID"]
    assert make_settings(tmp_path, MQTT_CLIENT_ID=own).mqtt_client_id == own  # within MQTT_CLIENT_ID's limits


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A port that accepts TCP connections: stands in for a reachable production broker."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def stop(broker: Broker) -> None:
    if broker.process is not None:
        broker.process.kill()
        broker.process.wait(10)


def test_auto_never_picks_the_configured_broker(tmp_path: Path, listening_port: int) -> None:
    settings = make_settings(tmp_path, DOMINIO="127.0.0.1", PUERTO_MQTTS=str(listening_port))
    broker = choose_broker(settings, tmp_path, "auto")
    try:
        assert "configured" not in broker.description
        if broker.available:  # a private mosquitto, or an anonymous one on 1883: still the demo's own ids
            assert broker.env["PUERTO_MQTTS"] != str(listening_port)
            assert broker.env["MQTT_CLIENT_ID"] == demo_mqtt_env(settings, tmp_path)["MQTT_CLIENT_ID"]
            assert broker.env["MQTT_TOPIC_PREFIX"] == "enertrack-demo"
    finally:
        stop(broker)


def test_configured_broker_when_asked_with_the_demos_client_id_and_topics(
    tmp_path: Path, listening_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path, DOMINIO="127.0.0.1", PUERTO_MQTTS=str(listening_port), MQTT_USR="demo-acct",
                             MQTT_TOPIC_PREFIX="site7")
    broker = choose_broker(settings, tmp_path, "configured")
    assert broker.available and broker.process is None
    assert f"127.0.0.1:{listening_port}" in broker.description
    # Host, port, TLS and account stay the configured ones; only the session and topics are the demo's.
    assert broker.env == {"MQTT_CLIENT_ID": demo_mqtt_env(settings, tmp_path)["MQTT_CLIENT_ID"],
                          "MQTT_TOPIC_PREFIX": "site7-demo"}
    assert "site7-demo/# on 127.0.0.1" in capsys.readouterr().err  # the ACL the account needs


def test_configured_broker_unreachable_is_an_error_not_another_broker(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: connections are refused
        settings = make_settings(tmp_path, DOMINIO="127.0.0.1", PUERTO_MQTTS=str(port))
        with pytest.raises(DemoError, match=rf"127\.0\.0\.1:{port} \(DOMINIO, PUERTO_MQTTS\) is not reachable"):
            choose_broker(settings, tmp_path, "configured")
