"""InfluxDB's failures sorted in two: retry later (StoreUnavailable) or do not retry this data (StoreRejected)."""

from __future__ import annotations

import json

from influxdb_client.rest import ApiException

from enertrack.store.base import StoreRejected, StoreUnavailable

REFUSING_STATUSES = frozenset({400, 413, 422})  # what InfluxDB answers for data it will not take


def classify_status(
    status: int, action: str, detail: str, from_influx: bool = True
) -> StoreUnavailable | StoreRejected:
    """The exception for an HTTP error status: retry later, or do not retry this data as is.

    from_influx: the body was InfluxDB's own error JSON. Only then is a 400/413/422 taken as a
    verdict on the data; any other 4xx, or one from something else (a reverse proxy), holds the
    batch, since dead-lettering would lose readings InfluxDB never saw.
    """
    if not status or status == 429 or status >= 500:  # no status: the answer never came whole
        return StoreUnavailable(f"InfluxDB answered {status} while {action}: {detail} (will retry)")
    if status in (401, 403):
        return StoreUnavailable(
            f"InfluxDB refused the token ({status}) while {action}: {detail}. "
            "Check that INFLUX_TOKEN is valid and may read and write INFLUX_BUCKET."
        )
    if status == 404:
        return StoreUnavailable(
            f"InfluxDB found no such organization or bucket ({status}) while {action}: {detail}. "
            "Check INFLUX_ORG and INFLUX_BUCKET, and create the bucket."
        )
    if status in REFUSING_STATUSES and from_influx:
        return StoreRejected(f"InfluxDB rejected the request ({status}) while {action}: {detail}")
    return StoreUnavailable(
        f"unexpected answer {status} while {action}, not an InfluxDB refusal of the data: {detail}. "
        "Check INFLUX_URL and any proxy in front of InfluxDB; the batch is held and retried."
    )


def influx_error(body: bytes | str | None) -> str | None:
    """The message of an InfluxDB v2 error body ({"code": ..., "message": ...} JSON), else None."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return None
    if isinstance(found, dict) and isinstance(found.get("code"), str) and isinstance(found.get("message"), str):
        return found["message"]
    return None


def classify(exc: ApiException, action: str) -> StoreUnavailable | StoreRejected:
    """classify_status for a failed request, with the server's own words as the detail."""
    message = influx_error(exc.body)
    if message is not None:
        detail = message[:500]
    else:  # a proxy's HTML page, say: one line, bounded
        body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
        detail = " ".join(str(body or exc.reason or "no detail").split())[:300]
    return classify_status(int(exc.status or 0), action, detail, from_influx=message is not None)

