"""The simulator's knobs: one frozen, self-validating :class:`ScenarioConfig`.

Every knob is checked in one table in ``__post_init__``; a wrong type raises ``TypeError``,
a bad value ``ValueError``, and both messages name the knob and the value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Final

from mingle_wire import valid_id

from .floorplan import booth_capacity, floor_size

__all__ = ["INPUTS", "ScenarioConfig"]

#: What the simulated hall publishes: gateway readings, an RTLS positions feed, or both.
INPUTS: Final = ("rssi", "positions", "both")
_TS_MIN: Final = 1.0e9
_TS_MAX: Final = 1.0e10


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class ScenarioConfig:
    """Knobs of a simulated event; bounds are inclusive unless stated.

    ``attendees`` roster size (staff, speakers and organizers included) in [2, 5000];
    ``minutes`` the event (session) length in (0, 1440]; ``seed`` >= 0 drives every random
    draw; ``gateway_spacing_m`` grid spacing of the ceiling gateways in [2, 50] m;
    ``noise`` multiplies the shadowing and fading sigmas, in [0, 5]; ``clinginess`` in
    [0, 1] is the probability that a person with colleagues on the floor prefers a
    same-company group; ``booths`` booth zones along the walls (2 staff each);
    ``start`` Unix seconds of the first tick; ``input`` one of :data:`INPUTS`;
    ``position_noise_m`` sigma per axis of the positions feed, in [0, 50] m;
    ``unknown_badges`` badges on the floor that are not on the roster, in [0, 1000];
    ``references`` fixed reference badges, in [0, 100]; ``opt_out_fraction`` in [0, 1];
    ``site`` the site id of the topics; ``area_per_attendee_m2`` gross floor area per
    roster entry in [1, 50] m² (4 m² gives 40 x 30 m for 300 people); ``contacts``: the
    badges also scan and advertise neighbour reports, which the gateways publish on
    ``contacts/<gateway>`` (with RSSI input only; the readings are the same either way).
    """

    attendees: int = 300
    minutes: float = 30.0
    seed: int = 1
    gateway_spacing_m: float = 7.0
    noise: float = 1.0
    clinginess: float = 0.5
    booths: int = 6
    start: float = 1764140000.0
    input: str = "rssi"
    position_noise_m: float = 0.3
    unknown_badges: int = 3
    references: int = 4
    opt_out_fraction: float = 0.05
    site: str = "expo"
    area_per_attendee_m2: float = 4.0
    contacts: bool = False

    def __post_init__(self) -> None:
        ints = ("attendees", "seed", "booths", "unknown_badges", "references")
        numbers = (
            "minutes",
            "gateway_spacing_m",
            "noise",
            "clinginess",
            "start",
            "position_noise_m",
            "opt_out_fraction",
            "area_per_attendee_m2",
        )
        for name in ints:
            value = getattr(self, name)
            if not _is_int(value):
                raise TypeError(f"scenario {name} must be an integer, got {type(value).__name__} {value!r}")
        for name in numbers:
            value = getattr(self, name)
            if not _is_number(value):
                raise TypeError(f"scenario {name} must be a number, got {type(value).__name__} {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"scenario {name} must be finite, got {value!r}")
        if not isinstance(self.contacts, bool):
            raise TypeError(f"scenario contacts must be a bool, got {self.contacts!r}")
        if self.contacts and self.input == "positions":
            raise ValueError("scenario contacts need badges on the radio: input 'rssi' or 'both'")
        for name in ("input", "site"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"scenario {name} must be a string, got {type(value).__name__} {value!r}")
        checks: list[tuple[str, bool, str]] = [
            ("attendees", 2 <= self.attendees <= 5000, "in [2, 5000]"),
            ("minutes", 0 < self.minutes <= 1440, "in (0, 1440]"),
            ("seed", self.seed >= 0, ">= 0"),
            ("gateway_spacing_m", 2.0 <= self.gateway_spacing_m <= 50.0, "in [2, 50] metres"),
            ("noise", 0.0 <= self.noise <= 5.0, "in [0, 5]"),
            ("clinginess", 0.0 <= self.clinginess <= 1.0, "in [0, 1]"),
            ("booths", self.booths >= 0, ">= 0"),
            ("start", _TS_MIN <= self.start <= _TS_MAX - 86_400.0, "Unix seconds in [1e9, 1e10 - 86400]"),
            ("input", self.input in INPUTS, f"one of {INPUTS}"),
            ("position_noise_m", 0.0 <= self.position_noise_m <= 50.0, "in [0, 50] metres"),
            ("unknown_badges", 0 <= self.unknown_badges <= 1000, "in [0, 1000]"),
            ("references", 0 <= self.references <= 100, "in [0, 100]"),
            ("opt_out_fraction", 0.0 <= self.opt_out_fraction <= 1.0, "in [0, 1]"),
            ("site", valid_id(self.site), "an id (letters, digits, . _ : -; at most 64)"),
            ("area_per_attendee_m2", 1.0 <= self.area_per_attendee_m2 <= 50.0, "in [1, 50] m²"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"scenario {name} must be {expected}, got {getattr(self, name)!r}")
        if self.duration_s < 1:
            raise ValueError(f"scenario minutes must give at least one second, got {self.minutes!r}")
        width, height = self.floor_m
        room = booth_capacity(width, height)
        if self.booths > room:
            raise ValueError(
                f"scenario booths must fit along the walls of the {width:g} x {height:g} m floor "
                f"(at most {room}), got {self.booths!r}"
            )
        if 2 * self.booths > self.attendees // 2:
            raise ValueError(
                f"scenario booths need 2 staff each and at most half the attendees may be staff "
                f"(at most {self.attendees // 4} booths for {self.attendees} attendees), got {self.booths!r}"
            )

    @property
    def duration_s(self) -> int:
        """The event length in whole seconds (one simulated tick per second)."""
        return round(self.minutes * 60.0)

    @property
    def floor_m(self) -> tuple[float, float]:
        """Floor width and height in metres, from ``attendees`` and ``area_per_attendee_m2``."""
        return floor_size(self.attendees, self.area_per_attendee_m2)

    def to_dict(self) -> dict[str, Any]:
        """Every knob by name, in declaration order (what ``scenario.json`` records)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
