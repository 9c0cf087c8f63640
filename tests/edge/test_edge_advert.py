"""The advertisement decoder against the shared vectors and against garbage."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.advert import (
    APPLE_COMPANY_ID,
    AdvertConfig,
    BadgeAdvert,
    Rejection,
    badge_id,
    decode_advert,
    decode_manufacturer,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "hardware" / "badge" / "test_vectors.json").read_text(encoding="utf-8")
)
CONFIG = AdvertConfig(VECTORS["default_company_id"], uuid.UUID(VECTORS["ibeacon_uuid"]))


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_valid_vectors_decode_to_their_fields(vector: dict[str, Any]) -> None:
    advert = decode_manufacturer(vector["company_id"], bytes.fromhex(vector["payload_hex"]), CONFIG)
    assert isinstance(advert, BadgeAdvert), advert
    fields = vector["fields"]
    assert advert.kind == vector["kind"]
    assert advert.badge == fields["badge"]
    assert advert.tx_dbm == fields["tx_dbm"]
    assert advert.seq == fields["seq"]
    assert advert.battery_pct == fields["battery_pct"]
    assert advert.huddle == fields["huddle"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_vectors_are_rejected_with_their_reason(vector: dict[str, Any]) -> None:
    result = decode_manufacturer(vector["company_id"], bytes.fromhex(vector["payload_hex"]), CONFIG)
    assert isinstance(result, Rejection)
    assert result.reason == vector["reason"]


def test_badge_id_is_four_digits() -> None:
    assert badge_id(42) == "b-0042"
    assert badge_id(0) == "b-0000"
    assert badge_id(9999) == "b-9999"


def test_decode_advert_prefers_a_badge_among_several_entries() -> None:
    good = VECTORS["valid"][0]
    data = {0x0059: b"\x01\x02", good["company_id"]: bytes.fromhex(good["payload_hex"])}
    assert isinstance(decode_advert(data, CONFIG), BadgeAdvert)
    assert decode_advert({}, CONFIG) == Rejection("no_payload", "no manufacturer data")
    assert decode_advert({0x0059: b"\x01"}, CONFIG).reason == "wrong_company"  # type: ignore[union-attr]


def test_ibeacon_needs_a_configured_uuid_and_honours_a_mapping() -> None:
    vector = next(v for v in VECTORS["valid"] if v["kind"] == "ibeacon")
    payload = bytes.fromhex(vector["payload_hex"])
    no_uuid = decode_manufacturer(APPLE_COMPANY_ID, payload, AdvertConfig())
    assert isinstance(no_uuid, Rejection) and no_uuid.reason == "wrong_company"
    major, minor = vector["fields"]["major"], vector["fields"]["minor"]
    mapped = AdvertConfig(ibeacon_uuid=CONFIG.ibeacon_uuid, ibeacon_ids={(major, minor): "b-0101"})
    assert decode_manufacturer(APPLE_COMPANY_ID, payload, mapped) == BadgeAdvert("b-0101", "ibeacon", tx_dbm=-59)
    other = AdvertConfig(ibeacon_uuid=CONFIG.ibeacon_uuid, ibeacon_ids={(9, 9): "b-0101"})
    assert decode_manufacturer(APPLE_COMPANY_ID, payload, other) == Rejection("unmapped_ibeacon", "major 1 minor 2")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"company_id": -1}, ValueError),
        ({"company_id": 0x10000}, ValueError),
        ({"company_id": APPLE_COMPANY_ID}, ValueError),
        ({"company_id": True}, TypeError),
        ({"ibeacon_uuid": "e2c56db5"}, TypeError),
        ({"ibeacon_ids": {(1, 2): "bad id"}}, ValueError),
    ],
)
def test_config_validates_itself(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        AdvertConfig(**kwargs)


@settings(max_examples=400, deadline=None)
@given(
    company=st.sampled_from([0xFFFF, APPLE_COMPANY_ID, 0x0000, 0x0059]) | st.integers(0, 0xFFFF),
    payload=st.binary(max_size=40),
)
def test_garbage_never_raises(company: int, payload: bytes) -> None:
    result = decode_manufacturer(company, payload, CONFIG)
    assert isinstance(result, (BadgeAdvert, Rejection))


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(min_size=11, max_size=11))
def test_any_eleven_bytes_with_magic_decode_or_reject(payload: bytes) -> None:
    result = decode_manufacturer(0xFFFF, b"\x4d\x01" + payload[2:], CONFIG)
    if isinstance(result, BadgeAdvert):
        assert result.badge.startswith("b-") and len(result.badge) == 6
    else:
        assert result.reason in {"badge_out_of_range", "tx_out_of_range", "battery_out_of_range"}
