"""Rules, notification settings and notifications of one user (the CLI and the Alerts page call these).

Every function takes the acting user's id and checks ownership itself: ids from a form or a
command line are never trusted to be the user's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from enertrack.alerts.messages import EventView, limit_text
from enertrack.alerts.outbox import event_view
from enertrack.alerts.quiet import parse_hhmm
from enertrack.alerts.rules import PRESETS, Kind, RuleError, RuleSpec
from enertrack.alerts.webhook import url_problem
from enertrack.i18n_markers import N_
from enertrack.models import (
    WEBHOOK_URL_MAX,
    AlertEvent,
    AlertRule,
    AlertTrack,
    Delivery,
    Node,
    NotifySettings,
    User,
    utcnow,
)
from enertrack.validation import normalize_email, text

SECRET_MIN = 16
KEEP = object()  # "leave this setting as it is"


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule as lists show it."""

    id: int
    node_id: str | None  # None: every node of the user
    kind: str
    limit: str
    for_s: int
    paused: bool
    threshold: float | None
    minimum: float | None
    maximum: float | None


def _view(rule: AlertRule) -> RuleView:
    spec = RuleSpec(Kind(rule.kind), rule.for_s, rule.threshold, rule.minimum, rule.maximum)
    return RuleView(rule.id, rule.node_id, rule.kind, limit_text(spec), rule.for_s, rule.paused,
                    rule.threshold, rule.minimum, rule.maximum)


def _own_node(db: Session, user_id: int, node_id: Any) -> str | None:
    if node_id is None or text(node_id) == "":
        return None
    found = db.scalar(select(Node.node_id).where(Node.node_id == text(node_id), Node.owner_id == user_id))
    if found is None:
        raise RuleError(N_("you have no node {node}"), node=repr(text(node_id)[:64]))
    return found


def _own_rule(db: Session, user_id: int, rule_id: Any) -> AlertRule:
    rule = db.get(AlertRule, rule_id) if isinstance(rule_id, int) and not isinstance(rule_id, bool) else None
    if rule is None or rule.owner_id != user_id:
        raise RuleError(N_("you have no alert rule {rule}"), rule=repr(rule_id))
    return rule


class QuotaReached(RuleError):
    """The user owns as many alert rules, or webhooks, as the installation allows."""


def _within_rule_quota(db: Session, user_id: int, adding: int, quota: int | None) -> None:
    """QuotaReached when the user's rules and `adding` more would pass quota (None: no limit)."""
    if quota is None or adding == 0:
        return
    # The user's row locked: two requests at once cannot both take the last place (MariaDB).
    db.execute(select(User.id).where(User.id == user_id).with_for_update())
    have = int(db.scalar(select(func.count()).select_from(AlertRule).where(AlertRule.owner_id == user_id)) or 0)
    if have + adding > quota:
        raise QuotaReached(N_("you have {have} alert rules and this installation allows {quota}: delete one, or "
                              "ask its administrator to raise ENERTRACK_QUOTA_ALERT_RULES"), have=have, quota=quota)


def add_rule(db: Session, user_id: int, node_id: Any, spec: RuleSpec, now: int, *,
             quota: int | None = None) -> RuleView:
    """A new active rule on one of the user's nodes (or all of them when node_id is empty).

    quota: how many rules the user may have (ENERTRACK_QUOTA_ALERT_RULES); None: no limit.
    """
    node = _own_node(db, user_id, node_id)
    _within_rule_quota(db, user_id, 1, quota)
    return _insert_rule(db, user_id, node, spec, now)


def _insert_rule(db: Session, user_id: int, node: str | None, spec: RuleSpec, now: int) -> RuleView:
    rule = AlertRule(owner_id=user_id, node_id=node, kind=spec.kind.value,
                     threshold=spec.threshold, minimum=spec.minimum, maximum=spec.maximum, for_s=spec.for_s,
                     paused=False, active_since=now)
    db.add(rule)
    db.flush()
    return _view(rule)


def _restart(db: Session, rule: AlertRule, now: int) -> None:
    """Forget the rule's state: it judges readings from now on (after an edit or a resume)."""
    db.execute(delete(AlertTrack).where(AlertTrack.rule_id == rule.id))
    rule.active_since = now


def edit_rule(db: Session, user_id: int, rule_id: Any, node_id: Any, spec: RuleSpec, now: int) -> RuleView:
    """Change a rule; its episodes start afresh from now."""
    rule = _own_rule(db, user_id, rule_id)
    rule.node_id = _own_node(db, user_id, node_id)
    rule.kind, rule.for_s = spec.kind.value, spec.for_s
    rule.threshold, rule.minimum, rule.maximum = spec.threshold, spec.minimum, spec.maximum
    _restart(db, rule, now)
    return _view(rule)


def set_paused(db: Session, user_id: int, rule_id: Any, paused: bool, now: int) -> RuleView:
    """Pause (nothing is judged) or resume (judged from now on) a rule."""
    rule = _own_rule(db, user_id, rule_id)
    if rule.paused != paused:
        rule.paused = paused
        _restart(db, rule, now)
    return _view(rule)


def delete_rule(db: Session, user_id: int, rule_id: Any) -> None:
    """Delete a rule; its history stays (without the link to the rule)."""
    db.delete(_own_rule(db, user_id, rule_id))


def list_rules(db: Session, user_id: int) -> list[RuleView]:
    """The user's rules, oldest first."""
    return [_view(r) for r in db.scalars(select(AlertRule).where(AlertRule.owner_id == user_id)
                                         .order_by(AlertRule.id))]


def apply_preset(db: Session, user_id: int, node_id: Any, key: Any, now: int, *,
                 quota: int | None = None) -> list[RuleView]:
    """The preset's rules on one node, skipping any the node already has exactly; all or none within quota."""
    preset = PRESETS.get(key) if isinstance(key, str) else None
    if preset is None:
        raise RuleError(N_("unknown preset {preset}; use one of {presets}"), preset=repr(key),
                        presets=", ".join(PRESETS))
    node = _own_node(db, user_id, node_id)
    if node is None:
        raise RuleError(N_("a preset applies to one node: give its id"))
    have = {(v.kind, v.threshold, v.minimum, v.maximum) for v in list_rules(db, user_id) if v.node_id == node}
    missing = [s for s in preset.specs if (s.kind.value, s.threshold, s.minimum, s.maximum) not in have]
    _within_rule_quota(db, user_id, len(missing), quota)
    return [_insert_rule(db, user_id, node, s, now) for s in missing]


def set_notify(db: Session, user_id: int, *, email: Any = KEEP, webhook_url: Any = KEEP,
               webhook_secret: Any = KEEP, quiet: Any = KEEP, allow_private: bool = False,
               webhook_quota: int | None = None) -> tuple[NotifySettings, str | None]:
    """Change where alerts go ('' clears a channel); returns the settings and a secret generated now, if any.

    webhook_quota: ENERTRACK_QUOTA_WEBHOOKS; a user has at most one webhook URL, so 0 refuses a new
    one and any larger number allows it (None: no limit).
    """
    notify = db.get(NotifySettings, user_id) or NotifySettings(user_id=user_id)
    db.add(notify)
    if email is not KEEP:
        address = normalize_email(email) if text(email) else None
        if text(email) and address is None:
            raise RuleError(N_("{email} is not an e-mail address"), email=repr(text(email)[:80]))
        notify.email = address
    if webhook_url is not KEEP:
        url = text(webhook_url) or None
        if url is not None and url != notify.webhook_url and webhook_quota is not None and webhook_quota < 1:
            raise QuotaReached(N_("this installation allows no webhooks (ENERTRACK_QUOTA_WEBHOOKS=0): ask its "
                                  "administrator, or use e-mail"))
        if url is not None:
            problem = "the webhook URL is too long" if len(url) > WEBHOOK_URL_MAX else url_problem(url, allow_private)
            if problem:
                raise RuleError(N_("webhook not saved: {problem}"), problem=problem)
        notify.webhook_url = url
    generated = None
    if webhook_secret is not KEEP and text(webhook_secret):
        if len(text(webhook_secret)) < SECRET_MIN or len(text(webhook_secret)) > 128:
            raise RuleError(N_("the webhook secret needs {low} to {high} characters"), low=SECRET_MIN, high=128)
        notify.webhook_secret = text(webhook_secret)
    if notify.webhook_url and not notify.webhook_secret:
        notify.webhook_secret = generated = secrets.token_hex(24)
    if quiet is not KEEP:
        notify.quiet_start, notify.quiet_end = parse_quiet(quiet)
    return notify, generated


def parse_quiet(value: Any) -> tuple[str | None, str | None]:
    """'22:00-07:00' -> ('22:00', '07:00'); '' -> no quiet hours; RuleError otherwise."""
    raw = text(value)
    if raw == "":
        return None, None
    start, sep, end = raw.partition("-")
    if not sep or parse_hhmm(start.strip()) is None or parse_hhmm(end.strip()) is None:
        raise RuleError(N_("quiet hours {value} must look like 22:00-07:00 (24-hour, your timezone)"),
                        value=repr(raw[:20]))
    return start.strip(), end.strip()


def notifications(db: Session, user_id: int, limit: int = 50) -> list[tuple[EventView, bool]]:
    """The newest events of the user with whether each was read."""
    rows = db.scalars(select(AlertEvent).where(AlertEvent.owner_id == user_id)
                      .order_by(AlertEvent.id.desc()).limit(limit))
    return [(event_view(r), r.read_at is not None) for r in rows]


def unread_count(db: Session, user_id: int) -> int:
    """How many events the user has not marked read."""
    return int(db.scalar(select(func.count()).select_from(AlertEvent)
                         .where(AlertEvent.owner_id == user_id, AlertEvent.read_at.is_(None))) or 0)


def newest_event_id(db: Session, user_id: int) -> int:
    """The id of the user's newest event (0 without any): new ones have larger ids."""
    return int(db.scalar(select(func.max(AlertEvent.id)).where(AlertEvent.owner_id == user_id)) or 0)


def mark_read(db: Session, user_id: int, event_ids: Any = None) -> int:
    """Mark the given events (all when None) read; ids not the user's are ignored."""
    query = update(AlertEvent).where(AlertEvent.owner_id == user_id, AlertEvent.read_at.is_(None))
    if event_ids is not None:
        wanted = [i for i in event_ids if isinstance(i, int) and not isinstance(i, bool)] \
            if isinstance(event_ids, list | tuple) else []
        query = query.where(AlertEvent.id.in_(wanted))
    return db.execute(query.values(read_at=utcnow())).rowcount or 0


def delivery_log(db: Session, user_id: int, limit: int = 50) -> list[Delivery]:
    """The user's newest deliveries (e-mail and webhook), newest first."""
    return list(db.scalars(select(Delivery).where(Delivery.user_id == user_id)
                           .order_by(Delivery.id.desc()).limit(limit)))


def get_notify(db: Session, user_id: int) -> NotifySettings | None:
    """The user's notification settings, if they saved any."""
    return db.get(NotifySettings, user_id)
