"""Typed, self-validating values of wire contract v1.

Each class checks itself on construction: a wrong type raises :class:`FieldTypeError`
(a ``TypeError``), a bad value :class:`FieldValueError` (a ``ValueError``); both carry
the contract's rejection ``reason`` code and the offending value in the message, so the
codec can count and log them without a second set of rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from .topics import ID_PATTERN, valid_id

__all__ = [
    "MAX_ITEMS",
    "MAX_SKEW_S",
    "PROTOCOL_VERSION",
    "RSSI_MAX_DBM",
    "RSSI_MIN_DBM",
    "Alert",
    "Contact",
    "ContactBatch",
    "FieldTypeError",
    "FieldValueError",
    "Frame",
    "FrameBadge",
    "FrameCluster",
    "Position",
    "PositionBatch",
    "Reading",
    "ReadingBatch",
    "Suggestion",
    "finite_number",
]

PROTOCOL_VERSION: Final = 1
#: Plausible RSSI range, inclusive. BlueZ reports -127 for "no RSSI"; it is rejected.
RSSI_MIN_DBM: Final = -120.0
RSSI_MAX_DBM: Final = 10.0
#: Measured power at 1 m (``tx``), inclusive bounds in dBm.
TX_MIN_DBM: Final = -100.0
TX_MAX_DBM: Final = 20.0
#: A reading's ``ts`` may differ from its batch's ``sent`` by at most this many seconds.
MAX_SKEW_S: Final = 300.0
#: At most this many readings (or positions) in one message.
MAX_ITEMS: Final = 5000
#: Unix times before 2001-09-09 or after 2286 are rejected as implausible.
TS_MIN: Final = 1.0e9
TS_MAX: Final = 1.0e10
#: Venue coordinates beyond this magnitude (metres) are rejected.
COORD_LIMIT_M: Final = 100_000.0


class FieldTypeError(TypeError):
    """A field has the wrong type; ``reason`` is ``bad_type:<field>``."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        self.reason = f"bad_type:{name}"
        super().__init__(f"{name} must be {expected}, got {type(value).__name__} {_short(value)}")


class FieldValueError(ValueError):
    """A field has a bad value; ``reason`` is a contract code such as ``rssi_out_of_range``."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def finite_number(value: object) -> float | None:
    """``value`` as a float when it is a finite JSON number, else None: a bool is no number, and
    an integer too large for a float (JSON allows it) is not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldTypeError(name, value, "a number")
    number = finite_number(value)
    if number is None:
        raise FieldValueError(f"not_finite:{name}", f"{name} must be finite, got {_short(value)}")
    return number


def _in_range(name: str, value: float, low: float, high: float, reason: str, unit: str = "") -> None:
    if not low <= value <= high:
        raise FieldValueError(reason, f"{name} {value!r}{unit} outside [{low}, {high}]")


def _ident(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise FieldTypeError(name, value, "a string id")
    if not valid_id(value):
        raise FieldValueError(f"bad_id:{name}", f"{name} must match {ID_PATTERN.pattern}, got {_short(value)}")


def _ts(name: str, value: float) -> None:
    _in_range(name, value, TS_MIN, TS_MAX, "ts_out_of_range", " s")


@dataclass(frozen=True, slots=True)
class Reading:
    """One advertisement heard by a gateway.

    ``rssi`` in dBm within [-120, 10] inclusive; ``ts`` Unix seconds on the gateway's
    clock; ``tx`` the badge's advertised measured power at 1 m (dBm), if any.
    """

    badge: str
    rssi: float
    ts: float
    tx: float | None = None
    seq: int | None = None

    def __post_init__(self) -> None:
        _ident("badge", self.badge)
        _in_range("rssi", _number("rssi", self.rssi), RSSI_MIN_DBM, RSSI_MAX_DBM, "rssi_out_of_range", " dBm")
        _ts("ts", _number("ts", self.ts))
        if self.tx is not None:
            _in_range("tx", _number("tx", self.tx), TX_MIN_DBM, TX_MAX_DBM, "tx_out_of_range", " dBm")
        if self.seq is not None:
            if isinstance(self.seq, bool) or not isinstance(self.seq, int):
                raise FieldTypeError("seq", self.seq, "an integer")
            _in_range("seq", self.seq, 0, 2**32 - 1, "seq_out_of_range")


@dataclass(frozen=True, slots=True)
class ReadingBatch:
    """A gateway's readings for one window (topic ``readings/<gateway>``)."""

    gateway: str
    sent: float
    readings: tuple[Reading, ...] = ()

    def __post_init__(self) -> None:
        _ident("gateway", self.gateway)
        _ts("sent", _number("sent", self.sent))
        if not isinstance(self.readings, tuple):
            raise FieldTypeError("readings", self.readings, "a tuple of Reading")


@dataclass(frozen=True, slots=True)
class Contact:
    """One neighbour in a badge's proximity report, as a gateway heard the report.

    Badge ``badge`` heard badge ``near`` during its last scan period, at best at ``rssi``
    dBm (within [-120, 10] inclusive); ``ts`` is when the gateway received the report (Unix
    seconds), ``seq`` the badge's advertisement counter that carried it (0 … 2³²−1): every
    gateway in range hears the same report, and (``badge``, ``seq``) tells the copies apart.
    """

    badge: str
    near: str
    rssi: float
    ts: float
    seq: int

    def __post_init__(self) -> None:
        _ident("badge", self.badge)
        _ident("near", self.near)
        if self.near == self.badge:
            raise FieldValueError("self_contact", f"badge {self.badge!r} reports itself as a neighbour")
        _in_range("rssi", _number("rssi", self.rssi), RSSI_MIN_DBM, RSSI_MAX_DBM, "rssi_out_of_range", " dBm")
        _ts("ts", _number("ts", self.ts))
        if isinstance(self.seq, bool) or not isinstance(self.seq, int):
            raise FieldTypeError("seq", self.seq, "an integer")
        _in_range("seq", self.seq, 0, 2**32 - 1, "seq_out_of_range")


@dataclass(frozen=True, slots=True)
class ContactBatch:
    """A gateway's proximity reports for one window (topic ``contacts/<gateway>``)."""

    gateway: str
    sent: float
    contacts: tuple[Contact, ...] = ()

    def __post_init__(self) -> None:
        _ident("gateway", self.gateway)
        _ts("sent", _number("sent", self.sent))
        if not isinstance(self.contacts, tuple):
            raise FieldTypeError("contacts", self.contacts, "a tuple of Contact")


@dataclass(frozen=True, slots=True)
class Position:
    """A badge position from a positioning feed: metres in venue coordinates.

    ``heading`` is radians counter-clockwise from +x, the way the wearer faces;
    ``err`` the feed's error estimate in metres (>= 0).
    """

    badge: str
    x: float
    y: float
    ts: float
    heading: float | None = None
    err: float | None = None

    def __post_init__(self) -> None:
        _ident("badge", self.badge)
        for name in ("x", "y"):
            coord = _number(name, getattr(self, name))
            _in_range(name, coord, -COORD_LIMIT_M, COORD_LIMIT_M, "coordinate_out_of_range", " m")
        _ts("ts", _number("ts", self.ts))
        if self.heading is not None:
            _number("heading", self.heading)
        if self.err is not None:
            _in_range("err", _number("err", self.err), 0.0, COORD_LIMIT_M, "err_out_of_range", " m")


@dataclass(frozen=True, slots=True)
class PositionBatch:
    """A positioning feed's batch (topic ``positions/<source>``)."""

    source: str
    sent: float
    positions: tuple[Position, ...] = ()

    def __post_init__(self) -> None:
        _ident("source", self.source)
        _ts("sent", _number("sent", self.sent))
        if not isinstance(self.positions, tuple):
            raise FieldTypeError("positions", self.positions, "a tuple of Position")


@dataclass(frozen=True, slots=True)
class FrameBadge:
    """A placed badge in a frame; ``err`` is the position's error estimate in metres."""

    badge: str
    x: float
    y: float
    err: float


@dataclass(frozen=True, slots=True)
class FrameCluster:
    """A tracked group in a frame.

    ``company`` is the dominant company among roster members (``None`` when no member
    is on the roster), ``homogeneity`` its share of members, ``since`` when the track
    was born (Unix seconds), ``zone`` the venue zone its centre stands in.
    """

    id: str
    members: tuple[str, ...]
    x: float
    y: float
    company: str | None
    homogeneity: float
    since: float
    zone: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.homogeneity <= 1.0:
            raise FieldValueError("homogeneity_out_of_range", f"homogeneity {self.homogeneity!r} outside [0, 1]")


@dataclass(frozen=True, slots=True)
class Frame:
    """The state of the floor at one tick (topic ``frames``)."""

    site: str
    ts: float
    badges: tuple[FrameBadge, ...] = ()
    clusters: tuple[FrameCluster, ...] = ()


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Where a nudged person could go instead.

    ``kind`` is ``group`` (a mixed group with room: ``cluster`` is its id) or ``person``
    (an attendee of another company: ``badge``); ``x``/``y`` in metres,
    ``distance_m`` from the huddle's centre.
    """

    kind: str
    x: float
    y: float
    distance_m: float
    cluster: str | None = None
    badge: str | None = None
    companies: tuple[str, ...] = ()
    shared_interests: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("group", "person"):
            raise FieldValueError("bad_suggestion_kind", f"suggestion kind must be group or person, got {self.kind!r}")
        for name in ("x", "y"):
            _number(f"suggestion.{name}", getattr(self, name))
        if _number("suggestion.distance_m", self.distance_m) < 0:
            raise FieldValueError("bad_suggestion_distance", f"suggestion distance_m {self.distance_m!r} is negative")


@dataclass(frozen=True, slots=True)
class Alert:
    """A same-company huddle that met the policy (topic ``alerts``).

    ``ts`` is when it fired, ``since`` when the huddle began; ``nudge`` the badges to
    buzz (empty when ``held_out``).
    """

    id: str
    site: str
    ts: float
    cluster: str
    company: str
    members: tuple[str, ...]
    since: float
    nudge: tuple[str, ...] = ()
    held_out: bool = False
    zone: str | None = None
    suggestion: Suggestion | None = None
    x: float | None = None
    y: float | None = None

    def __post_init__(self) -> None:
        if self.held_out and self.nudge:
            raise FieldValueError("held_out_with_nudge", f"a held-out alert nudges nobody, got {self.nudge!r}")
        stray = set(self.nudge) - set(self.members)
        if stray:
            raise FieldValueError("nudge_not_member", f"nudged badges must be members, got {sorted(stray)!r}")
