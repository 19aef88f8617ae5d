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


@user.command("invite")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 90), help="How long the link works.")
def user_invite(days: int) -> None:
    """Print a single-use sign-up link (for ENERTRACK_REGISTRATION=invite)."""
    from datetime import timedelta
    from urllib.parse import urlencode

    from enertrack.config import URL_PREFIX
    from enertrack.web.services import invites

    settings = settings_or_exit()
    with sessions(settings).begin() as db:
        token = invites.create(db, timedelta(days=days))
    click.echo(f"{settings.public_url or ''}{URL_PREFIX}register?{urlencode({'invite': token})}")
    if settings.registration != "invite":
        click.echo(f"note: ENERTRACK_REGISTRATION is {settings.registration!r}; links are asked for only "
                   "with ENERTRACK_REGISTRATION=invite", err=True)


@user.command("delete")
@click.option("--username", required=True, help="Whose account.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def user_delete(username: str, yes: bool) -> None:
    """Delete an account and all it owns: nodes, readings, broker accounts, alert rules, webhook."""
    from enertrack.broker import BrokerError, make_provisioner
    from enertrack.store import StoreUnavailable
    from enertrack.store.factory import open_store
    from enertrack.web.services import accounts
    from enertrack.web.services.account_deletion import delete_account

    settings = settings_or_exit()
    with sessions(settings)() as db:
        if accounts.find_user(db, username) is None:
            fail(f"no user called {username!r}")
    if not yes:
        click.confirm(f"Delete {username}, their nodes with every reading, their nodes' broker accounts, "
                      "alert rules and notification settings?", abort=True)
    provisioner = make_provisioner(settings)
    store = open_store(settings)
    try:
        with sessions(settings).begin() as db:
            found = accounts.find_user(db, username)
            if found is None:  # deleted meanwhile
                fail(f"no user called {username!r}")
            node_ids = delete_account(db, found.id, store=store, provisioner=provisioner, settings=settings)
    except BrokerError as exc:
        fail(f"the nodes' broker accounts could not be revoked, nothing was deleted: {exc}", code=1)
    except StoreUnavailable as exc:
        fail(f"the readings could not be deleted, the account was kept (its nodes' broker accounts, if any, are "
             f"revoked already): run the command again. {exc}", code=1)
    finally:
        store.close()
    click.echo(f"user {username} deleted with {len(node_ids)} nodes")
