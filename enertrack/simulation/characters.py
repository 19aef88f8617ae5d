"""The kinds of installation a simulated node can be: their daily rhythm and their appliances.

Figures are for a 230 V supply; fleet.py scales them to the grid. Activity curves
give the share of the installation's activity load at each local hour (0-1), for
Monday-Friday, Saturday and Sunday; a node shifts its curve by up to +/-45 min.
"""

from __future__ import annotations

from dataclasses import dataclass

WEEKDAY, SATURDAY, SUNDAY = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Appliance:
    """A short high-power event: a kettle boiling, an oven heating, a welder striking."""

    name: str
    power_w: tuple[float, float]
    duration_s: tuple[float, float]
    per_day: float  # expected starts on a weekday, spread over the hours by the activity curve
    resistive: bool  # a heating element (power factor ~1) rather than a motor (~0.78)


@dataclass(frozen=True, slots=True)
class Character:
    """One kind of installation: always-on load, activity load and its appliances."""

    name: str
    label: str  # shown in the node description when the simulator registers nodes
    base_w: tuple[float, float]  # always on (standby, alarms, routers, pumps)
    activity_w: tuple[float, float]  # the activity load when its curve is at 1
    cycling_w: tuple[float, float]  # compressor of a fridge or cold room (0, 0 for none)
    power_factor: tuple[float, float]  # of the always-on and activity load
    season: float  # +: more in January (heating, light), -: more in July (air conditioning)
    curves: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]  # weekday, Saturday, Sunday
    appliances: tuple[Appliance, ...]


def _flat(level: float) -> tuple[float, ...]:
    return (level,) * 24


_HOUSE_WEEKDAY = (0.10, 0.06, 0.05, 0.05, 0.05, 0.08, 0.30, 0.65, 0.55, 0.25, 0.18, 0.18,
                  0.22, 0.35, 0.40, 0.25, 0.22, 0.30, 0.45, 0.65, 0.85, 1.00, 0.75, 0.35)  # fmt: skip
_HOUSE_WEEKEND = (0.18, 0.10, 0.07, 0.05, 0.05, 0.05, 0.07, 0.15, 0.35, 0.60, 0.65, 0.55,
                  0.55, 0.70, 0.75, 0.45, 0.40, 0.45, 0.55, 0.70, 0.90, 1.00, 0.80, 0.45)  # fmt: skip
_SHOP_WEEKDAY = (0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.20, 0.70, 0.90, 0.95,
                 1.00, 0.95, 0.40, 0.15, 0.35, 0.90, 1.00, 1.00, 0.85, 0.20, 0.05, 0.05)  # fmt: skip
_SHOP_SATURDAY = _SHOP_WEEKDAY[:14] + (0.30,) + (0.05,) * 9
_SCHOOL_WEEKDAY = (0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.08, 0.30, 0.85, 1.00, 1.00, 1.00,
                   1.00, 1.00, 0.80, 0.60, 0.50, 0.35, 0.15, 0.08, 0.05, 0.05, 0.05, 0.05)  # fmt: skip
_OFFICE_WEEKDAY = (0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.08, 0.20, 0.60, 1.00, 1.00, 1.00,
                   1.00, 1.00, 0.80, 0.95, 0.95, 0.95, 0.60, 0.25, 0.10, 0.05, 0.05, 0.05)  # fmt: skip
_BAKERY_WEEKDAY = (0.05, 0.05, 0.10, 0.50, 1.00, 1.00, 1.00, 0.90, 0.80, 0.70, 0.60, 0.50,
                   0.50, 0.60, 0.40, 0.20, 0.30, 0.45, 0.40, 0.30, 0.10, 0.05, 0.05, 0.05)  # fmt: skip
_BAKERY_SUNDAY = _BAKERY_WEEKDAY[:14] + (0.05,) * 10
_WORKSHOP_WEEKDAY = (0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.10, 0.70, 1.00, 1.00, 1.00, 1.00,
                     1.00, 1.00, 0.30, 0.90, 0.90, 0.90, 0.30, 0.05, 0.03, 0.03, 0.03, 0.03)  # fmt: skip
_WORKSHOP_SATURDAY = (0.03,) * 8 + (0.50,) * 6 + (0.03,) * 10

_KETTLE = Appliance("kettle", (1800, 2200), (120, 300), 1.5, True)
_OVEN = Appliance("oven", (2000, 2600), (1200, 3000), 0.4, True)
_WASHER = Appliance("washing machine", (1800, 2100), (600, 1200), 0.35, True)
_MICROWAVE = Appliance("microwave", (900, 1300), (60, 300), 1.2, True)
_VACUUM = Appliance("vacuum cleaner", (800, 1400), (300, 1200), 0.3, False)
_COFFEE = Appliance("coffee machine", (1200, 1600), (60, 150), 8.0, True)

CHARACTERS: dict[str, Character] = {
    c.name: c
    for c in (
        Character("house", "Vivienda", (60, 220), (900, 2200), (80, 150), (0.84, 0.92), 0.25,
                  (_HOUSE_WEEKDAY, _HOUSE_WEEKEND, _HOUSE_WEEKEND),
                  (_KETTLE, _OVEN, _WASHER, _MICROWAVE, _VACUUM)),
        Character("shop", "Comercio", (150, 400), (1500, 4500), (300, 700), (0.86, 0.93), -0.15,
                  (_SHOP_WEEKDAY, _SHOP_SATURDAY, _flat(0.05)),
                  (_COFFEE, Appliance("air conditioning", (1500, 3000), (900, 2400), 1.0, False))),
        Character("school", "Colegio", (300, 700), (5000, 11000), (0, 0), (0.88, 0.95), 0.35,
                  (_SCHOOL_WEEKDAY, _flat(0.05), _flat(0.05)),
                  (Appliance("kitchen oven", (4000, 8000), (1800, 3600), 0.8, True),
                   Appliance("water pump", (1500, 3000), (900, 1800), 1.0, False))),
        Character("office", "Oficina", (250, 600), (3000, 9000), (0, 0), (0.90, 0.96), -0.20,
                  (_OFFICE_WEEKDAY, _flat(0.08), _flat(0.05)),
                  (_COFFEE, Appliance("air conditioning", (3000, 6000), (1200, 3600), 2.0, False))),
        Character("bakery", "Panadería", (300, 800), (4000, 9000), (600, 1200), (0.85, 0.92), 0.05,
                  (_BAKERY_WEEKDAY, _BAKERY_WEEKDAY, _BAKERY_SUNDAY),
                  (Appliance("deck oven", (6000, 9000), (1800, 5400), 2.0, True),
                   Appliance("dough mixer", (1500, 3000), (300, 900), 3.0, False))),
        Character("workshop", "Taller", (150, 400), (2000, 6000), (0, 0), (0.82, 0.88), 0.10,
                  (_WORKSHOP_WEEKDAY, _WORKSHOP_SATURDAY, _flat(0.03)),
                  (Appliance("welder", (3000, 7000), (30, 240), 6.0, False),
                   Appliance("air compressor", (2200, 4000), (120, 600), 8.0, False),
                   Appliance("lathe", (1500, 3000), (600, 2400), 2.0, False))),
    )
}  # fmt: skip

# Node i of a fleet takes the kind at (i + a seed's offset) in this cycle: houses
# are the most common, and any five consecutive nodes include three kinds.
ROTATION: tuple[str, ...] = ("house", "shop", "house", "school", "office", "house", "bakery", "workshop")
