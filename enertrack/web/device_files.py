"""What a device's installer downloads from the node page: the broker's CA certificate and the payload contract.

Both sit behind the login guard in enertrack.web.auth like everything under /enertrack/.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from enertrack.checkout import ROOT
from enertrack.config import URL_PREFIX
from enertrack.i18n import tr
from enertrack.web.context import services
from enertrack.web.services.device_setup import CA_FILENAME, device_ca
from enertrack.web.ui.user import user_lang

CA_PATH = "/broker-ca.crt"
PAYLOAD_PATH = "/docs/payload.md"
CA_URL = URL_PREFIX.rstrip("/") + CA_PATH
PAYLOAD_URL = URL_PREFIX.rstrip("/") + PAYLOAD_PATH


def broker_ca() -> Response:
    """GET /enertrack/broker-ca.crt: ENERTRACK_DEVICE_CA_FILE (else MQTT_CA_FILE), 404 when there is none."""
    pem = device_ca(services().settings)
    if pem is None:
        return Response(tr(user_lang(), "No CA certificate is configured for devices. Ask the administrator.")
                        + "\n", status=404, mimetype="text/plain")
    return Response(pem, mimetype="application/x-pem-file",
                    headers={"Content-Disposition": f'attachment; filename="{CA_FILENAME}"',
                             "X-Content-Type-Options": "nosniff"})


def payload_contract() -> Response:
    """GET /enertrack/docs/payload.md: what a node publishes, as plain text."""
    return Response((ROOT / "docs" / "payload.md").read_text(encoding="utf-8"), mimetype="text/plain",
                    headers={"X-Content-Type-Options": "nosniff"})


def init_device_files(server: Flask) -> None:
    """Register the device download routes on server."""
    files = Blueprint("device_files", __name__, url_prefix=URL_PREFIX.rstrip("/"))
    files.add_url_rule(CA_PATH, view_func=broker_ca, methods=["GET"])
    files.add_url_rule(PAYLOAD_PATH, view_func=payload_contract, methods=["GET"])
    server.register_blueprint(files)
