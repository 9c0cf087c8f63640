"""Neighbour reports: the pure contact batcher, the gateway core fed real bleak types, MQTT."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from edge_helpers import Listener, RepeatingScanner

from edge import cli
from edge.advert import BadgeAdvert
from edge.batcher import BatcherConfig
from edge.contacts import ContactBatcher
from edge.gateway import GatewayConfig, GatewayCore
from edge.mqtt import BrokerConfig
from edge.scanner import BadgeScanner
from mingle_wire import Contact, Topics, decode_contacts, decode_readings

FIRMWARE = Path(__file__).parents[2] / "hardware" / "badge" / "firmware"
sys.path.insert(0, str(FIRMWARE))
import badgefmt  # type: ignore[import-not-found]  # noqa: E402  (MicroPython module)

T0 = 1_764_140_000.0
REPORT = BadgeAdvert("b-0042", "mingle", tx_dbm=-59, seq=7, near=(("b-0107", -52), ("b-0003", -61)))


def payload(number: int, seq: int, near: list[tuple[int, int]]) -> bytes:
    """A badge's manufacturer payload, as the firmware encodes it."""
    return bytes(badgefmt.encode_payload(number, seq, -59, 80, False, near))


def adv(data: dict[int, bytes], rssi: int) -> AdvertisementData:
    return AdvertisementData(
        local_name=None,
        manufacturer_data=data,
        service_data={},
        service_uuids=[],
        tx_power=None,
        rssi=rssi,
        platform_data=(),
    )


# --- the pure batcher -----------------------------------------------------------------------------------


def test_a_report_is_batched_once_per_badge_and_seq() -> None:
    c = ContactBatcher(BatcherConfig("gw-01", window_s=1.0), relay_min_dbm=None)
    assert c.flush(T0 + 0.1) is None
    assert c.add(REPORT, T0 + 0.2) == 2
    assert c.add(REPORT, T0 + 0.5) == 0 and c.add(REPORT, T0 + 0.9) == 0  # the badge repeats its advert
    assert c.repeats == 2
    batch = c.flush(T0 + 1.0)
    assert batch is not None and batch.gateway == "gw-01" and batch.sent == T0 + 1.0
    assert batch.contacts == (  # ts = receive time of the first copy
        Contact("b-0042", "b-0107", -52.0, T0 + 0.2, 7),
        Contact("b-0042", "b-0003", -61.0, T0 + 0.2, 7),
    )
    assert c.add(REPORT, T0 + 1.2) == 0  # still the same report in the next window
    nxt = BadgeAdvert("b-0042", "mingle", seq=8, near=(("b-0107", -50),))
    assert c.add(nxt, T0 + 1.3) == 1
    again = c.flush(T0 + 2.0)
    assert again is not None and again.contacts == (Contact("b-0042", "b-0107", -50.0, T0 + 1.3, 8),)
    empty = c.flush(T0 + 3.0)
    assert empty is not None and empty.contacts == ()
    assert c.accepted == 3


def test_adverts_without_a_report_add_nothing_and_cost_no_memory() -> None:
    c = ContactBatcher(BatcherConfig("gw-01"))
    assert c.add(BadgeAdvert("b-0042", "mingle", seq=1), T0) == 0
    assert c.add(BadgeAdvert("ib-1-2", "ibeacon", tx_dbm=-59), T0) == 0
    assert c.pending == 0 and c.badges_remembered == 0


def test_a_rebooted_badge_starting_its_seq_again_is_heard() -> None:
    c = ContactBatcher(BatcherConfig("gw-01"), relay_min_dbm=None)
    assert c.add(REPORT, T0) == 2
    rebooted = BadgeAdvert("b-0042", "mingle", seq=1, near=REPORT.near)
    assert c.add(rebooted, T0 + 0.1) == 2  # a different seq, even a smaller one, is a new report


def test_window_full_is_counted_and_the_report_not_repeated() -> None:
    c = ContactBatcher(BatcherConfig("gw-01", max_readings=3), relay_min_dbm=None)
    assert c.add(REPORT, T0) == 2
    other = BadgeAdvert("b-0005", "mingle", seq=1, near=(("b-0107", -40), ("b-0042", -45)))
    assert c.add(other, T0) == 1
    assert c.dropped == {"window_full": 1} and c.pending == 3
    assert c.add(other, T0 + 0.1) == 0 and c.dropped == {"window_full": 1}  # a copy does not count again


def test_remembered_badges_are_bounded_least_recent_first() -> None:
    c = ContactBatcher(BatcherConfig("gw-01"), max_badges=2, relay_min_dbm=None)
    reports = [BadgeAdvert(f"b-000{i}", "mingle", seq=1, near=(("b-0107", -60),)) for i in range(3)]
    for r in reports:
        c.add(r, T0)
    assert c.badges_remembered == 2
    assert c.add(reports[2], T0 + 0.1) == 0 and c.add(reports[1], T0 + 0.1) == 0
    assert c.add(reports[0], T0 + 0.1) == 1  # forgotten, so its report is emitted again (the pipeline dedupes)
    with pytest.raises(ValueError):
        ContactBatcher(BatcherConfig("gw-01"), max_badges=0)


def test_only_a_copy_heard_well_enough_is_relayed() -> None:
    c = ContactBatcher(BatcherConfig("gw-01"))  # the default: relay from -80 dBm
    assert c.add(REPORT, T0, -91.0) == 0 and c.add(REPORT, T0 + 0.1, -127.0) == 0 and c.add(REPORT, T0 + 0.2) == 0
    assert c.weak == 3 and c.badges_remembered == 0  # a weak copy does not use the report up
    assert c.add(REPORT, T0 + 0.3, -80.0) == 2  # inclusive
    assert c.add(REPORT, T0 + 0.4, -60.0) == 0 and c.repeats == 1
    with pytest.raises(ValueError):
        ContactBatcher(BatcherConfig("gw-01"), relay_min_dbm=-130.0)


# --- the gateway core through a fake scanner at the bleak boundary ---------------------------------------


class FakeScanner:
    def __init__(self, callback: Callable[[Any, Any], None]) -> None:
        self.callback = callback

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def scanning_core() -> tuple[GatewayCore, list[float], Callable[[BLEDevice, AdvertisementData], None]]:
    gw = GatewayCore(GatewayConfig(topics=Topics("expo"), batcher=BatcherConfig("gw-01", 1.0)), T0)
    clock = [T0 + 0.1]
    made: list[FakeScanner] = []

    def factory(callback: Callable[[Any, Any], None], mode: str) -> FakeScanner:
        made.append(FakeScanner(callback))
        return made[-1]

    scanner = BadgeScanner(lambda d, m, r: gw.advert(d, m, r, clock[0]), factory)
    asyncio.run(scanner.start())
    return gw, clock, made[0].callback


def published(gw: GatewayCore) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    while (message := gw.buffer.peek()) is not None:
        out.setdefault(message.topic, []).append(message.payload)
        assert message.qos == 1 and not message.retain
        gw.buffer.ack(message)
    return out


def test_a_neighbour_advert_yields_a_reading_and_contacts_once_per_seq() -> None:
    gw, clock, fire = scanning_core()
    dev = BLEDevice("AA:BB:CC:DD:EE:FF", None, None)
    report = payload(42, 7, [(107, -52), (3, -61)])
    for i in range(3):  # the badge repeats one report about once a second
        clock[0] = T0 + 0.1 + i * 0.3
        fire(dev, adv({0xFFFF: report}, -67 - i))
    clock[0] = T0 + 1.0
    gw.tick(clock[0])
    out = published(gw)
    readings = decode_readings(out["mingle/expo/readings/gw-01"][0], "gw-01").batch.readings  # type: ignore[union-attr]
    assert [(r.badge, r.rssi, r.seq) for r in readings] == [
        ("b-0042", -67.0, 7),
        ("b-0042", -68.0, 7),
        ("b-0042", -69.0, 7),
    ]
    [body] = out["mingle/expo/contacts/gw-01"]
    decoded = decode_contacts(body, "gw-01")
    assert not decoded.rejected
    assert [(c.badge, c.near, c.rssi, c.ts, c.seq) for c in decoded.batch.contacts] == [  # type: ignore[union-attr]
        ("b-0042", "b-0107", -52.0, T0 + 0.1, 7),
        ("b-0042", "b-0003", -61.0, T0 + 0.1, 7),
    ]

    clock[0] = T0 + 1.5
    fire(dev, adv({0xFFFF: report}, -66))  # the same report once more: a reading, no contacts
    fire(dev, adv({0xFFFF: payload(42, 8, [(3, -49)])}, -127))  # a new report, no RSSI: not relayed from here
    clock[0] = T0 + 1.6
    fire(dev, adv({0xFFFF: payload(42, 8, [(3, -49)])}, -78))  # its next copy, heard well: relayed
    clock[0] = T0 + 2.0
    gw.tick(clock[0])
    out = published(gw)
    readings = decode_readings(out["mingle/expo/readings/gw-01"][0], "gw-01").batch.readings  # type: ignore[union-attr]
    assert [(r.badge, r.seq) for r in readings] == [("b-0042", 7), ("b-0042", 8)]
    contacts = decode_contacts(out["mingle/expo/contacts/gw-01"][0], "gw-01").batch.contacts  # type: ignore[union-attr]
    assert [(c.near, c.rssi, c.seq, c.ts) for c in contacts] == [("b-0003", -49.0, 8, T0 + 1.6)]

    clock[0] = T0 + 3.0
    gw.tick(clock[0])
    assert "mingle/expo/contacts/gw-01" not in published(gw)  # no empty contacts batches


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ("6b00c66b", "bad_length"),
        ("0100ce" + "0200cd" + "0300cc" + "0400cb" + "0500ca", "bad_length"),
        ("1027c6", "neighbour_out_of_range"),
        ("6b000b", "neighbour_rssi_out_of_range"),
        ("6b0081", "neighbour_rssi_out_of_range"),
        ("2a00c6", "self_neighbour"),
        ("6b00ce6b00c6", "duplicate_neighbour"),
        ("6b00c66c00ce", "unsorted_neighbours"),
    ],
)
def test_malformed_neighbour_reports_are_rejected_and_counted(entries: str, reason: str) -> None:
    gw, _clock, fire = scanning_core()
    fire(BLEDevice("AA:BB:CC:DD:EE:FF", None, None), adv({0xFFFF: payload(42, 7, []) + bytes.fromhex(entries)}, -60))
    assert gw.rejections == {reason: 1} and gw.meter.rejected == 1
    assert gw.contacts.pending == 0 and gw.batcher.pending == 0


def test_status_counts_contacts() -> None:
    gw, _clock, fire = scanning_core()
    fire(None, adv({0xFFFF: payload(42, 7, [(107, -52), (3, -61)])}, -60))  # type: ignore[arg-type]
    status, _ = gw.tick(T0 + 10)
    assert status is not None
    stats = json.loads(status.payload)["stats"]
    assert stats["contacts"] == 2 and stats["contacts_dropped"] == 0


# --- the live gateway against the local Mosquitto ----------------------------------------------------------


REPEATED = adv({0xFFFF: payload(42, 4711, [(107, -52), (3, -61)])}, -66)


@pytest.mark.mqtt
def test_live_gateway_publishes_each_report_once_on_the_contacts_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(
        cli, "bleak_scanner_factory", lambda adapter, company: lambda cb, mode: RepeatingScanner(cb, REPEATED)
    )
    listener = Listener(f"mingle/{site}/#")
    config = GatewayConfig(topics=Topics(site), batcher=BatcherConfig("gw-01", 0.2), version="test", adapter="fake")

    async def main() -> int:
        stop = asyncio.Event()
        task = asyncio.create_task(cli.live(config, BrokerConfig(client_id=f"gw-{site}"), stop))
        deadline = time.monotonic() + 5
        while len(listener.of("/readings/gw-01")) < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        return await task

    try:
        assert asyncio.run(main()) == 0
        time.sleep(0.2)
    finally:
        listener.close()
    readings = [r for p in listener.of("/readings/gw-01") for r in decode_readings(p, "gw-01").batch.readings]  # type: ignore[union-attr]
    assert len(readings) >= 4 and {r.badge for r in readings} == {"b-0042"}
    [body] = listener.of("/contacts/gw-01")  # heard many times, published once
    decoded = decode_contacts(body, "gw-01")
    assert not decoded.rejected
    assert [(c.badge, c.near, c.rssi, c.seq) for c in decoded.batch.contacts] == [  # type: ignore[union-attr]
        ("b-0042", "b-0107", -52.0, 4711),
        ("b-0042", "b-0003", -61.0, 4711),
    ]
