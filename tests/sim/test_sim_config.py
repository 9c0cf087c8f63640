"""ScenarioConfig: defaults, derived sizes, and validation that names the knob and the value."""

from __future__ import annotations

import pytest

from pipeline.sim import INPUTS, ScenarioConfig


def test_defaults_match_the_brief() -> None:
    c = ScenarioConfig()
    assert (c.attendees, c.minutes, c.seed, c.booths, c.input, c.site) == (300, 30.0, 1, 6, "rssi", "expo")
    assert c.duration_s == 1800
    assert c.floor_m == (40.0, 30.0)  # 4 m² per attendee, 4:3
    assert list(c.to_dict())[:3] == ["attendees", "minutes", "seed"]
    assert c.to_dict()["gateway_spacing_m"] == 7.0


def test_floor_grows_with_attendees() -> None:
    small, big = ScenarioConfig(attendees=40, booths=2).floor_m, ScenarioConfig(attendees=500).floor_m
    assert small == (15.0, 11.0)
    assert big[0] * big[1] == pytest.approx(2000, rel=0.02)


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("attendees", 1),
        ("attendees", 5001),
        ("minutes", 0),
        ("minutes", -1.0),
        ("seed", -1),
        ("gateway_spacing_m", 1.9),
        ("noise", -0.1),
        ("noise", 5.01),
        ("clinginess", 1.01),
        ("clinginess", -0.01),
        ("booths", -1),
        ("start", 1.0),
        ("input", "wifi"),
        ("position_noise_m", -0.1),
        ("unknown_badges", 1001),
        ("references", -1),
        ("opt_out_fraction", 1.5),
        ("site", "has space"),
        ("site", "a/b"),
        ("area_per_attendee_m2", 0.5),
        ("minutes", float("nan")),
    ],
)
def test_bad_values_raise_value_error_naming_knob_and_value(knob: str, value: object) -> None:
    with pytest.raises(ValueError, match=knob) as info:
        ScenarioConfig(**{knob: value})  # type: ignore[arg-type]
    assert repr(value) in str(info.value) or str(value) in str(info.value)


@pytest.mark.parametrize(
    ("knob", "value"),
    [("attendees", 3.0), ("attendees", True), ("seed", "1"), ("noise", "1"), ("clinginess", None), ("input", 1)],
)
def test_wrong_types_raise_type_error(knob: str, value: object) -> None:
    with pytest.raises(TypeError, match=knob):
        ScenarioConfig(**{knob: value})  # type: ignore[arg-type]


def test_boundaries_are_inclusive() -> None:
    ScenarioConfig(clinginess=0.0)
    ScenarioConfig(clinginess=1.0)
    ScenarioConfig(noise=0.0)
    ScenarioConfig(opt_out_fraction=1.0)
    ScenarioConfig(attendees=2, booths=0)
    ScenarioConfig(minutes=1 / 60)
    for name in INPUTS:
        ScenarioConfig(input=name)


def test_too_many_booths_for_the_walls_or_the_roster() -> None:
    with pytest.raises(ValueError, match=r"booths .*at most 2\), got 3"):
        ScenarioConfig(attendees=40, booths=3)
    with pytest.raises(ValueError, match="booths need 2 staff"):
        ScenarioConfig(attendees=10, booths=3, area_per_attendee_m2=50.0)


def test_minutes_too_short_for_one_second() -> None:
    with pytest.raises(ValueError, match="minutes"):
        ScenarioConfig(minutes=0.001)


def test_config_is_frozen() -> None:
    c = ScenarioConfig()
    with pytest.raises(AttributeError):
        c.seed = 2  # type: ignore[misc]
