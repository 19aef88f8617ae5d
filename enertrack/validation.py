"""Pure checks of user-supplied fields; each returns error codes the UI translates."""

from __future__ import annotations

import math
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from babel.numbers import list_currencies
from email_validator import EmailNotValidError, validate_email

from enertrack.i18n_markers import N_
from enertrack.models import (
    DEFAULT_INTERVAL_S,  # noqa: F401 - the node form starts from it
    DESCRIPTION_MAX,
    INTERVAL_MAX_S,
    INTERVAL_MIN_S,
    LANGUAGES,
    LOCATION_MAX,
    MAX_POWER_MAX_W,
    MAX_POWER_MIN_W,
    NODE_ID_RE,
    PRICE_MAX,
    USERNAME_RE,
)
from enertrack.password_policy import MAX_LENGTH, MIN_LENGTH, new_password_problem

PASSWORD_MIN = MIN_LENGTH
PASSWORD_MAX = MAX_LENGTH

# Error code -> catalogue msgid. Codes travel in URLs and callbacks; messages never do.
MESSAGES: dict[str, str] = {
    "username_format": N_("Use 3 to 32 letters, digits, dots, hyphens or underscores."),
    "username_taken": N_("That username is already taken. Choose another one."),
    "email_format": N_("Enter a valid email address, like ana@example.com."),
    "email_taken": N_("There is already an account with that email. Log in instead."),
    "password_short": N_("The password needs at least 12 characters."),
    "password_long": N_("The password can have at most 128 characters."),
    "password_mismatch": N_("The two passwords do not match."),
    "password_personal": N_("The password must not contain your username or email address."),
    "password_weak": N_("This password is too easy to guess. Add a few uncommon words, or make it longer."),
    "password_wrong": N_("That is not your current password."),
    "invite_invalid": N_("That invitation has expired or was already used. Ask for a new one."),
    "delete_broker": N_("The broker could not revoke your nodes' accounts, so nothing was deleted. Try again "
                        "in a minute, or tell the administrator."),
    "delete_store": N_("Your readings could not be deleted right now, so your account was kept (your nodes' "
                       "broker accounts may be revoked already). Try again in a minute."),
    "reset_invalid": N_("That link has expired or was already used. Ask for a new one."),
    "timezone": N_("Choose a timezone from the list."),
    "language": N_("Choose Spanish or English."),
    "node_id_format": N_("Use 1 to 64 letters, digits, hyphens or underscores (no spaces)."),
    "node_id_taken": N_("That node ID already exists. Each device needs its own ID."),
    "node_quota": N_("You have as many nodes as this installation allows. Delete one, or ask its "
                     "administrator to raise ENERTRACK_QUOTA_NODES."),
    "node_id_reserved": N_("That name belongs to one of the broker's service accounts. Choose another ID."),
    "description_long": N_("The description can have at most 200 characters."),
    "location_long": N_("The location can have at most 120 characters."),
    "interval_range": N_("The interval must be a whole number of seconds between 1 and 86400."),
    "max_power_range": N_("Leave the glitch bound empty (30 kW) or give a power between 100 and 10,000,000 W."),
    "price_range": N_("The price must be a number between 0 and 100 per kWh, like 0.15."),
    "currency": N_("Use a three-letter currency code such as EUR, USD or MXN."),
}


class FormErrors(ValueError):
    """Field -> error code problems with a submitted form (each code a key of MESSAGES)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def text(value: Any) -> str:
    """A stripped string from untrusted input (None and non-strings become '')."""
    return value.strip() if isinstance(value, str) else ""


def username_error(value: Any) -> str | None:
    """Error code for a username, or None."""
    return None if USERNAME_RE.fullmatch(text(value)) else "username_format"


def normalize_email(value: Any) -> str | None:
    """The normalized email address, or None when it is not a valid one."""
    try:
        return validate_email(text(value), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def password_errors(password: Any, confirm: Any, username: Any = "", email: Any = "") -> list[str]:
    """Error codes for a new password (the policy in password_policy, then the confirmation)."""
    pw = password if isinstance(password, str) else ""
    errors: list[str] = []
    if problem := new_password_problem(pw, text(username), text(email)):
        errors.append(problem)
    if pw != (confirm if isinstance(confirm, str) else ""):
        errors.append("password_mismatch")
    return errors


@lru_cache(maxsize=1)
def timezones() -> tuple[str, ...]:
    """Every IANA timezone name this machine knows, sorted (for pickers and checks)."""
    return tuple(sorted(available_timezones()))


def timezone_error(value: Any) -> str | None:
    """Error code unless value is an IANA timezone name."""
    return None if text(value) in timezones() else "timezone"


def language_error(value: Any) -> str | None:
    """Error code unless value is a supported language."""
    return None if value in LANGUAGES else "language"


def node_id_error(value: Any) -> str | None:
    """Error code for a node id's format (uniqueness is the service's job)."""
    return None if NODE_ID_RE.fullmatch(text(value)) else "node_id_format"


def parse_interval(value: Any) -> int | None:
    """A reporting interval in whole seconds within range, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if INTERVAL_MIN_S <= number <= INTERVAL_MAX_S else None


def parse_number(value: Any) -> float | None:
    """A finite number from untrusted input (a form may send '0,15' or ' 12 '), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_max_power(value: Any) -> tuple[float | None, bool]:
    """(glitch bound in W or None for the default, valid?) from an optional form field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    number = parse_number(value)
    if number is None or not MAX_POWER_MIN_W <= number <= MAX_POWER_MAX_W:
        return None, False
    return number, True


def parse_price(value: Any) -> tuple[Decimal | None, bool]:
    """(price per kWh or None for no tariff, valid?) from an optional form field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, True
    number = parse_number(value)
    if number is None or not 0 <= number <= PRICE_MAX:
        return None, False
    return Decimal(str(number)).quantize(Decimal("0.00001")), True


@lru_cache(maxsize=1)
def currencies() -> frozenset[str]:
    """ISO 4217 codes Babel knows."""
    return frozenset(list_currencies())


def currency_error(value: Any) -> str | None:
    """Error code unless value is a known three-letter currency code."""
    return None if isinstance(value, str) and value.strip().upper() in currencies() else "currency"


def node_field_errors(fields: dict[str, Any], *, check_id: bool = True) -> dict[str, str]:
    """Field -> error code for a node form (node_id, description, location, interval_s)."""
    errors: dict[str, str] = {}
    if check_id and (code := node_id_error(fields.get("node_id"))):
        errors["node_id"] = code
    if len(text(fields.get("description"))) > DESCRIPTION_MAX:
        errors["description"] = "description_long"
    if len(text(fields.get("location"))) > LOCATION_MAX:
        errors["location"] = "location_long"
    if parse_interval(fields.get("interval_s")) is None:
        errors["interval_s"] = "interval_range"
    if not parse_max_power(fields.get("max_power_w"))[1]:
        errors["max_power_w"] = "max_power_range"
    return errors
