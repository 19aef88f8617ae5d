"""Account routes on the profile page: change password, log out everywhere, delete the account.

Plain CSRF-protected form POSTs like login; errors go back to the profile page as codes in the
query string, shown next to the field. Each password check is rate-limited per user.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, flash, g, redirect, request
from flask_limiter import Limiter
from flask_login import current_user

from enertrack.broker import BrokerError
from enertrack.config import URL_PREFIX
from enertrack.i18n import tr
from enertrack.store import StoreUnavailable
from enertrack.web.auth import end_login, page_url, start_login, user_lang
from enertrack.web.context import services
from enertrack.web.services import accounts, login_sessions
from enertrack.web.services.account_deletion import delete_account

log = logging.getLogger("enertrack.accounts")


def _user_key() -> str:
    """Rate-limit key of the logged-in user (the guard lets only logged-in users reach these routes)."""
    return f"account:{getattr(current_user, 'id', '-')}"


def _back(errors: dict[str, str], section: str) -> Response:
    query = ",".join(f"{k}:{v}" for k, v in errors.items())
    return redirect(page_url("profile", errors=query, section=section) + f"#{section}", code=303)


def change_password() -> Response:
    """POST current_password, password, confirm: a new password; other browsers are logged out."""
    form = request.form
    lang = user_lang()
    try:
        with services().transaction() as db:
            user = accounts.change_password(db, int(current_user.id), form.get("current_password"),
                                            form.get("password"), form.get("confirm"))
    except accounts.AccountError as exc:
        g.auth_failed = "current_password" in exc.errors
        return _back(exc.errors, "password")
    start_login(user, remember=False)  # this browser stays in, with a new login of its own
    flash(tr(lang, "Your password is changed. Every other device has been logged out."), "success")
    return redirect(page_url("profile"), code=303)


def logout_everywhere() -> Response:
    """POST: end every login of this user, this browser's too."""
    lang = user_lang()
    with services().transaction() as db:
        login_sessions.end_all(db, int(current_user.id))
    end_login()
    flash(tr(lang, "You have logged out on every device."), "success")
    return redirect(page_url("login"), code=303)


def delete() -> Response:
    """POST password: delete the account, its nodes and all their readings, then log out."""
    lang = user_lang()
    app = services()
    try:
        with app.transaction() as db:
            if accounts.check_password(db, int(current_user.id), request.form.get("password")) is None:
                g.auth_failed = True
                return _back({"delete_password": "password_wrong"}, "delete")
            delete_account(db, int(current_user.id), store=app.store, provisioner=app.provisioner,
                           settings=app.settings)
    except BrokerError as exc:  # nothing was deleted; the account stays and a retry converges
        log.warning("account %s was not deleted: the broker failed: %s", current_user.id, exc)
        return _back({"delete": "delete_broker"}, "delete")
    except StoreUnavailable as exc:
        log.warning("account %s was not deleted: the store failed: %s", current_user.id, exc)
        return _back({"delete": "delete_store"}, "delete")
    end_login()
    flash(tr(lang, "Your account, your nodes and their readings are deleted."), "success")
    return redirect(page_url("login"), code=303)


def init_account_routes(server: Flask, limiter: Limiter) -> None:
    """Register the account routes, each password check limited like a login per username."""
    settings = server.extensions["enertrack"].settings
    limit = limiter.limit(lambda: settings.login_limit_user, key_func=_user_key,
                          deduct_when=lambda _r: bool(g.get("auth_failed")))
    bp = Blueprint("account", __name__, url_prefix=URL_PREFIX.rstrip("/") + "/account")
    bp.add_url_rule("/password", view_func=limit(change_password), methods=["POST"])
    bp.add_url_rule("/logout-everywhere", view_func=logout_everywhere, methods=["POST"])
    bp.add_url_rule("/delete", view_func=limit(delete), methods=["POST"])
    server.register_blueprint(bp)
