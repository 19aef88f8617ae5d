"""The last safety net: a callback that fails unexpectedly tells the user, and the log says why."""

from __future__ import annotations

import logging

from dash import set_props

from enertrack.i18n import tr
from enertrack.store.base import StoreUnavailable
from enertrack.web.ui import ids
from enertrack.web.ui.toast import toast
from enertrack.web.ui.user import user_lang

log = logging.getLogger("enertrack.web")


def callback_failed(error: Exception) -> None:
    """Dash's on_error: log the traceback, show a friendly toast instead of a silent failure."""
    lang = user_lang()
    if isinstance(error, StoreUnavailable):
        log.warning("callback could not reach the time-series store: %s", error)
        message = tr(lang, "The readings are not available right now. Try again in a minute.")
    else:
        log.error("callback failed", exc_info=error)
        message = tr(lang, "Something went wrong on our side. Try again; "
                           "if it keeps happening, tell your administrator.")
    set_props(ids.TOASTS, {"children": [toast(message, "danger")]})
