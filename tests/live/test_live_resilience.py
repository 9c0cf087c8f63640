"""The live service against a private Mosquitto: restarts, hostile traffic, passwords."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from live_helpers import Collector, PrivateBroker, publisher, until

from pipeline.live import BrokerConfig, LiveService, MqttLink, WallTicker, run_service
from pipeline.roster import load_roster
from pipeline.step import PipelineState
from pipeline.venue import load_venue

pytestmark = [pytest.mark.mqtt]

BASE = "mingle/expo"


def _service(venue_file: Path, roster_file: Path) -> LiveService:
    return LiveService(PipelineState(load_venue(venue_file), load_roster(roster_file)), inbox_max=50_000)


def _reading(badge: str = "b-01") -> bytes:
    now = time.time()
    return orjson.dumps(
        {"v": 1, "gateway": "gw-01", "sent": now, "readings": [{"badge": badge, "rssi": -60, "ts": now}]}
    )


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.mark.timeout(60)
def test_reconnects_and_resubscribes_after_broker_restart(tmp_path: Path, venue_file: Path, roster_file: Path) -> None:
    broker = PrivateBroker(tmp_path)
    broker.start()
    service = _service(venue_file, roster_file)

    async def main() -> float:
        stop = asyncio.Event()
        links: list[MqttLink] = []
        cfg = BrokerConfig(port=broker.port, reconnect_min_s=0.2, reconnect_max_s=2.0)
        task = asyncio.create_task(run_service(service, cfg, WallTicker(0.2), stop=stop, ready=links.append))
        await until(lambda: bool(links) and links[0].subscribed.is_set(), 10, "first subscription")
        link = links[0]
        pub = publisher(broker.port)
        pub.publish(f"{BASE}/readings/gw-01", _reading(), qos=1)
        await until(lambda: service.state.ingest.readings == 1, 5, "a reading before the restart")
        pub.loop_stop()
        broker.stop()
        await until(lambda: not link.connected.is_set(), 10, "the service to notice")
        await asyncio.sleep(1.0)
        assert not task.done()
        broker.start()
        restarted = time.monotonic()
        await until(lambda: link.connects == 2 and link.subscribed.is_set(), 10, "reconnect and resubscribe")
        pub = publisher(broker.port)
        pub.publish(f"{BASE}/readings/gw-01", _reading(), qos=1)
        await until(lambda: service.state.ingest.readings == 2, 10, "a reading after the restart")
        resumed = time.monotonic() - restarted
        pub.disconnect()
        pub.loop_stop()
        assert not task.done()
        stop.set()
        await asyncio.wait_for(task, 10)
        return resumed

    try:
        resumed = asyncio.run(main())
    finally:
        broker.stop()
    assert resumed < 10
    assert service.state.ticks > 5


def hostile(seed: int, n: int) -> Iterator[tuple[str, bytes]]:
    """``n`` messages, each wrong as a whole or with every item wrong."""
    rng = random.Random(seed)
    now = time.time()
    good = {"v": 1, "gateway": "gw-01", "sent": now, "readings": []}
    topic = f"{BASE}/readings/gw-01"
    for k in range(n):
        kind = k % 14
        if kind == 0:
            yield topic, orjson.dumps({**good, "gateway": rng.randint(0, 9)})
        elif kind == 1 and k % 280 == 1:
            yield topic, orjson.dumps({**good, "readings": [{"badge": "b-01", "rssi": -60, "ts": now}] * 5001})
        elif kind == 1:
            yield topic, orjson.dumps({**good, "readings": list(range(rng.randint(1, 50)))})
        elif kind == 2:
            yield topic, b'{"v":1,"gateway":"gw-01","sent":NaN,"readings":[]}'
        elif kind == 3:
            badge = "".join(chr(rng.randint(0x100, 0x2FFF)) for _ in range(rng.randint(1, 8)))
            yield topic, orjson.dumps({**good, "readings": [{"badge": badge, "rssi": -60, "ts": now}]})
        elif kind == 4:
            depth = rng.randint(200, 5000)
            yield topic, ("[" * depth + "]" * depth).encode()
        elif kind == 5:
            yield topic, orjson.dumps({**good, "v": rng.choice([0, 2, "1", None, 1.5])})
        elif kind == 6:
            yield topic, rng.randbytes(rng.randint(0, 200))
        elif kind == 7:
            yield f"{BASE}/readings/gw-{rng.randint(100, 999)}", orjson.dumps(good)
        elif kind == 8:
            yield f"{BASE}/positions/src-\u00fc\u2603{k}", orjson.dumps(good)
        elif kind == 9:
            yield topic, orjson.dumps([good])
        elif kind == 10:
            yield topic, orjson.dumps({**good, "readings": [{"badge": "b-01", "rssi": True, "ts": now}]})
        elif kind == 11:
            yield topic, orjson.dumps({**good, "readings": [{"badge": "b-01", "rssi": -127, "ts": now}]})
        elif kind == 12:
            yield f"{BASE}/readings/{'g' * rng.randint(65, 300)}", orjson.dumps(good)
        else:
            yield topic, orjson.dumps({**good, "sent": rng.choice([-1, 1e12, "now"])})


@pytest.mark.timeout(120)
def test_ten_thousand_hostile_messages_are_all_rejected(tmp_path: Path, venue_file: Path, roster_file: Path) -> None:
    messages = list(hostile(7, 10_000))
    offline = PipelineState(load_venue(venue_file), load_roster(roster_file))
    for topic, payload in messages:  # each one, on its own, is rejected with a reason
        before = sum(offline.ingest.rejected.values())
        offline.ingest.accept(topic, payload)
        assert sum(offline.ingest.rejected.values()) > before, (topic, payload[:80])
    assert offline.ingest.readings == 0

    broker = PrivateBroker(tmp_path)
    broker.conf.write_text(broker.conf.read_text() + "max_queued_messages 0\n", encoding="utf-8")
    broker.start()
    service = _service(venue_file, roster_file)

    async def main() -> int:
        stop = asyncio.Event()
        links: list[MqttLink] = []
        task = asyncio.create_task(
            run_service(service, BrokerConfig(port=broker.port), WallTicker(0.2), stop=stop, ready=links.append)
        )
        await until(lambda: bool(links) and links[0].subscribed.is_set(), 10, "subscription")
        rss0 = _rss_bytes()
        pub = publisher(broker.port)
        for topic, payload in messages:
            pub.publish(topic, payload, qos=1)
        await until(lambda: service.state.ingest.messages == len(messages), 60, "every hostile message")
        pub.disconnect()
        pub.loop_stop()
        assert not task.done()
        stop.set()
        await asyncio.wait_for(task, 10)
        return _rss_bytes() - rss0

    try:
        grown = asyncio.run(main())
    finally:
        broker.stop()
    ing = service.state.ingest
    assert ing.readings == 0 and ing.positions == 0 and not ing.unknown_badges
    assert Counter(ing.rejected) == Counter(offline.ingest.rejected)
    assert service.inbox.dropped == 0 and len(service.inbox) == 0
    assert grown < 200 * 2**20, f"RSS grew {grown / 2**20:.0f} MiB"


@pytest.mark.timeout(60)
def test_username_and_password(tmp_path: Path, venue_file: Path, roster_file: Path) -> None:
    broker = PrivateBroker(tmp_path, passwords={"mingle": "s3cret"})
    broker.start()

    async def main(password: str) -> tuple[int, bool]:
        service = _service(venue_file, roster_file)
        stop = asyncio.Event()
        links: list[MqttLink] = []
        cfg = BrokerConfig(port=broker.port, username="mingle", password=password, reconnect_max_s=1.0)
        task = asyncio.create_task(run_service(service, cfg, WallTicker(0.5), stop=stop, ready=links.append))
        await until(lambda: bool(links), 5, "the link")
        await asyncio.sleep(2.0)
        alive = not task.done()
        stop.set()
        await asyncio.wait_for(task, 10)
        return links[0].connects, alive

    try:
        assert asyncio.run(main("wrong")) == (0, True)
        assert asyncio.run(main("s3cret")) == (1, True)
        sink = Collector(broker.port, [f"{BASE}/pipeline/status"], username="mingle", password="s3cret")
        try:
            t0 = time.monotonic()
            while not sink.on("/pipeline/status") and time.monotonic() - t0 < 5:
                time.sleep(0.05)
            assert [orjson.loads(p)["state"] for p in sink.on("/pipeline/status")] == ["offline"]
        finally:
            sink.close()
    finally:
        broker.stop()
