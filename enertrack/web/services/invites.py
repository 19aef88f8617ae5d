"""Single-use sign-up invitations (ENERTRACK_REGISTRATION=invite), stored as hashes. No Flask here."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from enertrack.models import Invite, utcnow
from enertrack.web.services.login_sessions import TOKEN_MAX, token_hash

INVITE_LIFETIME = timedelta(days=7)


def create(db: Session, lifetime: timedelta = INVITE_LIFETIME, now: datetime | None = None) -> str:
    """A new invitation; returns its token (the only time it exists in clear)."""
    moment = now or utcnow()
    db.execute(delete(Invite).where(Invite.expires_at <= moment))
    token = secrets.token_urlsafe(32)
    db.add(Invite(token_hash=token_hash(token), created_at=moment, expires_at=moment + lifetime))
    db.flush()
    return token


def valid(db: Session, token: object, now: datetime | None = None) -> Invite | None:
    """The unexpired, unused invitation this token belongs to, or None."""
    if not isinstance(token, str) or not 0 < len(token) <= TOKEN_MAX:
        return None
    return db.scalar(select(Invite).where(Invite.token_hash == token_hash(token),
                                          Invite.expires_at > (now or utcnow())))


def redeem(db: Session, token: object) -> bool:
    """Use up the invitation; False when it was not valid (any more)."""
    invite = valid(db, token)
    if invite is None:
        return False
    result = db.execute(delete(Invite).where(Invite.id == invite.id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
