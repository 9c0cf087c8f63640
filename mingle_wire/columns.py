"""Readings and contacts batches decoded straight into columns: the pipeline's fast path.

:func:`decode_reading_columns` accepts and rejects exactly what :func:`~.codec.decode_readings`
does, without building a :class:`~.messages.Reading` per item when every item is well formed:
first the whole batch is checked column by column at C speed
(:func:`valid_reading_columns`), else each reading on its own; anything neither fast check
admits goes through :class:`~.messages.Reading`'s own validation, so the rules live in one
place and the fast paths can only be stricter, never more lenient.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from functools import partial
from itertools import filterfalse, repeat
from operator import eq, is_not, itemgetter
from typing import Any, Final

from .codec import (
    CONTACT_FIELDS,
    Parser,
    Payload,
    _build,
    _contact_from,
    _header,
    _items,
    _reading_from,
    _strict_json,
)
from .errors import DecodeError
from .messages import (
    MAX_SKEW_S,
    RSSI_MAX_DBM,
    RSSI_MIN_DBM,
    TS_MAX,
    TS_MIN,
    TX_MAX_DBM,
    TX_MIN_DBM,
    ContactBatch,
    ReadingBatch,
)
from .topics import ID_PATTERN

__all__ = [
    "ContactColumns",
    "ReadingColumns",
    "decode_contact_columns",
    "decode_reading_columns",
    "valid_reading_columns",
]


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
    obj, items = _header(payload, "gateway", "readings", parse, key=gateway)
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


@dataclass(frozen=True, slots=True)
class ContactColumns:
    """A contacts batch as aligned columns (no per-contact objects)."""

    gateway: str
    sent: float
    badge: list[str]
    near: list[str]
    rssi: list[float]
    ts: list[float]
    seq: list[int]

    def __len__(self) -> int:
        return len(self.badge)


_CONTACT = itemgetter(*CONTACT_FIELDS)
_INT: Final = frozenset({int})


def decode_contact_columns(
    payload: Payload,
    gateway: str | None = None,
    parse: Parser = _strict_json,
    *,
    known_ids: Container[str] | None = None,
) -> tuple[ContactColumns, tuple[DecodeError, ...]]:
    """Like :func:`~.codec.decode_contacts`, but returns columns; accepts and rejects exactly the
    same items. A batch whose every contact is well formed is checked column by column at C
    speed; any doubt sends it through :class:`~.messages.Contact`'s own validation, item by item."""
    obj, items = _header(payload, "gateway", "contacts", parse, key=gateway)
    header = _build(lambda: ContactBatch(gateway=obj["gateway"], sent=obj["sent"]))
    whole = _whole_contacts(items, header.sent, known_ids)
    if whole is not None:
        return ContactColumns(header.gateway, header.sent, *whole), ()
    good, bad = _items(items, header.sent, _contact_from, CONTACT_FIELDS)
    columns = ContactColumns(
        header.gateway,
        header.sent,
        [c.badge for c in good],
        [c.near for c in good],
        [c.rssi for c in good],
        [c.ts for c in good],
        [c.seq for c in good],
    )
    return columns, bad


def _whole_contacts(
    items: list[Any], sent: float, known_ids: Container[str] | None
) -> tuple[list[str], list[str], list[float], list[float], list[int]] | None:
    """Every item as columns when each one is a well-formed contact (the contract's types,
    ranges, ids, no NaN, never naming itself); else ``None``."""
    if not items:
        return None
    try:
        badge, near, rssi, ts, seq = map(list, zip(*map(_CONTACT, items), strict=True))
    except (KeyError, TypeError):  # a field missing, or an item that is not a dict
        return None
    lo, hi = _ts_window(sent)
    rssi_types, ts_types, seq_types = set(map(type, rssi)), set(map(type, ts)), set(map(type, seq))
    if not (
        set(map(type, badge)) <= _STR
        and set(map(type, near)) <= _STR
        and rssi_types <= _NUMBER
        and ts_types <= _NUMBER
        and seq_types <= _INT
        and _within(rssi, rssi_types, RSSI_MIN_DBM, RSSI_MAX_DBM)
        and _within(ts, ts_types, lo, hi)
        and _within(seq, seq_types, 0, 0xFFFFFFFF)
        and not any(map(eq, badge, near))
    ):
        return None
    distinct = set(badge) | set(near)
    unseen = distinct if known_ids is None else filterfalse(known_ids.__contains__, distinct)
    if not all(map(ID_PATTERN.fullmatch, unseen)):
        return None
    return badge, near, rssi, ts, seq
