"""File downloads as plain Flask routes: a node's readings over a range, streamed as CSV.

The guard in enertrack.web.auth stands in front of these like everything under /enertrack/;
each route checks that the node belongs to the logged-in user.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, request

from enertrack.config import URL_PREFIX
from enertrack.core.reading import Reading
from enertrack.i18n import tr
from enertrack.store.base import StoreUnavailable
from enertrack.web.context import services
from enertrack.web.services.exports import HEADER, csv_rows, instant, iso_utc
from enertrack.web.services.nodes import NodeNotFound, owned
from enertrack.web.services.quality import CSV_WEEKS_MAX, quality_csv
from enertrack.web.ui.user import user_id, user_lang, user_timezone

CHUNK_BYTES = 64 * 1024  # what is sent at a time; memory stays at about this much


def readings_url(node_id: str, start: int | None, end: int | None) -> str:
    """Where the readings of node_id in [start, end) download from (an open end: until now)."""
    query = {key: iso_utc(value) for key, value in (("start", start), ("end", end)) if value is not None}
    return f"{URL_PREFIX}nodes/{node_id}/readings.csv" + (f"?{urlencode(query)}" if query else "")


def csv_chunks(readings: Iterable[Reading]) -> Iterator[str]:
    """The export-readings CSV (header first) in pieces of about CHUNK_BYTES."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for row in csv_rows(readings):
        writer.writerow(row)
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _instant_arg(name: str) -> int | None:
    """An optional ISO-8601 query argument as epoch seconds; ValueError when unreadable."""
    text = request.args.get(name)
    if text is None or text == "":
        return None
    if len(text) > 64:
        raise ValueError(name)
    return instant(text)


def _label(ts: int | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def readings_csv(node_id: str) -> Response:
    """GET /enertrack/nodes/<node_id>/readings.csv?start=ISO&end=ISO (both optional, end excluded)."""
    lang = user_lang()
    try:
        start, end = _instant_arg("start"), _instant_arg("end")
    except (ValueError, OverflowError):
        return _text(tr(lang, "Use ISO-8601 dates or times for start and end, like 2026-01-02T03:04:05Z."), 400)
    if start is not None and end is not None and start >= end:
        return _text(tr(lang, "The start must be before the end."), 400)
    app = services()
    try:
        with app.read() as db:
            node = owned(db, user_id(), node_id).node_id
    except NodeNotFound:
        return _text(tr(lang, "That node does not exist."), 404)
    try:
        readings = iter(app.store.readings(node, start, end))
        first = next(readings, None)  # a store that cannot answer fails here, before the 200
    except StoreUnavailable:
        return _text(tr(lang, "The readings are not available right now. Try again in a minute."), 503)
    rows: Iterable[Reading] = () if first is None else chain([first], readings)
    name = "-".join(part for part in ("enertrack", node, _label(start), _label(end)) if part) + ".csv"
    return Response(
        csv_chunks(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
                 "Cache-Control": "no-store"},
    )


def quality_url(node_id: str, weeks: int = 12) -> str:
    """Where the weekly power-quality CSV of node_id downloads from."""
    return f"{URL_PREFIX}nodes/{node_id}/power-quality.csv?weeks={weeks}"


def quality_csv_route(node_id: str) -> Response:
    """GET /enertrack/nodes/<node_id>/power-quality.csv?weeks=N (1..52, default 12): one row per week."""
    lang = user_lang()
    text = request.args.get("weeks", "12")
    if not (text.isdigit() and 1 <= int(text) <= CSV_WEEKS_MAX):
        return _text(tr(lang, "Ask for 1 to {n} weeks, like weeks=12.", n=CSV_WEEKS_MAX), 400)
    app = services()
    try:
        with app.read() as db:
            node, body = quality_csv(db, app.store, user_id(), node_id, int(text), user_timezone(),
                                     app.settings.grid, time.time())
    except NodeNotFound:
        return _text(tr(lang, "That node does not exist."), 404)
    except StoreUnavailable:
        return _text(tr(lang, "The readings are not available right now. Try again in a minute."), 503)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="enertrack-{node}-power-quality.csv"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


def init_downloads(server: Flask) -> None:
    """Register the download routes on server."""
    downloads = Blueprint("downloads", __name__, url_prefix=URL_PREFIX.rstrip("/"))
    downloads.add_url_rule("/nodes/<node_id>/readings.csv", view_func=readings_csv, methods=["GET"])
    downloads.add_url_rule("/nodes/<node_id>/power-quality.csv", view_func=quality_csv_route, methods=["GET"])
    server.register_blueprint(downloads)
