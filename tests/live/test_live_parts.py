"""Fast unit tests of the live package's pure parts (no broker)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import orjson
import pytest

from mingle_wire import Suggestion
from pipeline.live import BrokerConfig, Inbox, LiveService, MqttLink, WallTicker, runner
from pipeline.live.nudges import nudge_text
from pipeline.roster import load_roster
from pipeline.step import PipelineState
from pipeline.venue import load_venue


def test_inbox_drops_oldest_and_counts() -> None:
    box = Inbox(2)
    for k in range(5):
        box.put("t", bytes([k]), float(k))
    assert [m.payload for m in box.take()] == [b"\x03", b"\x04"]
    assert (box.received, box.dropped, len(box)) == (5, 3, 0)
    with pytest.raises(ValueError, match="maxlen"):
        Inbox(0)


def test_broker_urls() -> None:
    assert BrokerConfig.from_url("mqtt://example:1884") == BrokerConfig("example", 1884)
    assert BrokerConfig.from_url("127.0.0.1").port == 1883
    cfg = BrokerConfig.from_url("mqtt://u:p@h", password="q")
    assert (cfg.username, cfg.password) == ("u", "q")
    assert BrokerConfig.from_url("mqtts://h", tls_ca=Path("ca.pem")).port == 8883
    for bad in ("http://h", "mqtts://h", "mqtt://"):
        with pytest.raises(ValueError):
            BrokerConfig.from_url(bad)


def test_nudge_text_in_plain_words() -> None:
    group = Suggestion("group", 1.0, 2.0, 5.6, cluster="c-9", companies=("Globex", "Initech"))
    assert nudge_text("Acme", group) == (
        "Your Acme colleagues will keep. There is a group with Globex and Initech about 5 m away — go say hello."
    )
    person = Suggestion("person", 1.0, 2.0, 0.2, badge="b-5", companies=("Globex",), shared_interests=("ml",))
    assert nudge_text("Acme", person) == (
        "Your Acme colleagues will keep. Someone from Globex who is also into ml is a few steps away — go say hello."
    )
    assert nudge_text("Acme", None).startswith("Your Acme colleagues will keep.")


def test_a_distance_is_told_no_more_precisely_than_the_radio_knows_it() -> None:
    from pipeline.distances import how_far

    assert [how_far(d) for d in (0.0, 0.3, 4.99)] == ["a few steps away"] * 3
    assert [how_far(d) for d in (5.0, 7.4, 7.6, 12.6, 24.9)] == [
        "about 5 m away",
        "about 5 m away",
        "about 10 m away",
        "about 15 m away",
        "about 25 m away",
    ]
    # Halves up (round() would take 12.5 to 10 and 17.5 to 20), and the centimetre the wire
    # carries decides: the phone's words and the feed's agree.
    assert [how_far(d) for d in (7.5, 12.5, 17.5)] == ["about 10 m away", "about 15 m away", "about 20 m away"]
    assert how_far(4.996) == how_far(round(4.996, 2)) == "about 5 m away"
    assert how_far(7.4996) == how_far(round(7.4996, 2)) == "about 10 m away"


def test_service_tick_without_input(venue_file: Path, roster_file: Path) -> None:
    service = LiveService(PipelineState(load_venue(venue_file), load_roster(roster_file)), status_every_s=2.0)
    out = [service.tick(1764140000.0 + k) for k in range(3)]
    assert [m.topic for m in out[0]] == ["mingle/expo/frames"]
    status = [m for m in out[2] if m.topic.endswith("pipeline/status")]
    assert status and status[0].retain and status[0].qos == 1
    assert service.last_status is not None and service.last_status["gateways_silent"] == []


def test_ticks_and_delivered_acks_reach_the_sink(venue_file: Path, roster_file: Path) -> None:
    class Sink:
        def __init__(self) -> None:
            self.ticks: list[float] = []
            self.acks: list[tuple[str, str, float, str, float | None]] = []

        def on_tick(self, result: object) -> None:
            self.ticks.append(result.frame.ts)  # type: ignore[attr-defined]

        def acknowledge(self, alert: str, badge: str, ts: float, gateway: str = "", sent: float | None = None) -> None:
            self.acks.append((alert, badge, ts, gateway, sent))

        def close(self) -> None:
            pass

    sink = Sink()
    service = LiveService(PipelineState(load_venue(venue_file), load_roster(roster_file)), sink=sink)
    assert ("mingle/expo/nudges/+/ack", 1) in service.subscriptions
    ack = b'{"v":1,"badge":"b-01","alert":"a-3","gateway":"gw-01","ts":5.0,"status":"delivered","reason":null}'
    service.receive("mingle/expo/nudges/b-01/ack", ack, 1764140005.0)
    service.receive("mingle/expo/nudges/b-01/ack", ack.replace(b"delivered", b"failed"), 1764140006.0)
    service.receive("mingle/expo/nudges/b-01/ack", b"[1]", 1764140007.0)
    service.receive("mingle/expo/nudges/b-01/ack", b"{", 1764140007.0)
    service.receive("mingle/expo/nudges/b-05/ack", ack, 1764140008.0)  # b-01's body on b-05's topic
    service.tick(1764140010.0)
    assert sink.acks == [("a-3", "b-01", 1764140005.0, "gw-01", 5.0)]
    assert (service.acks, service.failed_acks, service.bad_acks) == (1, 1, 3)
    assert dict(service.state.ingest.rejected) == {"bad_ack": 1, "bad_json": 1, "topic_mismatch": 1}
    assert sink.ticks == [1764140010.0] and len(service.inbox) == 0
    status = service.status(1764140011.0)
    assert service.last_status is not None and service.last_status["acks"] == {"delivered": 1, "failed": 1, "copies": 0}
    assert service.last_status["rejected"] == {"bad_ack": 1, "bad_json": 1, "topic_mismatch": 1} and status.retain


def test_every_delivered_ack_reaches_the_store_those_without_an_alert_id_too(
    venue_file: Path, roster_file: Path, tmp_path: Path
) -> None:
    from pipeline.store import EventStore, StoreSink

    sink = StoreSink(tmp_path / "expo.db")
    service = LiveService(PipelineState(load_venue(venue_file), load_roster(roster_file)), sink=sink)
    ack = b'{"v":1,"badge":"b-01","alert":null,"gateway":"gw-01","ts":5.0,"status":"delivered","reason":null}'
    service.receive("mingle/expo/nudges/b-01/ack", ack, 1764140005.0)
    service.receive("mingle/expo/nudges/b-01/ack", ack.replace(b"gw-01", b"gw-02"), 1764140006.0)
    service.receive("mingle/expo/nudges/b-01/ack", ack, 1764140007.0)  # gw-01's, delivered again (QoS 1)
    failed = b'{"v":1,"badge":"b-01","alert":"a-9","gateway":"gw-03","ts":6.0,"status":"failed","reason":"timeout"}'
    service.receive("mingle/expo/nudges/b-01/ack", failed, 1764140008.0)
    service.receive("mingle/expo/nudges/b-01/ack", failed, 1764140009.0)  # ... and a failure, again
    huge = b'{"v":1,"badge":"b-01","alert":"a-8","gateway":"gw-04","ts":1' + b"0" * 400 + b',"status":"failed"}'
    service.receive("mingle/expo/nudges/b-01/ack", huge, 1764140009.5)  # no float holds its ts: its arrival does
    service.tick(1764140010.0)
    sink.close()
    with EventStore(tmp_path / "expo.db", readonly=True) as store:
        assert store.query("SELECT alert, badge, ts, gateway, sent FROM acknowledgements ORDER BY ts") == [
            ("", "b-01", 1764140005.0, "gw-01", 5.0),
            ("", "b-01", 1764140006.0, "gw-02", 5.0),
        ]
    assert (service.acks, service.failed_acks, service.ack_copies) == (2, 2, 2)
    stats = orjson.loads(service.status(1764140010.0).payload)["stats"]
    assert stats["acks"] == {"delivered": 2, "failed": 2, "copies": 2}


def test_a_failing_store_costs_no_alert_or_nudge(
    venue_file: Path, roster_file: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import pipeline.live.service as service_module
    from mingle_wire import Alert, Frame
    from pipeline.step import TickResult
    from pipeline.store import StoreError

    venue = load_venue(venue_file)

    def one_alert(state: object, messages: object, now: float) -> TickResult:  # the policy fired, nudging b-01
        alert = Alert("a-1", venue.site, now, "h-1", "Acme", ("b-01", "b-02", "b-04"), now - 90, ("b-01",))
        return TickResult(Frame(venue.site, now), (alert,))

    class LockedStore:
        def on_tick(self, result: object) -> None:
            raise StoreError("database is locked")

        def acknowledge(self, alert: str, badge: str, ts: float, gateway: str = "", sent: float | None = None) -> None:
            raise StoreError("database is locked")

        def close(self) -> None: ...

    monkeypatch.setattr(service_module, "step", one_alert)
    service = LiveService(PipelineState(venue, load_roster(roster_file)), sink=LockedStore(), status_every_s=1.0)
    ack = b'{"v":1,"badge":"b-01","alert":"a-0","gateway":"gw-01","ts":5.0,"status":"delivered","reason":null}'
    service.receive("mingle/expo/nudges/b-01/ack", ack, 1764139999.0)  # its recording fails too
    with caplog.at_level("ERROR", logger="mingle.live"):
        out = service.tick(1764140000.0) + service.tick(1764140001.0)
    topics = [m.topic for m in out]
    assert topics.count("mingle/expo/alerts") == 2 and topics.count("mingle/expo/nudges/b-01") == 2
    assert service.store_errors == 3 and service.last_status is not None and service.last_status["store_errors"] == 3
    assert any("database is locked" in r.getMessage() for r in caplog.records)


def test_inbox_is_safe_to_fill_from_another_thread() -> None:
    box = Inbox(1000)
    taken: list[bytes] = []

    def fill() -> None:
        for k in range(20_000):
            box.put("t", k.to_bytes(4, "big"), float(k))

    worker = threading.Thread(target=fill)
    worker.start()
    while worker.is_alive():
        taken += [m.payload for m in box.take()]
    worker.join()
    taken += [m.payload for m in box.take()]
    order = [int.from_bytes(p, "big") for p in taken]
    assert order == sorted(order) and len(set(order)) == len(order)  # FIFO, nothing twice
    assert box.received == 20_000 and box.dropped == 20_000 - len(order) and order[-1] == 19_999


def test_link_takes_an_inbox_or_a_callback_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        MqttLink(BrokerConfig(), inbox=Inbox(), on_message=lambda topic, payload, t: None)


def test_wall_ticker_runs_each_tick_delay_s_after_its_second(monkeypatch: pytest.MonkeyPatch) -> None:
    wall = [100.3]

    async def sleep(seconds: float) -> None:  # time passes only when the ticker waits
        wall[0] += seconds

    monkeypatch.setattr(runner.asyncio, "sleep", sleep)
    ticker = WallTicker(1.0, delay_s=0.25, clock=lambda: wall[0])

    async def ticks(n: int, busy_s: float = 0.0) -> list[tuple[float | None, float]]:
        out = []
        for _ in range(n):
            now = await ticker.next()
            out.append((now, round(wall[0], 6)))
            wall[0] += busy_s
        return out

    assert asyncio.run(ticks(2)) == [(101.0, 101.25), (102.0, 102.25)]
    assert asyncio.run(ticks(2, busy_s=2.5)) == [(103.0, 103.25), (105.0, 105.75)]  # 104 was skipped
    assert ticker.skipped == 1
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="delay_s"):
            WallTicker(1.0, delay_s=bad)


def test_a_long_outage_does_not_make_each_publish_rescan_every_unacknowledged_message() -> None:
    class Info:
        rc = 0
        checks = 0

        def is_published(self) -> bool:
            Info.checks += 1
            return False  # the broker is down: nothing is acknowledged

    class Client:
        def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> Info:
            return Info()

    link = MqttLink(BrokerConfig())
    link._client = Client()  # type: ignore[assignment]
    for _ in range(8000):
        assert link.publish("t", b"x", qos=1)
    assert len(link._pending) == 8000
    assert Info.checks < 4 * 8000  # amortised; a rescan at every publish past 1,000 made it 25 million
