"""``mingle edge``: argument parsing, and the live and replay runners against the local broker."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest
from bleak.backends.scanner import AdvertisementData
from edge_helpers import Listener, RepeatingScanner

from edge import cli
from edge.batcher import BatcherConfig
from edge.buffer import Outbound, StoreAndForward
from edge.gateway import GatewayConfig
from edge.mqtt import BrokerConfig
from mingle_wire import RecordingWriter, Topics, decode_contacts

PAYLOAD = bytes.fromhex("4d012a000c000000c55700")  # b-0042, from test_vectors.json
ADVERT = AdvertisementData(None, {0xFFFF: PAYLOAD}, {}, [], None, -66, ())


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_parser(parser.add_subparsers())
    return parser.parse_args(["edge", *argv])


def test_parser_defaults_and_validation() -> None:
    args = parse("--site", "expo", "--gateway", "gw-01", "--company-id", "0x1234")
    assert args.run is cli.run and args.company_id == 0x1234 and args.window_s == 1.0
    assert args.broker == "mqtt://127.0.0.1:1883" and args.replay is None
    for bad in (["--gateway", "gw/01"], ["--gateway", "gw-01", "--company-id", "0x10000"]):
        with pytest.raises(SystemExit):
            parse("--site", "expo", *bad)


def test_bad_configuration_exits_2(caplog: pytest.LogCaptureFixture) -> None:
    args = parse("--site", "expo", "--gateway", "gw-01", "--window-s", "0")
    assert cli.run(args) == 2
    assert "window_s" in caplog.text


def test_ibeacon_map_is_read_once_and_errors_name_the_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = tmp_path / "ib.csv"
    good.write_text("major,minor,badge\n# stand badges\n1,2,b-0101\n 3 , 4 , b-0102\n", encoding="utf-8")
    assert cli._ibeacon_map(good) == {(1, 2): "b-0101", (3, 4): "b-0102"}
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,b-0101\n1,x,b-0102\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv:2"):
        cli._ibeacon_map(bad)
    args = parse("--site", "expo", "--gateway", "gw-01", "--ibeacon-map", str(bad))
    assert cli.run(args) == 2 and "bad.csv:2" in caplog.text


def test_shift_payload_moves_sent_and_ts() -> None:
    payload = {"v": 1, "gateway": "gw-01", "sent": 10.0, "readings": [{"badge": "b-1", "ts": 9.5}, "junk"]}
    assert cli.shift_payload(payload, 100.0) == {
        "v": 1,
        "gateway": "gw-01",
        "sent": 110.0,
        "readings": [{"badge": "b-1", "ts": 109.5}, "junk"],
    }
    contacts = {"sent": 10.0, "contacts": [{"badge": "b-1", "near": "b-2", "ts": 9.0}]}
    assert cli.shift_payload(contacts, 1.5) == {"sent": 11.5, "contacts": [{"badge": "b-1", "near": "b-2", "ts": 10.5}]}


def config(site: str) -> GatewayConfig:
    return GatewayConfig(topics=Topics(site), batcher=BatcherConfig("gw-01", 0.2), version="test", adapter="fake")


@pytest.mark.mqtt
def test_replay_publishes_this_gateways_batches_restamped(tmp_path: Path) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    rec = tmp_path / "rec.jsonl"
    t0 = 1_764_140_000.0
    with RecordingWriter(rec) as w:
        for i in range(3):
            body = {
                "v": 1,
                "gateway": "gw-01",
                "sent": t0 + i * 0.2,
                "readings": [{"badge": "b-1", "rssi": -60, "ts": t0}],
            }
            w.write("mingle/expo/readings/gw-01", body, t0 + i * 0.2)
            w.write("mingle/expo/readings/gw-02", {**body, "gateway": "gw-02"}, t0 + i * 0.2)
    listener = Listener(f"mingle/{site}/#")
    try:
        start = time.time()
        assert asyncio.run(cli.replay(rec, config(site), BrokerConfig(client_id=f"gw-{site}"))) == 0
        time.sleep(0.2)
    finally:
        listener.close()
    batches = listener.of("/readings/gw-01")
    assert [b["gateway"] for b in batches] == ["gw-01"] * 3 and not listener.of("/readings/gw-02")
    assert batches[0]["sent"] >= start - 0.5 and batches[2]["sent"] - batches[0]["sent"] == pytest.approx(0.4)
    assert [s["state"] for s in listener.of("/gateways/gw-01/status")] == ["online", "offline"]


@pytest.mark.mqtt
def test_replay_carries_contacts_to_the_contacts_topic(tmp_path: Path) -> None:
    site = f"t{uuid.uuid4().hex[:8]}"
    rec = tmp_path / "rec.jsonl"
    t0 = 1_764_140_000.0
    contact = {"badge": "b-0042", "near": "b-0107", "rssi": -52, "ts": t0, "seq": 7}
    with RecordingWriter(rec) as w:
        w.write("mingle/expo/readings/gw-01", {"v": 1, "gateway": "gw-01", "sent": t0, "readings": []}, t0)
        body = {"v": 1, "gateway": "gw-01", "sent": t0, "contacts": [contact]}
        w.write("mingle/expo/contacts/gw-01", body, t0)  # all at once: the replay waits for the first connect
        w.write("mingle/expo/contacts/gw-02", {"v": 1, "gateway": "gw-02", "sent": t0, "contacts": [contact]}, t0)
    listener = Listener(f"mingle/{site}/#")
    try:
        start = time.time()
        assert asyncio.run(cli.replay(rec, config(site), BrokerConfig(client_id=f"gw-{site}"))) == 0
        time.sleep(0.2)
    finally:
        listener.close()
    [body] = listener.of("/contacts/gw-01")
    assert not listener.of("/contacts/gw-02") and len(listener.of("/readings/gw-01")) == 1
    decoded = decode_contacts(json.dumps(body).encode(), "gw-01")
    [c] = decoded.batch.contacts  # type: ignore[union-attr]
    assert (c.badge, c.near, c.rssi, c.seq) == ("b-0042", "b-0107", -52, 7) and c.ts >= start - 0.5


class FakeClient:
    writes: ClassVar[list[bytes]] = []

    def __init__(self, device: Any, timeout: float) -> None:
        self.device = device

    async def __aenter__(self) -> FakeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def write_gatt_char(self, char: str, data: bytes, response: bool | None = None) -> None:
        FakeClient.writes.append(data)


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> str:
    """A site of its own on the shared broker, for a gateway whose scanner hears ADVERT over and over."""
    monkeypatch.setattr(
        cli, "bleak_scanner_factory", lambda adapter, company: lambda cb, mode: RepeatingScanner(cb, ADVERT)
    )
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.mark.mqtt
def test_live_gateway_publishes_readings_and_relays_a_nudge(monkeypatch: pytest.MonkeyPatch, site: str) -> None:
    monkeypatch.setattr(cli, "_bleak_client", FakeClient)
    listener = Listener(f"mingle/{site}/#")

    async def main() -> int:
        stop = asyncio.Event()
        task = asyncio.create_task(cli.live(config(site), BrokerConfig(client_id=f"gw-{site}"), stop))
        deadline = time.monotonic() + 5
        while not listener.of("/readings/gw-01") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        nudge = {"v": 1, "badge": "b-0042", "via": ["gw-01"]}
        listener.client.publish(f"mingle/{site}/nudges/b-0042", json.dumps(nudge), qos=1)
        while not listener.of("/nudges/b-0042/ack") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        return await task

    try:
        assert asyncio.run(main()) == 0
        time.sleep(0.2)
    finally:
        listener.close()
    readings = [r for b in listener.of("/readings/gw-01") for r in b["readings"]]
    assert readings and {(r["badge"], r["rssi"], r["tx"]) for r in readings} == {("b-0042", -66, -59)}
    ack = listener.of("/nudges/b-0042/ack")[0]
    assert ack["status"] == "delivered" and ack["gateway"] == "gw-01" and FakeClient.writes
    assert [s["state"] for s in listener.of("/gateways/gw-01/status")][::-1][0] == "offline"


@pytest.mark.mqtt
def test_a_background_task_that_dies_stops_the_gateway_cleanly_with_exit_1(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, site: str
) -> None:

    async def broken_worker(*args: object) -> None:
        await asyncio.sleep(0.5)  # the gateway is up and publishing by then
        raise KeyError("b-0042")

    monkeypatch.setattr(cli, "_relay_worker", broken_worker)
    listener = Listener(f"mingle/{site}/#")
    try:
        with caplog.at_level("ERROR", logger="edge.cli"):
            code = asyncio.run(asyncio.wait_for(cli.live(config(site), BrokerConfig(client_id=f"gw-{site}")), 10))
        time.sleep(0.2)
    finally:
        listener.close()
    assert code == 1  # (systemd's Restart=on-failure restarts it)
    [died] = [r for r in caplog.records if "died" in r.getMessage()]
    assert "nudge relay" in died.getMessage() and "KeyError" in died.getMessage() and died.exc_info
    assert [s["state"] for s in listener.of("/gateways/gw-01/status")][-1] == "offline"  # a clean stop


@pytest.mark.mqtt
def test_a_gateway_whose_bridge_dies_is_left_offline_by_its_will(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, site: str
) -> None:

    def broken_ack(self: StoreAndForward, message: Outbound) -> None:
        raise RuntimeError("buffer bug")  # out of the bridge, once the first batch is published

    monkeypatch.setattr(StoreAndForward, "ack", broken_ack)
    status = f"mingle/{site}/gateways/gw-01/status"
    listener = Listener(status)
    try:
        with caplog.at_level("ERROR", logger="edge.cli"):
            code = asyncio.run(asyncio.wait_for(cli.live(config(site), BrokerConfig(client_id=f"gw-{site}")), 10))
        deadline = time.monotonic() + 3
        while [s["state"] for s in listener.of("/status")][-1:] != ["offline"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        listener.close()
    assert code == 1 and any("broker bridge died: RuntimeError" in r.getMessage() for r in caplog.records)
    # The bridge that died could not say offline; it dropped the connection without a DISCONNECT,
    # so the broker published the will (a DISCONNECT would have discarded it, leaving online).
    assert [s["state"] for s in listener.of("/status")] == ["online", "offline"]
    late = Listener(status)
    try:
        deadline = time.monotonic() + 3
        while not late.of("/status") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        late.close()
    assert [s["state"] for s in late.of("/status")] == ["offline"]  # retained


def test_a_replay_whose_bridge_dies_ends_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rec = tmp_path / "rec.jsonl"
    with RecordingWriter(rec) as w:
        for i in range(50):  # 5 s of batches: the replay must not play them all to a dead bridge
            body = {"v": 1, "gateway": "gw-01", "sent": 1e9 + i * 0.1, "readings": []}
            w.write("mingle/expo/readings/gw-01", body, 1e9 + i * 0.1)

    async def broken_run(self: object, stop: asyncio.Event, final: object = None) -> None:
        raise RuntimeError("paho broke")

    monkeypatch.setattr(cli.Bridge, "run", broken_run)
    start = time.monotonic()
    with caplog.at_level("ERROR", logger="edge.cli"):
        assert asyncio.run(cli.replay(rec, config("expo"), BrokerConfig(port=1, timeout_s=1.0))) == 1
    assert time.monotonic() - start < 3
    assert any("broker bridge died: RuntimeError: paho broke" in r.getMessage() for r in caplog.records)


def test_a_nudge_whose_relaying_raises_is_logged_and_the_relay_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    handled: list[bytes] = []

    class Relay:
        async def handle(self, payload: bytes) -> str | None:
            if payload == b"poison":
                raise KeyError("b-0042")  # a bug, not a delivery failure (those are acks)
            handled.append(payload)
            return "delivered"

    async def main() -> None:
        stop = asyncio.Event()
        nudges: asyncio.Queue[bytes] = asyncio.Queue(4)
        for payload in (b"poison", b"next"):
            nudges.put_nowait(payload)
        worker = asyncio.create_task(cli._relay_worker(Relay(), nudges, stop))  # type: ignore[arg-type]
        deadline = time.monotonic() + 5
        while not handled and not worker.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(worker, 2)

    with caplog.at_level("ERROR", logger="edge.cli"):
        asyncio.run(main())
    assert handled == [b"next"]
    [error] = caplog.records
    assert "nudge relay" in error.getMessage() and "poison" in error.getMessage() and error.exc_info
