"""OWASP's device cookies: a browser that logged in as a user before keeps its own allowance.

After a successful login the browser gets a signed cookie naming the user and a random nonce.
A login attempt for that user from a browser holding it is a "trusted device": it is limited
by its own counter (keyed by the nonce) instead of the per-username total that strangers share,
so failures from other addresses cannot lock the owner out. Without the cookie, the per-username
limits apply as before; the per-address limits apply to everyone.
https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
"""

from __future__ import annotations

import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from enertrack.config import URL_PREFIX

COOKIE = "enertrack_device"
SALT = "enertrack-device-cookie"
MAX_AGE_S = 365 * 86400  # a browser stays known for a year after its last successful login
COOKIE_MAX = 512  # a longer value is not one we wrote


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def normalize(username: object) -> str:
    """The username as limits key it (case-insensitive, trimmed, bounded)."""
    return str(username or "").strip().lower()[:64]


def nonce_for(username: object) -> str | None:
    """The nonce of this browser's device cookie when it is valid for username, else None."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > COOKIE_MAX:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != normalize(username) or not isinstance(data.get("n"), str):
        return None
    return data["n"]


def issue(response: Response, username: str, *, https: bool) -> None:
    """Give this browser a device cookie for username (after a successful login)."""
    value = _serializer().dumps({"u": normalize(username), "n": secrets.token_urlsafe(16)})
    response.set_cookie(COOKIE, value, max_age=MAX_AGE_S, path=URL_PREFIX, secure=https, httponly=True,
                        samesite="Lax")
