"""Which new passwords EnerTrack accepts: long enough, not the user's own name or address, hard to guess.

Strength comes from zxcvbn (Dropbox's estimator: dictionaries, keyboard patterns, repeats,
dates, l33t); the web forms and the CLI both call new_password_problem.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn 0..4; 3 is "safely unguessable: moderate protection from offline attacks"
ESTIMATE_CHARS = 72  # zxcvbn refuses longer input (and slows down); the first 72 decide the estimate
PERSONAL_MIN = 4  # shorter names ("ana") hide in ordinary words (banana); zxcvbn still weighs them


def _squash(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum())


def personal_parts(username: str, email: str) -> list[str]:
    """The pieces of a user's identity a password must not contain (name, address, its local part)."""
    local = email.partition("@")[0]
    parts = {_squash(username), _squash(email), _squash(local)}
    return sorted(p for p in parts if len(p) >= PERSONAL_MIN)


def new_password_problem(password: str, username: str = "", email: str = "") -> str | None:
    """An error code for a new password, or None when it is acceptable.

    Codes: password_short, password_long, password_personal, password_weak.
    """
    if len(password) < MIN_LENGTH:
        return "password_short"
    if len(password) > MAX_LENGTH:
        return "password_long"
    squashed = _squash(password)
    parts = personal_parts(username, email)
    if any(part in squashed for part in parts):
        return "password_personal"
    if zxcvbn(password[:ESTIMATE_CHARS], user_inputs=parts)["score"] < MIN_SCORE:
        return "password_weak"
    return None
