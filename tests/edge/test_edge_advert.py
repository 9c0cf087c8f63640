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
    assert advert.near == tuple((n["badge"], n["rssi"]) for n in fields.get("near", []))


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_invalid_vectors_are_rejected_with_their_reason(vector: dict[str, Any]) -> None:
    result = decode_manufacturer(vector["company_id"], bytes.fromhex(vector["payload_hex"]), CONFIG)
    assert isinstance(result, Rejection)
    assert result.reason == vector["reason"]


def test_a_newer_firmwares_payload_is_an_unknown_version_whatever_its_length() -> None:
    newer = bytes([0x4D, 0x02]) + bytes(10)  # version 2, 12 bytes
    assert decode_advert({VECTORS["default_company_id"]: newer}, CONFIG).reason == "unknown_version"  # type: ignore[union-attr]


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


NEIGHBOUR_REASONS = {
    "neighbour_out_of_range",
    "neighbour_rssi_out_of_range",
    "self_neighbour",
    "duplicate_neighbour",
    "unsorted_neighbours",
}


@settings(max_examples=400, deadline=None)
@given(k=st.integers(0, 6), entries=st.binary(min_size=18, max_size=18))
def test_any_neighbour_list_decodes_or_rejects_by_its_rules(k: int, entries: bytes) -> None:
    payload = bytes.fromhex(VECTORS["valid"][0]["payload_hex"]) + entries[: 3 * k]
    result = decode_manufacturer(0xFFFF, payload, CONFIG)
    if k > 4:
        assert result == Rejection("bad_length", result.detail)  # type: ignore[union-attr]
    elif isinstance(result, BadgeAdvert):
        assert len(result.near) == k and result.badge == "b-0042"
        rssis = [rssi for _, rssi in result.near]
        assert rssis == sorted(rssis, reverse=True) and all(-120 <= r <= 10 for r in rssis)
        assert len({b for b, _ in result.near}) == k and "b-0042" not in {b for b, _ in result.near}
    else:
        assert result.reason in NEIGHBOUR_REASONS


def test_old_eleven_byte_payloads_have_no_neighbours() -> None:
    advert = decode_manufacturer(0xFFFF, bytes.fromhex(VECTORS["valid"][0]["payload_hex"]), CONFIG)
    assert advert == BadgeAdvert("b-0042", "mingle", tx_dbm=-59, seq=12, battery_pct=87, huddle=False, near=())


@pytest.mark.parametrize(
    ("near", "error"),
    [
        ([("b-0107", -58)], TypeError),
        ((("b-0107", -58),) * 2, ValueError),
        ((("b-0042", -58),), ValueError),
        ((("b/0107", -58),), ValueError),
        ((("b-0107", -121),), ValueError),
        ((("b-0107", 11),), ValueError),
        (tuple((f"b-{i:04d}", -60) for i in range(1, 6)), ValueError),
    ],
)
def test_badge_advert_validates_its_neighbours(near: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        BadgeAdvert("b-0042", "mingle", near=near)
