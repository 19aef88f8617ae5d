"""Alert rules from untrusted input, durations, hysteresis and the supply-standard presets."""

from __future__ import annotations

import pytest

from enertrack.alerts.rules import PRESETS, Kind, RuleError, RuleSpec, hysteresis, make_spec, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("10m", 600), ("10min", 600),
                                               ("1h", 3600), ("2d", 172_800), (" 5 m ", 300)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "10w", "-5m", "1.5h", "8d", None])
def test_bad_durations_say_how(text: object) -> None:
    with pytest.raises(RuleError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(("args", "expected"), [
    (("voltage-low", "10m", "207"), RuleSpec(Kind.VOLTAGE_LOW, 600, threshold=207.0)),
    (("power-above", 30, "3,5"), RuleSpec(Kind.POWER_ABOVE, 30, threshold=3.5)),
    (("frequency", "1m", None, "49.5", "50.5"), RuleSpec(Kind.FREQUENCY, 60, minimum=49.5, maximum=50.5)),
    (("offline", "5m"), RuleSpec(Kind.OFFLINE, 300)),
])
def test_make_spec(args: tuple[object, ...], expected: RuleSpec) -> None:
    assert make_spec(*args) == expected


@pytest.mark.parametrize(("args", "message"), [
    (("brownout", "1m", "1"), "unknown; use one of offline"),
    (("voltage-low", "1m"), "needs a threshold"),
    (("voltage-low", "1m", "abc"), "not a number"),
    (("voltage-low", "1m", "nan"), "not a finite number"),
    (("voltage-low", "1m", "400"), "between 0 and 300 V"),
    (("frequency", "1m", "50"), "needs a minimum and a maximum"),
    (("frequency", "1m", None, "51", "49"), "minimum < maximum"),
    (("offline", "1m", "3"), "takes no threshold"),
])
def test_bad_rules_say_what_to_change(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        make_spec(*args)


def test_hysteresis_is_documented_size() -> None:
    assert hysteresis(RuleSpec(Kind.VOLTAGE_LOW, 0, threshold=207.0)) == pytest.approx(2.07)
    assert hysteresis(RuleSpec(Kind.POWER_ABOVE, 0, threshold=2000.0)) == pytest.approx(100.0)
    assert hysteresis(RuleSpec(Kind.FREQUENCY, 0, minimum=49.5, maximum=50.5)) == pytest.approx(0.05)


def test_presets_are_the_standards_bands() -> None:
    en = {s.kind: s for s in PRESETS["en50160"].specs}
    assert en[Kind.VOLTAGE_LOW].threshold == 207.0 and en[Kind.VOLTAGE_HIGH].threshold == 253.0
    assert (en[Kind.FREQUENCY].minimum, en[Kind.FREQUENCY].maximum) == (49.5, 50.5)
    ansi = {s.kind: s for s in PRESETS["ansi-c84.1"].specs}
    assert ansi[Kind.VOLTAGE_LOW].threshold == 114.0 and ansi[Kind.VOLTAGE_HIGH].threshold == 126.0
    assert (ansi[Kind.FREQUENCY].minimum, ansi[Kind.FREQUENCY].maximum) == (59.7, 60.3)
