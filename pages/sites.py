"""Sites: group nodes into supply points, each with its contracted power, nominal supply and tariffs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from enertrack.i18n import N_, translator
from enertrack.web.context import services
from enertrack.web.services import nodes as node_service
from enertrack.web.services import sites as site_service
from enertrack.web.services import tariffs as tariff_service
from enertrack.web.ui import fmt, ids
from enertrack.web.ui.toast import toast
from enertrack.web.ui.user import page_lang, user_id, user_lang

dash.register_page(__name__, path="/sites", title="EnerTrack")

LIST = "sites-list"
LOAD = "sites-load"
SITE_MSG, MOVE_MSG, TARIFF_MSG = "sites-site-message", "sites-move-message", "sites-tariff-message"
NOMINAL_MSG = "sites-nominal-message"
SITE_FIELDS = ("name", "contracted_kw", "contracted_valle_kw", "nominal_voltage", "nominal_frequency", "billing_day")
TARIFF_FIELDS = ("valid_from", "kind", "price_punta", "price_llano", "price_valle", "power_price_kw_day",
                 "power_price_valle_kw_day", "fixed_per_day")
SITE_SELECTS = ("sites-edit", "sites-move-site", "sites-tariff-site")
REFRESH = "sites-refresh"  # bumped after a deletion: the list and the selects are read again
DELETE_SITE, DELETE_TARIFF = "sites-delete", "sites-tariff-delete"  # pattern types: {"type", "id"}
DELETE_MODAL, DELETE_TEXT, DELETE_PENDING = "sites-delete-modal", "sites-delete-text", "sites-delete-pending"
DELETE_TARGET, DELETE_TARGET_ROW = "sites-delete-target", "sites-delete-target-row"
DELETE_CONFIRM, DELETE_CANCEL = "sites-delete-confirm", "sites-delete-cancel"
LABELS = {
    "name": N_("Name"), "contracted_kw": N_("Contracted power, kW (P1)"),
    "contracted_valle_kw": N_("Contracted power in valle, kW (P2, 2.0TD)"),
    "nominal_voltage": N_("Nominal voltage, V (empty: the installation's)"),
    "nominal_frequency": N_("Nominal frequency, Hz (50 or 60)"),
    "billing_day": N_("Billing day (1-28, empty: calendar months)"),
    "valid_from": N_("Valid from (YYYY-MM-DD)"), "kind": N_("Kind"), "price_punta": N_("Price per kWh, punta"),
    "price_llano": N_("Price per kWh (flat), or llano"), "price_valle": N_("Price per kWh, valle"),
    "power_price_kw_day": N_("Power term per kW and day (P1)"),
    "power_price_valle_kw_day": N_("Power term per kW and day (P2)"), "fixed_per_day": N_("Fixed charge per day"),
}
ERRORS = {
    "required": N_("{field}: required."), "too_long": N_("{field}: too long."),
    "not_a_number": N_("{field}: write a number, like 4.6."), "out_of_range": N_("{field}: out of range."),
    "fifty_or_sixty": N_("{field}: 50 or 60."), "whole_day": N_("{field}: a whole day of the month."),
    "name_taken": N_("You already have a site with that name."),
    "choose_kind": N_("{field}: choose flat or 2.0TD."), "bad_date": N_("{field}: a date like 2026-01-01."),
}
CANNOT_DELETE = N_("That cannot be deleted.")
DELETE_ERRORS = {
    "last_site": N_("This is your only site, so it cannot be deleted: every node needs a site. "
                    "Add another site first, or rename this one."),
    "same_site": N_("Choose another site for its nodes: they cannot move to the site being deleted."),
    "first_tariff": N_("This is the site's first tariff, so it cannot be deleted: costs before the next change "
                       "would have no price. Change it by adding a tariff with the same date."),
}


def _input(name: str, _: Any, prefix: str) -> dbc.Col:
    return dbc.Col([dbc.Label(_(LABELS[name]), html_for=f"{prefix}-{name}", class_name="small"),
                    dbc.Input(id=f"{prefix}-{name}", type="text", size="sm")], md=4)


def _labelled(select_id: str, label: str) -> dbc.Col:
    """A select with its label above it, in a form row's column."""
    return dbc.Col([dbc.Label(label, html_for=select_id, class_name="small"), dbc.Select(id=select_id, size="sm")],
                   md=4)


def _delete_modal(_: Any) -> dbc.Modal:
    return dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(_("Delete"))),
        dbc.ModalBody([html.P(id=DELETE_TEXT),
                       html.Div([dbc.Label(_("Move its nodes to"), html_for=DELETE_TARGET, class_name="small"),
                                 dbc.Select(id=DELETE_TARGET, size="sm")], id=DELETE_TARGET_ROW)]),
        dbc.ModalFooter([
            dbc.Button(_("Cancel"), id=DELETE_CANCEL, color="secondary", outline=True, n_clicks=0),
            dbc.Button(_("Delete"), id=DELETE_CONFIRM, color="danger", n_clicks=0),
        ]),
    ], id=DELETE_MODAL, is_open=False)


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """Sites with their nodes and tariffs, and the forms that change them."""
    lang = page_lang(lang)  # logged in: the profile's language, whatever the browser remembered
    _ = translator(lang)
    kinds = [{"label": _("Flat price"), "value": "flat"},
             {"label": "2.0TD (punta / llano / valle)", "value": "es-2.0td"}]
    return html.Div([
        html.H1(_("Sites"), className="h3 mb-2"),
        html.P(_("A site is a supply point with its own tariff: your home, your bakery. The panel and the analysis "
                 "can show one site at a time."), className="text-body-secondary"),
        dcc.Store(id=LOAD, data=True),
        dcc.Store(id=REFRESH, data=0),
        dcc.Store(id=DELETE_PENDING),
        _delete_modal(_),
        html.Div(id=LIST, className="mb-4"),
        dbc.Card(dbc.CardBody([
            html.H2(_("Add or change a site"), className="h6"),
            dbc.Select(id="sites-edit", value="new", options=[{"label": _("New site"), "value": "new"}],
                       class_name="mb-2 w-auto", size="sm"),
            dbc.Row([_input(n, _, "sites") for n in SITE_FIELDS], class_name="g-2 mb-2"),
            dbc.Button(_("Save site"), id="sites-save", size="sm", n_clicks=0),
            html.Div(id=SITE_MSG, className="small mt-2"),
        ]), class_name="mb-3 shadow-sm"),
        dbc.Card(dbc.CardBody([
            html.H2(_("Move a node"), className="h6"),
            dbc.Row([_labelled("sites-move-node", _("Node")), _labelled("sites-move-site", _("To site")),
                     dbc.Col(dbc.Button(_("Move"), id="sites-move", size="sm", n_clicks=0), md="auto",
                             class_name="align-self-end")],
                    class_name="g-2"),
            html.Div(id=MOVE_MSG, className="small mt-2"),
        ]), class_name="mb-3 shadow-sm"),
        dbc.Card(dbc.CardBody([
            html.H2(_("A node's own nominal supply"), className="h6"),
            html.P(_("For power quality. Empty: the node's site's, or the installation's."),
                   className="small text-body-secondary"),
            dbc.Row([_labelled("sites-nominal-node", _("Node")),
                     _input("nominal_voltage", _, "sites-node"), _input("nominal_frequency", _, "sites-node"),
                     dbc.Col(dbc.Button(_("Save"), id="sites-nominal-save", size="sm", n_clicks=0), md="auto",
                             class_name="align-self-end")], class_name="g-2"),
            html.Div(id=NOMINAL_MSG, className="small mt-2"),
        ]), class_name="mb-3 shadow-sm"),
        dbc.Card(dbc.CardBody([
            html.H2(_("Add a tariff"), className="h6"),
            html.P(_("A tariff applies from its date until the next one. 2.0TD: weekdays punta 10-14 and 18-22, "
                     "llano 8-10, 14-18 and 22-24, valle 0-8; weekends and national holidays valle."),
                   className="small text-body-secondary"),
            dbc.Label(_("Site"), html_for="sites-tariff-site", class_name="small"),
            dbc.Select(id="sites-tariff-site", size="sm", class_name="mb-2 w-auto"),
            dbc.Row([dbc.Col([dbc.Label(_(LABELS["kind"]), html_for="sites-tariff-kind", class_name="small"),
                              dbc.Select(id="sites-tariff-kind", value="flat", options=kinds, size="sm")], md=4),
                     *[_input(n, _, "sites-tariff") for n in TARIFF_FIELDS if n != "kind"]], class_name="g-2 mb-2"),
            dbc.Button(_("Save tariff"), id="sites-tariff-save", size="sm", n_clicks=0),
            html.Div(id=TARIFF_MSG, className="small mt-2"),
        ]), class_name="mb-3 shadow-sm"),
    ])


def _site_card(site: site_service.SiteView, tariffs: list[tariff_service.TariffView], lang: str) -> dbc.Col:
    _ = translator(lang)
    details = [f"{_(LABELS['contracted_kw'])}: {fmt.number(lang, 'power', site.contracted_kw)}"
               if site.contracted_kw else None,
               f"{site.nominal_voltage:g} V" if site.nominal_voltage else None,
               _("billing day {day}", day=site.billing_day) if site.billing_day else None]
    rows = [html.Li([f"{t.valid_from.isoformat()} · {'2.0TD' if t.kind == 'es-2.0td' else _('Flat price')} · "
                     + " / ".join(f"{v:g}" for v in (t.prices['price_punta'], t.prices['price_llano'],
                                                      t.prices['price_valle']) if v is not None),
                     dbc.Button(html.I(className="bi bi-trash"), id={"type": DELETE_TARIFF, "id": t.id},
                                color="link", size="sm", class_name="p-0 ms-2 text-danger", n_clicks=0,
                                title=_("Delete this tariff"))]) for t in tariffs]
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.Div([html.H3(site.name, className="h6 mb-1 site-name"),
                  dbc.Button([html.I(className="bi bi-trash me-1"), _("Delete")],
                             id={"type": DELETE_SITE, "id": site.id}, color="danger", outline=True, size="sm",
                             class_name="ms-auto py-0", n_clicks=0)], className="d-flex align-items-start"),
        html.Small(" · ".join(d for d in details if d), className="text-body-secondary d-block"),
        html.Div(_("Nodes: {nodes}", nodes=", ".join(site.node_ids) or "—"), className="small site-nodes"),
        html.Ul(rows, className="small mb-0 site-tariffs") if rows else
        html.Small(_("No tariff: costs use the price in your profile."), className="text-body-secondary"),
    ]), class_name="h-100 shadow-sm"), md=6, xl=4)


@callback(Output(LIST, "children"), *[Output(s, "options") for s in SITE_SELECTS],
          Output("sites-move-node", "options"), Output("sites-nominal-node", "options"), Input(LOAD, "data"),
          Input(SITE_MSG, "children"), Input(MOVE_MSG, "children"), Input(TARIFF_MSG, "children"),
          Input(NOMINAL_MSG, "children"), Input(REFRESH, "data"))
def show_sites(*_changed: Any) -> tuple[Any, ...]:
    """The user's sites, and the options of every select, after any change."""
    lang = user_lang()
    _ = translator(lang)
    uid = user_id()
    with services().read() as db:
        found = site_service.list_sites(db, uid)
        cards = [_site_card(s, tariff_service.list_tariffs(db, uid, s.id), lang) for s in found]
        node_ids = [n.node_id for n in node_service.list_nodes(db, uid)]
    options = [{"label": s.name, "value": str(s.id)} for s in found]
    node_options = [{"label": n, "value": n} for n in node_ids]
    return (dbc.Row(cards, class_name="g-3"), [{"label": _("New site"), "value": "new"}, *options], options, options,
            node_options, node_options)


def _problems(errors: dict[str, str], lang: str) -> html.Span:
    _ = translator(lang)
    text = " ".join(_(ERRORS.get(code, N_("{field}: out of range.")), field=_(LABELS.get(name, name)))
                    if name in LABELS else _(ERRORS.get(code, N_("{field}: out of range.")), field=name)
                    for name, code in errors.items())
    return html.Span(text, className="text-danger")


def _attempt(clicks: Any, work: Callable[[Any, Any], str], not_found: str) -> Any:
    """Run work(db, _) in one transaction: its success message, or what is wrong, as a form's message.

    work returns its success text; a SiteError lists the form's problems; SiteNotFound (or a
    node that is not theirs) gives not_found (a msgid), never anything about someone else's.
    """
    if not clicks:
        return dash.no_update
    lang = user_lang()
    _ = translator(lang)
    try:
        with services().transaction() as db:
            done = work(db, _)
    except site_service.SiteError as exc:
        return _problems(exc.errors, lang)
    except (site_service.SiteNotFound, node_service.NodeNotFound):
        return html.Span(_(not_found), className="text-danger")
    return html.Span(done, className="text-success")


@callback(Output(SITE_MSG, "children"), Input("sites-save", "n_clicks"), State("sites-edit", "value"),
          *[State(f"sites-{n}", "value") for n in SITE_FIELDS], prevent_initial_call=True)
def save_site(clicks: Any, editing: Any, *values: Any) -> Any:
    """Create or change one of the user's sites."""
    def work(db: Any, _: Any) -> str:
        saved = site_service.save_site(db, user_id(), dict(zip(SITE_FIELDS, values, strict=True)),
                                       None if editing in (None, "new") else editing)
        return _("Site {name} saved.", name=saved.name)

    return _attempt(clicks, work, N_("That site does not exist."))


@callback(Output(MOVE_MSG, "children"), Input("sites-move", "n_clicks"), State("sites-move-node", "value"),
          State("sites-move-site", "value"), prevent_initial_call=True)
def move(clicks: Any, node_id: Any, site_id: Any) -> Any:
    """Put one of the user's nodes in one of their sites."""
    def work(db: Any, _: Any) -> str:
        site_service.move_node(db, user_id(), node_id, site_id)
        return _("Node moved.")

    return _attempt(clicks, work, N_("Choose one of your nodes and one of your sites."))


@callback(Output(TARIFF_MSG, "children"), Input("sites-tariff-save", "n_clicks"), State("sites-tariff-site", "value"),
          *[State(f"sites-tariff-{n}", "value") for n in TARIFF_FIELDS], prevent_initial_call=True)
def save_tariff(clicks: Any, site_id: Any, *values: Any) -> Any:
    """Add a tariff to one of the user's sites."""
    def work(db: Any, _: Any) -> str:
        saved = tariff_service.save_tariff(db, user_id(), site_id, dict(zip(TARIFF_FIELDS, values, strict=True)))
        return _("Tariff from {day} saved.", day=saved.valid_from.isoformat())

    return _attempt(clicks, work, N_("Choose one of your sites."))


@callback(Output(NOMINAL_MSG, "children"), Input("sites-nominal-save", "n_clicks"),
          State("sites-nominal-node", "value"), State("sites-node-nominal_voltage", "value"),
          State("sites-node-nominal_frequency", "value"),
          prevent_initial_call=True)
def save_nominal(clicks: Any, node_id: Any, voltage: Any, frequency: Any) -> Any:
    """Set or clear one of the user's nodes' own nominal supply."""
    def work(db: Any, _: Any) -> str:
        site_service.set_node_nominal(db, user_id(), node_id,
                                      {"nominal_voltage": voltage, "nominal_frequency": frequency})
        return _("Nominal supply of {node} saved.", node=node_id)

    return _attempt(clicks, work, N_("Choose one of your nodes."))


@callback(*[Output(f"sites-{n}", "value") for n in SITE_FIELDS], Input("sites-edit", "value"),
          prevent_initial_call=True)
def fill_site(editing: Any) -> tuple[Any, ...]:
    """The chosen site's values in the form (empty for a new one)."""
    if editing in (None, "new"):
        return ("",) * len(SITE_FIELDS)
    try:
        with services().read() as db:
            site = site_service.owned_site(db, user_id(), editing)
            values = tuple(getattr(site, n) for n in SITE_FIELDS)
    except site_service.SiteNotFound:
        return ("",) * len(SITE_FIELDS)
    return tuple("" if v is None else f"{v:g}" if isinstance(v, float) else str(v) for v in values)




def _bump(counter: Any) -> int:
    """The refresh counter plus one; anything odd the browser sends starts again at 1."""
    return counter + 1 if isinstance(counter, int) and not isinstance(counter, bool) and 0 <= counter < 2**31 else 1


def _ask_site(db: Any, uid: int, site_id: Any, _: Any) -> dict[str, Any]:
    """The modal's question for deleting a site, or a toast when it cannot be deleted at all."""
    site = site_service.owned_site(db, uid, site_id)
    views = site_service.list_sites(db, uid)
    others = [v for v in views if v.id != site.id]
    if not others:
        return {"toasts": [toast(_(DELETE_ERRORS["last_site"]), "danger")]}
    nodes = next(v.node_ids for v in views if v.id == site.id)
    text = (_("Delete site {name}? Its tariffs are deleted with it; its nodes ({nodes}) and their readings "
              "move to the site you choose.", name=site.name, nodes=", ".join(nodes)) if nodes
            else _("Delete site {name}? Its tariffs are deleted with it. It has no nodes.", name=site.name))
    return {"open": True, "text": text, "pending": {"kind": "site", "id": site.id}, "target_style": {},
            "targets": [{"label": v.name, "value": str(v.id)} for v in others], "target": str(others[0].id)}


def _ask_tariff(db: Any, uid: int, tariff_id: Any, _: Any) -> dict[str, Any]:
    """The modal's question for deleting a tariff change (the site's first one is refused by the service)."""
    wanted = site_service.row_id(tariff_id)
    for site in site_service.list_sites(db, uid):
        for index, tariff in enumerate(tariff_service.list_tariffs(db, uid, site.id)):
            if tariff.id == wanted and index == 0:
                return {"toasts": [toast(_(DELETE_ERRORS["first_tariff"]), "danger")]}
            if tariff.id == wanted:
                text = _("Delete the tariff of {name} from {day}? The tariff before it then continues.",
                         name=site.name, day=tariff.valid_from.isoformat())
                return {"open": True, "text": text, "pending": {"kind": "tariff", "id": tariff.id},
                        "target_style": {"display": "none"}}
    raise site_service.SiteNotFound(str(tariff_id)[:20])


DELETE_ASK = dict(open=Output(DELETE_MODAL, "is_open"), text=Output(DELETE_TEXT, "children"),
                  pending=Output(DELETE_PENDING, "data"), targets=Output(DELETE_TARGET, "options"),
                  target=Output(DELETE_TARGET, "value"), target_style=Output(DELETE_TARGET_ROW, "style"),
                  toasts=Output(ids.TOASTS, "children", allow_duplicate=True))


@callback(output=DELETE_ASK,
          inputs=dict(sites=Input({"type": DELETE_SITE, "id": ALL}, "n_clicks"),
                      tariffs=Input({"type": DELETE_TARIFF, "id": ALL}, "n_clicks"),
                      cancel=Input(DELETE_CANCEL, "n_clicks")),
          prevent_initial_call=True)
def ask_delete(sites: Any, tariffs: Any, cancel: Any) -> dict[str, Any]:
    """Open the confirmation for a site or a tariff (ids from the browser: checked against the user's own)."""
    answer: dict[str, Any] = {key: no_update for key in DELETE_ASK}
    trigger = ctx.triggered_id
    if trigger == DELETE_CANCEL:
        return answer | {"open": False, "pending": None}
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0].get("value"):
        return answer  # a button drawn anew (the list refreshed), not a click
    _ = translator(user_lang())
    try:
        with services().read() as db:
            ask = _ask_site if trigger.get("type") == DELETE_SITE else _ask_tariff
            return answer | ask(db, user_id(), trigger.get("id"), _)
    except site_service.SiteNotFound:
        gone = _("That site or tariff no longer exists. Reload the page to see your sites.")
        return answer | {"toasts": [toast(gone, "danger")]}


@callback(Output(DELETE_MODAL, "is_open", allow_duplicate=True), Output(ids.TOASTS, "children", allow_duplicate=True),
          Output(REFRESH, "data"), Input(DELETE_CONFIRM, "n_clicks"), State(DELETE_PENDING, "data"),
          State(DELETE_TARGET, "value"), State(REFRESH, "data"), prevent_initial_call=True)
def confirm_delete(clicks: Any, pending: Any, target: Any, refresh: Any) -> tuple[Any, Any, Any]:
    """Delete the pending site (its nodes moved to target) or tariff, and say how it went in a toast."""
    if not clicks or not isinstance(pending, dict):
        return no_update, no_update, no_update
    _ = translator(user_lang())
    try:
        with services().transaction() as db:
            if pending.get("kind") == "site":
                name, moved_to, count = site_service.delete_site(db, user_id(), pending.get("id"), target)
                text = _("Site {name} deleted. Nodes moved to {target}: {count}.", name=name, count=count,
                         target=moved_to) if count else _("Site {name} deleted.", name=name)
            elif pending.get("kind") == "tariff":
                gone = tariff_service.delete_tariff(db, user_id(), pending.get("id"))
                text = _("Tariff from {day} deleted: the one before it now continues.",
                         day=gone.valid_from.isoformat())
            else:
                raise site_service.SiteNotFound("?")
    except site_service.SiteError as exc:
        code = next(iter(exc.errors.values()))
        return False, [toast(_(DELETE_ERRORS.get(code, CANNOT_DELETE)), "danger")], _bump(refresh)
    except site_service.SiteNotFound:
        return False, [toast(_("Choose one of your sites."), "danger")], _bump(refresh)
    return False, [toast(text, "success")], _bump(refresh)
