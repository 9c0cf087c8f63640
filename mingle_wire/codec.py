"""JSON encoding and strict decoding of wire contract v1 messages.

Decoding never raises anything but :class:`~mingle_wire.errors.DecodeError`. A fault in
the message as a whole (bad JSON, wrong version, a missing batch field) rejects the
message; a fault in one reading or position rejects only that item, and the rest of the
batch is kept — nothing good is lost because a neighbour was bad.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import filterfalse, repeat
from operator import is_not, itemgetter
from typing import Any, Final, Protocol, TypeVar

from .errors import DecodeError
from .messages import (
    MAX_ITEMS,
    MAX_SKEW_S,
    PROTOCOL_VERSION,
    RSSI_MAX_DBM,
    RSSI_MIN_DBM,
    TS_MAX,
    TS_MIN,
    TX_MAX_DBM,
    TX_MIN_DBM,
    FieldTypeError,
    FieldValueError,
    Position,
    PositionBatch,
    Reading,
    ReadingBatch,
)
from .topics import ID_PATTERN

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Decoded",
    "Parser",
    "ReadingColumns",
    "decode_inbound",
    "decode_positions",
    "decode_reading_columns",
    "decode_readings",
    "dumps",
    "encode_positions",
    "encode_readings",
    "loads",
    "valid_reading_columns",
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

    batch: ReadingBatch | PositionBatch
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
    payload: Payload, id_field: str, items_field: str, parse: Parser = _strict_json
) -> tuple[dict[str, Any], list[Any]]:
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
    obj, items = _header(payload, "gateway", "readings")
    if gateway is not None and obj["gateway"] != gateway:
        raise DecodeError("topic_mismatch", f"payload gateway {obj['gateway']!r} on topic of {gateway!r}"[:200])
    header = _build(lambda: ReadingBatch(gateway=obj["gateway"], sent=obj["sent"]))
    readings, rejected = _items(items, header.sent, _reading_from, ("badge", "rssi", "ts"))
    return Decoded(ReadingBatch(header.gateway, header.sent, readings), rejected)


@dataclass(frozen=True, slots=True)
class ReadingColumns:
    """A readings batch as aligned columns (what the pipeline ingests; no per-reading objects)."""

    gateway: str
    sent: float
    badge: list[str]
    rssi: list[float]
    ts: list[float]
    tx: list[float | None]

    def __len__(self) -> int:
        return len(self.badge)


def _object(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise DecodeError("not_object", f"payload is a JSON {type(obj).__name__}, not an object")
    return obj


def decode_reading_columns(
    payload: Payload,
    gateway: str | None = None,
    parse: Parser = _strict_json,
    *,
    known_ids: Container[str] | None = None,
) -> tuple[ReadingColumns, tuple[DecodeError, ...]]:
    """Like :func:`decode_readings`, but returns columns; accepts and rejects exactly the same items.

    Two fast checks admit well-formed readings: first the whole batch at once (column by
    column, at C speed), else each reading on its own. Anything neither admits goes through
    :class:`Reading`'s own validation, which either finds the precise rejection reason or
    accepts it — so the rules live in one place and the fast paths can only be stricter,
    never more lenient. ``known_ids`` (a set, a dict, …) holds badge ids the caller has
    already seen pass the id check; they skip the regular expression.
    """
    obj, items = _header(payload, "gateway", "readings", parse)
    if gateway is not None and obj["gateway"] != gateway:
        raise DecodeError("topic_mismatch", f"payload gateway {obj['gateway']!r} on topic of {gateway!r}"[:200])
    header = _build(lambda: ReadingBatch(gateway=obj["gateway"], sent=obj["sent"]))
    sent = header.sent
    whole = _whole_batch(items, sent, known_ids)
    lo, hi = _ts_window(sent)
    if whole is not None:
        return ReadingColumns(header.gateway, sent, *whole), ()
    ident = ID_PATTERN.fullmatch
    badges: list[str] = []
    rssis: list[float] = []
    tss: list[float] = []
    txs: list[float | None] = []
    bad: list[DecodeError] = []
    for item in items:
        if type(item) is dict:
            b = item.get("badge")
            r = item.get("rssi")
            t = item.get("ts")
            tx = item.get("tx")
            seq = item.get("seq")
            if (
                type(b) is str
                and (type(r) is int or type(r) is float)
                and (type(t) is float or type(t) is int)
                and RSSI_MIN_DBM <= r <= RSSI_MAX_DBM
                and lo <= t <= hi
                and (tx is None or ((type(tx) is int or type(tx) is float) and TX_MIN_DBM <= tx <= TX_MAX_DBM))
                and (seq is None or (type(seq) is int and 0 <= seq <= 0xFFFFFFFF))
                and ident(b) is not None
            ):
                badges.append(b)
                rssis.append(r)
                tss.append(t)
                txs.append(tx)
                continue
        good, rejected = _items([item], sent, _reading_from, ("badge", "rssi", "ts"))
        bad.extend(rejected)
        for reading in good:
            badges.append(reading.badge)
            rssis.append(reading.rssi)
            tss.append(reading.ts)
            txs.append(reading.tx)
    return ReadingColumns(header.gateway, sent, badges, rssis, tss, txs), tuple(bad)


_REQUIRED = itemgetter("badge", "rssi", "ts")
_ALL = itemgetter("badge", "rssi", "ts", "tx", "seq")
_STR: Final = frozenset({str})
_NUMBER: Final = frozenset({int, float})
_OPTIONAL_NUMBER: Final = frozenset({int, float, type(None)})
_OPTIONAL_INT: Final = frozenset({int, type(None)})
_NONE: Final = frozenset({type(None)})
_not_none = partial(is_not, None)


def _present(values: list[Any], types: set[type]) -> list[Any]:
    """``values`` without the ``None`` entries (``types`` is the set of their types)."""
    return list(filter(_not_none, values)) if type(None) in types else values


def _within(values: list[Any], types: set[type], lo: float, hi: float) -> bool:
    """``lo <= v <= hi`` for every number in ``values`` (``types``: the set of their types), at C speed.

    ``min``/``max`` can step over a NaN, so a list with floats is also summed: one NaN
    anywhere makes the sum NaN (the sum of in-range numbers is finite).
    """
    if not (lo <= min(values) and max(values) <= hi):
        return False
    if float in types:
        total = sum(values)
        return bool(total == total)
    return True


def _ts_window(sent: float) -> tuple[float, float]:
    """The inclusive range a reading's ``ts`` must fall in, for a batch ``sent`` at ``sent``."""
    return max(TS_MIN, sent - MAX_SKEW_S), min(TS_MAX, sent + MAX_SKEW_S)


def valid_reading_columns(
    badges: list[Any],
    rssis: list[Any],
    tss: list[Any],
    tx: list[Any],
    seq: list[Any],
    sent: float,
    known_ids: Container[str] | None = None,
) -> bool:
    """True when every reading, given as aligned columns, passes the contract (batch ``sent``).

    The per-item fast check's conditions, applied column-wise with ``map``/``min``/``max`` so
    no Python bytecode runs per reading: types, ranges, no NaN, and ids (``known_ids`` hold
    ids that already passed the id check and skip the regular expression). ``False`` means
    some reading is odd, not which one; the item-by-item path says that.
    """
    if not badges:
        return True
    lo, hi = _ts_window(sent)
    rssi_types = set(map(type, rssis))
    ts_types = set(map(type, tss))
    tx_types = set(map(type, tx))
    seq_types = set(map(type, seq))
    if not (
        set(map(type, badges)) <= _STR
        and rssi_types <= _NUMBER
        and ts_types <= _NUMBER
        and tx_types <= _OPTIONAL_NUMBER
        and seq_types <= _OPTIONAL_INT
        and _within(rssis, rssi_types, RSSI_MIN_DBM, RSSI_MAX_DBM)
        and _within(tss, ts_types, lo, hi)
        and (tx_types == _NONE or _within(_present(tx, tx_types), tx_types, TX_MIN_DBM, TX_MAX_DBM))
        and (seq_types == _NONE or _within(_present(seq, seq_types), seq_types, 0, 0xFFFFFFFF))
    ):
        return False
    distinct = set(badges)
    unseen = distinct if known_ids is None else filterfalse(known_ids.__contains__, distinct)
    return all(map(ID_PATTERN.fullmatch, unseen))


def _whole_batch(
    items: list[Any], sent: float, known_ids: Container[str] | None
) -> tuple[list[str], list[float], list[float], list[float | None]] | None:
    """Every item as columns if each one passes :func:`valid_reading_columns`; else ``None``.

    Any doubt (a non-dict item, a missing field, one value of the wrong type or out of
    range) returns ``None`` and the caller goes item by item.
    """
    if not items:
        return None
    try:  # the common case: every field in every item, one pass
        badges, rssis, tss, tx, seq = map(list, zip(*map(_ALL, items), strict=True))
    except KeyError:  # no tx or seq somewhere (or a required field missing: caught below)
        try:
            badges, rssis, tss = map(list, zip(*map(_REQUIRED, items), strict=True))
            tx = list(map(dict.get, items, repeat("tx")))
            seq = list(map(dict.get, items, repeat("seq")))
        except (KeyError, TypeError):
            return None
    except TypeError:  # an item that is not a dict
        return None
    if not valid_reading_columns(badges, rssis, tss, tx, seq, sent, known_ids):
        return None
    return badges, rssis, tss, tx


def _reading_from(r: dict[str, Any]) -> Reading:
    return Reading(badge=r["badge"], rssi=r["rssi"], ts=r["ts"], tx=r.get("tx"), seq=r.get("seq"))


def decode_positions(payload: Payload, source: str | None = None) -> Decoded:
    """Decode a ``positions/<source>`` payload; ``source`` is the topic's id, if known."""
    obj, items = _header(payload, "source", "positions")
    if source is not None and obj["source"] != source:
        raise DecodeError("topic_mismatch", f"payload source {obj['source']!r} on topic of {source!r}"[:200])
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


def decode_inbound(kind: str, key: str, payload: Payload, parse: Parser = _strict_json) -> Decoded:
    """Decode an inbound message by topic kind (``readings`` or ``positions``)."""
    if not isinstance(payload, dict):
        payload = _object(loads(payload, parse))
    if kind == "readings":
        return decode_readings(payload, key)
    if kind == "positions":
        return decode_positions(payload, key)
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
