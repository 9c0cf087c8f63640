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
    near = [(n["badge_number"], n["rssi"]) for n in f["near"]]
    payload = badgefmt.encode_payload(f["badge_number"], f["seq"], f["tx_dbm"], f["battery_pct"], f["huddle"], near)
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


def test_four_neighbours_still_fit_a_legacy_advertisement() -> None:
    vector = next(v for v in MINGLE if len(v["fields"]["near"]) == badgefmt.MAX_NEIGHBOURS)
    adv = badgefmt.advertising_data(0xFFFF, bytes.fromhex(vector["payload_hex"]))
    assert len(adv) == 30 <= 31 and adv[3] == 26  # AD length byte: type + company id + 23-byte payload


def test_encoder_sorts_neighbours_strongest_first_ties_by_number() -> None:
    payload = badgefmt.encode_payload(42, 1, -59, 50, False, [(9, -70), (3, -50), (1, -70)])
    assert badgefmt.encode_payload(42, 1, -59, 50, False, [(3, -50), (1, -70), (9, -70)]) == payload
    advert = decode_manufacturer(0xFFFF, payload, AdvertConfig())
    assert advert.near == (("b-0003", -50), ("b-0001", -70), ("b-0009", -70))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "near",
    [
        [(1, -50), (2, -50), (3, -50), (4, -50), (5, -50)],
        [(10000, -50)],
        [(-1, -50)],
        [(1, 11)],
        [(1, -121)],
        [(42, -50)],
        [(1, -50), (1, -60)],
    ],
)
def test_encoder_refuses_a_bad_neighbour_list(near: list[tuple[int, int]]) -> None:
    with pytest.raises(ValueError):
        badgefmt.encode_payload(42, 1, -59, 50, False, near)


@pytest.mark.parametrize("vector", VECTORS["valid"] + VECTORS["invalid"], ids=lambda v: v["name"])
def test_badge_number_of_a_heard_payload(vector: dict[str, Any]) -> None:
    payload = bytes.fromhex(vector["payload_hex"])
    number = badgefmt.badge_number_of(payload)
    if vector.get("kind") == "mingle":
        assert number == vector["fields"]["badge_number"]
    elif vector.get("kind") == "ibeacon" or vector["reason"] in {
        "bad_length",
        "bad_magic",
        "unknown_version",
        "badge_out_of_range",
        "not_ibeacon",
        "wrong_uuid",
    }:
        assert number is None
    else:  # the scanning badge is lenient: anything else still names who it heard
        assert number == int.from_bytes(payload[2:4], "little")


def test_neighbour_table_keeps_the_strongest_per_badge_and_reports_four() -> None:
    table = badgefmt.NeighbourTable(42, period_ms=4000, start_ms=1000)
    heard = [(107, -70), (107, -55), (107, -80), (3, -60), (9, -60), (8, -90), (12, -65), (42, -30)]
    kept = [table.heard(n, rssi, 1100 + i) for i, (n, rssi) in enumerate(heard)]
    assert kept == [True] * 7 + [False]  # its own number is ignored
    assert not table.heard(10000, -40, 1200) and not table.heard(-1, -40, 1200)  # not a badge number
    assert not table.heard(5, -127, 1200) and not table.heard(5, 11, 1200)  # no RSSI / out of range
    assert not table.due(4999) and table.due(5000)  # period bound inclusive
    assert table.report(5000) == [(107, -55), (3, -60), (9, -60), (12, -65)]
    assert table.report(9000) == [] and not table.due(12999) and table.due(13000)  # a new, empty period


def test_neighbour_table_due_across_the_ticks_wrap() -> None:
    table = badgefmt.NeighbourTable(1, period_ms=4000, start_ms=badgefmt.TICKS_PERIOD - 1000)
    assert not table.due(2999) and table.due(3000)


def test_neighbour_table_memory_is_bounded_and_keeps_the_strongest() -> None:
    table = badgefmt.NeighbourTable(0, capacity=4)
    for n, rssi in [(1, -80), (2, -70), (3, -60), (4, -50)]:
        assert table.heard(n, rssi, 0)
    assert not table.heard(5, -90, 0)  # full, and weaker than all: dropped
    assert table.heard(6, -40, 0)  # stronger than the weakest (1 at -80): displaces it
    assert table.heard(2, -30, 0)  # known badges are always updated
    assert table.report(4000) == [(2, -30), (6, -40), (4, -50), (3, -60)]
    with pytest.raises(ValueError):
        badgefmt.NeighbourTable(0, capacity=3)


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


def test_huddle_button_press_across_the_ticks_wrap() -> None:
    # ticks_ms() wraps at 2**30 (~12 days of uptime); a press held across it still counts.
    b = badgefmt.HuddleButton(debounce_ms=50)
    wrap = badgefmt.TICKS_PERIOD
    assert not b.sample(True, wrap - 20)
    assert not b.sample(True, 29)  # 49 ms held
    assert b.sample(True, 30) and b.huddle  # 50 ms held, across the wrap
    assert not b.sample(True, 5_000) and b.huddle


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
