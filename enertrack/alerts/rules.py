"""Alert rules: kinds, thresholds, durations, hysteresis and the EN 50160 / ANSI C84.1 presets."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from enertrack.i18n_markers import N_


class Kind(StrEnum):
    """What a rule watches."""

    OFFLINE = "offline"
    VOLTAGE_LOW = "voltage-low"
    VOLTAGE_HIGH = "voltage-high"
    FREQUENCY = "frequency"
    POWER_FACTOR_LOW = "power-factor-low"
    POWER_ABOVE = "power-above"
    ENERGY_DAY_ABOVE = "energy-day-above"


KINDS: tuple[str, ...] = tuple(k.value for k in Kind)
# The magnitude each reading-judged kind reads (offline reads only timestamps, energy-day the day's kWh).
MAGNITUDE: dict[Kind, str] = {
    Kind.VOLTAGE_LOW: "voltage", Kind.VOLTAGE_HIGH: "voltage", Kind.FREQUENCY: "frequency",
    Kind.POWER_FACTOR_LOW: "power_factor", Kind.POWER_ABOVE: "power",
}
LABELS: dict[Kind, str] = {
    Kind.OFFLINE: N_("Node offline"),
    Kind.VOLTAGE_LOW: N_("Voltage below"),
    Kind.VOLTAGE_HIGH: N_("Voltage above"),
    Kind.FREQUENCY: N_("Frequency outside"),
    Kind.POWER_FACTOR_LOW: N_("Power factor below"),
    Kind.POWER_ABOVE: N_("Power above"),
    Kind.ENERGY_DAY_ABOVE: N_("Energy of the day above"),
}
UNITS: dict[Kind, str] = {
    Kind.OFFLINE: "", Kind.VOLTAGE_LOW: "V", Kind.VOLTAGE_HIGH: "V", Kind.FREQUENCY: "Hz",
    Kind.POWER_FACTOR_LOW: "", Kind.POWER_ABOVE: "W", Kind.ENERGY_DAY_ABOVE: "kWh",
}
# Plausible thresholds per kind (the magnitudes table's ranges, energy: a day's budget).
LIMITS: dict[Kind, tuple[float, float]] = {
    Kind.VOLTAGE_LOW: (0.0, 300.0), Kind.VOLTAGE_HIGH: (0.0, 300.0), Kind.FREQUENCY: (40.0, 70.0),
    Kind.POWER_FACTOR_LOW: (0.0, 1.0), Kind.POWER_ABOVE: (0.0, 50_000.0),
    Kind.ENERGY_DAY_ABOVE: (0.0, 1_000_000.0),
}
# Hysteresis: a firing rule recovers only once a reading is this far back inside its limit, so
# a value hovering on the limit does not fire and resolve over and over (docs/alerts.md).
HYSTERESIS_RELATIVE: dict[Kind, float] = {
    Kind.VOLTAGE_LOW: 0.01, Kind.VOLTAGE_HIGH: 0.01, Kind.POWER_ABOVE: 0.05,
}
HYSTERESIS_ABSOLUTE: dict[Kind, float] = {Kind.FREQUENCY: 0.05, Kind.POWER_FACTOR_LOW: 0.02}
FOR_MAX_S = 7 * 86_400


class RuleError(ValueError):
    """Input that makes no rule or setting; the message says what to change.

    msgid is a catalogue entry with {placeholders} filled from values, so the CLI prints it in
    English and the web page translates it.
    """

    def __init__(self, msgid: str, **values: object) -> None:
        super().__init__(msgid.format(**values))
        self.msgid = msgid
        self.values = values


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """What a rule fires on: kind, its limit(s) and how long the condition must last."""

    kind: Kind
    for_s: int
    threshold: float | None = None
    minimum: float | None = None
    maximum: float | None = None

    def breached(self, value: float) -> bool:
        """True when value is outside the rule's limit (starts or continues an episode)."""
        k, t = self.kind, self.threshold
        if k is Kind.FREQUENCY:
            return value < self.minimum or value > self.maximum  # type: ignore[operator]
        if k in (Kind.VOLTAGE_LOW, Kind.POWER_FACTOR_LOW):
            return value < t  # type: ignore[operator]
        return value > t  # type: ignore[operator]

    def cleared(self, value: float) -> bool:
        """True when value is back inside the limit by the hysteresis (ends an episode)."""
        h = hysteresis(self)
        k, t = self.kind, self.threshold
        if k is Kind.FREQUENCY:
            return self.minimum + h <= value <= self.maximum - h  # type: ignore[operator]
        if k in (Kind.VOLTAGE_LOW, Kind.POWER_FACTOR_LOW):
            return value >= t + h  # type: ignore[operator]
        return value <= t - h  # type: ignore[operator]


def hysteresis(spec: RuleSpec) -> float:
    """How far inside its limit a value must come back before a firing rule recovers."""
    if spec.kind in HYSTERESIS_ABSOLUTE:
        return HYSTERESIS_ABSOLUTE[spec.kind]
    return HYSTERESIS_RELATIVE.get(spec.kind, 0.0) * abs(spec.threshold or 0.0)


_DURATION = re.compile(r"^\s*(\d{1,7})\s*(s|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400}


def parse_duration(value: object) -> int:
    """Seconds from '90', '90s', '10m', '1h' or '1d'; RuleError otherwise."""
    match = _DURATION.match(str(value)) if value is not None else None
    if match is None:
        raise RuleError(N_("duration {value} must be a whole number with s, m, h or d, e.g. 10m"), value=repr(value))
    seconds = int(match.group(1)) * _UNIT_S[(match.group(2) or "s").lower()]
    if seconds > FOR_MAX_S:
        raise RuleError(N_("duration {value} is longer than 7 days"), value=repr(value))
    return seconds


def _number(name: str, value: object) -> float | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise RuleError(N_("{name} {value} is not a number"), name=name, value=repr(value)) from None
    if not math.isfinite(number):
        raise RuleError(N_("{name} {value} is not a finite number"), name=name, value=repr(value))
    return number


def make_spec(kind: object, for_s: object, threshold: object = None, minimum: object = None,
              maximum: object = None) -> RuleSpec:
    """A checked RuleSpec from untrusted input; RuleError says what is wrong and what to give."""
    if kind not in KINDS:
        raise RuleError(N_("rule {kind} is unknown; use one of {kinds}"), kind=repr(kind), kinds=", ".join(KINDS))
    k = Kind(kind)
    seconds = for_s if isinstance(for_s, int) and not isinstance(for_s, bool) else parse_duration(for_s)
    if not 0 <= seconds <= FOR_MAX_S:
        raise RuleError(N_("the duration must be between 0 s and 7 days"))
    t, lo, hi = _number("threshold", threshold), _number("min", minimum), _number("max", maximum)
    if k is Kind.OFFLINE:
        if t is not None or lo is not None or hi is not None:
            raise RuleError(N_("the offline rule takes no threshold, only a duration"))
        return RuleSpec(k, seconds)
    low, high = LIMITS[k]
    if k is Kind.FREQUENCY:
        if lo is None or hi is None or t is not None:
            raise RuleError(N_("the frequency rule needs a minimum and a maximum (e.g. 49.5 and 50.5), no threshold"))
        if not (low <= lo < hi <= high):
            raise RuleError(N_("the frequency band must satisfy {low} <= minimum < maximum <= {high} Hz"),
                            low=f"{low:g}", high=f"{high:g}")
        return RuleSpec(k, seconds, minimum=lo, maximum=hi)
    if t is None or lo is not None or hi is not None:
        raise RuleError(N_("the {rule} rule needs a threshold and no minimum or maximum"), rule=k.value)
    if not low <= t <= high:
        raise RuleError(N_("the {rule} threshold must be between {low} and {high} {unit}"), rule=k.value,
                        low=f"{low:g}", high=f"{high:g}", unit=UNITS[k])
    return RuleSpec(k, seconds, threshold=t)


@dataclass(frozen=True, slots=True)
class Preset:
    """A one-click set of rules for a supply standard."""

    key: str
    label: str
    specs: tuple[RuleSpec, ...]
    short: str = ""  # the button's text: the standard's name, the same in every language


PRESET_FOR_S = 60  # a minute outside the band: long enough to skip switching transients


def _band(nominal_v: float, low: float, high: float, f_nominal: float, f_tol: float) -> tuple[RuleSpec, ...]:
    return (
        RuleSpec(Kind.VOLTAGE_LOW, PRESET_FOR_S, threshold=round(nominal_v * low, 2)),
        RuleSpec(Kind.VOLTAGE_HIGH, PRESET_FOR_S, threshold=round(nominal_v * high, 2)),
        RuleSpec(Kind.FREQUENCY, PRESET_FOR_S, minimum=round(f_nominal * (1 - f_tol), 3),
                 maximum=round(f_nominal * (1 + f_tol), 3)),
    )


# EN 50160: 230 V +-10 %, 50 Hz +-1 %. ANSI C84.1 range A at the service entrance: 120 V -5 %/+5 %
# (114-126 V); the standard sets no frequency band, so the common +-0.5 % of 60 Hz is used.
PRESETS: dict[str, Preset] = {
    # The EN 50160 label reads the same in every language: not a catalogue entry.
    "en50160": Preset("en50160", "EN 50160 (230 V, 50 Hz)", _band(230.0, 0.90, 1.10, 50.0, 0.01), "EN 50160"),
    "ansi-c84.1": Preset("ansi-c84.1", N_("ANSI C84.1 range A (120 V, 60 Hz)"),
                         _band(120.0, 0.95, 1.05, 60.0, 0.005), "ANSI C84.1 A"),
}
