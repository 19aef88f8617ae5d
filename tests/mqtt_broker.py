"""A private Mosquitto for tests and benchmarks: TLS on a free loopback port, passwords, the ACL, persistence.

Certificates come from `cryptography`; the broker configuration is rendered from the
shipped template in deploy/ so the tests exercise what operators install.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.services import free_port, need_binary, port_open

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "mosquitto.conf"
ACL_TEMPLATE = ROOT / "deploy" / "acl"
INGEST_USER = "enertrack-ingest"
INGEST_PASSWORD = "ingest-secret-pw"
HINT = "install Debian's mosquitto package (apt-get install mosquitto mosquitto-clients)"


@dataclass(frozen=True)
class Pki:
    """A CA and the files signed by it."""

    ca_cert: Path
    cert: Path
    key: Path
    ca_key: Path  # kept so a test can sign client certificates with the same CA


@dataclass(frozen=True)
class ClientCert:
    """A client certificate and its key (MQTT_CERT_FILE, MQTT_KEY_FILE)."""

    cert: Path
    key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def make_pki(directory: Path, name: str = "test") -> Pki:
    """A CA and a server certificate for 127.0.0.1 and localhost, made by `enertrack certs init`'s code.

    So every TLS broker in the tests runs on what an installer gets from `enertrack certs init`.
    """
    from enertrack.cli.pki import init_pki

    files, _created = init_pki(directory / name, ["localhost", "127.0.0.1"])
    return Pki(files.ca_cert, files.server_cert, files.server_key, files.ca_key)


def make_client_cert(pki: Pki, common_name: str) -> ClientCert:
    """A client certificate for common_name signed by pki's CA (the broker may take the CN as username)."""
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    now = dt.datetime.now(dt.UTC)
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    stem = pki.ca_cert.parent / f"client-{common_name}"
    found = ClientCert(stem.with_suffix(".crt"), stem.with_suffix(".key"))
    found.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, found.key)
    return found


def render_config(template: str, overrides: dict[str, str | None]) -> str:
    """The shipped mosquitto.conf with some directives' values replaced (None drops the line)."""
    lines, seen = [], set()
    for line in template.splitlines():
        directive = line.split(" ", 1)[0]
        if directive in overrides and not line.startswith("#"):
            seen.add(directive)
            value = overrides[directive]
            if value is not None:
                lines.append(f"{directive} {value}")
            continue
        lines.append(line)
    missing = set(overrides) - seen
    if missing:
        raise ValueError(f"directives not in the template: {sorted(missing)}")
    return "\n".join(lines) + "\n"


@dataclass
class Broker:
    """One mosquitto process; stop() and start() keep the port, certificates and persistence."""

    workdir: Path
    max_inflight: int = 1000
    tls: bool = True
    log_all: bool = False  # debug logging: every packet, so tests can count the daemon's PUBACKs
    # The TLS listener refuses clients without a certificate from the test CA and takes the
    # certificate's CN as the username (passwords are then not asked for).
    require_certificate: bool = False
    port: int = field(default_factory=free_port)
    users: dict[str, str] = field(default_factory=lambda: {INGEST_USER: INGEST_PASSWORD})
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.binary = need_binary("mosquitto", HINT)
        self.passwd_binary = need_binary("mosquitto_passwd", HINT)
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        self.pki = make_pki(self.workdir / "pki")
        self.password_file = self.workdir / "passwd"
        self.acl_file = self.workdir / "acl"
        self.conf_file = self.workdir / "mosquitto.conf"
        self.log_file = self.workdir / "mosquitto.log"
        self.acl_file.write_text(ACL_TEMPLATE.read_text().replace("enertrack-ingest", INGEST_USER))
        for user, password in self.users.items():
            self._add_password(user, password)
        self._write_config()

    def _add_password(self, user: str, password: str) -> None:
        args = [self.passwd_binary, "-b"] + ([] if self.password_file.exists() else ["-c"])
        subprocess.run([*args, str(self.password_file), user, password], check=True, capture_output=True)

    def add_user(self, user: str, password: str) -> None:
        """Add a node's credentials; the broker rereads its files on SIGHUP."""
        self.users[user] = password
        self._add_password(user, password)
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGHUP)
            time.sleep(0.3)

    def _write_config(self) -> None:
        tls = {"cafile": str(self.pki.ca_cert), "certfile": str(self.pki.cert), "keyfile": str(self.pki.key),
               "tls_version": "tlsv1.2"}
        config = render_config(TEMPLATE.read_text(), {
            "listener": f"{self.port} 127.0.0.1",
            "password_file": str(self.password_file),
            "acl_file": str(self.acl_file),
            "persistence_location": str(self.workdir / "data") + "/",
            "max_inflight_messages": str(self.max_inflight),
            "log_dest": f"file {self.log_file}",
            # Benchmarks may measure the same broker without TLS.
            **(tls if self.tls else dict.fromkeys(tls)),
            **({"log_type": "all"} if self.log_all else {}),
        })
        if self.require_certificate:
            # Listener options apply to the last `listener` line: the template has one.
            config += "require_certificate true\nuse_identity_as_username true\n"
        if os.geteuid() == 0:
            config += "user root\n"  # as root, mosquitto would switch to a user that cannot read tmp dirs
        self.conf_file.write_text(config)

    def start(self, timeout: float = 10.0) -> None:
        """Start mosquitto and wait until it accepts connections."""
        self.process = subprocess.Popen([self.binary, "-c", str(self.conf_file)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                log = self.log_file.read_text() if self.log_file.exists() else ""
                raise RuntimeError(f"mosquitto exited ({self.process.returncode}): {err}\n{log[-2000:]}")
            if port_open("127.0.0.1", self.port, timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """Stop gracefully (mosquitto saves its persistence file on SIGTERM)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start on the same port with the same persistence."""
        self.stop()
        self.start()

    def pubacks_from(self, client_id: str) -> int:
        """How many PUBACKs the broker has received from client_id (needs log_all=True)."""
        if not self.log_all:
            raise RuntimeError("start the broker with log_all=True to count acknowledgements")
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return text.count(f"Received PUBACK from {client_id} (")

    def settings_env(self, user: str = INGEST_USER) -> dict[str, str]:
        """Environment variables that point EnerTrack at this broker."""
        env = {"DOMINIO": "127.0.0.1", "PUERTO_MQTTS": str(self.port), "MQTT_USR": user,
               "MQTT_PASS": self.users[user], "MQTT_TLS": "true" if self.tls else "false"}
        if self.tls:
            env["MQTT_CA_FILE"] = str(self.pki.ca_cert)
        return env

    def client(self, user: str, *, client_id: str = "", ca_file: Path | None = None,
               clean: bool = True, protocol: int = mqtt.MQTTv311, cert: ClientCert | None = None) -> mqtt.Client:
        """A connected client with its network loop running (the caller disconnects it).

        With cert, the client presents that certificate instead of a password.
        """
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean,
                        protocol=protocol)
        if cert is None:
            c.username_pw_set(user, self.users[user])
        if self.tls:
            context = ssl.create_default_context(cafile=str(ca_file or self.pki.ca_cert))
            if cert is not None:
                context.load_cert_chain(str(cert.cert), str(cert.key))
            c.tls_set_context(context)
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        connected = threading.Event()
        result: list[mqtt.ReasonCode] = []

        def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
            result.append(reason)
            connected.set()

        c.on_connect = on_connect
        c.connect("127.0.0.1", self.port, keepalive=30)
        c.loop_start()
        if not connected.wait(10) or result[0].is_failure:
            c.loop_stop()
            raise ConnectionError(f"{user} could not connect: {result[0] if result else 'timeout'}")
        return c

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def publish_all(client: mqtt.Client, messages: Iterable[tuple[str, bytes | str]], qos: int = 1,
                retain: bool = False, timeout: float = 60.0) -> int:
    """Publish and wait until the broker acknowledged every message; return how many."""
    infos = [client.publish(topic, payload, qos=qos, retain=retain) for topic, payload in messages]
    deadline = time.monotonic() + timeout
    for info in infos:
        info.wait_for_publish(max(deadline - time.monotonic(), 0.1))
        if not info.is_published():
            raise TimeoutError(f"message {info.mid} was not acknowledged within {timeout} s")
    return len(infos)


def broker_fixture(tmp_path_factory: object, **kwargs: object) -> Iterator[Broker]:
    """Body of a pytest fixture: a started broker, stopped afterwards."""
    workdir = tmp_path_factory.mktemp("mosquitto")  # type: ignore[attr-defined]
    broker = Broker(workdir, **kwargs)  # type: ignore[arg-type]
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def environ_without_mqtt() -> dict[str, str]:
    """The current environment minus anything that would point a child at another broker or database."""
    drop = ("DOMINIO", "PUERTO_MQTTS", "MQTT_", "INGEST_", "DATABASE_URL", "MYSQL_", "INFLUX_", "ENERTRACK_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}
