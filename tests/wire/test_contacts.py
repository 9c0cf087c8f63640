"""Wire contract: the ``contacts/<gateway>`` message (badges' proximity reports)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mingle_wire import (
    Contact,
    ContactBatch,
    DecodeError,
    FieldValueError,
    Topics,
    decode_contact_columns,
    decode_contacts,
    decode_inbound,
    encode_contacts,
    parse_topic,
)

SENT = 1764140001.04
GOOD = {"badge": "b-0042", "near": "b-0107", "rssi": -58, "ts": 1764140000.10, "seq": 4711}


def batch(*items: object, gateway: str = "gw-01") -> bytes:
    return json.dumps({"v": 1, "gateway": gateway, "sent": SENT, "contacts": list(items)}).encode()


def test_the_documented_example_decodes() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    section = text.split("## Contacts")[1]
    example = re.search(r"```json\n(.*?)```", section, re.S)
    assert example is not None
    decoded = decode_contacts(example.group(1), "gw-01")
    assert decoded.rejected == ()
    assert decoded.batch == ContactBatch("gw-01", SENT, (Contact(**GOOD),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"near": "b-0042"}, "self_contact"),
        ({"near": "a b"}, "bad_id:near"),
        ({"near": None}, "missing_field:near"),
        ({"seq": None}, "missing_field:seq"),
        ({"seq": 2**32}, "seq_out_of_range"),
        ({"seq": 1.5}, "bad_type:seq"),
        ({"seq": True}, "bad_type:seq"),
        ({"rssi": -127}, "rssi_out_of_range"),
        ({"rssi": "loud"}, "bad_type:rssi"),
        ({"ts": SENT + 301}, "ts_out_of_range"),
    ],
)
def test_a_bad_contact_is_rejected_alone(change: dict[str, object], reason: str) -> None:
    decoded = decode_contacts(batch(GOOD, {**GOOD, **change}, {**GOOD, "near": "b-0001"}), "gw-01")
    assert [e.reason for e in decoded.rejected] == [reason]
    assert isinstance(decoded.batch, ContactBatch)
    assert [c.near for c in decoded.batch.contacts] == ["b-0107", "b-0001"]


def test_message_level_faults_reject_the_message() -> None:
    with pytest.raises(DecodeError) as wrong_topic:
        decode_contacts(batch(GOOD, gateway="gw-02"), "gw-01")
    assert wrong_topic.value.reason == "topic_mismatch"
    with pytest.raises(DecodeError) as no_list:
        decode_contacts(json.dumps({"v": 1, "gateway": "gw-01", "sent": SENT, "contacts": {}}), "gw-01")
    assert no_list.value.reason == "bad_type:contacts"
    with pytest.raises(DecodeError) as too_many:
        decode_contacts(batch(*[GOOD] * 5001), "gw-01")
    assert too_many.value.reason == "too_many_items"


def test_round_trip_and_inbound_dispatch() -> None:
    original = ContactBatch("gw-01", SENT, (Contact(**GOOD), Contact("b-0107", "b-0042", -61.5, SENT, 9)))  # type: ignore[arg-type]
    payload = encode_contacts(original)
    assert decode_contacts(payload, "gw-01").batch == original
    topic = Topics("expo").contacts("gw-01")
    assert topic == "mingle/expo/contacts/gw-01"
    parsed = parse_topic(topic)
    assert parsed is not None and parsed.kind == "contacts" and parsed.key == "gw-01"
    assert decode_inbound(parsed.kind, parsed.key, payload).batch == original


def test_values_validate_themselves() -> None:
    with pytest.raises(FieldValueError) as own:
        Contact("b-1", "b-1", -60, SENT, 1)
    assert own.value.reason == "self_contact"
    with pytest.raises(TypeError):
        ContactBatch("gw-01", SENT, [Contact(**GOOD)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "items",
    [
        [GOOD, {**GOOD, "near": "b-0001", "rssi": -70.5, "seq": 0}],  # all good: the column check
        [GOOD, {**GOOD, "near": "b-0042"}],  # one names itself
        [GOOD, {**GOOD, "rssi": float("nan")}],  # NaN (as a parser with NaN would hand it over)
        [GOOD, {**GOOD, "seq": 2**32}, {**GOOD, "seq": True}, {**GOOD, "seq": None}],
        [GOOD, {**GOOD, "near": "a b"}, {**GOOD, "badge": 7}, [1, 2], {**GOOD, "ts": SENT - 400}],
        [{k: v for k, v in GOOD.items() if k != "rssi"}, GOOD],
    ],
)
def test_the_columnar_path_accepts_and_rejects_exactly_what_the_codec_does(items: list[object]) -> None:
    obj = {"v": 1, "gateway": "gw-01", "sent": SENT, "contacts": items}
    strict = decode_contacts(obj, "gw-01")
    for known in (None, {"b-0042", "b-0107"}):
        columns, rejected = decode_contact_columns(obj, "gw-01", known_ids=known)
        assert [e.reason for e in rejected] == [e.reason for e in strict.rejected]
        assert isinstance(strict.batch, ContactBatch)
        got = list(zip(columns.badge, columns.near, columns.rssi, columns.ts, columns.seq, strict=True))
        assert got == [(c.badge, c.near, c.rssi, c.ts, c.seq) for c in strict.batch.contacts]
    with pytest.raises(DecodeError) as wrong:
        decode_contact_columns(obj, "gw-02")
    assert wrong.value.reason == "topic_mismatch"
