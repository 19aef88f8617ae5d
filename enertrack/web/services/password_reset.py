"""Password reset by e-mail: a single-use token valid for an hour, only its hash stored. No Flask here."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from enertrack import validation
from enertrack.models import PasswordReset, User, utcnow
from enertrack.web.services.accounts import AccountError, set_password
from enertrack.web.services.login_sessions import TOKEN_MAX, token_hash

RESET_LIFETIME = timedelta(hours=1)


def start(db: Session, email: object, now: datetime | None = None) -> tuple[User, str] | None:
    """(the user, a new reset token) for the account with this e-mail address, or None when there is none.

    A new token replaces the user's earlier ones: only the newest link works.
    """
    address = validation.normalize_email(email)
    user = db.scalar(select(User).where(User.email == address)) if address else None
    if user is None:
        return None
    moment = now or utcnow()
    db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    token = secrets.token_urlsafe(32)
    db.add(PasswordReset(user_id=user.id, token_hash=token_hash(token), created_at=moment,
                         expires_at=moment + RESET_LIFETIME))
    db.flush()
    return user, token


def valid(db: Session, token: object, now: datetime | None = None) -> PasswordReset | None:
    """The unexpired reset this token belongs to, or None."""
    if not isinstance(token, str) or not 0 < len(token) <= TOKEN_MAX:
        return None
    return db.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_hash(token),
                                                 PasswordReset.expires_at > (now or utcnow())))


def finish(db: Session, token: object, password: object, confirm: object, now: datetime | None = None) -> User:
    """Set the new password through a reset token, which is then used up; AccountError otherwise.

    Every login of the user ends (set_password), as after any password change.
    """
    reset = valid(db, token, now)
    if reset is None:
        raise AccountError({"token": "reset_invalid"})
    user = db.get(User, reset.user_id)
    if user is None:
        raise AccountError({"token": "reset_invalid"})
    set_password(db, user, password, confirm)
    db.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))  # single use
    return user
