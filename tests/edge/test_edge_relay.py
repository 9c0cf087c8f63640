"""The nudge relay against a fake BleakClient."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from edge.buffer import Outbound
from edge.relay import BUZZ_CHAR_UUID, DEFAULT_PATTERN, NudgeRelay, RelayConfig, parse_nudge
from mingle_wire import DecodeError, Topics

T0 = 1_764_140_000.0


class FakeClient:
    """Behaves like BleakClient for the relay: async context manager with write_gatt_char."""

    def __init__(self, script: list[str], log: list[tuple[Any, str, bytes]], device: Any) -> None:
        self.script, self.log, self.device = script, log, device

    async def __aenter__(self) -> FakeClient:
        step = self.script.pop(0) if self.script else "ok"
        if step == "hang":
            await asyncio.sleep(10)
        if step == "error":
            raise OSError("le-connection-abort-by-local")
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def write_gatt_char(self, char_specifier: str, data: bytes, response: bool | None = None) -> None:
        assert response is True
        self.log.append((self.device, char_specifier, data))


def make_relay(script: list[str], devices: dict[str, Any]) -> tuple[NudgeRelay, list[Outbound], list[Any]]:
    sent: list[Outbound] = []
    writes: list[Any] = []
    relay = NudgeRelay(
        RelayConfig("gw-01", Topics("expo"), timeout_s=0.05, attempts=3, retry_delay_s=0.01),
        device_for=devices.get,
        client_factory=lambda device, timeout: FakeClient(script, writes, device),
        send=sent.append,
        clock=lambda: T0,
    )
    return relay, sent, writes


def nudge(**over: Any) -> bytes:
    body = {"v": 1, "badge": "b-0042", "via": ["gw-03", "gw-01"], **over}
    return json.dumps(body).encode()


def test_delivered_writes_the_buzz_characteristic_and_acks() -> None:
    relay, sent, writes = make_relay([], {"b-0042": "dev-42"})
    assert asyncio.run(relay.handle(nudge(pattern=[10, 30], alert="a-7"))) == "delivered"
    assert writes == [("dev-42", BUZZ_CHAR_UUID, b"\x0a\x1e")]
    assert len(sent) == 1 and sent[0].topic == "mingle/expo/nudges/b-0042/ack" and sent[0].qos == 1
    assert json.loads(sent[0].payload) == {
        "v": 1,
        "badge": "b-0042",
        "alert": "a-7",
        "gateway": "gw-01",
        "ts": T0,
        "status": "delivered",
        "reason": None,
    }


def test_timeout_then_retry_succeeds() -> None:
    relay, _sent, writes = make_relay(["hang", "error"], {"b-0042": "dev-42"})
    assert asyncio.run(relay.handle(nudge())) == "delivered"
    assert writes == [("dev-42", BUZZ_CHAR_UUID, DEFAULT_PATTERN)]
    assert relay.delivered == 1


def test_timeouts_exhaust_the_retries_and_fail_with_the_reason() -> None:
    relay, sent, writes = make_relay(["hang", "hang", "hang"], {"b-0042": "dev-42"})
    assert asyncio.run(relay.handle(nudge())) == "failed"
    assert writes == [] and relay.failed == 1
    ack = json.loads(sent[0].payload)
    assert ack["status"] == "failed" and ack["reason"] == "timeout"


def test_error_reason_is_reported() -> None:
    relay, sent, _ = make_relay(["error"] * 3, {"b-0042": "dev-42"})
    assert asyncio.run(relay.handle(nudge(via="gw-01"))) == "failed"
    assert json.loads(sent[0].payload)["reason"] == "OSError: le-connection-abort-by-local"


def test_unheard_badge_fails_without_connecting() -> None:
    relay, sent, _writes = make_relay([], {})
    assert asyncio.run(relay.handle(nudge())) == "failed"
    assert json.loads(sent[0].payload)["reason"] == "badge_not_heard"


def test_a_relaying_that_raises_is_acknowledged_failed_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenDevices(dict[str, Any]):
        def get(self, badge: str, default: Any = None) -> Any:
            raise KeyError(badge)  # a bug, not a delivery failure: those are reasons already

    relay, sent, writes = make_relay([], BrokenDevices())
    with caplog.at_level("ERROR", logger="edge.relay"):
        assert asyncio.run(relay.handle(nudge(alert="a-7"))) == "failed"
    assert writes == [] and relay.failed == 1 and relay.delivered == 0
    assert len(sent) == 1 and sent[0].topic == "mingle/expo/nudges/b-0042/ack"
    assert json.loads(sent[0].payload) == {
        "v": 1,
        "badge": "b-0042",
        "alert": "a-7",
        "gateway": "gw-01",
        "ts": T0,
        "status": "failed",
        "reason": "relay_error: KeyError",
    }
    [error] = caplog.records
    assert "b-0042" in error.getMessage() and error.exc_info  # the traceback is the bug's only record


def test_nudges_for_other_gateways_and_bad_payloads_are_ignored() -> None:
    relay, sent, writes = make_relay([], {"b-0042": "dev-42"})
    assert asyncio.run(relay.handle(nudge(via=["gw-02"]))) is None
    assert asyncio.run(relay.handle(nudge(via=None))) is None  # no gateway heard it lately: for nobody
    assert asyncio.run(relay.handle(b"not json")) is None
    assert sent == [] and writes == [] and relay.ignored == 1  # only the garbage is counted (and logged)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[]", "not_object"),
        (nudge(v=2), "unknown_version"),
        (nudge(badge="b 42"), "bad_id:badge"),
        (nudge(via=3), "bad_type:via"),
        (json.dumps({"v": 1, "badge": "b-0042"}).encode(), "bad_type:via"),  # no via at all (null is for nobody)
        (nudge(pattern=[0]), "bad_type:pattern"),
        (nudge(pattern=[1] * 9), "bad_type:pattern"),
    ],
)
def test_parse_nudge_rejects(payload: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        parse_nudge(payload)
    assert info.value.reason == reason
