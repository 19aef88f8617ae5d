"""User accounts: create, authenticate, update preferences. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from enertrack import validation
from enertrack.models import Site, User
from enertrack.web.services.sites import default_site_name

HASH_METHOD = "scrypt"
# Checked against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("timing-equalizer-not-a-password", method=HASH_METHOD)


class AccountError(validation.FormErrors):
    """Field -> error code problems with an account form."""


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What the register form (or `enertrack user create`) supplies."""

    username: str
    email: str
    password: str
    confirm: str
    timezone: str
    language: str


def hash_password(password: str) -> str:
    """A werkzeug scrypt hash."""
    return generate_password_hash(password, method=HASH_METHOD)


def account_errors(session: Session, form: NewAccount) -> dict[str, str]:
    """Every problem with a new account, as field -> error code."""
    errors: dict[str, str] = {}
    if code := validation.username_error(form.username):
        errors["username"] = code
    email = validation.normalize_email(form.email)
    if email is None:
        errors["email"] = "email_format"
    pw_errors = validation.password_errors(form.password, form.confirm, form.username, form.email)
    if pw_errors:
        errors["password"] = pw_errors[0]
    if code := validation.timezone_error(form.timezone):
        errors["timezone"] = code
    if code := validation.language_error(form.language):
        errors["language"] = code
    if "username" not in errors and find_user(session, form.username) is not None:
        errors["username"] = "username_taken"
    if email and session.scalar(select(User.id).where(User.email == email)) is not None:
        errors["email"] = "email_taken"
    return errors


def create_user(session: Session, form: NewAccount) -> User:
    """Validate and add a user (the caller commits); AccountError lists the problems."""
    errors = account_errors(session, form)
    if errors:
        raise AccountError(errors)
    user = User(
        username=form.username.strip(),
        email=validation.normalize_email(form.email) or "",
        password_hash=hash_password(form.password),
        timezone=form.timezone.strip(),
        language=form.language,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # the same username or email registered a moment ago
        session.rollback()
        raise AccountError(account_errors(session, form) or {"username": "username_taken"}) from None
    session.add(Site(owner_id=user.id, name=default_site_name(user.language)))  # every user starts with one
    return user


def get_user(session: Session, user_id: int) -> User | None:
    """The user with this id (None once deleted)."""
    return session.get(User, user_id)


def find_user(session: Session, username: Any) -> User | None:
    """The user with this username, case-insensitively (usernames are unique that way)."""
    name = validation.text(username)
    if not name:
        return None
    return session.scalar(select(User).where(func.lower(User.username) == name.lower()))


def authenticate(session: Session, username: Any, password: Any) -> User | None:
    """The user if the password matches; None for an unknown user or a wrong password alike."""
    user = find_user(session, username)
    secret = password if isinstance(password, str) else ""
    if user is None:
        check_password_hash(_DUMMY_HASH, secret)
        return None
    return user if check_password_hash(user.password_hash, secret) else None


def _editable(session: Session, user_id: int, errors: dict[str, str]) -> User:
    """The user to change, once the form had no errors; AccountError otherwise."""
    if errors:
        raise AccountError(errors)
    user = session.get(User, user_id)
    if user is None:
        raise AccountError({"user": "missing"})
    return user


def update_preferences(session: Session, user_id: int, timezone: Any, language: Any) -> User:
    """Save timezone and language for the user; AccountError for bad values."""
    errors: dict[str, str] = {}
    if code := validation.timezone_error(timezone):
        errors["timezone"] = code
    if code := validation.language_error(language):
        errors["language"] = code
    user = _editable(session, user_id, errors)
    user.timezone = validation.text(timezone)
    user.language = str(language)
    return user


def update_tariff(session: Session, user_id: int, price: Any, currency: Any) -> User:
    """Save the user's price per kWh (empty: no costs) and currency; AccountError for bad values."""
    amount, ok = validation.parse_price(price)
    errors: dict[str, str] = {}
    if not ok:
        errors["price_per_kwh"] = "price_range"
    if code := validation.currency_error(currency):
        errors["currency"] = code
    user = _editable(session, user_id, errors)
    user.price_per_kwh = amount
    user.currency = str(currency).strip().upper()
    return user


def tariff(session: Session, user_id: int) -> tuple[float | None, str]:
    """(price per kWh or None, currency) of the user."""
    user = session.get(User, user_id)
    if user is None or user.price_per_kwh is None:
        return None, user.currency if user is not None else "EUR"
    return float(user.price_per_kwh), user.currency


def check_password(session: Session, user_id: int, password: Any) -> User | None:
    """The user when password is theirs; None otherwise (also for a missing user, in the same time)."""
    user = session.get(User, user_id)
    secret = password if isinstance(password, str) else ""
    if user is None:
        check_password_hash(_DUMMY_HASH, secret)
        return None
    return user if check_password_hash(user.password_hash, secret) else None


def set_password(session: Session, user: User, password: Any, confirm: Any) -> None:
    """Give user a new password (the policy applies) and end every login they have; AccountError else."""
    from enertrack.web.services import login_sessions

    problems = validation.password_errors(password, confirm, user.username, user.email)
    if problems:
        raise AccountError({"password": problems[0]})
    user.password_hash = hash_password(str(password))
    login_sessions.end_all(session, user.id)  # whoever knew the old password is logged out everywhere


def change_password(session: Session, user_id: int, current: Any, password: Any, confirm: Any) -> User:
    """The logged-in user's password change: the current one is required; every login ends."""
    user = check_password(session, user_id, current)
    if user is None:
        raise AccountError({"current_password": "password_wrong"})
    set_password(session, user, password, confirm)
    return user
