"""What each ingest rejection reason means for the node's owner, in their language."""

from __future__ import annotations

from enertrack.i18n import N_

# Reason codes are the closed set of enertrack.ingest.payload.Reason (docs/payload.md).
EXPLANATIONS: dict[str, str] = {
    "bad_topic": N_("The topic is not enertrack/<node id>/telemetry or /status."),
    "too_large": N_("The message is larger than 4 KiB: send one reading per message."),
    "unknown_node": N_("No registered node has this id: add it on the Nodes page."),
    "bad_json": N_("The message is not valid JSON (NaN and Infinity are not allowed)."),
    "not_object": N_("The message must be a JSON object with the readings as fields."),
    "bad_ts": N_("The timestamp is not epoch seconds, epoch milliseconds or ISO-8601 with an offset."),
    "ts_future": N_("The timestamp is more than 5 minutes in the future: check the device's clock (NTP)."),
    "ts_too_old": N_("The timestamp is before 2020: check the device's clock (NTP)."),
    "bad_value": N_("A value is not a number."),
    "out_of_range": N_("A value is outside its plausible range: check the meter's wiring or calibration."),
    "conflicting_alias": N_("The same magnitude came twice, by its name and by its short alias."),
    "empty": N_("The message carries no reading."),
    "bad_status": N_("The status must be online or offline."),
    "store_rejected": N_("The time-series database refused this reading."),
    "retained": N_("Telemetry must not be published with the retain flag."),
}
