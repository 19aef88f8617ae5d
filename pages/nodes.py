"""Nodes: list, add, edit and delete the user's measurement nodes."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from enertrack.config import URL_PREFIX
from enertrack.i18n import translator
from enertrack.store.base import StoreUnavailable
from enertrack.validation import (
    DEFAULT_INTERVAL_S,
    DESCRIPTION_MAX,
    INTERVAL_MAX_S,
    INTERVAL_MIN_S,
    LOCATION_MAX,
    MAX_POWER_MAX_W,
    MAX_POWER_MIN_W,
    MESSAGES,
)
from enertrack.web.context import services
from enertrack.web.services import nodes as node_service
from enertrack.web.ui import connect, ids
from enertrack.web.ui.forms import field
from enertrack.web.ui.toast import toast
from enertrack.web.ui.user import page_lang, user_id, user_translator

dash.register_page(__name__, path="/nodes", title="EnerTrack")

TABLE = "nodes-table"
REFRESH = "nodes-refresh"
ADD = "nodes-add"
FORM_MODAL = "node-form-modal"
FORM_TITLE = "node-form-title"
FORM_MODE = "node-form-mode"
FORM_SAVE = "node-form-save"
FORM_CANCEL = "node-form-cancel"
FIELDS = ("node_id", "description", "location", "interval_s", "max_power_w")
INPUT = {name: f"node-form-{name}" for name in FIELDS}
FEEDBACK = {name: f"node-form-{name}-feedback" for name in FIELDS}
EDIT = "node-edit"
DELETE = "node-delete"
DELETE_MODAL = "node-delete-modal"
DELETE_TEXT = "node-delete-text"
DELETE_PENDING = "node-delete-pending"
DELETE_CONFIRM = "node-delete-confirm"
DELETE_CANCEL = "node-delete-cancel"
ADDED_MODAL = "node-added-modal"
ADDED_BODY = "node-added-body"


def _form_modal(_: Any) -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(_("Add a node"), id=FORM_TITLE)),
            dbc.ModalBody(
                [
                    field(_("Node ID"), dbc.Input(id=INPUT["node_id"], maxLength=64,
                                                  autocomplete="off", placeholder="casa-cocina-01"),
                          help_text=_("The ID your device uses in its MQTT topic. It cannot be changed later."),
                          feedback_id=FEEDBACK["node_id"]),
                    field(_("Description"), dbc.Input(id=INPUT["description"], maxLength=DESCRIPTION_MAX,
                                                      ),
                          feedback_id=FEEDBACK["description"]),
                    field(_("Location"), dbc.Input(id=INPUT["location"], maxLength=LOCATION_MAX),
                          feedback_id=FEEDBACK["location"]),
                    field(_("Reporting interval (seconds)"),
                          dbc.Input(id=INPUT["interval_s"], type="number", min=INTERVAL_MIN_S,
                                    max=INTERVAL_MAX_S, step=1, value=DEFAULT_INTERVAL_S),
                          help_text=_("How often the device sends a reading. Used to tell whether it is connected."),
                          feedback_id=FEEDBACK["interval_s"]),
                    field(_("Glitch bound (W, optional)"),
                          dbc.Input(id=INPUT["max_power_w"], type="number", min=MAX_POWER_MIN_W,
                                    max=MAX_POWER_MAX_W, step=1, placeholder="30000"),
                          help_text=_("An energy jump implying more average power than this is treated as a "
                                      "meter glitch and ignored. Empty: 30 kW, right for any single-phase meter."),
                          feedback_id=FEEDBACK["max_power_w"]),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(_("Cancel"), id=FORM_CANCEL, color="secondary", outline=True, n_clicks=0),
                    dbc.Button(_("Save"), id=FORM_SAVE, color="primary", n_clicks=0),
                ]
            ),
        ],
        id=FORM_MODAL,
        is_open=False,
    )


def _delete_modal(_: Any) -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(_("Delete node"))),
            dbc.ModalBody(id=DELETE_TEXT),
            dbc.ModalFooter(
                [
                    dbc.Button(_("Cancel"), id=DELETE_CANCEL, color="secondary", outline=True, n_clicks=0),
                    dbc.Button(_("Delete node and readings"), id=DELETE_CONFIRM, color="danger", n_clicks=0),
                ]
            ),
        ],
        id=DELETE_MODAL,
        is_open=False,
    )


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """Page frame; the table is filled by a callback for the logged-in user."""
    lang = page_lang(lang)  # logged in: the profile's language, whatever the browser remembered
    _ = translator(lang)
    return html.Div(
        [
            html.Div(
                [
                    html.H1(_("Nodes"), className="h3 mb-0"),
                    dbc.Button([html.I(className="bi bi-plus-lg me-1"), _("Add node")], id=ADD,
                               color="primary", n_clicks=0),
                ],
                className="d-flex justify-content-between align-items-center mb-3",
            ),
            dcc.Store(id=REFRESH, data=0),
            dcc.Store(id=FORM_MODE, data=None),
            dcc.Store(id=DELETE_PENDING, data=None),
            dcc.Loading(html.Div(id=TABLE), delay_show=300),
            _form_modal(_),
            _delete_modal(_),
            dbc.Modal([dbc.ModalHeader(dbc.ModalTitle(_("Connect a device"))), dbc.ModalBody(id=ADDED_BODY)],
                      id=ADDED_MODAL, is_open=False, size="lg", scrollable=True),
        ]
    )


def next_refresh(counter: Any) -> int:
    """The table's refresh counter plus one; anything odd the browser sends starts again at 1."""
    return counter + 1 if isinstance(counter, int) and not isinstance(counter, bool) and 0 <= counter < 2**31 else 1


def _table(_: Any, rows: list[node_service.NodeView]) -> Any:
    if not rows:
        return dbc.Alert(
            [html.I(className="bi bi-info-circle me-2"),
             _("You have no nodes yet. Add one with the ID your device publishes under.")],
            color="info", id="nodes-empty",
        )
    header = html.Thead(html.Tr([html.Th(_("Node ID")), html.Th(_("Description")), html.Th(_("Location")),
                                 html.Th(_("Interval")), html.Th(_("Actions"), className="text-end")]))
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(dcc.Link(row.node_id, href=f"{URL_PREFIX}nodes/{row.node_id}"), className="text-break-all"),
                    html.Td(row.description),
                    html.Td(row.location),
                    html.Td(f"{row.interval_s} s"),
                    html.Td(
                        dbc.ButtonGroup(
                            [
                                dbc.Button([html.I(className="bi bi-pencil me-1"), _("Edit")],
                                           id={"type": EDIT, "node": row.node_id}, size="sm",
                                           color="secondary", outline=True, n_clicks=0),
                                dbc.Button([html.I(className="bi bi-trash me-1"), _("Delete")],
                                           id={"type": DELETE, "node": row.node_id}, size="sm",
                                           color="danger", outline=True, n_clicks=0),
                            ]
                        ),
                        className="text-end",
                    ),
                ],
                id={"type": "node-row", "node": row.node_id},
            )
            for row in rows
        ]
    )
    return dbc.Table([header, body], hover=True, responsive=True, class_name="align-middle", id="nodes-list")


@callback(Output(TABLE, "children"), Input(REFRESH, "data"))
def render_table(_refresh: Any) -> Any:
    """The logged-in user's nodes, and nobody else's."""
    with services().read() as db:
        rows = node_service.list_nodes(db, user_id())
    return _table(user_translator(), rows)


def _clicked() -> bool:
    """True when the trigger is a real click (new buttons appearing also fire pattern callbacks)."""
    return bool(ctx.triggered and ctx.triggered[0].get("value"))


FORM = dict(
    open=Output(FORM_MODAL, "is_open"),
    title=Output(FORM_TITLE, "children"),
    mode=Output(FORM_MODE, "data"),
    id_locked=Output(INPUT["node_id"], "disabled"),
    values={name: Output(INPUT[name], "value") for name in FIELDS},
    toasts=Output(ids.TOASTS, "children", allow_duplicate=True),
    refresh=Output(REFRESH, "data", allow_duplicate=True),
    added_open=Output(ADDED_MODAL, "is_open"),  # a new node's password, shown this once
    added_body=Output(ADDED_BODY, "children"),
)


def _form(**values: Any) -> dict[str, Any]:
    """node_form's answer: what is named changes, everything else stays as it is."""
    unchanged = {key: no_update for key in FORM} | {"values": {name: no_update for name in FIELDS}}
    return unchanged | values


@callback(
    output=FORM,
    inputs=dict(_add=Input(ADD, "n_clicks"), _edit=Input({"type": EDIT, "node": ALL}, "n_clicks"),
                _cancel=Input(FORM_CANCEL, "n_clicks"), _save=Input(FORM_SAVE, "n_clicks")),
    state=dict(mode=State(FORM_MODE, "data"), values={name: State(INPUT[name], "value") for name in FIELDS},
               refresh=State(REFRESH, "data")),
    prevent_initial_call=True,
)
def node_form(_add: Any, _edit: Any, _cancel: Any, _save: Any, mode: Any, values: Any, refresh: Any) -> dict[str, Any]:
    """Open the form to add or edit, close it, or save it."""
    _ = user_translator()
    values = {name: values.get(name) for name in FIELDS} if isinstance(values, dict) else dict.fromkeys(FIELDS)
    trigger = ctx.triggered_id
    if not _clicked():
        return _form()
    if trigger == ADD:
        blank = {"node_id": "", "description": "", "location": "", "interval_s": DEFAULT_INTERVAL_S,
                 "max_power_w": None}
        return _form(open=True, title=_("Add a node"), mode={"mode": "add"}, id_locked=False, values=blank)
    if trigger == FORM_CANCEL:
        return _form(open=False)
    if isinstance(trigger, dict) and trigger.get("type") == EDIT:
        try:
            with services().read() as db:
                node = node_service.view(node_service.owned(db, user_id(), trigger.get("node")))
        except node_service.NodeNotFound:
            return _form(open=False, toasts=[toast(_("That node does not exist."), "danger")])
        return _form(open=True, title=_("Edit node {node}", node=node.node_id),
                     mode={"mode": "edit", "node": node.node_id}, id_locked=True,
                     values={name: getattr(node, name) for name in FIELDS})
    if trigger == FORM_SAVE:
        toasts, bump, close, added = _save_form(_, mode, values, refresh)
        return _form(open=False if close else no_update, toasts=toasts, refresh=bump, **added)
    return _form()


def _save_form(_: Any, mode: Any, fields: dict[str, Any], refresh: Any) -> tuple[Any, Any, bool, dict[str, Any]]:
    """(toasts, refresh counter, close the form?, the new node's connect panel) after creating or updating."""
    editing = isinstance(mode, dict) and mode.get("mode") == "edit"
    bump = next_refresh(refresh)
    added = None
    try:
        with services().transaction() as db:
            if editing:
                saved = node_service.update_node(db, user_id(), mode.get("node"), fields)
                message = _("Node {node} saved.", node=saved.node_id)
            else:
                added = node_service.add_node(db, user_id(), fields, services().store, services().provisioner,
                                              quota=services().settings.quota_nodes)
                message = _("Node {node} added. Point your device at its topic to see data.",
                            node=added.node.node_id)
    except node_service.NodeError as exc:
        first = next(iter(exc.errors.values()))
        return [toast(_("Check the form: {problem}", problem=_(MESSAGES[first])), "danger")], no_update, False, {}
    except node_service.NodeNotFound:
        return [toast(_("That node does not exist."), "danger")], bump, True, {}
    except node_service.BrokerError:
        return ([toast(_("The broker could not create the node's account, so the node was not added. "
                         "Try again in a minute, or tell the administrator."), "danger")], no_update, False, {})
    if added is None or added.credentials is None:
        return [toast(message, "success")], bump, True, {}
    # The only moment the password exists: show it with everything the device needs.
    panel = connect.panel(_, connect.setup_for(added.node.node_id), added.credentials.password, prefix="added")
    return [toast(message, "success")], bump, True, {"added_open": True, "added_body": panel}


@callback(
    output=dict(invalid={name: Output(INPUT[name], "invalid") for name in FIELDS},
                feedback={name: Output(FEEDBACK[name], "children") for name in FIELDS},
                blocked=Output(FORM_SAVE, "disabled")),
    inputs=dict(values={name: Input(INPUT[name], "value") for name in FIELDS}),
    state=dict(mode=State(FORM_MODE, "data")),
    prevent_initial_call=True,
)
def validate_form(values: Any, mode: Any) -> dict[str, Any]:
    """Validation as you type, with the same rules the service applies on save."""
    _ = user_translator()
    values = {name: values.get(name) for name in FIELDS} if isinstance(values, dict) else dict.fromkeys(FIELDS)
    new = not (isinstance(mode, dict) and mode.get("mode") == "edit")
    with services().read() as db:
        errors = node_service.form_errors(db, values, new=new, reserved=services().provisioner.reserved)
    if new and not values["node_id"]:
        errors.pop("node_id", None)  # an empty field is not an error until the user types
        blocked = True
    else:
        blocked = bool(errors)
    return {"invalid": {name: name in errors for name in FIELDS},
            "feedback": {name: _(MESSAGES[errors[name]]) if name in errors else "" for name in FIELDS},
            "blocked": blocked}


@callback(
    Output(DELETE_MODAL, "is_open"),
    Output(DELETE_TEXT, "children"),
    Output(DELETE_PENDING, "data"),
    Output(ids.TOASTS, "children", allow_duplicate=True),
    Output(REFRESH, "data", allow_duplicate=True),
    Input({"type": DELETE, "node": ALL}, "n_clicks"),
    Input(DELETE_CANCEL, "n_clicks"),
    Input(DELETE_CONFIRM, "n_clicks"),
    State(DELETE_PENDING, "data"),
    State(REFRESH, "data"),
    prevent_initial_call=True,
)
def delete_node(_delete: Any, _cancel: Any, _confirm: Any, pending: Any, refresh: Any) -> tuple[Any, ...]:
    """Ask for confirmation, then delete the node and all its readings."""
    _ = user_translator()
    trigger = ctx.triggered_id
    if not _clicked():
        return (no_update,) * 5
    if trigger == DELETE_CANCEL:
        return False, no_update, None, no_update, no_update
    if isinstance(trigger, dict) and trigger.get("type") == DELETE:
        with services().read() as db:
            owned = node_service.owned_ids(db, user_id(), [trigger.get("node")])
        if not owned:
            return False, no_update, None, [toast(_("That node does not exist."), "danger")], no_update
        text = [
            html.P(_("Delete node {node}?", node=owned[0]), className="fw-semibold"),
            html.P(_("All its stored readings are deleted with it. This cannot be undone.")),
        ]
        return True, text, owned[0], no_update, no_update
    if trigger == DELETE_CONFIRM and isinstance(pending, str):
        bump = next_refresh(refresh)
        try:
            with services().transaction() as db:
                deleted = node_service.remove_node(db, services().store, user_id(), pending,
                                                   services().provisioner)
        except node_service.NodeNotFound:
            return False, no_update, None, [toast(_("That node does not exist."), "danger")], bump
        except node_service.BrokerError:
            return (False, no_update, None,
                    [toast(_("The broker could not revoke the node's account, so nothing was deleted. "
                             "Try again in a minute, or tell the administrator."), "danger")],
                    no_update)
        except StoreUnavailable:
            # With provisioning on, the broker account went first (so a retry converges): say so.
            text = (_("The readings could not be deleted right now, so the node was not deleted, but its broker "
                      "account is already revoked. Try again in a minute.") if services().provisioner.enabled
                    else _("The readings could not be deleted right now. Nothing was deleted; try again in a minute."))
            return (False, no_update, None, [toast(text, "danger")], no_update)
        return (False, no_update, None,
                [toast(_("Node {node} and its {count} readings were deleted.", node=pending, count=deleted),
                       "success")],
                bump)
    return (no_update,) * 5
