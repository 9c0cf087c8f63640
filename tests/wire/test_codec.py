"""Every rejection reason of wire contract v1, and round trips."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from mingle_wire import (
    MAX_ITEMS,
    MAX_PAYLOAD_BYTES,
    Alert,
    DecodeError,
    Frame,
    FrameBadge,
    FrameCluster,
    Position,
    PositionBatch,
    Reading,
    ReadingBatch,
    Suggestion,
    alert_from_dict,
    alert_to_dict,
    decode_positions,
    decode_readings,
    encode_positions,
    encode_readings,
    frame_from_dict,
    frame_to_dict,
)

T0 = 1764140000.0


def batch(**over: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"v": 1, "gateway": "gw-01", "sent": T0 + 1, "readings": [reading()]}
    msg.update(over)
    return msg


def reading(**over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"badge": "b-0042", "rssi": -67, "ts": T0 + 0.1}
    r.update(over)
    return r


def reason_of(payload: bytes | str | dict[str, Any], gateway: str | None = "gw-01") -> str:
    with pytest.raises(DecodeError) as info:
        decode_readings(payload, gateway)
    return info.value.reason


def test_the_documented_example_decodes() -> None:
    raw = (
        b'{"v":1,"gateway":"gw-01","sent":1764140001.04,"readings":[{"badge":"b-0042","rssi":-67,"ts":1764140000.10}]}'
    )
    out = decode_readings(raw, "gw-01")
    assert out.rejected == ()
    assert out.batch == ReadingBatch("gw-01", 1764140001.04, (Reading("b-0042", -67, 1764140000.10),))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b'{"v": NaN}', "bad_json"),
        (b"[" * 600_000 + b"]" * 600_000, "payload_too_large"),
        (b"[" * 5000 + b"]" * 5000, "bad_json"),
        (b"[1, 2]", "not_object"),
        (b'"text"', "not_object"),
        (json.dumps({"gateway": "gw-01"}), "missing_field:v"),
        (json.dumps(batch(v="1")), "bad_type:v"),
        (json.dumps(batch(v=True)), "bad_type:v"),
        (json.dumps(batch(v=2)), "unknown_version"),
        (json.dumps({k: v for k, v in batch().items() if k != "gateway"}), "missing_field:gateway"),
        (json.dumps({k: v for k, v in batch().items() if k != "sent"}), "missing_field:sent"),
        (json.dumps({k: v for k, v in batch().items() if k != "readings"}), "missing_field:readings"),
        (json.dumps(batch(readings={"badge": "b-1"})), "bad_type:readings"),
        (json.dumps(batch(readings=[reading()] * (MAX_ITEMS + 1))), "too_many_items"),
        (json.dumps(batch(gateway="gw-02")), "topic_mismatch"),
        (json.dumps(batch(sent="yesterday")), "bad_type:sent"),
        (json.dumps(batch(sent=12.0)), "ts_out_of_range"),
        (b'{"v":1,"gateway":"gw-01","sent":1e400,"readings":[]}', "not_finite:sent"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "payload",
)
def test_message_level_rejections(payload: bytes | str, reason: str) -> None:
    assert reason_of(payload) == reason


def test_bad_gateway_ids_are_rejected_without_a_topic() -> None:
    assert reason_of(json.dumps(batch(gateway="gw/01")), None) == "bad_id:gateway"
    assert reason_of(json.dumps(batch(gateway=7)), None) == "bad_type:gateway"
    assert reason_of(json.dumps(batch(gateway="g" * 65)), None) == "bad_id:gateway"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("b-1", "bad_item"),
        ({"rssi": -60, "ts": T0}, "missing_field:badge"),
        ({"badge": "b-1", "ts": T0}, "missing_field:rssi"),
        ({"badge": "b-1", "rssi": -60}, "missing_field:ts"),
        (reading(rssi="-60"), "bad_type:rssi"),
        (reading(rssi=True), "bad_type:rssi"),
        (reading(rssi=-127), "rssi_out_of_range"),
        (reading(rssi=11), "rssi_out_of_range"),
        (reading(badge="b 1"), "bad_id:badge"),
        (reading(badge="bädge"), "bad_id:badge"),
        (reading(badge="+"), "bad_id:badge"),
        (reading(badge=["b-1"]), "bad_type:badge"),
        (reading(ts=T0 + 1 + 301), "ts_out_of_range"),
        (reading(tx=50), "tx_out_of_range"),
        (reading(tx="x"), "bad_type:tx"),
        (reading(seq=1.5), "bad_type:seq"),
        (reading(seq=-1), "seq_out_of_range"),
    ],
    ids=lambda v: v if isinstance(v, str) else "item",
)
def test_a_bad_reading_is_rejected_alone(item: object, reason: str) -> None:
    out = decode_readings(json.dumps(batch(readings=[reading(badge="b-good"), item])), "gw-01")
    assert [r.badge for r in out.batch.readings] == ["b-good"]
    assert [e.reason for e in out.rejected] == [reason]
    assert out.rejected[0].detail  # says what was seen


def test_boundaries_are_inclusive() -> None:
    out = decode_readings(json.dumps(batch(readings=[reading(rssi=-120), reading(rssi=10), reading(ts=T0 + 1 - 300)])))
    assert len(out.batch.readings) == 3 and out.rejected == ()


def test_an_empty_batch_is_valid() -> None:
    assert decode_readings(json.dumps(batch(readings=[]))).batch.readings == ()


def test_position_rejections_and_round_trip() -> None:
    good = {"badge": "b-1", "x": 3.2, "y": 4.1, "ts": T0, "heading": 1.57, "err": 0.3}
    msg = {"v": 1, "source": "uwb-1", "sent": T0 + 0.5, "positions": [good]}
    out = decode_positions(json.dumps(msg), "uwb-1")
    assert out.batch == PositionBatch("uwb-1", T0 + 0.5, (Position("b-1", 3.2, 4.1, T0, 1.57, 0.3),))
    assert decode_positions(encode_positions(out.batch), "uwb-1").batch == out.batch
    cases = [
        ({k: v for k, v in good.items() if k != "x"}, "missing_field:x"),
        ({**good, "y": "4"}, "bad_type:y"),
        ({**good, "x": 1e9}, "coordinate_out_of_range"),
        ({**good, "err": -1}, "err_out_of_range"),
        ({**good, "heading": "north"}, "bad_type:heading"),
    ]
    for item, reason in cases:
        got = decode_positions(json.dumps({**msg, "positions": [item]}), "uwb-1")
        assert [e.reason for e in got.rejected] == [reason]
    with pytest.raises(DecodeError) as info:
        decode_positions(json.dumps({**msg, "source": "other"}), "uwb-1")
    assert info.value.reason == "topic_mismatch"


def test_readings_round_trip() -> None:
    b = ReadingBatch("gw-01", T0 + 1, (Reading("b-1", -60, T0, tx=-59, seq=3), Reading("b-2", -71.5, T0 + 0.5)))
    assert decode_readings(encode_readings(b), "gw-01").batch == b


def test_a_parsed_dict_decodes_like_bytes() -> None:
    assert decode_readings(batch()) == decode_readings(json.dumps(batch()))


def test_payload_size_limit_is_exact() -> None:
    assert len(b" " * MAX_PAYLOAD_BYTES) == MAX_PAYLOAD_BYTES
    assert reason_of(b" " * MAX_PAYLOAD_BYTES) == "bad_json"
    assert reason_of(b" " * (MAX_PAYLOAD_BYTES + 1)) == "payload_too_large"


def test_frame_and_alert_round_trip() -> None:
    frame = Frame(
        "expo",
        T0,
        (FrameBadge("b-1", 1.5, 2.25, 0.5),),
        (FrameCluster("c-1", ("b-1", "b-2"), 1.0, 2.0, "Acme", 1.0, T0 - 30, None),),
    )
    assert frame_from_dict(json.loads(json.dumps(frame_to_dict(frame)))) == frame
    alert = Alert(
        "a-1",
        "expo",
        T0,
        "c-1",
        "Acme",
        ("b-1", "b-2", "b-3"),
        T0 - 120,
        nudge=("b-2",),
        suggestion=Suggestion("group", 5.0, 6.0, 4.0, cluster="c-9", companies=("Globex",)),
        x=1.0,
        y=2.0,
    )
    assert alert_from_dict(json.loads(json.dumps(alert_to_dict(alert)))) == alert


def test_values_validate_themselves() -> None:
    with pytest.raises(TypeError, match="rssi"):
        Reading("b-1", "loud", T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="-130"):
        Reading("b-1", -130, T0)
    with pytest.raises(ValueError, match="nudge"):
        Alert("a", "s", T0, "c", "X", ("b-1",), T0, nudge=("b-1",), held_out=True)
    with pytest.raises(ValueError, match="members"):
        Alert("a", "s", T0, "c", "X", ("b-1",), T0, nudge=("b-9",))
    # (An infinite distance, 1e400 on the wire, once made every view of the alert raise.)
    for x, y, d in [(1.0, 2.0, math.inf), (math.nan, 2.0, 1.0), (1.0, 2.0, -1.0)]:
        with pytest.raises(ValueError, match="suggestion"):
            Suggestion("group", x, y, d)
    raw = '{"kind":"group","x":1,"y":2,"distance_m":1e400,"cluster":"c-9","companies":[],"shared_interests":[]}'
    body = json.loads(json.dumps(alert_to_dict(Alert("a", "s", T0, "c", "X", ("b-1",), T0))))
    with pytest.raises(DecodeError, match="distance_m"):
        alert_from_dict({**body, "suggestion": json.loads(raw)})
