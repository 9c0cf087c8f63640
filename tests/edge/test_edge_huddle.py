"""The team-huddle button becomes pause messages, renewed while on and cancelled when off."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from bleak.backends.device import BLEDevice

from edge.advert import AdvertConfig
from edge.batcher import BatcherConfig
from edge.gateway import GatewayConfig, GatewayCore
from edge.huddle import HuddleButton
from mingle_wire import Topics, decode_pause

T0 = 1_764_140_000.0
VECTORS = json.loads((Path(__file__).parents[2] / "hardware/badge/test_vectors.json").read_text(encoding="utf-8"))


def pause_of(message: object) -> tuple[str, float, float]:
    assert message is not None
    topic = message.topic  # type: ignore[attr-defined]
    p = decode_pause(json.loads(message.payload), topic.rsplit("/", 1)[1])  # type: ignore[attr-defined]
    return topic, p.until - T0, p.sent - T0


def test_on_pauses_renews_while_on_and_off_cancels() -> None:
    button = HuddleButton(Topics("expo"), hold_s=600.0, renew_s=300.0)
    assert pause_of(button.update("b-0007", True, T0)) == ("mingle/expo/pauses/b-0007", 600.0, 0.0)
    assert button.update("b-0007", True, T0 + 1) is None  # once per renewal, not per advert
    assert button.update("b-0007", True, T0 + 299) is None
    assert pause_of(button.update("b-0007", True, T0 + 301))[1:] == (901.0, 301.0)
    assert pause_of(button.update("b-0007", False, T0 + 400))[1:] == (400.0, 400.0)  # cancel
    assert button.update("b-0007", False, T0 + 401) is None
    assert button.update("b-0042", False, T0 + 401) is None  # never on: nothing to say
    assert button.published == 3


def test_a_lapsed_pause_is_not_cancelled_and_memory_is_bounded() -> None:
    button = HuddleButton(Topics("expo"), hold_s=60.0, renew_s=30.0, capacity=2)
    button.update("b-1", True, T0)
    assert button.update("b-1", False, T0 + 100) is None  # it already ended on its own
    for k in range(5):
        button.update(f"b-{k + 10}", True, T0)
    assert len(button._until) == 2
    with pytest.raises(ValueError, match="renew_s"):
        HuddleButton(Topics("expo"), hold_s=10.0, renew_s=20.0)


def test_the_gateway_publishes_a_pause_for_a_badge_advertising_the_flag() -> None:
    config = GatewayConfig(
        topics=Topics("expo"),
        batcher=BatcherConfig("gw-01", 1.0),
        advert=AdvertConfig(ibeacon_uuid=uuid.UUID(VECTORS["ibeacon_uuid"])),
    )
    gw = GatewayCore(config, T0)
    dev = BLEDevice("AA:BB:CC:DD:EE:FF", None, None)
    flagged = next(v for v in VECTORS["valid"] if v["fields"]["huddle"] and v["kind"] == "mingle")
    plain = next(v for v in VECTORS["valid"] if not v["fields"]["huddle"] and v["kind"] == "mingle")
    gw.advert(dev, {0xFFFF: bytes.fromhex(plain["payload_hex"])}, -70, T0 + 0.2)
    assert len(gw.buffer) == 0
    gw.advert(dev, {0xFFFF: bytes.fromhex(flagged["payload_hex"])}, -70, T0 + 0.3)
    assert len(gw.buffer) == 1
    topic, until, _ = pause_of(gw.buffer.peek())
    assert topic == f"mingle/expo/pauses/{flagged['fields']['badge']}" and until == pytest.approx(600.3)
