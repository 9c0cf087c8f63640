"""The badge firmware's pure module against the shared vectors, byte for byte."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

FIRMWARE = Path(__file__).parents[2] / "hardware" / "badge" / "firmware"
sys.path.insert(0, str(FIRMWARE))
import badgefmt  # type: ignore[import-not-found]  # noqa: E402  (MicroPython module)

from edge.advert import AdvertConfig, decode_manufacturer  # noqa: E402

VECTORS: dict[str, Any] = json.loads((FIRMWARE.parent / "test_vectors.json").read_text(encoding="utf-8"))
MINGLE = [v for v in VECTORS["valid"] if v["kind"] == "mingle"]


@pytest.mark.parametrize("vector", MINGLE, ids=lambda v: v["name"])
def test_encoder_matches_the_vectors(vector: dict[str, Any]) -> None:
    f = vector["fields"]
    payload = badgefmt.encode_payload(f["badge_number"], f["seq"], f["tx_dbm"], f["battery_pct"], f["huddle"])
    expected = bytes.fromhex(vector["payload_hex"])
    if vector["name"] == "reserved flag bits ignored":
        expected = expected[:10] + bytes([expected[10] & badgefmt.FLAG_HUDDLE])  # firmware sends reserved bits as 0
    assert payload == expected


def test_advertising_data_wraps_the_payload_in_a_manufacturer_ad() -> None:
    payload = bytes.fromhex(MINGLE[0]["payload_hex"])
    adv = badgefmt.advertising_data(0xFFFF, payload)
    assert adv[:3] == b"\x02\x01\x06"
    assert adv[3] == len(adv) - 4 == 14 and adv[4] == 0xFF and adv[5:7] == b"\xff\xff" and adv[7:] == payload
    assert len(adv) <= 31  # fits a legacy advertisement


def test_round_trip_through_the_gateway_decoder() -> None:
    for number, huddle, battery in [(1, False, 3), (9999, True, None), (42, True, 100)]:
        payload = badgefmt.encode_payload(number, 2**32 + 5, -61, battery, huddle)
        advert = decode_manufacturer(0xFFFF, payload, AdvertConfig())
        assert advert.badge == f"b-{number:04d}" and advert.huddle is huddle  # type: ignore[union-attr]
        assert advert.battery_pct == battery and advert.seq == 5  # type: ignore[union-attr]


@pytest.mark.parametrize("args", [(10000, 0, -59, 50, False), (1, 0, 21, 50, False), (1, 0, -59, 101, False)])
def test_encoder_refuses_what_the_decoder_would_reject(args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        badgefmt.encode_payload(*args)


def test_sequence_wraps() -> None:
    seq = badgefmt.Sequence(2**32 - 1)
    assert seq.bump() == 0 and seq.bump() == 1


def test_huddle_button_debounces_and_toggles_once_per_press() -> None:
    b = badgefmt.HuddleButton(debounce_ms=50)
    assert not b.sample(True, 0)
    assert not b.sample(True, 49)
    assert b.sample(True, 50) and b.huddle  # debounce bound inclusive
    assert not b.sample(True, 500) and b.huddle  # held: no second toggle
    assert not b.sample(False, 510)
    assert not b.sample(True, 520) and not b.sample(False, 530) and b.huddle  # a 10 ms bounce is ignored
    assert not b.sample(True, 600) and b.sample(True, 650) and not b.huddle


def test_battery_percent() -> None:
    assert badgefmt.battery_percent(4200) == 100
    assert badgefmt.battery_percent(3300) == 0
    assert badgefmt.battery_percent(3000) == 0
    assert badgefmt.battery_percent(3725) == 50
    assert badgefmt.battery_percent(None) is None and badgefmt.battery_percent(0) is None


def test_parse_buzz() -> None:
    assert badgefmt.parse_buzz(b"\x14\x14\x14") == [200, 200, 200]
    for bad in (b"", b"\x00", b"\x01" * 9):
        with pytest.raises(ValueError):
            badgefmt.parse_buzz(bad)
