"""The columnar fast path accepts and rejects exactly what the object path does."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from mingle_wire import DecodeError, decode_reading_columns, decode_readings, loads

SENT = 1764140001.0
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-130, max_value=20),
    st.floats(min_value=SENT - 400, max_value=SENT + 400),
    st.text(max_size=8),
    st.sampled_from(["b-1", "b 2", "", "x" * 65, "bädge", "gw-01", "+", "a/b"]),
    st.lists(st.integers(), max_size=2),
)
readings = st.one_of(
    st.dictionaries(st.sampled_from(["badge", "rssi", "ts", "tx", "seq", "extra"]), values, max_size=6),
    st.fixed_dictionaries(
        {
            "badge": st.sampled_from(["b-1", "b-2", "b 3"]),
            "rssi": st.one_of(st.integers(-130, 15), st.floats(-125, 12)),
            "ts": st.floats(SENT - 310, SENT + 310),
        },
        optional={"tx": st.one_of(st.integers(-110, 30), st.none()), "seq": st.integers(-2, 2**33)},
    ),
    values,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(readings, max_size=8))
def test_columns_and_objects_agree(items: list[Any]) -> None:
    payload = {"v": 1, "gateway": "gw-01", "sent": SENT, "readings": items}
    slow = decode_readings(payload, "gw-01")
    columns, rejected = decode_reading_columns(payload, "gw-01")
    assert [r.badge for r in slow.batch.readings] == columns.badge
    assert [r.rssi for r in slow.batch.readings] == columns.rssi
    assert [r.ts for r in slow.batch.readings] == columns.ts
    assert [r.tx for r in slow.batch.readings] == columns.tx
    assert [e.reason for e in slow.rejected] == [e.reason for e in rejected]


def test_orjson_meets_the_parser_contract() -> None:
    for bad in (b"NaN", b'{"a": Infinity}', b"1e400", b"\xff", b"[" * 5000 + b"]" * 5000, b"{"):
        try:
            loads(bad, orjson.loads)
        except DecodeError as exc:
            assert exc.reason == "bad_json"
        else:
            raise AssertionError(f"accepted {bad[:20]!r}")
    assert loads(json.dumps({"v": 1}).encode(), orjson.loads) == {"v": 1}
