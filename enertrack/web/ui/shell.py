"""The app shell every page renders inside: stores, navbar, page container, toasts."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from enertrack.config import URL_PREFIX
from enertrack.web.ui import ids
from enertrack.web.ui.session import language_picker


def navbar() -> dbc.Navbar:
    """Navbar frame; its texts and user menu are filled per session by ui.session."""
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [html.I(className="bi bi-lightning-charge-fill me-2 text-warning"), "EnerTrack"],
                    href=URL_PREFIX,
                    class_name="fw-semibold",
                ),
                dbc.NavbarToggler(id="nav-toggler", n_clicks=0),
                dbc.Collapse(
                    [
                        dbc.Nav(id=ids.NAV_LINKS, navbar=True, class_name="me-auto"),
                        dbc.Nav(
                            [
                                html.Div(id=ids.NAV_PUBLIC, className="d-flex align-items-center"),
                                language_picker(),
                                dbc.Button(
                                    html.I(className="bi bi-circle-half"),
                                    id=ids.THEME_TOGGLE,
                                    # Until the session callback sets it in the visitor's language:
                                    # bilingual, as the shell is the same for everyone.
                                    title="Tema claro u oscuro / Light or dark theme",
                                    color="link",
                                    class_name="nav-link px-2",
                                    n_clicks=0,
                                ),
                                html.Div(id=ids.NAV_USER, className="d-flex align-items-center"),
                            ],
                            navbar=True,
                            class_name="ms-auto align-items-lg-center",
                        ),
                    ],
                    id="nav-collapse",
                    navbar=True,
                    is_open=False,
                ),
            ],
            fluid=True,
        ),
        id=ids.NAVBAR,
        # dbc's defaults (color="primary", dark=True) would force white text onto this light
        # bar: the body-tertiary colour and Bootstrap's colour mode decide the text instead.
        color="var(--bs-tertiary-bg)",
        dark=False,
        class_name="border-bottom mb-3",
        expand="lg",
    )


def layout() -> html.Div:
    """The shell: same for everyone, no user data (that arrives through callbacks)."""
    return html.Div(
        [
            dcc.Store(id=ids.LANG, storage_type="local"),
            dcc.Store(id=ids.LANG_PICK, storage_type="memory"),
            dcc.Store(id=ids.THEME, storage_type="local"),
            dcc.Store(id=ids.THEME_RESOLVED, storage_type="memory"),
            dcc.Store(id=ids.BELL_SEEN, storage_type="memory"),  # survives page changes, not reloads
            dcc.Store(id=ids.ALERTS_REFRESH, data=0),
            dcc.Store(id=ids.ANCHOR, storage_type="memory"),
            navbar(),
            dbc.Container(dash.page_container, fluid="xxl", class_name="pb-5", id="page"),
            html.Div(id=ids.TOASTS, className="toast-container position-fixed bottom-0 end-0 p-3"),
        ]
    )
