"""``mingle record`` against the real Mosquitto and ``mingle demo`` on its embedded broker."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from live_helpers import publisher, until

from mingle.tasks import TaskDiedError
from mingle_wire import Topics, read_recording
from pipeline.live import BrokerConfig
from pipeline.live.demo import run_demo
from pipeline.live.record import record

pytestmark = [pytest.mark.mqtt]


@pytest.mark.timeout(30)
def test_record_keeps_arrival_time_and_raw_payloads(tmp_path: Path) -> None:
    topics = Topics("expo", f"t-{uuid.uuid4().hex[:8]}")
    out = tmp_path / "rec.jsonl.gz"

    async def main() -> int:
        stop = asyncio.Event()
        task = asyncio.create_task(record(BrokerConfig(), topics, out, stop=stop))
        await asyncio.sleep(0.5)  # let the recorder subscribe
        pub = publisher(1883)
        pub.publish(topics.readings("gw-01"), b'{"v":1,"gateway":"gw-01","sent":1.0,"readings":[]}', qos=1)
        pub.publish(topics.positions("uwb"), b"not json", qos=1)
        pub.publish(topics.frames, b"{}", qos=1)  # not inbound: not recorded
        await asyncio.sleep(0.5)
        pub.disconnect()
        pub.loop_stop()
        stop.set()
        return await asyncio.wait_for(task, 10)

    assert asyncio.run(main()) == 2
    got = list(read_recording(out))
    assert [m.topic for m in got] == [topics.readings("gw-01"), topics.positions("uwb")]
    assert got[0].payload == {"v": 1, "gateway": "gw-01", "sent": 1.0, "readings": []}
    assert got[1].payload == "not json"
    assert all(m.t is not None and m.t > 1.7e9 for m in got)


@pytest.mark.timeout(60)
def test_demo_runs_and_stops_cleanly() -> None:
    pytest.importorskip("amqtt")
    lines: list[str] = []

    async def main() -> tuple[int, int, int]:
        stop = asyncio.Event()
        task = asyncio.create_task(run_demo(attendees=40, speed=20.0, seed=3, broker=None, stop=stop, say=lines.append))
        # Three status lines (30 s of pipeline time): a CPU-starved live service skips ticks to
        # keep up with the clock, so two (20 s) can hold fewer than 20 ticks on a busy machine.
        await until(lambda: sum("badges placed" in line for line in lines) >= 3, 60, "three status lines")
        stop.set()
        service = await asyncio.wait_for(task, 15)
        ingest = service.state.ingest
        return service.state.ticks, ingest.readings, ingest.contacts

    ticks, readings, contacts = asyncio.run(main())
    assert ticks >= 20 and readings > 1000
    # The demo's badges scan, as the shipped firmware's do: their neighbour reports arrive too.
    assert contacts > 100 and "scanning badges" in lines[0]
    assert lines[0].startswith("demo: ") and lines[-1].startswith("demo: stopped")


@pytest.mark.timeout(90)
def test_a_demo_whose_virtual_gateways_die_stops_cleanly_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("amqtt")
    import pipeline.live.demo as demo
    from mingle.cli import main as mingle

    async def broken_play(sim: object, link: BrokerConfig, *args: object, **kwargs: object) -> None:
        await link.connected.wait()  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)  # the service is running by then
        raise ValueError("the simulation broke")

    monkeypatch.setattr(demo, "play", broken_play)
    lines: list[str] = []

    async def main() -> None:
        stop = asyncio.Event()
        with pytest.raises(TaskDiedError, match="virtual gateways"):  # it stops on its own, cleanly
            await asyncio.wait_for(
                run_demo(attendees=40, speed=20.0, seed=3, broker=None, stop=stop, say=lines.append), 30
            )
        assert stop.is_set()

    with caplog.at_level("ERROR", logger="mingle.live"):
        asyncio.run(main())
    [died] = [r for r in caplog.records if "died" in r.getMessage()]
    assert "virtual gateways died: ValueError: the simulation broke" in died.getMessage() and died.exc_info
    assert lines[-1].startswith("demo: stopped")
    assert mingle(["demo", "--no-map", "--attendees", "40", "--speed", "20"]) == 1
    assert "virtual gateways died" in capsys.readouterr().err
