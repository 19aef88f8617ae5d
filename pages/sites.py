"""Sites: group nodes into supply points, each with its contracted power, nominal supply and tariffs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from enertrack.i18n import N_, translator
from enertrack.web.context import services
from enertrack.web.services import nodes as node_service
from enertrack.web.services import sites as site_service
from enertrack.web.services import tariffs as tariff_service
from enertrack.web.ui import fmt
from enertrack.web.ui.user import user_id, user_lang

dash.register_page(__name__, path="/sites", title="EnerTrack")

LIST = "sites-list"
LOAD = "sites-load"
SITE_MSG, MOVE_MSG, TARIFF_MSG = "sites-site-message", "sites-move-message", "sites-tariff-message"
NOMINAL_MSG = "sites-nominal-message"
SITE_FIELDS = ("name", "contracted_kw", "contracted_valle_kw", "nominal_voltage", "nominal_frequency", "billing_day")
TARIFF_FIELDS = ("valid_from", "kind", "price_punta", "price_llano", "price_valle", "power_price_kw_day",
                 "power_price_valle_kw_day", "fixed_per_day")
SITE_SELECTS = ("sites-edit", "sites-move-site", "sites-tariff-site")
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


def _input(name: str, _: Any, prefix: str) -> dbc.Col:
    return dbc.Col([dbc.Label(_(LABELS[name]), html_for=f"{prefix}-{name}", class_name="small"),
                    dbc.Input(id=f"{prefix}-{name}", type="text", size="sm")], md=4)


def layout(lang: Any = None, **_kwargs: Any) -> html.Div:
    """Sites with their nodes and tariffs, and the forms that change them."""
    _ = translator(lang)
    kinds = [{"label": _("Flat price"), "value": "flat"},
             {"label": "2.0TD (punta / llano / valle)", "value": "es-2.0td"}]
    return html.Div([
        html.H1(_("Sites"), className="h3 mb-2"),
        html.P(_("A site is a supply point with its own tariff: your home, your bakery. The panel and the analysis "
                 "can show one site at a time."), className="text-body-secondary"),
        dcc.Store(id=LOAD, data=True),
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
            dbc.Row([dbc.Col(dbc.Select(id="sites-move-node", size="sm"), md=4),
                     dbc.Col(dbc.Select(id="sites-move-site", size="sm"), md=4),
                     dbc.Col(dbc.Button(_("Move"), id="sites-move", size="sm", n_clicks=0), md="auto")],
                    class_name="g-2"),
            html.Div(id=MOVE_MSG, className="small mt-2"),
        ]), class_name="mb-3 shadow-sm"),
        dbc.Card(dbc.CardBody([
            html.H2(_("A node's own nominal supply"), className="h6"),
            html.P(_("For power quality. Empty: the node's site's, or the installation's."),
                   className="small text-body-secondary"),
            dbc.Row([dbc.Col(dbc.Select(id="sites-nominal-node", size="sm"), md=4),
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
            dbc.Select(id="sites-tariff-site", size="sm", class_name="mb-2 w-auto"),
            dbc.Row([dbc.Col([dbc.Label(_(LABELS["kind"]), class_name="small"),
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
    rows = [html.Li(f"{t.valid_from.isoformat()} · {'2.0TD' if t.kind == 'es-2.0td' else _('Flat price')} · "
                    + " / ".join(f"{v:g}" for v in (t.prices['price_punta'], t.prices['price_llano'],
                                                     t.prices['price_valle']) if v is not None)) for t in tariffs]
    return dbc.Col(dbc.Card(dbc.CardBody([
        html.H3(site.name, className="h6 mb-1 site-name"),
        html.Small(" · ".join(d for d in details if d), className="text-body-secondary d-block"),
        html.Div(_("Nodes: {nodes}", nodes=", ".join(site.node_ids) or "—"), className="small site-nodes"),
        html.Ul(rows, className="small mb-0 site-tariffs") if rows else
        html.Small(_("No tariff: costs use the price in your profile."), className="text-body-secondary"),
    ]), class_name="h-100 shadow-sm"), md=6, xl=4)


@callback(Output(LIST, "children"), *[Output(s, "options") for s in SITE_SELECTS],
          Output("sites-move-node", "options"), Output("sites-nominal-node", "options"), Input(LOAD, "data"),
          Input(SITE_MSG, "children"), Input(MOVE_MSG, "children"), Input(TARIFF_MSG, "children"),
          Input(NOMINAL_MSG, "children"))
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
