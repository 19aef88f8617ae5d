"""Sign-up by e-mail confirmation (SMTP configured): the register form's answer and /confirm.

The register route in auth calls sign_up_by_mail; the confirmation link opens /confirm, whose
button POSTs here and creates the account.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, flash, redirect, request

from enertrack.config import URL_PREFIX
from enertrack.i18n import language, tr
from enertrack.mail import MailError, SmtpConfig, send
from enertrack.web.context import services
from enertrack.web.services import signups
from enertrack.web.services.accounts import AccountError, NewAccount

log = logging.getLogger("enertrack.web")


def _send_quietly(config: SmtpConfig, to: str, subject: str, body: str) -> None:
    try:
        send(config, to, subject, body)
    except MailError as exc:
        log.error("sign-up mail not sent: %s", exc)


def sign_up_by_mail(config: SmtpConfig, new: NewAccount) -> None:
    """Start a sign-up and mail the address (a link, or a note that it has an account); AccountError else."""
    app = services()
    lang = new.language
    with app.transaction() as db:
        token, email = signups.start(db, new)
    if token is None:
        forgot = f"{app.settings.public_url}{URL_PREFIX}forgot"
        body = tr(lang, "Hello,\n\nsomeone tried to create an EnerTrack account with this address, which "
                        "already has one. If it was you, log in, or choose a new password here:\n\n{link}\n\n"
                        "If not, ignore this message.", link=forgot)
    else:
        link = f"{app.settings.public_url}{URL_PREFIX}confirm?{urlencode({'token': token})}"
        body = tr(lang, "Hello {name},\n\nopen this link within a day to finish creating your EnerTrack "
                        "account:\n\n{link}\n\nIf you did not sign up, ignore this message.",
                  name=new.username.strip(), link=link)
    mail = (email, tr(lang, "Your EnerTrack account"), body)
    threading.Thread(target=_send_quietly, args=(config, *mail), daemon=True).start()


def confirm() -> Response:
    """POST token: create the account the link stands for."""
    lang = language(request.form.get("lang"))
    try:
        with services().transaction() as db:
            name = signups.confirm(db, str(request.form.get("token", ""))[:64]).username
    except AccountError:
        flash(tr(lang, "That link has expired, was already used, or its username was taken meanwhile. "
                       "Sign up again."), "danger")
        return redirect(URL_PREFIX + "register", code=303)
    flash(tr(lang, "Your account is ready. Log in to start, {name}.", name=name), "success")
    return redirect(URL_PREFIX + "login?" + urlencode({"username": name}), code=303)


def init_signup_routes(server: Flask) -> None:
    """Register POST /confirm."""
    bp = Blueprint("signup", __name__, url_prefix=URL_PREFIX.rstrip("/"))
    bp.add_url_rule("/confirm", view_func=confirm, methods=["POST"])
    server.register_blueprint(bp)
