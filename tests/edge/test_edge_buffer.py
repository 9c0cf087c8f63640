"""Store-and-forward: unit behaviour, and delivery across a real Mosquitto outage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.buffer import Outbound, StoreAndForward
from edge.mqtt import Backoff, Bridge, BrokerConfig, Link


def msg(i: int, topic: str = "t/readings/gw-01") -> Outbound:
    return Outbound(topic, str(i).encode())


def test_fifo_with_counted_drop_oldest() -> None:
    buf = StoreAndForward(3)
    for i in range(5):
        buf.push(msg(i))
    assert len(buf) == 3 and buf.dropped == 2
    head = buf.peek()
    assert head is not None and head.payload == b"2"
    buf.ack(head)
    assert buf.delivered == 1 and [buf.peek().payload] == [b"3"]  # type: ignore[union-attr]


def test_ack_of_a_message_dropped_while_in_flight_removes_nothing() -> None:
    buf = StoreAndForward(1)
    first = msg(0)
    buf.push(first)
    buf.push(msg(1))  # drops ``first`` while it is being published
    buf.ack(first)
    assert len(buf) == 1 and buf.delivered == 0 and buf.dropped == 1


@pytest.mark.parametrize("capacity", [0, -1, True, 1.5])
def test_capacity_must_be_a_positive_integer(capacity: object) -> None:
    with pytest.raises(ValueError):
        StoreAndForward(capacity)  # type: ignore[arg-type]


def test_outbound_validates() -> None:
    with pytest.raises(TypeError):
        Outbound("t", "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Outbound("t", b"", qos=3)


def test_backoff_doubles_to_a_cap_and_resets() -> None:
    b = Backoff(1.0, 4.0, seed=1)
    delays = [b.next() for _ in range(5)]
    assert 0.8 <= delays[0] <= 1.2 and 3.2 <= delays[4] <= 4.8
    b.reset()
    assert b.next() <= 1.2


def test_broker_url() -> None:
    assert BrokerConfig.from_url("mqtt://example:1884") == BrokerConfig("example", 1884)
    assert BrokerConfig.from_url("mqtt://u:p@h").username == "u"
    with pytest.raises(ValueError):
        BrokerConfig.from_url("http://h")


# --- a private Mosquitto that the test stops and starts -------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.conf = tmp / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n",
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([mosquitto, "-c", str(self.conf)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed")
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()


class Subscriber:
    """A QoS 1 subscriber on paho's own thread (test side only).

    The constructor blocks until the SUBACK: called from a coroutine it holds the event
    loop, so the gateway cannot publish before this subscriber listens.
    """

    def __init__(self, port: int, topic: str = "t/#") -> None:
        self.got: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.closed = False
        subscribed = threading.Event()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"edge-test-sub-{id(self)}")
        c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(topic, 1)
        c.on_subscribe = lambda cl, u, mid, rcs, p: subscribed.set()
        c.on_message = self._on_message
        c.connect("127.0.0.1", port, keepalive=5)
        c.loop_start()
        if not subscribed.wait(5):
            raise RuntimeError("subscriber did not subscribe")
        self.client = c

    def _on_message(self, client: object, userdata: object, m: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.got.append((m.topic, bytes(m.payload), bool(m.retain)))

    def payloads(self, topic: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.got if t == topic]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.client.disconnect()
            self.client.loop_stop()


async def until(condition: object, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.mark.mqtt
def test_outage_delivers_in_order_and_counts_drops(broker: Broker) -> None:
    subs = [Subscriber(broker.port)]
    status = "t/gateways/gw-01/status"

    async def main() -> None:
        buf = StoreAndForward(5)
        bridge = Bridge(
            BrokerConfig("127.0.0.1", broker.port, client_id="edge-test-gw", timeout_s=2),
            buf,
            will=Outbound(status, b"offline", 1, True),
            on_connect=lambda: [Outbound(status, b"online", 1, True)],
            backoff=Backoff(0.05, 0.2),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop, final=lambda: [Outbound(status, b"offline", 1, True)]))
        for i in range(3):
            bridge.push(msg(i))
        await until(lambda: len(subs[0].payloads("t/readings/gw-01")) == 3)

        broker.stop()
        subs[0].close()
        await until(lambda: bridge.link is None)
        for i in range(3, 11):  # eight while down, room for five: 3, 4, 5 are dropped
            bridge.push(msg(i))
            bridge.push_latest(Outbound(status, b"stale", 1, True))  # statuses take no reading's place
        assert buf.dropped == 3 and len(buf) == 5
        await asyncio.sleep(0.3)  # a few failed reconnects
        broker.start()
        subs.append(Subscriber(broker.port))  # blocks the loop: subscribed before the gateway is back
        await until(lambda: len(subs[1].payloads("t/readings/gw-01")) == 5, 8.0)
        assert bridge.connects == 2 and len(buf) == 0 and buf.delivered == 8
        bridge.push_latest(Outbound(status, b"fresh", 1, True))
        await until(lambda: b"fresh" in subs[1].payloads(status))

        stop.set()
        await task

    try:
        asyncio.run(main())
        time.sleep(0.2)
    finally:
        for sub in subs:
            sub.close()
    readings = subs[0].payloads("t/readings/gw-01") + subs[1].payloads("t/readings/gw-01")
    assert readings == [str(i).encode() for i in (0, 1, 2, 6, 7, 8, 9, 10)]
    assert subs[0].payloads(status)[0] == b"online"
    # Retained online on connect (not the outage's stale statuses), the next status, offline on stop.
    assert subs[1].payloads(status) == [b"online", b"fresh", b"offline"]


@pytest.mark.mqtt
def test_last_will_marks_a_vanished_gateway_offline(broker: Broker) -> None:
    status = "t/gateways/gw-09/status"

    async def main() -> None:
        from edge.mqtt import Link

        link = Link(
            BrokerConfig("127.0.0.1", broker.port, client_id="edge-test-will", keepalive_s=5),
            will=Outbound(status, b"offline", 1, True),
        )
        await link.connect()
        await link.publish(Outbound(status, b"online", 1, True))
        sock = link._client.socket()
        assert sock is not None
        sock.close()  # the gateway vanishes: no DISCONNECT is sent
        await asyncio.sleep(0.1)

    asyncio.run(main())
    sub = Subscriber(broker.port)
    try:
        deadline = time.monotonic() + 5
        while sub.payloads(status) != [b"offline"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sub.close()
    assert sub.payloads(status) == [b"offline"]  # retained, so a late subscriber sees it


@pytest.mark.mqtt
def test_a_keepalive_task_that_raises_drops_the_link_for_the_bridge_to_reconnect(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        from edge.mqtt import Link, LinkDownError

        link = Link(BrokerConfig("127.0.0.1", broker.port, client_id="edge-test-misc"))
        await link.connect()

        def broken() -> int:
            raise OSError(9, "Bad file descriptor")

        link._client.loop_misc = broken  # type: ignore[method-assign]
        with pytest.raises(LinkDownError, match="keepalive"):  # the Bridge sees this and reconnects
            await asyncio.wait_for(asyncio.shield(link.closed), 3)
        await link.close()  # and closing does not raise what the keepalive task raised
        await asyncio.sleep(0.1)
        assert link._client.socket() is None  # nor leaves the connection open

    with caplog.at_level("ERROR", logger="edge.mqtt"):
        asyncio.run(main())
    [error] = [r for r in caplog.records if "keepalive" in r.getMessage()]
    assert "Bad file descriptor" in error.getMessage() and error.exc_info


@pytest.mark.mqtt
def test_a_clean_close_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """close() queues a DISCONNECT (paho asks for the socket to be watched for writing) and
    flushes it at once (paho then closes the socket): nothing may be left to run on the
    closed socket, such as asyncio's "Exception in callback add_writer ... Invalid file
    descriptor: -1"."""

    async def main() -> None:
        link = Link(BrokerConfig(client_id=f"edge-test-close-{uuid.uuid4().hex[:8]}", timeout_s=3))
        await link.connect()
        await link.publish(Outbound(f"t{uuid.uuid4().hex[:8]}/x", b"1", 1))
        await link.close()
        await asyncio.sleep(0.1)  # whatever close() left scheduled runs now
        assert link._client.socket() is None

    with caplog.at_level("WARNING"):
        asyncio.run(main())
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.mqtt
def test_a_cancelled_bridge_leaves_its_will_and_a_stopped_one_its_final_word() -> None:
    """Only the clean stop (``final`` published) disconnects; any other end drops the connection
    without a DISCONNECT, so the broker publishes the will instead of discarding it."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    sub = Subscriber(1883, f"{prefix}/#")

    async def run_bridge(name: str, cancel: bool) -> None:
        status = f"{prefix}/{name}/status"
        bridge = Bridge(
            BrokerConfig(client_id=f"edge-test-{prefix}-{name}", timeout_s=3),
            StoreAndForward(5),
            will=Outbound(status, b"will", 1, True),
            on_connect=lambda: [Outbound(status, b"online", 1, True)],
        )
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop, final=lambda: [Outbound(status, b"final", 1, True)]))
        await until(lambda: sub.payloads(status) == [b"online"])
        if cancel:
            task.cancel()
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        await until(lambda: len(sub.payloads(status)) == 2, 3.0)
        await asyncio.sleep(0.2)  # (nothing more comes)

    try:
        asyncio.run(run_bridge("cancelled", cancel=True))
        asyncio.run(run_bridge("stopped", cancel=False))
    finally:
        sub.close()
    assert sub.payloads(f"{prefix}/cancelled/status") == [b"online", b"will"]
    assert sub.payloads(f"{prefix}/stopped/status") == [b"online", b"final"]  # the will discarded
