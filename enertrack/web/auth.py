"""Accounts on the web: Flask-Login, the register/login/logout routes, and the one guard at the door."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, Response, current_app, flash, g, jsonify, redirect, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import text
from werkzeug.exceptions import TooManyRequests

from enertrack.config import URL_PREFIX, Settings
from enertrack.i18n import language, tr
from enertrack.mail import smtp_config
from enertrack.models import User
from enertrack.validation import timezone_error
from enertrack.web import device_cookie
from enertrack.web.callback_body import ROUTER_KEY, BadBody, check_body, read_body
from enertrack.web.context import services
from enertrack.web.services import accounts, invites, login_sessions
from enertrack.web.signup_routes import sign_up_by_mail
from enertrack.web.ui.user import user_lang

log = logging.getLogger("enertrack.web")

PUBLIC_PAGES = ("login", "register", "forgot", "reset", "confirm")
# Dash internals every page (the public ones included) needs: the same for everyone, no user data.
PUBLIC_DASH = ("_dash-layout", "_dash-dependencies", "_favicon.ico", "_reload-hash")
PUBLIC_PREFIXES = ("assets/", "_dash-component-suites/")
UPDATE_COMPONENT = "_dash-update-component"
ANON_CALLBACKS = "anonymous_callbacks"


@dataclass
class AuthUser:
    """The logged-in user as Flask-Login sees it (detached from the ORM)."""

    id: int
    username: str
    timezone: str
    language: str
    token: str  # this login's token (login_sessions): what the session and remember cookies carry
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        """Flask-Login's session key: the login's token, so ending the login ends both cookies."""
        return self.token


def auth_user(user: User, token: str) -> AuthUser:
    """Detach a User into an AuthUser for the login token."""
    return AuthUser(user.id, user.username, user.timezone, user.language, token)


def start_login(user: User, *, remember: bool) -> AuthUser:
    """A new server-side login for user, and Flask-Login told about it (a fresh session: no fixation)."""
    with services().transaction() as db:
        found = auth_user(user, login_sessions.start(db, user.id, remember=remember))
    session.clear()
    login_user(found, remember=remember)
    return found


def end_login() -> None:
    """End this browser's login: its row, its session cookie and its remember cookie."""
    token = getattr(current_user, "token", None)
    if token:
        with services().transaction() as db:
            login_sessions.end(db, token)
    session.clear()
    logout_user()  # after clear(): it leaves the marker that deletes the remember cookie


def page_url(page: str, **query: str) -> str:
    """URL of one of the app's pages, with a query string when given."""
    params = {k: v for k, v in query.items() if v}
    return URL_PREFIX + page + (("?" + urlencode(params)) if params else "")


def safe_next(target: Any) -> str:
    """A local path under the app to go to after login; the panel for anything else."""
    if not isinstance(target, str) or not target.startswith(URL_PREFIX):
        return URL_PREFIX
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return URL_PREFIX  # CR/LF would split the Location header (and nothing legitimate has them)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or target.startswith("//"):
        return URL_PREFIX
    return target


def next_param(target: Any) -> str:
    """next for a query string: the safe target, or "" when that is just the panel (no parameter)."""
    safe = safe_next(target)
    return "" if safe == URL_PREFIX else safe


def _rel(path: str) -> str:
    """Path relative to the app prefix."""
    return path[len(URL_PREFIX):] if path.startswith(URL_PREFIX) else path


def _anonymous_callback_allowed(body: Any) -> bool:
    """Only the callbacks the public pages need: the pages router (for public paths), session, CSRF."""
    if not isinstance(body, dict):
        return False
    allowed: dict[str, bool] = current_app.extensions.get(ANON_CALLBACKS, {})
    output = body.get("output")
    if not isinstance(output, str) or output not in allowed:
        return False
    if not allowed[output]:
        return True
    return _rel(str(_pathname(body) or "")).strip("/") in PUBLIC_PAGES  # the router: public paths only


def _pathname(body: Any) -> Any:
    """The pages router's pathname input in a callback request body (or None)."""
    for item in (body.get("inputs") or []) if isinstance(body, dict) else []:
        if isinstance(item, dict) and item.get("id") == "_pages_location" and item.get("property") == "pathname":
            return item.get("value")
    return None


def _bad_router_request(body: Any) -> bool:
    """A router call whose pathname is not one of ours (Dash would fail with a 500 on it)."""
    allowed: dict[str, bool] = current_app.extensions.get(ANON_CALLBACKS, {})
    if not isinstance(body, dict) or not allowed.get(body.get("output")):  # type: ignore[arg-type]
        return False
    path = _pathname(body)
    return not (isinstance(path, str) and (path + "/").startswith(URL_PREFIX))


def _same_origin() -> bool:
    """Callback POSTs must come from our own pages (Origin, when the browser sends it)."""
    origin = request.headers.get("Origin")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.host


def guard() -> Response | None:
    """The one door: anonymous users reach only the public pages and what they need."""
    path = request.path
    if not path.startswith(URL_PREFIX) and path != URL_PREFIX.rstrip("/"):
        return None
    rel = _rel(path)
    body: Any = None
    if rel == UPDATE_COMPONENT and request.method == "POST":
        if not _same_origin():
            return Response("cross-origin callback refused", status=403)
        try:
            body = read_body(request)
            check_body(body, current_app.extensions["dash_app"].callback_map, ROUTER_KEY)
        except BadBody as exc:
            log.warning("refused a callback request from %s: %s", get_remote_address(), exc)
            return jsonify(error=str(exc)), 400  # type: ignore[return-value]
        if _bad_router_request(body):
            return jsonify(error="unknown page address"), 400  # type: ignore[return-value]
    if current_user.is_authenticated:
        return None
    if rel in PUBLIC_PAGES or rel == "healthz" or rel in PUBLIC_DASH or rel.startswith(PUBLIC_PREFIXES):
        return None
    if rel == UPDATE_COMPONENT and request.method == "POST":
        if _anonymous_callback_allowed(body):
            return None
        return jsonify(error="login required", login=page_url("login")), 401  # type: ignore[return-value]
    if rel == "logout":
        return redirect(page_url("login"), code=303)
    if request.method == "GET":
        target = request.full_path.rstrip("?") if request.query_string else request.path
        return redirect(page_url("login", next=target))
    return jsonify(error="login required"), 401  # type: ignore[return-value]


def _error_page(status: int, message: str) -> Response:
    """Re-serve the page the form was on with a toast explaining what happened (no template)."""
    flash(message, "danger")
    dash_app = current_app.extensions["dash_app"]
    return Response(dash_app.index(), status=status, mimetype="text/html")


def _browser_timezone(value: Any, default: str) -> str:
    """The timezone the browser reported, or the installation's default when it is unusable."""
    return value if isinstance(value, str) and timezone_error(value) is None else default


def _failed() -> bool:
    """Flask-Limiter counts an attempt only when it failed."""
    return bool(g.get("auth_failed"))


def _username(form_value: Any) -> str:
    return device_cookie.normalize(form_value)


def _username_key() -> str:
    """Rate-limit key for a username tried from one address (a stranger cannot lock anyone out)."""
    return f"user:{_username(request.form.get('username'))}:{get_remote_address()}"


def _username_total_key() -> str:
    """Rate-limit key for a username whatever the address (a slow distributed guess)."""
    return f"user-total:{_username(request.form.get('username'))}"


def _trusted_device() -> bool:
    """The browser logged in as this username before (device_cookie): it has its own allowance."""
    return device_cookie.nonce_for(request.form.get("username")) is not None


def _device_key() -> str:
    """Rate-limit key of a trusted device: its cookie's nonce (locking it out locks out only it)."""
    return f"device:{device_cookie.nonce_for(request.form.get('username'))}"


def _invited(token: str) -> bool:
    """The sign-up form carries a valid, unused invitation."""
    with services().read() as db:
        return invites.valid(db, token) is not None


def _log_in(settings: Settings) -> Response:
    """The login form's POST: a new login on success, the form again with a message otherwise."""
    form = request.form
    lang = language(form.get("lang"))
    target = safe_next(form.get("next"))
    with services().read() as db:
        user = accounts.authenticate(db, form.get("username"), form.get("password"))
    if user is None:
        g.auth_failed = True
        flash(tr(lang, "Wrong username or password."), "danger")
        # Not the username: a password typed into the wrong field would end up in URLs and logs.
        return redirect(page_url("login", next=str(form.get("next", ""))[:512]), code=303)
    found = start_login(user, remember=form.get("remember") in ("on", "true", "1", "y"))
    flash(tr(found.language, "Welcome, {name}.", name=found.username), "success")
    response = redirect(target, code=303)
    device_cookie.issue(response, found.username, https=settings.https)
    return response


def _sign_up(settings: Settings) -> Response:
    """The sign-up form's POST, as ENERTRACK_REGISTRATION and SMTP allow."""
    form = request.form
    lang = language(form.get("language") or form.get("lang"))
    target = next_param(form.get("next"))  # where login sends the new user, as login would
    new = accounts.NewAccount(
        username=str(form.get("username", "")), email=str(form.get("email", "")),
        password=str(form.get("password", "")), confirm=str(form.get("confirm", "")),
        timezone=_browser_timezone(form.get("timezone"), settings.default_timezone), language=lang,
    )
    invite = str(form.get("invite", ""))[:64]
    if settings.registration != "open" and not (settings.registration == "invite" and _invited(invite)):
        flash(tr(lang, "Sign-up on this installation needs an invitation link from its administrator."),
              "warning")
        return redirect(page_url("login"), code=303)
    config = smtp_config(settings)
    try:
        if config is not None:  # the account exists once the address is confirmed
            sign_up_by_mail(config, new)
            if settings.registration == "invite":
                with services().transaction() as db:
                    invites.redeem(db, invite)
            flash(tr(lang, "Check your e-mail: we have sent a link to finish creating your account."),
                  "success")
            return redirect(page_url("login"), code=303)
        with services().transaction() as db:
            user = accounts.create_user(db, new)
            name = user.username
            if settings.registration == "invite" and not invites.redeem(db, invite):
                raise accounts.AccountError({"invite": "invite_invalid"})  # used by someone else meanwhile
    except accounts.AccountError as exc:
        # The username goes back to prefill the form; the email address does not (URLs get logged).
        keep = new.username[:32] if "username" not in exc.errors else ""
        return redirect(page_url("register", username=keep, next=target, invite=invite,
                                 errors=",".join(f"{k}:{v}" for k, v in exc.errors.items())), code=303)
    flash(tr(lang, "Your account is ready. Log in to start, {name}.", name=name), "success")
    return redirect(page_url("login", username=name, next=target), code=303)


def _error_handlers(server: Flask) -> None:
    """Too many attempts and expired forms: a page that says so, never a bare error."""

    @server.errorhandler(TooManyRequests)
    def too_many(_exc: TooManyRequests) -> Response:
        return _error_page(429, tr(user_lang(), "Too many attempts. Wait a few minutes and try again."))

    @server.errorhandler(CSRFError)
    def csrf_failed(_exc: CSRFError) -> Response:
        lang = user_lang()
        if _rel(request.path) == "logout":
            flash(tr(lang, "This page had expired. Try logging out again."), "danger")
            return redirect(URL_PREFIX, code=303)
        return _error_page(400, tr(lang, "This form had expired. Please try again."))


def init_auth(server: Flask) -> Limiter:
    """Wire Flask-Login, CSRF, rate limits, the guard and the account routes into server."""
    settings = server.extensions["enertrack"].settings
    login_manager = LoginManager(server)
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(token: str) -> AuthUser | None:
        with server.extensions["enertrack"].read() as db:
            user = login_sessions.user_for(db, token)
            return auth_user(user, token) if user is not None else None

    csrf = CSRFProtect(server)
    limiter = Limiter(get_remote_address, app=server, storage_uri=settings.ratelimit_storage_uri,
                      strategy="moving-window", key_prefix="enertrack")
    server.before_request(guard)

    bp = Blueprint("auth", __name__, url_prefix=URL_PREFIX.rstrip("/"))

    @bp.post("/login")
    @limiter.limit(lambda: settings.login_limit_ip, deduct_when=lambda _r: _failed())
    @limiter.limit(lambda: settings.login_limit_user, key_func=_username_key, deduct_when=lambda _r: _failed())
    @limiter.limit(lambda: settings.login_limit_user_total, key_func=_username_total_key,
                   deduct_when=lambda _r: _failed(), exempt_when=_trusted_device)
    @limiter.limit(lambda: settings.login_limit_user, key_func=_device_key,
                   deduct_when=lambda _r: _failed(), exempt_when=lambda: not _trusted_device())
    def login() -> Response:
        return _log_in(settings)

    @bp.post("/register")
    @limiter.limit(lambda: settings.register_limit_ip)
    def register() -> Response:
        return _sign_up(settings)

    @bp.post("/logout")
    def logout() -> Response:
        lang = user_lang()
        end_login()
        flash(tr(lang, "You have logged out. See you soon!"), "success")
        return redirect(page_url("login"), code=303)

    @bp.get("/healthz")
    def healthz() -> Response:
        try:
            with services().read() as db:
                db.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - a probe reports, it does not crash
            # The reason goes to the log only: it can name database users and hosts.
            log.exception("health check: the users database does not answer")
            return jsonify(status="error", database="unavailable"), 503  # type: ignore[return-value]
        return jsonify(status="ok")

    server.register_blueprint(bp)

    _error_handlers(server)

    # Dash's callbacks are JSON POSTs: SameSite=Lax cookies and the Origin check protect them.
    endpoint = URL_PREFIX + UPDATE_COMPONENT
    csrf.exempt(server.view_functions[endpoint])
    return limiter
