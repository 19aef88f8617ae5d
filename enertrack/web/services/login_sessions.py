"""Server-side login sessions: one random token per login, kept only as a hash. No Flask here.

The browser's session cookie (and its remember cookie, when asked for) carries the token;
a request is logged in only while the token's row exists and has not expired. Logout deletes
the row, "log out everywhere" and a password change delete all of a user's rows.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from enertrack.models import User, UserSession, utcnow

SESSION_LIFETIME = timedelta(days=7)  # as PERMANENT_SESSION_LIFETIME: a copied cookie dies with it
REMEMBER_LIFETIME = timedelta(days=30)  # as REMEMBER_COOKIE_DURATION
TOKEN_BYTES = 32
TOKEN_MAX = 64  # what a token's text may be at most; longer input is not one of ours


def token_hash(token: str) -> str:
    """SHA-256 hex of a token (random and long: no salt or slow hash needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, user_id: int, *, remember: bool, now: datetime | None = None) -> str:
    """A new login for user_id; returns its token (the only time it exists in clear)."""
    moment = now or utcnow()
    db.execute(delete(UserSession).where(UserSession.expires_at <= moment))  # keeps the table small
    token = secrets.token_urlsafe(TOKEN_BYTES)
    lifetime = REMEMBER_LIFETIME if remember else SESSION_LIFETIME
    db.add(UserSession(user_id=user_id, token_hash=token_hash(token), created_at=moment,
                       expires_at=moment + lifetime))
    db.flush()
    return token


def user_for(db: Session, token: object, now: datetime | None = None) -> User | None:
    """The user a token logs in, or None (unknown, ended or expired)."""
    if not isinstance(token, str) or not 0 < len(token) <= TOKEN_MAX:
        return None
    return db.scalar(
        select(User).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == token_hash(token), UserSession.expires_at > (now or utcnow()))
    )


def end(db: Session, token: object) -> None:
    """End the login this token belongs to (nothing when it is unknown)."""
    if isinstance(token, str) and 0 < len(token) <= TOKEN_MAX:
        db.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))


def end_all(db: Session, user_id: int) -> int:
    """End every login of user_id; returns how many there were."""
    result = db.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def count(db: Session, user_id: int) -> int:
    """How many unexpired logins user_id has."""
    rows = db.scalars(select(UserSession.id).where(UserSession.user_id == user_id,
                                                   UserSession.expires_at > utcnow()))
    return len(list(rows))
