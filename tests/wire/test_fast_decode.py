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


good_reading = st.fixed_dictionaries(
    {
        "badge": st.sampled_from(["b-1", "b-2", "gw-01"]),
        "rssi": st.one_of(st.integers(-120, 10), st.floats(-120, 10)),
        "ts": st.one_of(st.floats(SENT - 300, SENT + 300), st.integers(int(SENT) - 300, int(SENT) + 300)),
    },
    optional={"tx": st.one_of(st.integers(-100, 20), st.floats(-100, 20), st.none()), "seq": st.integers(0, 2**32 - 1)},
)
# Mostly well-formed batches (what the whole-batch fast path admits), sometimes with one odd item.
mostly_good = st.tuples(
    st.lists(good_reading, min_size=1, max_size=40), st.one_of(st.none(), readings), st.integers(0, 40)
).map(lambda t: t[0] if t[1] is None else [*t[0][: t[2]], t[1], *t[0][t[2] :]])


@settings(max_examples=400, deadline=None)
@given(mostly_good, st.sampled_from([None, frozenset(), frozenset({"b-1"}), {"b-2": 0, "gw-01": 1}]))
def test_whole_batches_agree_with_objects(items: list[Any], known: Any) -> None:
    payload = {"v": 1, "gateway": "gw-01", "sent": SENT, "readings": items}
    slow = decode_readings(payload, "gw-01")
    columns, rejected = decode_reading_columns(payload, "gw-01", known_ids=known)
    assert [r.badge for r in slow.batch.readings] == columns.badge
    assert [r.rssi for r in slow.batch.readings] == columns.rssi
    assert [r.ts for r in slow.batch.readings] == columns.ts
    assert [r.tx for r in slow.batch.readings] == columns.tx
    assert [e.reason for e in slow.rejected] == [e.reason for e in rejected]


def test_one_bad_value_anywhere_in_a_batch_is_found() -> None:
    """The column-wise checks miss nothing that the item-by-item ones catch (NaN, bool, bad id, range)."""
    good = {"badge": "b-1", "rssi": -60, "ts": SENT, "tx": -59, "seq": 3}
    for field, bad, reason in [
        ("rssi", float("nan"), "not_finite:rssi"),
        ("rssi", True, "bad_type:rssi"),
        ("rssi", 11, "rssi_out_of_range"),
        ("ts", SENT + 301, "ts_out_of_range"),
        ("tx", False, "bad_type:tx"),
        ("tx", -101.0, "tx_out_of_range"),
        ("seq", -1, "seq_out_of_range"),
        ("seq", 1.0, "bad_type:seq"),
        ("badge", "b 1", "bad_id:badge"),
        ("badge", 7, "bad_type:badge"),
    ]:
        for at in (0, 57, 99):
            items: list[Any] = [dict(good) for _ in range(100)]
            items[at][field] = bad
            payload = {"v": 1, "gateway": "gw-01", "sent": SENT, "readings": items}
            columns, rejected = decode_reading_columns(payload, "gw-01", known_ids={"b-1"})
            assert len(columns) == 99 and [e.reason for e in rejected] == [reason], (field, bad, at)
