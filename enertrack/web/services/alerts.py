"""What the Alerts page asks of the alert rules, notifications and settings (the page imports only this)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from enertrack.alerts import manage
from enertrack.alerts.manage import (
    QuotaReached,
    RuleView,
    apply_preset,
    delete_rule,
    delivery_log,
    get_notify,
    list_rules,
    mark_read,
    notifications,
    set_notify,
    set_paused,
)
from enertrack.alerts.rules import KINDS, LABELS, PRESETS, Kind, RuleError, make_spec

__all__ = ["KINDS", "LABELS", "PRESETS", "Kind", "QuotaReached", "RuleError", "RuleView", "act", "apply_preset",
           "delete_rule", "delivery_log", "get_notify", "list_rules", "mark_read", "notifications", "save_rule",
           "set_notify", "set_paused"]


def _spec(kind: Any, threshold: Any, minimum: Any, maximum: Any, duration: Any) -> Any:
    """Only the fields the kind uses count: a stale threshold left in the form is not an error."""
    if kind == Kind.FREQUENCY.value:
        return make_spec(kind, duration, None, minimum, maximum)
    if kind == Kind.OFFLINE.value:
        return make_spec(kind, duration)
    return make_spec(kind, duration, threshold)


def save_rule(db: Session, user_id: int, editing: Any, node: Any, kind: Any, threshold: Any, minimum: Any,
              maximum: Any, duration: Any, now: int, *, quota: int | None = None) -> RuleView:
    """Add a rule from the form, or change the one being edited (editing: its id); RuleError says what is wrong.

    quota: ENERTRACK_QUOTA_ALERT_RULES, checked for new rules only (an edit adds none).
    """
    spec = _spec(kind, threshold, minimum, maximum, duration)
    if isinstance(editing, int) and not isinstance(editing, bool):
        return manage.edit_rule(db, user_id, editing, node, spec, now)
    return manage.add_rule(db, user_id, node, spec, now, quota=quota)


def find_rule(db: Session, user_id: int, rule_id: Any) -> RuleView:
    """One of the user's rules; RuleError for anyone else's or a missing one."""
    found = next((r for r in list_rules(db, user_id) if r.id == rule_id), None)
    if found is None:
        raise RuleError("you have no alert rule {rule}", rule=repr(rule_id))
    return found


def act(db: Session, user_id: int, rule_id: Any, action: Any, now: int) -> bool:
    """Pause, resume or delete one of the user's rules; False for an unknown action."""
    if action == "delete":
        delete_rule(db, user_id, rule_id)
    elif action in ("pause", "resume"):
        set_paused(db, user_id, rule_id, action == "pause", now)
    else:
        return False
    return True
