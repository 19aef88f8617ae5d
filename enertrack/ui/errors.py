"""The last safety net: a callback that fails unexpectedly tells the user, and the log says why."""

from __future__ import annotations

import logging

from dash import set_props
from flask_login import current_user

from enertrack.i18n import language, tr
from enertrack.store.base import StoreUnavailable
from enertrack.ui import ids
from enertrack.ui.toast import toast

log = logging.getLogger("enertrack.web")


def callback_failed(error: Exception) -> None:
    """Dash's on_error: log the traceback, show a friendly toast instead of a silent failure."""
    lang = language(getattr(current_user, "language", None))
    if isinstance(error, StoreUnavailable):
        log.warning("callback could not reach the time-series store: %s", error)
        message = tr(lang, "The readings are not available right now. Try again in a minute.")
    else:
        log.error("callback failed", exc_info=error)
        message = tr(lang, "Something went wrong on our side. Try again; "
                           "if it keeps happening, tell your administrator.")
    set_props(ids.TOASTS, {"children": [toast(message, "danger")]})
