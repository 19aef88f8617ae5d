"""Password reset by e-mail: ask for a link (/forgot), then choose a new password with it (/reset).

Both answer the same whether or not an account uses the address, and the mail is sent from a
background thread so that the answer takes as long either way. Links point at
ENERTRACK_PUBLIC_URL, never at the Host header a client sent.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, flash, redirect, request
from flask_limiter import Limiter

from enertrack.config import URL_PREFIX
from enertrack.i18n import language, tr
from enertrack.mail import MailError, SmtpConfig, send, smtp_config
from enertrack.web.auth import page_url
from enertrack.web.context import services
from enertrack.web.device_cookie import normalize
from enertrack.web.services import password_reset
from enertrack.web.services.accounts import AccountError

log = logging.getLogger("enertrack.web")
EMAIL_LIMIT = "3 per hour"  # links one address may be sent: nobody's mailbox gets flooded


def _send_quietly(config: SmtpConfig, to: str, subject: str, body: str) -> None:
    try:
        send(config, to, subject, body)
    except MailError as exc:
        log.error("password reset mail not sent: %s", exc)  # the address stays out of the log


def forgot() -> Response:
    """POST email: send a reset link when an account uses it; the same answer either way."""
    lang = language(request.form.get("lang"))
    app = services()
    config = smtp_config(app.settings)
    if config is None:
        flash(tr(lang, "This installation cannot send e-mail. Ask its administrator to set a new password "
                       "for you with: enertrack user set-password"), "warning")
        return redirect(page_url("forgot"), code=303)
    with app.transaction() as db:
        found = password_reset.start(db, request.form.get("email"))
        mail = None
        if found is not None:
            user, token = found
            link = f"{app.settings.public_url}{URL_PREFIX}reset?{urlencode({'token': token})}"
            body = tr(user.language, "Hello {name},\n\nto choose a new password for EnerTrack, open this link "
                                     "within an hour:\n\n{link}\n\nIf you did not ask for it, ignore this "
                                     "message: your password stays as it is.", name=user.username, link=link)
            mail = (user.email, tr(user.language, "Your EnerTrack password"), body)
    if mail is not None:
        threading.Thread(target=_send_quietly, args=(config, *mail), daemon=True).start()
    flash(tr(lang, "If an account uses that address, we have sent it a link to choose a new password. "
                   "The link works for one hour."), "success")
    return redirect(page_url("login"), code=303)


def reset() -> Response:
    """POST token, password, confirm: the new password; the link is used up, every login ends."""
    form = request.form
    lang = language(form.get("lang"))
    token = str(form.get("token", ""))[:64]
    try:
        with services().transaction() as db:
            user = password_reset.finish(db, token, form.get("password"), form.get("confirm"))
            name = user.username
    except AccountError as exc:
        if "token" in exc.errors:
            flash(tr(lang, "That link has expired or was already used. Ask for a new one."), "danger")
            return redirect(page_url("forgot"), code=303)
        errors = ",".join(f"{k}:{v}" for k, v in exc.errors.items())
        return redirect(page_url("reset", token=token, errors=errors), code=303)
    flash(tr(lang, "Your password is changed. Log in with it, {name}.", name=name), "success")
    return redirect(page_url("login", username=name), code=303)


def init_reset_routes(server: Flask, limiter: Limiter) -> None:
    """Register /forgot and /reset, limited per address (and /forgot per e-mail address)."""
    settings = server.extensions["enertrack"].settings
    per_address = limiter.limit(lambda: settings.register_limit_ip)
    per_email = limiter.limit(EMAIL_LIMIT, key_func=lambda: f"reset:{normalize(request.form.get('email'))}")
    bp = Blueprint("reset", __name__, url_prefix=URL_PREFIX.rstrip("/"))
    bp.add_url_rule("/forgot", view_func=per_address(per_email(forgot)), methods=["POST"])
    bp.add_url_rule("/reset", view_func=limiter.limit(lambda: settings.login_limit_ip)(reset), methods=["POST"])
    server.register_blueprint(bp)
