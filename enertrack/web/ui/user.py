"""The current user as callbacks and routes see it: id, language and timezone, from the session only."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user

from enertrack.i18n import DEFAULT_LANGUAGE, language, translator


def user_id() -> int:
    """The logged-in user's id (the guard guarantees a logged-in user in every protected callback)."""
    return int(current_user.id)


def user_lang() -> str:
    """The logged-in user's language; before login, the one the page was shown in, or Spanish."""
    if getattr(current_user, "is_authenticated", False):
        return language(current_user.language)
    return language(request.form.get("lang") or request.args.get("lang") or DEFAULT_LANGUAGE)


def page_lang(remembered: Any) -> Any:
    """The language a page is rendered in: the profile's once logged in, else the one the browser remembered."""
    return user_lang() if getattr(current_user, "is_authenticated", False) else remembered


def user_translator():  # type: ignore[no-untyped-def]
    """Translate function in the user's language."""
    return translator(user_lang())


def user_timezone() -> str:
    """The logged-in user's IANA timezone."""
    return str(getattr(current_user, "timezone", "UTC") or "UTC")
