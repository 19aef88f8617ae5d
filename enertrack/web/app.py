"""create_app(): the Flask server with the Dash app (use_pages) under /enertrack/."""

from __future__ import annotations

from datetime import timedelta

import dash_bootstrap_components  # noqa: F401 - registers the component suite before pages import it
import plotly.io as pio
from dash import Dash, Input
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from enertrack.broker import make_provisioner
from enertrack.checkout import ROOT, require_checkout
from enertrack.config import URL_PREFIX, Settings, load_settings
from enertrack.db import make_engine, make_session_factory
from enertrack.store.base import TimeseriesStore
from enertrack.store.factory import open_store
from enertrack.web.account_routes import init_account_routes
from enertrack.web.auth import ANON_CALLBACKS, UPDATE_COMPONENT, init_auth
from enertrack.web.callback_body import ROUTER_KEY
from enertrack.web.context import EXTENSION, AppServices
from enertrack.web.device_files import init_device_files
from enertrack.web.downloads import init_downloads
from enertrack.web.headers import init_headers
from enertrack.web.reset_routes import init_reset_routes
from enertrack.web.signup_routes import init_signup_routes
from enertrack.web.static import PLOTLY_ASSETS, VersionedSuites, asset_url, init_static, plotly_scripts
from enertrack.web.ui import anchor, bell, ids, session, shell, theme
from enertrack.web.ui.errors import callback_failed

ASSETS = ROOT / "assets"
PAGES = ROOT / "pages"
THEME_INIT = "theme-init.js"
VENDOR_CSS = (
    "assets/vendor/bootstrap/bootstrap.min.css",
    "assets/vendor/bootstrap-icons/bootstrap-icons.min.css",
)


class EnerTrackDash(VersionedSuites):
    """Dash with the theme set in <head> before the first paint (no flash of the wrong theme)."""

    def __init__(self, *args: object, head_script: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._head_script = head_script

    def interpolate_index(self, **kwargs: str) -> str:  # type: ignore[override]
        kwargs["metas"] = kwargs.get("metas", "") + self._head_script
        return super().interpolate_index(**kwargs)


def _flask(settings: Settings) -> Flask:
    """The Flask server with secure cookie settings."""
    server = Flask("enertrack", root_path=str(ROOT), static_folder=None)
    server.config.update(
        SECRET_KEY=settings.secret_key_value(),
        SESSION_COOKIE_NAME="enertrack_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
        SESSION_COOKIE_PATH=URL_PREFIX,
        REMEMBER_COOKIE_NAME="enertrack_remember",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.https,
        REMEMBER_COOKIE_PATH=URL_PREFIX,
        REMEMBER_COOKIE_DURATION=timedelta(days=30),
        PERMANENT_SESSION_LIFETIME=timedelta(days=7),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session does
        WTF_CSRF_SSL_STRICT=settings.https,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    if settings.trusted_proxies:
        # Behind a reverse proxy the client address and scheme come from X-Forwarded-*.
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
        )
    return server


def _anonymous_callbacks(dash_app: Dash, public: set[str]) -> dict[str, bool]:
    """Exact output keys of the callbacks anonymous visitors may run -> whether it is the router."""
    missing = ({ROUTER_KEY} | public) - set(dash_app.callback_map)
    if missing:  # Dash renamed something: refuse to start rather than guess
        raise RuntimeError(f"callbacks the guard expects are missing: {sorted(missing)}")
    return {ROUTER_KEY: True} | dict.fromkeys(public, False)


def create_app(settings: Settings | None = None, *, store: TimeseriesStore | None = None) -> Flask:
    """Build the whole web app from settings (read from the environment when not given)."""
    require_checkout()  # pages/ and assets/ come from the checkout, not from the installed package
    settings = settings or load_settings()
    server = _flask(settings)
    engine = make_engine(settings.sqlalchemy_url)
    server.extensions[EXTENSION] = AppServices(
        settings=settings, engine=engine, sessions=make_session_factory(engine),
        store=store if store is not None else open_store(settings),
        provisioner=make_provisioner(settings),
    )
    pio.json.config.default_engine = "orjson"  # figures serialized by orjson, not the json module

    dash_app = EnerTrackDash(
        "enertrack",
        server=server,
        url_base_pathname=URL_PREFIX,
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ASSETS),
        assets_ignore=r"^(theme-init\.js|bootstrap\.min\.css|bootstrap-icons\.min\.css)$|" + PLOTLY_ASSETS,
        external_stylesheets=[asset_url(path) for path in VENDOR_CSS],
        external_scripts=plotly_scripts(),
        title="EnerTrack",
        update_title=None,
        routing_callback_inputs={"lang": Input(ids.LANG, "data")},
        on_error=callback_failed,
        head_script="<script>" + (ASSETS / THEME_INIT).read_text() + "</script>",
    )
    server.extensions["dash_app"] = dash_app
    dash_app.layout = shell.layout
    public = session.register(dash_app)
    theme.register(dash_app)
    bell.register(dash_app)
    anchor.register(dash_app)
    limiter = init_auth(server)
    init_account_routes(server, limiter)
    init_reset_routes(server, limiter)
    init_signup_routes(server)
    init_downloads(server)
    init_static(server)
    init_device_files(server)

    # Dash collects callbacks and builds the pages router on the first request; do that now
    # so the guard knows every callback before anyone calls one.
    with server.test_request_context(URL_PREFIX):
        server.preprocess_request()
    # The bell is rendered only into a logged-in user's navbar: Dash's renderer checks callback
    # outputs against the validation layout (every page's layout and the shell), so add it there.
    dash_app.validation_layout.children.append(bell.bell(str))
    server.extensions[ANON_CALLBACKS] = _anonymous_callbacks(dash_app, public)
    init_headers(server, dash_app, https=settings.https, inline_scripts=[(ASSETS / THEME_INIT).read_text()])
    assert URL_PREFIX + UPDATE_COMPONENT in server.view_functions
    return server
