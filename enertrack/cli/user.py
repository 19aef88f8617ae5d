"""`enertrack user`: accounts, for administration and scripts."""

from __future__ import annotations

import sys

import click

from enertrack.cli.common import fail, sessions, settings_or_exit


@click.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.option("--username", required=True, help="3-32 letters, digits, '.', '-' or '_'.")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 12 characters (prompted when omitted).")
@click.option("--timezone", default=None, help="IANA timezone [default: ENERTRACK_DEFAULT_TIMEZONE].")
@click.option("--language", type=click.Choice(["es", "en"]), default="es", show_default=True)
def user_create(username: str, email: str, password: str, timezone: str | None, language: str) -> None:
    """Create a user account (for administration and scripts)."""
    from enertrack.i18n import tr
    from enertrack.validation import MESSAGES
    from enertrack.web.services import accounts

    settings = settings_or_exit()
    new = accounts.NewAccount(username, email, password, password, timezone or settings.default_timezone, language)
    try:
        with sessions(settings).begin() as db:
            accounts.create_user(db, new)
    except accounts.AccountError as exc:
        for name, code in exc.errors.items():
            click.echo(f"error: {name}: {tr('en', MESSAGES.get(code, code))}", err=True)
        sys.exit(2)
    click.echo(f"user {username} created")


@user.command("set-password")
@click.option("--username", required=True, help="Whose password.")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
              help="The new password (prompted when omitted; the same policy as the web forms).")
def user_set_password(username: str, password: str) -> None:
    """Set a user's password (when they forgot it and no e-mail can be sent); ends their logins."""
    from enertrack.i18n import tr
    from enertrack.validation import MESSAGES
    from enertrack.web.services import accounts

    settings = settings_or_exit()
    try:
        with sessions(settings).begin() as db:
            found = accounts.find_user(db, username)
            if found is None:
                fail(f"no user called {username!r}")
            accounts.set_password(db, found, password, password)
    except accounts.AccountError as exc:
        for name, code in exc.errors.items():
            click.echo(f"error: {name}: {tr('en', MESSAGES.get(code, code))}", err=True)
        sys.exit(2)
    click.echo(f"password of {username} changed; every login of theirs has ended")
