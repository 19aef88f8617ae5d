"""paho-mqtt clients built from the settings: TLS with verification, credentials, a persistent session."""

from __future__ import annotations

import logging
import ssl

import certifi
import paho.mqtt.client as mqtt

from enertrack.config import Settings

log = logging.getLogger("enertrack.mqtt")


def tls_context(settings: Settings) -> ssl.SSLContext:
    """A verifying TLS context: MQTT_CA_FILE, else the system store, else certifi's."""
    if settings.mqtt_ca_file:
        context = ssl.create_default_context(cafile=str(settings.mqtt_ca_file))
    else:
        context = ssl.create_default_context()
        if context.cert_store_stats().get("x509_ca", 0) == 0:
            context.load_verify_locations(certifi.where())  # minimal images ship no system store
    if settings.mqtt_cert_file and settings.mqtt_key_file:
        context.load_cert_chain(str(settings.mqtt_cert_file), str(settings.mqtt_key_file))
    if settings.mqtt_tls_insecure:
        log.warning(
            "MQTT_TLS_INSECURE=true: the broker's certificate is NOT verified; anyone on the path "
            "can read and forge telemetry. Set MQTT_CA_FILE to the broker's CA and remove MQTT_TLS_INSECURE."
        )
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def make_client(settings: Settings, client_id: str, *, persistent: bool, manual_ack: bool = False) -> mqtt.Client:
    """A v3.1.1 client; persistent=True keeps the broker session (subscription and unacked messages).

    MQTT 3.1.1 with clean_session=False: the broker keeps the session across restarts of
    the client with no expiry to configure (paho's v5 default, clean start on the first
    connection only, would discard it at every restart of the process).
    """
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if settings.mqtt_user:
        password = settings.mqtt_password.get_secret_value() if settings.mqtt_password else None
        client.username_pw_set(settings.mqtt_user, password)
    if settings.mqtt_tls:
        client.tls_set_context(tls_context(settings))
    else:
        log.warning(
            "MQTT_TLS=false: talking to %s:%s in plain text; use this only for a broker on "
            "this machine (the demo), never across a network", settings.mqtt_host, settings.mqtt_port,
        )
    return client
