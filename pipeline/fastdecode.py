"""A native pre-check for ``readings/<gateway>`` batches, in front of the strict codec.

msgspec parses the JSON and checks every field's type in one native pass (≈ orjson's
parse alone); the ranges, the ids and the header are then checked column-wise. Only a
batch that passes everything comes out as columns; anything else — bad JSON, a wrong type,
a value out of range, a batch with one bad reading — returns ``None`` and goes through
:mod:`mingle_wire`'s strict codec, which holds every rule and names every rejection. So
this path can only be stricter than the codec, never more lenient (property-tested:
``tests/pipeline/test_fastdecode.py``). It lives in the pipeline, not in ``mingle_wire``,
because the wire package stays standard-library-only.
"""

from __future__ import annotations

from collections.abc import Container
from itertools import filterfalse
from typing import Final

import msgspec

from mingle_wire import MAX_ITEMS, MAX_PAYLOAD_BYTES, PROTOCOL_VERSION, ReadingColumns
from mingle_wire.messages import (
    MAX_SKEW_S,
    RSSI_MAX_DBM,
    RSSI_MIN_DBM,
    TS_MAX,
    TS_MIN,
    TX_MAX_DBM,
    TX_MIN_DBM,
)
from mingle_wire.topics import ID_PATTERN

__all__ = ["fast_reading_columns"]

SEQ_MAX: Final = 0xFFFFFFFF


class _Reading(msgspec.Struct):
    badge: str
    rssi: float
    ts: float
    tx: float | None = None
    seq: int | None = None


class _Batch(msgspec.Struct):
    v: int
    gateway: str
    sent: float
    readings: list[_Reading]


_DECODER: Final = msgspec.json.Decoder(_Batch)


def fast_reading_columns(
    payload: bytes | str, gateway: str, known_ids: Container[str] = frozenset()
) -> ReadingColumns | None:
    """The batch as columns when it is well formed throughout, else ``None`` (use the codec).

    ``gateway`` is the topic's gateway id; ``known_ids`` holds badge ids already known to
    pass the id check (they skip the regular expression).
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        batch = _DECODER.decode(payload)
    except msgspec.MsgspecError:
        return None
    sent = batch.sent
    readings = batch.readings
    if (
        batch.v != PROTOCOL_VERSION
        or batch.gateway != gateway
        or ID_PATTERN.fullmatch(gateway) is None
        or not TS_MIN <= sent <= TS_MAX
        or len(readings) > MAX_ITEMS
    ):
        return None
    if not readings:
        return ReadingColumns(gateway, sent, [], [], [], [])
    badges = [r.badge for r in readings]
    rssi = [r.rssi for r in readings]
    ts = [r.ts for r in readings]
    tx = [r.tx for r in readings]
    lo, hi = max(TS_MIN, sent - MAX_SKEW_S), min(TS_MAX, sent + MAX_SKEW_S)
    if not (min(rssi) >= RSSI_MIN_DBM and max(rssi) <= RSSI_MAX_DBM and lo <= min(ts) and max(ts) <= hi):
        return None
    given_tx = [t for t in tx if t is not None]
    if given_tx and not (min(given_tx) >= TX_MIN_DBM and max(given_tx) <= TX_MAX_DBM):
        return None
    seq = [r.seq for r in readings if r.seq is not None]
    if seq and not (min(seq) >= 0 and max(seq) <= SEQ_MAX):
        return None
    if not all(map(ID_PATTERN.fullmatch, filterfalse(known_ids.__contains__, set(badges)))):
        return None
    return ReadingColumns(gateway, sent, badges, rssi, ts, tx)
