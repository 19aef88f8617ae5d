"""A client of Mosquitto's dynamic-security plugin: commands on $CONTROL/dynamic-security/v1, answers matched
by correlation data, a deadline on every step and errors that say what to check."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import paho.mqtt.client as mqtt

from enertrack.config import Settings

TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = TOPIC + "/response"
TIMEOUT_S = 5.0


class BrokerError(RuntimeError):
    """The broker could not make a change; the message says what to check."""


class BrokerUnavailable(BrokerError):
    """The broker or its admin account could not be reached."""


class BrokerRefused(BrokerError):
    """The plugin answered a command with an error."""

    def __init__(self, command: str, error: str) -> None:
        super().__init__(f"the broker refused {command}: {error}")
        self.command = command
        self.error = error


Command = dict[str, Any]


class DynsecClient:
    """One admin connection: `with DynsecClient(...) as admin: admin.run([...])`."""

    def __init__(self, settings: Settings, *, timeout: float = TIMEOUT_S) -> None:
        self.settings = settings
        self.timeout = timeout
        self.where = f"{settings.mqtt_host}:{settings.mqtt_port}"
        self._client: mqtt.Client | None = None
        self._answers: dict[str, Command] = {}
        self._arrived = threading.Condition()

    def _make_client(self) -> mqtt.Client:
        from enertrack.mqtt import tls_context  # the daemon's TLS rules: a verified broker or a loud warning

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"enertrack-admin-{uuid.uuid4().hex[:12]}",
                             clean_session=True, protocol=mqtt.MQTTv311)
        admin = self.settings.broker_admin_user
        password = self.settings.broker_admin_password
        if not admin or password is None:
            raise BrokerUnavailable("set ENERTRACK_BROKER_ADMIN_USER and ENERTRACK_BROKER_ADMIN_PASSWORD to the "
                                    "broker's dynamic-security admin account")
        client.username_pw_set(admin, password.get_secret_value())
        if self.settings.mqtt_tls:
            client.tls_set_context(tls_context(self.settings))
        client.on_message = self._on_message
        return client

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            answers = json.loads(message.payload).get("responses", [])
        except (ValueError, AttributeError):
            return  # not the plugin's JSON: ignore, the waiter times out with a clear message
        with self._arrived:
            for answer in answers if isinstance(answers, list) else []:
                if isinstance(answer, dict) and isinstance(answer.get("correlationData"), str):
                    self._answers[answer["correlationData"]] = answer
            self._arrived.notify_all()

    def __enter__(self) -> DynsecClient:
        self._client = client = self._make_client()
        connected, subscribed = threading.Event(), threading.Event()
        outcome: dict[str, Any] = {}

        def on_connect(_c: mqtt.Client, _u: object, _f: object, reason: mqtt.ReasonCode, _p: object) -> None:
            outcome["connect"] = reason
            connected.set()

        def on_subscribe(_c: mqtt.Client, _u: object, _m: int, reasons: list[mqtt.ReasonCode], _p: object) -> None:
            outcome["subscribe"] = reasons
            subscribed.set()

        client.on_connect, client.on_subscribe = on_connect, on_subscribe
        try:
            client.connect(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        except (OSError, ValueError) as exc:
            raise BrokerUnavailable(f"the MQTT broker at {self.where} could not be reached ({exc}): check "
                                    "DOMINIO, PUERTO_MQTTS and that the broker is running") from None
        client.loop_start()
        try:
            self._await(connected, "answer the connection")
            reason = outcome["connect"]
            if reason.is_failure:
                raise BrokerUnavailable(f"the MQTT broker at {self.where} refused the admin account "
                                        f"{self.settings.broker_admin_user!r} ({reason}): check "
                                        "ENERTRACK_BROKER_ADMIN_USER and ENERTRACK_BROKER_ADMIN_PASSWORD")
            client.subscribe(RESPONSE_TOPIC, qos=1)
            self._await(subscribed, "confirm the subscription to its answers")
            if any(r.is_failure for r in outcome["subscribe"]):
                raise BrokerUnavailable(f"the admin account {self.settings.broker_admin_user!r} may not use "
                                        "dynamic security: is the plugin loaded and the account its admin?")
        except BaseException:
            self.__exit__()
            raise
        return self

    def _await(self, event: threading.Event, what: str) -> None:
        if not event.wait(self.timeout):
            raise BrokerUnavailable(f"the MQTT broker at {self.where} did not {what} within {self.timeout:g} s")

    def __exit__(self, *_exc: object) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def run(self, commands: Sequence[Command], *, tolerate: Iterable[str] = ()) -> list[Command]:
        """Send commands in one message; their answers in order. An error not in tolerate raises BrokerRefused."""
        if self._client is None:
            raise RuntimeError("use DynsecClient as a context manager")
        if not commands:
            return []
        tagged = [{**command, "correlationData": uuid.uuid4().hex} for command in commands]
        self._client.publish(TOPIC, json.dumps({"commands": tagged}), qos=1)  # the answers confirm receipt
        keys = [command["correlationData"] for command in tagged]
        with self._arrived:
            done = self._arrived.wait_for(lambda: all(k in self._answers for k in keys), self.timeout)
            answers = [self._answers.pop(k) for k in keys if k in self._answers]
        if not done:
            raise BrokerUnavailable(f"the MQTT broker at {self.where} did not answer "
                                    f"{tagged[0]['command']} within {self.timeout:g} s: is the "
                                    "dynamic-security plugin loaded (docs/operations.md)?")
        allowed = set(tolerate)
        for command, answer in zip(tagged, answers, strict=True):
            error = answer.get("error")
            if error and error not in allowed:
                raise BrokerRefused(_describe(command), str(error))
        return answers

    def one(self, command: Command, *, tolerate: Iterable[str] = ()) -> Command:
        """Send one command; its answer."""
        return self.run([command], tolerate=tolerate)[0]


def _describe(command: Command) -> str:
    """`createClient n1`: the command and whom it was about, never a password."""
    who = command.get("username") or command.get("rolename") or ""
    return f"{command.get('command')} {who}".strip()
