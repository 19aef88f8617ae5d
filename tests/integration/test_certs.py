"""`enertrack certs init`: a Mosquitto TLS listener with its files accepts a client that verifies with its CA."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner, Result
from cryptography import x509

from enertrack.cli.main import main
from tests.mqtt_broker import HINT
from tests.services import free_port, need_binary, port_open

pytestmark = pytest.mark.mosquitto


def _init(tmp_path: Path, *args: str, dominio: str = "localhost") -> Result:
    env = {"ENERTRACK_ENV": "development", "ENERTRACK_DATA_DIR": str(tmp_path), "DOMINIO": dominio}
    return CliRunner().invoke(main, ["certs", "init", "--dir", str(tmp_path / "certs"), *args], env=env)


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[int]:
    """Mosquitto with a TLS listener on the files `enertrack certs init` wrote (DOMINIO=localhost)."""
    result = _init(tmp_path, "--san", "127.0.0.1")
    assert result.exit_code == 0, result.output
    certs, port = tmp_path / "certs", free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\ncafile {certs / 'ca.crt'}\n"
                    f"certfile {certs / 'server.crt'}\nkeyfile {certs / 'server.key'}\n"
                    + ("user root\n" if os.geteuid() == 0 else ""))
    broker = subprocess.Popen([need_binary("mosquitto", HINT), "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not port_open("127.0.0.1", port, timeout=0.1):  # a refused connect returns at once: wait between tries
            assert broker.poll() is None, broker.stderr.read() if broker.stderr else ""
            assert time.monotonic() < deadline, "mosquitto did not start listening within 15 s"
            time.sleep(0.05)
        yield port
    finally:
        broker.terminate()
        broker.wait(10)


def _connect(host: str, port: int, context: ssl.SSLContext) -> str:
    """'ok' when the TLS handshake and the MQTT CONNECT succeed, else the reason."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.tls_set_context(context)
    done = threading.Event()
    outcome: list[str] = []
    client.on_connect = lambda *a: (outcome.append("ok" if not a[3].is_failure else str(a[3])), done.set())
    try:
        client.connect(host, port, keepalive=10)
    except (ssl.SSLError, OSError) as exc:
        return type(exc).__name__ + ": " + str(exc)
    client.loop_start()
    done.wait(10)
    client.loop_stop()
    client.disconnect()
    return outcome[0] if outcome else "timeout"


def test_broker_accepts_a_client_that_verifies_with_the_ca(tmp_path: Path, tls_broker: int) -> None:
    ca = tmp_path / "certs" / "ca.crt"
    assert _connect("localhost", tls_broker, ssl.create_default_context(cafile=str(ca))) == "ok"
    assert _connect("127.0.0.1", tls_broker, ssl.create_default_context(cafile=str(ca))) == "ok"
    # Verification is real: the system's CAs do not know this private CA.
    assert "CERTIFICATE_VERIFY_FAILED" in _connect("localhost", tls_broker, ssl.create_default_context())


def test_a_name_not_among_the_sans_is_refused(tmp_path: Path, tls_broker: int) -> None:
    context = ssl.create_default_context(cafile=str(tmp_path / "certs" / "ca.crt"))
    with socket.create_connection(("127.0.0.1", tls_broker), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            context.wrap_socket(raw, server_hostname="mqtt.elsewhere.example")


def test_sans_come_from_dominio_and_keys_are_private(tmp_path: Path) -> None:
    result = _init(tmp_path, "--san", "mosquitto", "--san", "192.0.2.7", dominio="MQTT.Example.com")
    assert result.exit_code == 0, result.output
    certs = tmp_path / "certs"
    cert = x509.load_pem_x509_certificate((certs / "server.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(n.value) for n in names] == ["mqtt.example.com", "mosquitto", "192.0.2.7"]
    assert {(certs / name).stat().st_mode & 0o777 for name in ("ca.key", "server.key")} == {0o600}
    assert "new CA" in result.output and "mqtt.example.com" in result.output


def test_rerun_keeps_the_ca_and_replaces_the_server_certificate_only_with_force(tmp_path: Path) -> None:
    assert _init(tmp_path).exit_code == 0
    ca = (tmp_path / "certs" / "ca.crt").read_bytes()
    server = (tmp_path / "certs" / "server.crt").read_bytes()
    again = _init(tmp_path)
    assert again.exit_code == 2 and "already exists: pass --force" in again.output
    assert (tmp_path / "certs" / "server.crt").read_bytes() == server
    forced = _init(tmp_path, "--force", "--san", "broker.lan")
    assert forced.exit_code == 0 and "existing CA kept" in forced.output
    assert (tmp_path / "certs" / "ca.crt").read_bytes() == ca
    new = x509.load_pem_x509_certificate((tmp_path / "certs" / "server.crt").read_bytes())
    new.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))


@pytest.mark.parametrize("bad", ["bad name!", "-leading.example", "a..b"])
def test_a_bad_host_name_is_one_clear_line(tmp_path: Path, bad: str) -> None:
    result = _init(tmp_path, "--san", bad)
    assert result.exit_code == 2
    assert f"{bad!r} is neither a host name" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "certs").exists()  # nothing half-written
