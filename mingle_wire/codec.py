"""JSON encoding and strict decoding of wire contract v1 messages.

Decoding never raises anything but :class:`~mingle_wire.errors.DecodeError`. A fault in
the message as a whole (bad JSON, wrong version, a missing batch field) rejects the
message; a fault in one reading or position rejects only that item, and the rest of the
batch is kept — nothing good is lost because a neighbour was bad. The pipeline's
columnar fast path for readings batches, held to exactly these rules, is :mod:`.columns`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

from .errors import DecodeError
from .messages import (
    MAX_ITEMS,
    MAX_SKEW_S,
    PROTOCOL_VERSION,
    Contact,
    ContactBatch,
    FieldTypeError,
    FieldValueError,
    Position,
    PositionBatch,
    Reading,
    ReadingBatch,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Decoded",
    "Parser",
    "decode_contacts",
    "decode_inbound",
    "decode_positions",
    "decode_readings",
    "dumps",
    "encode_contacts",
    "encode_positions",
    "encode_readings",
    "loads",
]

MAX_PAYLOAD_BYTES: Final = 1 << 20
_MISSING: Final = object()
T = TypeVar("T")


class _Timed(Protocol):
    @property
    def ts(self) -> float: ...


TI = TypeVar("TI", bound=_Timed)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded inbound message: the batch of good items and the items rejected."""

    batch: ReadingBatch | PositionBatch | ContactBatch
    rejected: tuple[DecodeError, ...] = ()


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-standard JSON constant {name}")


def _strict_json(payload: bytes | str) -> Any:
    return json.loads(payload, parse_constant=_reject_constant)


#: A JSON parser: takes bytes or text, raises ``ValueError`` (or ``RecursionError``) on bad input
#: and must reject ``NaN``/``Infinity``. The default is the standard library's; a service may
#: pass a faster one with the same contract (orjson's ``loads`` qualifies).
Parser = Callable[[bytes | str], Any]


def loads(payload: bytes | str, parse: Parser = _strict_json) -> Any:
    """Parse strict JSON (no NaN/Infinity), mapping every failure to ``bad_json``."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise DecodeError("payload_too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        return parse(payload)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise DecodeError("bad_json", str(exc)[:200]) from exc


def dumps(obj: object) -> bytes:
    """Compact, deterministic JSON (UTF-8)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _get(obj: Mapping[str, Any], name: str) -> Any:
    value = obj.get(name, _MISSING)
    if value is _MISSING or value is None:
        raise DecodeError(f"missing_field:{name}", f"no {name!r} in {sorted(obj)[:10]!r}")
    return value


Payload = bytes | str | dict[str, Any]


def _header(
    payload: Payload, id_field: str, items_field: str, parse: Parser = _strict_json, key: str | None = None
) -> tuple[dict[str, Any], list[Any]]:
    """The batch object and its items; with ``key`` (the topic's id), the payload's
    ``id_field`` must equal it."""
    obj = payload if isinstance(payload, dict) else loads(payload, parse)
    if not isinstance(obj, dict):
        raise DecodeError("not_object", f"payload is a JSON {type(obj).__name__}, not an object")
    version = _get(obj, "v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise DecodeError("bad_type:v", f"v must be an integer, got {version!r}"[:200])
    if version != PROTOCOL_VERSION:
        raise DecodeError("unknown_version", f"v={version}, this build speaks v{PROTOCOL_VERSION}")
    _get(obj, id_field)
    _get(obj, "sent")
    items = _get(obj, items_field)
    if not isinstance(items, list):
        raise DecodeError(f"bad_type:{items_field}", f"{items_field} must be a list, got {type(items).__name__}")
    if len(items) > MAX_ITEMS:
        raise DecodeError("too_many_items", f"{len(items)} {items_field} > {MAX_ITEMS}")
    if key is not None and obj[id_field] != key:
        raise DecodeError("topic_mismatch", f"payload {id_field} {obj[id_field]!r} on topic of {key!r}"[:200])
    return obj, items


def _build(make: Callable[[], T]) -> T:
    try:
        return make()
    except (FieldTypeError, FieldValueError) as exc:
        raise DecodeError(exc.reason, str(exc)) from exc


def _items(
    items: list[Any], sent: float, make: Callable[[dict[str, Any]], TI], required: tuple[str, ...]
) -> tuple[tuple[TI, ...], tuple[DecodeError, ...]]:
    good: list[TI] = []
    bad: list[DecodeError] = []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise DecodeError("bad_item", f"item must be an object, got {type(item).__name__}")
            for name in required:
                _get(item, name)
            value = _build(lambda item=item: make(item))  # type: ignore[misc]
            if abs(value.ts - sent) > MAX_SKEW_S:
                raise DecodeError("ts_out_of_range", f"ts {value.ts!r} is more than {MAX_SKEW_S} s from sent {sent!r}")
            good.append(value)
        except DecodeError as exc:
            bad.append(exc)
    return tuple(good), tuple(bad)


def decode_readings(payload: Payload, gateway: str | None = None) -> Decoded:
    """Decode a ``readings/<gateway>`` payload; ``gateway`` is the topic's id, if known.

    ``payload`` is the raw bytes/text, or an already-parsed JSON object (replay).
    """
    obj, items = _header(payload, "gateway", "readings", key=gateway)
    header = _build(lambda: ReadingBatch(gateway=obj["gateway"], sent=obj["sent"]))
    readings, rejected = _items(items, header.sent, _reading_from, ("badge", "rssi", "ts"))
    return Decoded(ReadingBatch(header.gateway, header.sent, readings), rejected)


def _object(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise DecodeError("not_object", f"payload is a JSON {type(obj).__name__}, not an object")
    return obj


def _reading_from(r: dict[str, Any]) -> Reading:
    return Reading(badge=r["badge"], rssi=r["rssi"], ts=r["ts"], tx=r.get("tx"), seq=r.get("seq"))


def decode_positions(payload: Payload, source: str | None = None) -> Decoded:
    """Decode a ``positions/<source>`` payload; ``source`` is the topic's id, if known."""
    obj, items = _header(payload, "source", "positions", key=source)
    header = _build(lambda: PositionBatch(source=obj["source"], sent=obj["sent"]))
    positions, rejected = _items(
        items,
        header.sent,
        lambda p: Position(
            badge=p["badge"], x=p["x"], y=p["y"], ts=p["ts"], heading=p.get("heading"), err=p.get("err")
        ),
        ("badge", "x", "y", "ts"),
    )
    return Decoded(PositionBatch(header.source, header.sent, positions), rejected)


def decode_contacts(payload: Payload, gateway: str | None = None) -> Decoded:
    """Decode a ``contacts/<gateway>`` payload; ``gateway`` is the topic's id, if known."""
    obj, items = _header(payload, "gateway", "contacts", key=gateway)
    header = _build(lambda: ContactBatch(gateway=obj["gateway"], sent=obj["sent"]))
    contacts, rejected = _items(items, header.sent, _contact_from, CONTACT_FIELDS)
    return Decoded(ContactBatch(header.gateway, header.sent, contacts), rejected)


#: Every field of a contact is required.
CONTACT_FIELDS: Final = ("badge", "near", "rssi", "ts", "seq")


def _contact_from(c: dict[str, Any]) -> Contact:
    return Contact(badge=c["badge"], near=c["near"], rssi=c["rssi"], ts=c["ts"], seq=c["seq"])


def decode_inbound(kind: str, key: str, payload: Payload, parse: Parser = _strict_json) -> Decoded:
    """Decode an inbound message by topic kind (``readings``, ``positions`` or ``contacts``)."""
    if not isinstance(payload, dict):
        payload = _object(loads(payload, parse))
    if kind == "readings":
        return decode_readings(payload, key)
    if kind == "positions":
        return decode_positions(payload, key)
    if kind == "contacts":
        return decode_contacts(payload, key)
    raise DecodeError("unknown_topic", f"no inbound messages of kind {kind!r}")


def _num(value: float, digits: int = 3) -> float | int:
    rounded = round(value, digits)
    return int(rounded) if rounded == int(rounded) and abs(rounded) < 2**53 else rounded


def encode_readings(batch: ReadingBatch) -> bytes:
    items: list[dict[str, Any]] = []
    for r in batch.readings:
        item: dict[str, Any] = {"badge": r.badge, "rssi": _num(r.rssi, 1), "ts": round(r.ts, 3)}
        if r.tx is not None:
            item["tx"] = _num(r.tx, 1)
        if r.seq is not None:
            item["seq"] = r.seq
        items.append(item)
    return dumps({"v": PROTOCOL_VERSION, "gateway": batch.gateway, "sent": round(batch.sent, 3), "readings": items})


def encode_positions(batch: PositionBatch) -> bytes:
    items: list[dict[str, Any]] = []
    for p in batch.positions:
        item: dict[str, Any] = {"badge": p.badge, "x": round(p.x, 3), "y": round(p.y, 3), "ts": round(p.ts, 3)}
        if p.heading is not None:
            item["heading"] = round(p.heading, 3)
        if p.err is not None:
            item["err"] = round(p.err, 3)
        items.append(item)
    return dumps({"v": PROTOCOL_VERSION, "source": batch.source, "sent": round(batch.sent, 3), "positions": items})


def encode_contacts(batch: ContactBatch) -> bytes:
    items = [
        {"badge": c.badge, "near": c.near, "rssi": _num(c.rssi, 1), "ts": round(c.ts, 3), "seq": c.seq}
        for c in batch.contacts
    ]
    return dumps({"v": PROTOCOL_VERSION, "gateway": batch.gateway, "sent": round(batch.sent, 3), "contacts": items})
