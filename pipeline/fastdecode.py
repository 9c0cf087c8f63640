"""A native pre-check for ``readings/<gateway>`` batches, in front of the strict codec.

msgspec parses the JSON and checks every field's type in one native pass (≈ orjson's
parse alone); then the header is checked by :class:`~mingle_wire.ReadingBatch` and the
readings by the codec's own column-wise check
(:func:`mingle_wire.columns.valid_reading_columns`), so the rules stay in one place. Only a
batch that passes everything comes out as columns; anything else — bad JSON, a wrong type,
a value out of range, a batch with one bad reading — returns ``None`` and goes through
:mod:`mingle_wire`'s strict codec, which holds every rule and names every rejection. So
this path can only be stricter than the codec, never more lenient (property-tested:
``tests/pipeline/test_fastdecode.py``). It lives in the pipeline, not in ``mingle_wire``,
because the wire package stays standard-library-only.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Final

import msgspec

from mingle_wire import (
    MAX_ITEMS,
    MAX_PAYLOAD_BYTES,
    PROTOCOL_VERSION,
    FieldTypeError,
    FieldValueError,
    ReadingBatch,
    ReadingColumns,
)
from mingle_wire.columns import valid_reading_columns

__all__ = ["fast_reading_columns"]


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
        ReadingBatch(gateway=batch.gateway, sent=batch.sent)  # the header's own rules
    except (msgspec.MsgspecError, FieldTypeError, FieldValueError):
        return None
    readings = batch.readings
    if batch.v != PROTOCOL_VERSION or batch.gateway != gateway or len(readings) > MAX_ITEMS:
        return None
    badges = [r.badge for r in readings]
    rssi = [r.rssi for r in readings]
    ts = [r.ts for r in readings]
    tx = [r.tx for r in readings]
    seq = [r.seq for r in readings]
    if not valid_reading_columns(badges, rssi, ts, tx, seq, batch.sent, known_ids):
        return None
    return ReadingColumns(gateway, batch.sent, badges, rssi, ts, tx)
