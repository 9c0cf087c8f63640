"""Attendee control messages: "pause my nudges" (topic ``pauses/<badge>``).

An attendee's phone page (or an organizer) publishes a :class:`Pause` for one badge; the
pipeline ingests it with the readings, so a recording replays it exactly. ``until`` is a
Unix time: a pause ending at or before ``sent`` cancels an earlier pause *from the same
``source``* — ``phone`` (the phone page; the default) or ``button`` (the badge's team-huddle
button, relayed by a gateway) — so switching the button off does not end a pause asked on
the phone. Who may publish on ``pauses/+`` is the broker's business (an ACL that lets only
the dashboard and the gateways do it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .codec import dumps
from .errors import DecodeError
from .messages import PROTOCOL_VERSION, FieldTypeError, FieldValueError, _ident, _in_range, _number, _ts

__all__ = ["MAX_PAUSE_S", "PAUSE_SOURCES", "Pause", "decode_pause", "encode_pause"]

#: A pause lasts at most this long after it was sent (seconds, inclusive).
MAX_PAUSE_S: Final = 4 * 3600.0

#: Who asks for a pause: each source's latest pause stands beside the other's.
PAUSE_SOURCES: Final = ("phone", "button")


@dataclass(frozen=True, slots=True)
class Pause:
    """Hold nudges for ``badge`` until ``until`` (Unix seconds); ``sent`` is when it was asked."""

    badge: str
    until: float
    sent: float
    source: str = "phone"

    def __post_init__(self) -> None:
        _ident("badge", self.badge)
        _ts("sent", _number("sent", self.sent))
        _number("until", self.until)
        _in_range("until", self.until, 0.0, self.sent + MAX_PAUSE_S, "pause_too_long", " s")
        if not isinstance(self.source, str):
            raise FieldTypeError("source", self.source, "a string")
        if self.source not in PAUSE_SOURCES:
            raise FieldValueError("unknown_source", f"source must be one of {PAUSE_SOURCES}, got {self.source!r}")


def encode_pause(pause: Pause) -> bytes:
    body = {"v": PROTOCOL_VERSION, "badge": pause.badge, "until": round(pause.until, 3), "sent": round(pause.sent, 3)}
    if pause.source != "phone":
        body["source"] = pause.source
    return dumps(body)


def decode_pause(obj: dict[str, Any], badge: str | None = None) -> Pause:
    """Decode a parsed ``pauses/<badge>`` payload; ``badge`` is the topic's id, if known."""
    version = obj.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise DecodeError("bad_type:v", f"v must be an integer, got {version!r}"[:200])
    if version != PROTOCOL_VERSION:
        raise DecodeError("unknown_version", f"v={version}, this build speaks v{PROTOCOL_VERSION}")
    for name in ("badge", "until", "sent"):
        if obj.get(name) is None:
            raise DecodeError(f"missing_field:{name}", f"no {name!r} in {sorted(obj)[:10]!r}")
    try:
        pause = Pause(badge=obj["badge"], until=obj["until"], sent=obj["sent"], source=obj.get("source", "phone"))
    except (FieldTypeError, FieldValueError) as exc:
        raise DecodeError(exc.reason, str(exc)) from exc
    if badge is not None and pause.badge != badge:
        raise DecodeError("topic_mismatch", f"payload badge {pause.badge!r} on topic of {badge!r}"[:200])
    return pause
