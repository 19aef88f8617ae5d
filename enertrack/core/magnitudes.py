"""The one description of the six magnitudes a node measures.

Validation, KPI cards, charts, CSV headers and store columns all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from enertrack.i18n_markers import N_
from enertrack.numerals import decimal


@dataclass(frozen=True, slots=True)
class Magnitude:
    """One measured quantity: its name, unit, labels, display format and plausible range."""

    name: str  # canonical field and column name
    alias: str  # short payload alias accepted from constrained firmware
    unit: str
    label: str  # catalogue msgid, translated at display time
    decimals: int
    minimum: float
    maximum: float
    kpi: bool  # averaged over active nodes on the panel
    icon: str  # Bootstrap Icons class of its panel card

    def format(self, value: float | None, lang: str) -> str:
        """Number with this magnitude's decimals in lang's separators, or an em dash when missing."""
        return decimal(lang, value, self.decimals)

    def in_range(self, value: float) -> bool:
        """True when value lies in the documented plausible range."""
        return self.minimum <= value <= self.maximum


MAGNITUDES: tuple[Magnitude, ...] = (
    Magnitude("voltage", "v", "V", N_("Voltage"), 1, 0.0, 300.0, True, "bi-lightning"),
    Magnitude("current", "i", "A", N_("Current"), 2, 0.0, 200.0, True, "bi-activity"),
    Magnitude("power", "p", "W", N_("Power"), 0, 0.0, 50_000.0, True, "bi-speedometer"),
    Magnitude("energy", "e", "kWh", N_("Energy"), 2, 0.0, 1_000_000.0, False, "bi-battery-charging"),
    Magnitude("power_factor", "pf", "", N_("Power factor"), 2, -1.0, 1.0, True, "bi-percent"),
    Magnitude("frequency", "f", "Hz", N_("Frequency"), 2, 40.0, 70.0, True, "bi-soundwave"),
)

BY_NAME: dict[str, Magnitude] = {m.name: m for m in MAGNITUDES}
BY_ALIAS: dict[str, Magnitude] = {m.alias: m for m in MAGNITUDES}
NAMES: tuple[str, ...] = tuple(m.name for m in MAGNITUDES)


def get(name: str) -> Magnitude:
    """The magnitude called name; KeyError for anything else (callers validate input first)."""
    return BY_NAME[name]
