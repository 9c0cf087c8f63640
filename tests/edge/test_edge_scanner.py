"""Real bleak types through a fake scanner at the bleak boundary, into the gateway core."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from edge.advert import AdvertConfig
from edge.batcher import BatcherConfig
from edge.gateway import GatewayConfig, GatewayCore
from edge.scanner import BadgeScanner, ScannerError
from mingle_wire import Topics, decode_readings

T0 = 1_764_140_000.0
VECTORS = json.loads((Path(__file__).parents[2] / "hardware/badge/test_vectors.json").read_text(encoding="utf-8"))


def adv(manufacturer_data: dict[int, bytes], rssi: int) -> AdvertisementData:
    return AdvertisementData(
        local_name=None,
        manufacturer_data=manufacturer_data,
        service_data={},
        service_uuids=[],
        tx_power=None,
        rssi=rssi,
        platform_data=(),
    )


class FakeScanner:
    """Stands in for BleakScanner: records the mode and lets the test fire callbacks."""

    def __init__(self, callback: Callable[[Any, Any], None], mode: str, refuse: set[str]) -> None:
        self.callback, self.mode, self.refuse = callback, mode, refuse
        self.running = False

    async def start(self) -> None:
        if self.mode in self.refuse:
            raise OSError(f"{self.mode} scanning not supported")
        self.running = True

    async def stop(self) -> None:
        self.running = False


def make_factory(refuse: set[str], made: list[FakeScanner]) -> Callable[..., FakeScanner]:
    def factory(callback: Callable[[Any, Any], None], mode: str) -> FakeScanner:
        made.append(FakeScanner(callback, mode, refuse))
        return made[-1]

    return factory


def core() -> GatewayCore:
    config = GatewayConfig(
        topics=Topics("expo"),
        batcher=BatcherConfig("gw-01", 1.0),
        advert=AdvertConfig(ibeacon_uuid=uuid.UUID(VECTORS["ibeacon_uuid"])),
    )
    return GatewayCore(config, T0)


def test_bleak_types_flow_to_a_readings_batch() -> None:
    async def main() -> None:
        gw = core()
        clock = [T0 + 0.1]
        made: list[FakeScanner] = []
        scanner = BadgeScanner(lambda d, m, r: gw.advert(d, m, r, clock[0]), make_factory(set(), made))
        await scanner.start()
        assert scanner.mode == "passive"
        dev = BLEDevice("AA:BB:CC:DD:EE:FF", None, None)
        ib = BLEDevice("11:22:33:44:55:66", "beacon", None)
        good, ibeacon = VECTORS["valid"][0], VECTORS["valid"][5]
        made[0].callback(dev, adv({0xFFFF: bytes.fromhex(good["payload_hex"])}, -67))
        made[0].callback(dev, adv({0xFFFF: bytes.fromhex(good["payload_hex"])}, -127))  # no RSSI: dropped
        made[0].callback(ib, adv({0x004C: bytes.fromhex(ibeacon["payload_hex"])}, -80))
        made[0].callback(dev, adv({0x0059: b"\x00"}, -50))  # someone else's device: ignored
        made[0].callback(dev, adv({0xFFFF: b"\x4d\x01"}, -50))  # ours, broken: counted
        clock[0] = T0 + 1.0
        _status, restart = gw.tick(clock[0])
        assert not restart
        message = gw.buffer.peek()
        assert message is not None and message.topic == "mingle/expo/readings/gw-01" and message.qos == 1
        decoded = decode_readings(message.payload, "gw-01")
        assert [(r.badge, r.rssi, r.tx, r.seq) for r in decoded.batch.readings] == [  # type: ignore[union-attr]
            ("b-0042", -67.0, -59, 12),
            ("ib-1-2", -80.0, -59, None),
        ]
        assert not decoded.rejected
        assert gw.rejections == {"bad_length": 1}
        assert gw.device("b-0042") is dev and gw.device("b-9999") is None
        await scanner.stop()
        assert not made[0].running

    asyncio.run(main())


def test_passive_refused_falls_back_to_active_and_restart_makes_a_new_scanner() -> None:
    async def main() -> None:
        made: list[FakeScanner] = []
        scanner = BadgeScanner(lambda d, m, r: None, make_factory({"passive"}, made))
        await scanner.start()
        assert scanner.mode == "active" and made[-1].running
        await scanner.restart()
        assert [s.mode for s in made] == ["passive", "active", "passive", "active"]
        assert not made[1].running and made[3].running

    asyncio.run(main())


def test_no_scanning_at_all_raises_our_error() -> None:
    async def main() -> None:
        scanner = BadgeScanner(lambda d, m, r: None, make_factory({"passive", "active"}, []))
        with pytest.raises(ScannerError, match="passive: OSError"):
            await scanner.start()

    asyncio.run(main())


def test_malformed_advertisement_object_is_counted_not_raised() -> None:
    made: list[FakeScanner] = []
    scanner = BadgeScanner(lambda d, m, r: None, make_factory(set(), made))
    scanner._callback(None, object())
    assert scanner.callback_errors == 1


def test_odd_callback_values_and_a_failing_handler_are_counted_not_raised() -> None:
    made: list[FakeScanner] = []

    def broken(device: Any, data: Any, rssi: int) -> None:
        raise RuntimeError("a bug in the handler")

    scanner = BadgeScanner(broken, make_factory(set(), made))
    scanner._callback(None, adv({0xFFFF: b"\x4d\x01"}, -60))  # the handler raises: counted
    from types import SimpleNamespace

    # Another backend's values (bleak's own are int ids and bytes), and an infinite RSSI.
    scanner._callback(None, SimpleNamespace(manufacturer_data={"apple": "text", 0xFFFF: None}, rssi=-60))
    scanner._callback(None, SimpleNamespace(manufacturer_data={}, rssi=float("inf")))
    assert scanner.callback_errors == 4  # (the odd values are dropped, then the rest still reaches the handler)


def test_other_devices_adverts_are_not_counted_as_rejected_and_stale_battery_is_not_reported() -> None:
    gw = core()
    gw.advert(None, {0x004C: bytes.fromhex("1005031c0b2b5e")}, -60, T0 + 1)  # an iPhone's Nearby Info
    gw.advert(None, {}, -60, T0 + 1)  # no manufacturer data (the active-scan fallback hears everything)
    low = next(
        v for v in VECTORS["valid"] if v["fields"].get("battery_pct") is not None and v["fields"]["battery_pct"] <= 20
    )
    gw.advert(None, {0xFFFF: bytes.fromhex(low["payload_hex"])}, -60, T0 + 1)
    status, _ = gw.tick(T0 + 10)
    assert status is not None
    stats = json.loads(status.payload)["stats"]
    assert stats["rejected"] == 0 and stats["low_battery_badges"] == [low["fields"]["badge"]]
    status, _ = gw.tick(T0 + 8 * 3600)  # eight hours on, the badge long gone
    assert status is not None and json.loads(status.payload)["stats"]["low_battery_badges"] == []


def test_status_is_due_every_ten_seconds() -> None:
    gw = core()
    assert gw.tick(T0 + 5)[0] is None
    status, _ = gw.tick(T0 + 10)
    assert status is not None and status.retain and status.topic == "mingle/expo/gateways/gw-01/status"
    assert json.loads(status.payload)["stats"]["buffer_depth"] >= 1


def test_status_lists_huddling_and_low_battery_badges() -> None:
    gw = core()
    for vector in VECTORS["valid"][:4]:
        gw.advert(None, {0xFFFF: bytes.fromhex(vector["payload_hex"])}, -60, T0 + 1)
    status, _ = gw.tick(T0 + 10)
    assert status is not None
    stats = json.loads(status.payload)["stats"]
    assert stats["huddle_badges"] == ["b-0007", "b-9999"]
    assert stats["low_battery_badges"] == ["b-0000"]  # b-9999's battery is unknown, not low
    assert stats["badges_heard"] == 4


def test_a_gateway_whose_clock_is_not_set_counts_what_it_hears_and_carries_on() -> None:
    gw = GatewayCore(GatewayConfig(Topics("expo"), BatcherConfig("gw-01")), 60.0)  # a Pi before NTP: 1970
    advert = {0xFFFF: bytes.fromhex(VECTORS["valid"][0]["payload_hex"])}
    gw.advert(None, advert, -60, 61.5)  # the bleak callback must not raise
    assert gw.tick(62.0)[0] is None and gw.rejections["clock_unset"] == 1 and len(gw.buffer) == 0
    gw.advert(None, advert, -60, T0 + 0.5)  # NTP has set the clock
    status, _ = gw.tick(T0 + 1.0)
    assert status is not None and json.loads(status.payload)["stats"]["rejected"] == 1
    assert len(gw.buffer) == 1
    # NTP then sets the clock back an hour: the status is due at once, not an hour later.
    assert gw.tick(T0 - 3600.0)[0] is not None and gw.tick(T0 - 3595.0)[0] is None
    assert gw.tick(T0 - 3590.0)[0] is not None


def test_real_bleak_scanners_are_built_for_both_modes() -> None:
    from bleak import BleakScanner

    from edge.scanner import bleak_scanner_factory

    async def main() -> None:
        factory = bleak_scanner_factory("hci0", 0xFFFF)
        for mode in ("passive", "active"):
            assert isinstance(factory(lambda d, a: None, mode), BleakScanner)

    asyncio.run(main())
