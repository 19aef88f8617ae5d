"""`enertrack alerts run` (the evaluation service), `enertrack alert ...` and `enertrack notify set`."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

import click

from enertrack.cli.common import fail, sessions, settings_or_exit

KIND_HELP = "offline|voltage-low|voltage-high|frequency|power-factor-low|power-above|energy-day-above"


def _user_id(db: Any, username: str) -> int:
    from enertrack.web.services.accounts import find_user

    found = find_user(db, username)
    if found is None:
        fail(f"no user called {username!r}: create it first with `enertrack user create`")
    return found.id


@click.group()
def alerts() -> None:
    """The alert evaluation service."""


@alerts.command("run")
@click.option("--once", is_flag=True, help="One cycle (judge and deliver), then exit.")
def alerts_run(once: bool) -> None:
    """Judge every rule each ENERTRACK_ALERTS_POLL_S seconds and send notifications (SIGTERM stops it)."""
    from enertrack.alerts.service import run

    settings = settings_or_exit()
    # As the ingest daemon: every problem but the web app's secret key stops it.
    problems = [p for p in settings.problems() if not p.startswith("FLASK_SECRET_KEY")]
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        raise SystemExit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(settings, stop, once=once)


@click.group()
def alert() -> None:
    """Alert rules."""


@alert.command("add")
@click.option("--user", "username", required=True, help="Owner's username.")
@click.option("--node", "node_id", default=None, help="One of the user's nodes [default: all of them].")
@click.option("--rule", "kind", required=True, help=KIND_HELP)
@click.option("--threshold", default=None, help="The limit (V, W, kWh or a power factor).")
@click.option("--min", "minimum", default=None, help="Frequency band: lowest Hz allowed.")
@click.option("--max", "maximum", default=None, help="Frequency band: highest Hz allowed.")
@click.option("--for", "duration", default="0s", show_default=True,
              help="How long the condition must last: 90s, 10m, 1h.")
def alert_add(username: str, node_id: str | None, kind: str, threshold: str | None, minimum: str | None,
              maximum: str | None, duration: str) -> None:
    """Add a rule for a user (on one node, or on every node they own)."""
    from enertrack.alerts.manage import add_rule
    from enertrack.alerts.rules import RuleError, make_spec

    settings = settings_or_exit()
    try:
        spec = make_spec(kind, duration, threshold, minimum, maximum)
        with sessions(settings).begin() as db:
            view = add_rule(db, _user_id(db, username), node_id, spec, int(time.time()),
                            quota=settings.quota_alert_rules)
    except RuleError as exc:
        fail(str(exc))
    click.echo(f"rule {view.id} added: {view.kind} {view.limit} for {view.for_s} s on {view.node_id or 'all nodes'}")


@alert.command("list")
@click.option("--user", "username", required=True)
def alert_list(username: str) -> None:
    """List rules as tab-separated lines: id, node (* = all), rule, limit, seconds, active|paused."""
    from enertrack.alerts.manage import list_rules

    with sessions(settings_or_exit())() as db:
        for v in list_rules(db, _user_id(db, username)):
            click.echo(f"{v.id}\t{v.node_id or '*'}\t{v.kind}\t{v.limit}\t{v.for_s}\t"
                       f"{'paused' if v.paused else 'active'}")


def _change(username: str, rule_id: int, action: str) -> None:
    from enertrack.alerts import manage
    from enertrack.alerts.rules import RuleError

    try:
        with sessions(settings_or_exit()).begin() as db:
            uid = _user_id(db, username)
            if action == "remove":
                manage.delete_rule(db, uid, rule_id)
            else:
                manage.set_paused(db, uid, rule_id, action == "pause", int(time.time()))
    except RuleError as exc:
        fail(f"{exc} (see `enertrack alert list --user {username}`)")
    click.echo(f"rule {rule_id}: {action} done")


@alert.command("pause")
@click.option("--user", "username", required=True)
@click.option("--id", "rule_id", required=True, type=int)
def alert_pause(username: str, rule_id: int) -> None:
    """Pause a rule (nothing is judged until it is resumed)."""
    _change(username, rule_id, "pause")


@alert.command("resume")
@click.option("--user", "username", required=True)
@click.option("--id", "rule_id", required=True, type=int)
def alert_resume(username: str, rule_id: int) -> None:
    """Resume a paused rule; readings from now on are judged."""
    _change(username, rule_id, "resume")


@alert.command("remove")
@click.option("--user", "username", required=True)
@click.option("--id", "rule_id", required=True, type=int)
def alert_remove(username: str, rule_id: int) -> None:
    """Delete a rule (its history stays)."""
    _change(username, rule_id, "remove")


@alert.command("preset")
@click.option("--user", "username", required=True)
@click.option("--node", "node_id", required=True)
@click.option("--preset", "key", required=True, type=click.Choice(["en50160", "ansi-c84.1"]))
def alert_preset(username: str, node_id: str, key: str) -> None:
    """Add a supply standard's voltage and frequency rules to a node."""
    from enertrack.alerts.manage import apply_preset
    from enertrack.alerts.rules import RuleError

    settings = settings_or_exit()
    try:
        with sessions(settings).begin() as db:
            added = apply_preset(db, _user_id(db, username), node_id, key, int(time.time()),
                                 quota=settings.quota_alert_rules)
    except RuleError as exc:
        fail(str(exc))
    click.echo(f"{len(added)} rules added on {node_id}")


@click.group()
def notify() -> None:
    """Where a user's alerts are sent."""


@notify.command("set")
@click.option("--user", "username", required=True)
@click.option("--email", default=None, help="Address for alert e-mail ('' turns e-mail off).")
@click.option("--webhook", "webhook_url", default=None, help="http(s) URL to POST alerts to ('' turns it off).")
@click.option("--webhook-secret", default=None, help="HMAC-SHA256 key, 16-128 characters [default: generated].")
@click.option("--quiet", default=None, help="Quiet hours for e-mail and webhook, e.g. 22:00-07:00 ('' for none).")
def notify_set(username: str, email: str | None, webhook_url: str | None, webhook_secret: str | None,
               quiet: str | None) -> None:
    """Set a user's alert e-mail, webhook and quiet hours."""
    from enertrack.alerts.manage import KEEP, set_notify
    from enertrack.alerts.rules import RuleError

    settings = settings_or_exit()
    changes = {name: value for name, value in (("email", email), ("webhook_url", webhook_url),
                                               ("webhook_secret", webhook_secret), ("quiet", quiet))
               if value is not None}
    try:
        with sessions(settings).begin() as db:
            found, generated = set_notify(db, _user_id(db, username), allow_private=settings.webhook_allow_private,
                                          webhook_quota=settings.quota_webhooks,
                                          **{k: changes.get(k, KEEP) for k in ("email", "webhook_url",
                                                                               "webhook_secret", "quiet")})
            shown = (found.email, found.webhook_url, found.quiet_start, found.quiet_end)
    except RuleError as exc:
        fail(str(exc))
    click.echo(f"e-mail: {shown[0] or 'off'}; webhook: {shown[1] or 'off'}; quiet hours: "
               f"{f'{shown[2]}-{shown[3]}' if shown[2] else 'none'}")
    if generated:
        click.echo(f"webhook secret (shown once; the receiver checks X-EnerTrack-Signature with it): {generated}")
    if email and not settings.smtp_url:
        click.echo("warning: ENERTRACK_SMTP_URL is not set: no e-mail is sent until it is", err=True)
