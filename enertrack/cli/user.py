"""`enertrack user`: accounts, for administration and scripts."""

from __future__ import annotations

import sys

import click

from enertrack.cli.common import sessions, settings_or_exit


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
