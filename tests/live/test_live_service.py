"""The live service end to end against the real Mosquitto on 127.0.0.1:1883."""

from __future__ import annotations

import asyncio
import math
import uuid
from pathlib import Path

import orjson
import pytest
from live_helpers import Collector, publisher, until

from mingle_wire import encode_alert, encode_frame, read_recording
from pipeline.live import BrokerConfig, LiveService, ManualTicker, MqttLink, run_service
from pipeline.replay import run_replay
from pipeline.roster import load_roster
from pipeline.step import PipelineState
from pipeline.venue import load_venue

pytestmark = [pytest.mark.mqtt, pytest.mark.timeout(120)]


def _time_of(t: float | None, payload: object, last: float) -> float:
    if t is not None:
        return t
    if isinstance(payload, dict) and isinstance(payload.get("sent"), (int, float)):
        return float(payload["sent"])
    return last


async def _play(event: Path, prefix: str) -> tuple[LiveService, Collector, int]:
    venue, roster = load_venue(event / "venue.yaml"), load_roster(event / "roster.csv")
    service = LiveService(PipelineState(venue, roster, prefix=prefix), prefix=prefix)
    ticker = ManualTicker()
    links: list[MqttLink] = []
    task = asyncio.create_task(run_service(service, BrokerConfig(), ticker, ready=links.append))
    await until(lambda: bool(links) and links[0].subscribed.is_set(), 10, "the service to subscribe")
    base = f"{prefix}/{venue.site}"
    sink = Collector(1883, [f"{base}/frames", f"{base}/alerts", f"{base}/nudges/+", f"{base}/pipeline/status"])
    pub = publisher(1883)
    sent = ticks = 0
    next_tick: float | None = None
    clock = -math.inf
    try:
        for msg in read_recording(event / "recording.jsonl.gz", orjson.loads):
            t = _time_of(msg.t, msg.payload, clock)
            if next_tick is None:
                next_tick = (math.floor(t / 1.0) + 1) * 1.0
            clock = max(clock, t)
            while clock >= next_tick:
                await until(lambda n=sent: service.inbox.received == n, 10, "messages to arrive")
                await ticker.tick(next_tick)
                ticks += 1
                next_tick += 1.0
            body = msg.payload if isinstance(msg.payload, str) else orjson.dumps(msg.payload)
            pub.publish(msg.topic.replace("mingle/", f"{prefix}/", 1), body, qos=1)
            sent += 1
        await until(lambda: service.inbox.received == sent, 10, "messages to arrive")
        assert next_tick is not None
        await ticker.tick(next_tick)
        ticks += 1
        await ticker.stop()
        await asyncio.wait_for(task, 10)
        await until(lambda: len(sink.on("/frames")) == ticks, 10, "every frame")
    finally:
        pub.publish(f"{base}/pipeline/status", b"", qos=1, retain=True).wait_for_publish(5)  # leave no retained status
        pub.disconnect()
        pub.loop_stop()
        sink.close()
    return service, sink, ticks


def test_frames_alerts_and_nudges_match_replay(small_event: Path) -> None:
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    _, sink, ticks = asyncio.run(_play(small_event, prefix))
    venue, roster = load_venue(small_event / "venue.yaml"), load_roster(small_event / "roster.csv")
    replay = run_replay(small_event / "recording.jsonl.gz", venue, roster)

    assert ticks == len(replay.frames)
    assert sink.on("/frames") == [encode_frame(f) for f in replay.frames]
    assert replay.alerts, "the fixture's scenario should raise alerts"
    assert sink.on("/alerts") == [encode_alert(a) for a in replay.alerts]

    nudges = [orjson.loads(p) for p in sink.on_prefix(f"{prefix}/{venue.site}/nudges/")]
    want = [(a.id, b) for a in replay.alerts if not a.held_out for b in a.nudge]
    assert [(n["alert"], n["badge"]) for n in nudges] == want
    gateways = {g.id for g in venue.gateways}
    for n in nudges:
        assert n["v"] == 1 and n["via"] in gateways
        assert n["text"].startswith("Your ") and "colleagues will keep" in n["text"]

    status = [orjson.loads(p) for p in sink.on("/pipeline/status") if p]
    assert status[0]["state"] == "online"
    assert status[-1]["state"] == "offline"
    stats = [s["stats"] for s in status if "stats" in s]
    assert stats and stats[-1]["messages"] == replay.summary["messages"]
    assert set(stats[-1]) >= {"readings_per_s", "rejected", "queue", "tick_ms_p95", "lag_s", "gateways_silent"}


def test_neighbour_reports_through_the_broker_match_replay(tmp_path: Path) -> None:
    """Scanning badges: contacts/<gateway> through Mosquitto give the replay's frames and alerts."""
    from pipeline.sim import ScenarioConfig, simulate

    event = tmp_path / "event"
    simulate(ScenarioConfig(attendees=40, minutes=2, seed=3, booths=2, clinginess=0.9, contacts=True), event)
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    service, sink, ticks = asyncio.run(_play(event, prefix))
    venue, roster = load_venue(event / "venue.yaml"), load_roster(event / "roster.csv")
    replay = run_replay(event / "recording.jsonl.gz", venue, roster)
    assert replay.summary["contacts"] > 0
    assert service.state.ingest.contacts == replay.summary["contacts"]
    assert service.state.ingest.contact_copies == replay.summary["contact_copies"]
    assert ticks == len(replay.frames) and sink.on("/frames") == [encode_frame(f) for f in replay.frames]
    assert sink.on("/alerts") == [encode_alert(a) for a in replay.alerts]


def test_while_every_tick_fails_the_status_still_reports_it(
    venue_file: Path, roster_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.live.service as service_module

    def broken(*args: object) -> None:
        raise RuntimeError("a bug in the tick")

    monkeypatch.setattr(service_module, "step", broken)
    monkeypatch.setattr("pipeline.live.stats.MAX_LAGS", 5)  # (100,000 in service)
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    venue = load_venue(venue_file)
    service = LiveService(
        PipelineState(venue, load_roster(roster_file), prefix=prefix), prefix=prefix, status_every_s=2
    )
    base = f"{prefix}/{venue.site}"
    sink = Collector(1883, [f"{base}/pipeline/status"])
    pub = publisher(1883)

    async def run() -> None:
        ticker = ManualTicker()
        links: list[MqttLink] = []
        task = asyncio.create_task(run_service(service, BrokerConfig(), ticker, ready=links.append))
        await until(lambda: bool(links) and links[0].subscribed.is_set(), 10, "the service to subscribe")
        for k in range(6):
            for _ in range(3):  # messages keep coming while the ticks fail
                pub.publish(f"{base}/readings/gw-01", b"{}", qos=1)
            await until(lambda k=k: service.inbox.received == 3 * (k + 1), 10, "messages to arrive")
            await ticker.tick(1764140000.0 + k)
        await until(lambda: len(sink.on("/pipeline/status")) >= 3, 10, "statuses")
        await ticker.stop()
        await asyncio.wait_for(task, 10)

    try:
        asyncio.run(run())
    finally:
        pub.publish(f"{base}/pipeline/status", b"", qos=1, retain=True).wait_for_publish(5)
        pub.disconnect()
        pub.loop_stop()
        sink.close()
    stats = [orjson.loads(p)["stats"] for p in sink.on("/pipeline/status") if p and b'"stats"' in p]
    assert [s["tick_errors"] for s in stats][:2] == [3, 5]
    assert service.tick_errors == 6
    assert service.stats is not None and len(service.stats.queue_lag_s) <= 5


def test_the_retained_status_says_when_it_was_true(venue_file: Path, roster_file: Path) -> None:
    """A dashboard that subscribes later gets the retained status: its ts tells how old it is."""
    service = LiveService(PipelineState(load_venue(venue_file), load_roster(roster_file)))
    assert orjson.loads(service.status(1764140000.0).payload)["ts"] == 1764140000.0  # before the first tick
    service.tick(1764140001.0)
    body = orjson.loads(service.status(1764140002.5).payload)
    assert body["ts"] == 1764140002.5 and body["state"] == "online" and "stats" in body
    assert "ts" not in orjson.loads(service.status_payload("offline"))  # the last will: made before it is sent
