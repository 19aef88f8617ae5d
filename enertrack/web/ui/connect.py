"""The "Connect a device" panel: broker, credentials, topic, CA, payload contract and ready-to-paste snippets.

The password appears only in the answer to the request that issued it (adding the node, or
"Regenerate credentials"): it is never stored, so reloading the page shows it no more.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from enertrack.i18n import N_
from enertrack.web.context import services
from enertrack.web.device_files import CA_URL, PAYLOAD_URL
from enertrack.web.services import nodes as node_service
from enertrack.web.services.device_setup import SNIPPETS, DeviceSetup, device_ca, device_setup
from enertrack.web.ui import ids
from enertrack.web.ui.toast import toast
from enertrack.web.ui.user import user_id, user_translator

NODE = "connect-node"
BODY = "connect-body"
REGENERATE = "connect-regenerate"
CONFIRM_MODAL = "connect-confirm-modal"
CONFIRM = "connect-confirm"
CANCEL = "connect-cancel"
SNIPPET_TITLES = {"serial": N_("Serial console"), "secrets_h": "secrets.h", "esphome": "ESPHome",
                  "mosquitto_pub": "mosquitto_pub"}


def setup_for(node_id: Any) -> DeviceSetup:
    """The current user's node's connection facts (NodeNotFound for anyone else's)."""
    app = services()
    with app.read() as db:
        return device_setup(db, app.settings, user_id(), node_id, provisioning=app.provisioner.enabled,
                            ca_pem=device_ca(app.settings))


def _copyable(text: str, element_id: str, *, block: bool) -> html.Div:
    """Text with a copy button (dcc.Clipboard copies what element_id shows)."""
    shown = (html.Pre(text, id=element_id, className="mb-0 small") if block
             else html.Code(text, id=element_id, className="user-select-all"))
    return html.Div([shown, dcc.Clipboard(target_id=element_id, title="Copy", className="ms-2 fs-5")],
                    className="d-flex align-items-start")


def _password(_: Any, setup: DeviceSetup, password: str | None, prefix: str) -> Any:
    if password:
        return [_copyable(password, f"{prefix}-password", block=False),
                dbc.Alert(_("Copy it now: it is shown only this once. If it is lost, regenerate the "
                            "credentials."), color="warning", className="mt-2 mb-0 py-2 small")]
    if not setup.provisioning:
        return _("Issued by the broker's administrator, not by EnerTrack: ask them for this node's password.")
    if setup.has_credentials:
        return _("Shown only when it was issued. Lost it? Regenerate the credentials: the old password "
                 "stops working at once.")
    return _("No password issued yet: regenerate the credentials to get one.")


def _facts(_: Any, setup: DeviceSetup, password: str | None, prefix: str) -> html.Table:
    ca = (html.A(_("Download the CA certificate"), href=CA_URL) if setup.ca_pem else
          _("No CA certificate is configured for devices. Ask the administrator."))
    rows = [
        (_("Broker"), html.Code(f"{setup.host}:{setup.port}")),
        (_("User name"), html.Code(setup.node_id)),
        (_("Password"), _password(_, setup, password, prefix)),
        (_("Telemetry topic"), html.Code(setup.telemetry_topic)),
        (_("Status topic"), html.Code(setup.status_topic)),
        (_("CA certificate"), ca),
        (_("Payload"), html.A(_("What the device publishes (payload contract)"), href=PAYLOAD_URL,
                              target="_blank")),
    ]
    return html.Table(html.Tbody([html.Tr([html.Th(k, className="pe-3 text-nowrap"), html.Td(v)]) for k, v in rows]),
                      className="table table-sm mb-3")


def panel(_: Any, setup: DeviceSetup, password: str | None, *, prefix: str = "connect") -> html.Div:
    """The whole panel for one node; password only right after it was issued."""
    tabs = [dbc.Tab(_copyable(make(setup, password), f"{prefix}-snippet-{key}", block=True),
                    label=_(SNIPPET_TITLES[key]), tab_id=key, className="pt-2")
            for key, make in SNIPPETS.items()]
    return html.Div([
        html.P(_("The device connects to the broker as this node, over TLS. Fill in the Wi-Fi values in "
                 "the snippets."), className="text-body-secondary"),
        _facts(_, setup, password, prefix),
        dbc.Tabs(tabs, active_tab="serial"),
    ], id=f"{prefix}-panel")


def section(_: Any) -> dbc.Card:
    """The node page's card: filled by render(), with the regenerate button and its confirmation.

    NODE starts without data: the page writes the node id into it when the card comes into view.
    """
    return dbc.Card([
        dbc.CardHeader(html.Div([
            html.Span(_("Connect a device"), className="fw-semibold"),
            dbc.Button(_("Regenerate credentials"), id=REGENERATE, size="sm", color="secondary", outline=True,
                       style={"display": "none"}),
        ], className="d-flex justify-content-between align-items-center")),
        # No data at all, not even None: a Store given None "changes" to undefined as it mounts,
        # and that alone called render() on every page load.
        dbc.CardBody([dcc.Store(id=NODE), html.Div(id=BODY)]),
        dbc.Modal([
            dbc.ModalHeader(dbc.ModalTitle(_("Regenerate credentials?"))),
            dbc.ModalBody(_("The node gets a new password. The current one stops working at once, and a device "
                            "still using it is disconnected until it has the new one.")),
            dbc.ModalFooter([dbc.Button(_("Cancel"), id=CANCEL, color="secondary", outline=True),
                             dbc.Button(_("Regenerate"), id=CONFIRM, color="danger")]),
        ], id=CONFIRM_MODAL, is_open=False),
    ], className="mb-4")


def register() -> None:
    """The panel's callbacks, for the page that shows section(): call once at the page module's top level.

    Dash runs page modules again for each app it builds, and takes the callbacks they declare then;
    a callback declared here at import would belong to the first app only.
    """

    @callback(Output(BODY, "children"), Output(REGENERATE, "style"), Input(NODE, "data"), prevent_initial_call=True)
    def render(node_id: Any) -> tuple[Any, Any]:
        """The panel without a password, and the regenerate button when EnerTrack issues passwords."""
        _ = user_translator()
        try:
            setup = setup_for(node_id)
        except node_service.NodeNotFound:
            return None, {"display": "none"}
        return panel(_, setup, None), ({} if setup.provisioning else {"display": "none"})

    @callback(Output(CONFIRM_MODAL, "is_open"), Input(REGENERATE, "n_clicks"), Input(CANCEL, "n_clicks"),
              Input(CONFIRM, "n_clicks"), prevent_initial_call=True)
    def ask(_regenerate: Any, _cancel: Any, _confirm: Any) -> bool:
        """Open the confirmation; close it on either answer."""
        return ctx.triggered_id == REGENERATE

    @callback(Output(BODY, "children", allow_duplicate=True), Output(ids.TOASTS, "children", allow_duplicate=True),
              Input(CONFIRM, "n_clicks"), State(NODE, "data"), prevent_initial_call=True)
    def regenerate(clicks: Any, node_id: Any) -> tuple[Any, Any]:
        """Issue a new password and show it once, in the panel's snippets too."""
        _ = user_translator()
        if not clicks:
            return no_update, no_update
        app = services()
        try:
            with app.transaction() as db:
                credentials = node_service.regenerate_credentials(db, user_id(), node_id, app.provisioner)
            setup = setup_for(node_id)
        except node_service.NodeNotFound:
            return no_update, [toast(_("That node does not exist."), "danger")]
        except node_service.ProvisioningOff:
            return no_update, [toast(_("The broker's administrator issues this node's password."), "warning")]
        except node_service.BrokerError:
            return no_update, [toast(_("The broker could not be reached, so the credentials were not changed. "
                                              "Try again in a minute, or tell the administrator."), "danger")]
        return panel(_, setup, credentials.password), [toast(_("New credentials issued."), "success")]
