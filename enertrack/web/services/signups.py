"""Sign-up confirmed by e-mail (when SMTP is configured): the account exists once its link is opened.

Everyone who submits a valid form gets the same answer, "check your e-mail": a new address
receives the confirmation link, an address that already has an account receives a note saying
so. Only the token's hash is stored; a link works for a day and once. No Flask here.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enertrack import validation
from enertrack.models import PendingSignup, User, utcnow
from enertrack.web.services.accounts import AccountError, NewAccount, account_errors, hash_password
from enertrack.web.services.login_sessions import TOKEN_MAX, token_hash

CONFIRM_LIFETIME = timedelta(days=1)


def start(db: Session, form: NewAccount, now: datetime | None = None) -> tuple[str | None, str]:
    """(a confirmation token, or None when the address already has an account; the address).

    AccountError for every other problem (a username taken may be said: usernames are public).
    """
    errors = account_errors(db, form)
    taken = errors.get("email") == "email_taken"
    if taken:
        del errors["email"]
    if errors:
        raise AccountError(errors)
    email = validation.normalize_email(form.email) or ""
    if taken:
        return None, email
    moment = now or utcnow()
    db.execute(delete(PendingSignup).where(PendingSignup.expires_at <= moment))
    token = secrets.token_urlsafe(32)
    db.add(PendingSignup(token_hash=token_hash(token), username=form.username.strip(), email=email,
                         password_hash=hash_password(form.password), timezone=form.timezone.strip(),
                         language=form.language, created_at=moment, expires_at=moment + CONFIRM_LIFETIME))
    db.flush()
    return token, email


def confirm(db: Session, token: object, now: datetime | None = None) -> User:
    """Create the account a confirmation link stands for; AccountError when the link is not valid."""
    if not isinstance(token, str) or not 0 < len(token) <= TOKEN_MAX:
        raise AccountError({"token": "confirm_invalid"})
    pending = db.scalar(select(PendingSignup).where(PendingSignup.token_hash == token_hash(token),
                                                    PendingSignup.expires_at > (now or utcnow())))
    if pending is None:
        raise AccountError({"token": "confirm_invalid"})
    user = User(username=pending.username, email=pending.email, password_hash=pending.password_hash,
                timezone=pending.timezone, language=pending.language)
    db.delete(pending)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:  # the username or address was taken while the link waited
        raise AccountError({"token": "confirm_taken"}) from None
    return user
