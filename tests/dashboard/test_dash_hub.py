from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from dash_helpers import HUDDLE_SPOTS, T0, alert, frame, venue_and_roster

from dashboard.hub import Hub, LatestSlot
from dashboard.state import DashboardState
from edge.status import encode_status
from mingle_wire import Topics, encode_alert, encode_frame

TOPICS = Topics("expo")


@pytest.fixture
def hub(venue_file: Path, roster_file: Path) -> Hub:
    return Hub(DashboardState(*venue_and_roster(venue_file, roster_file)), TOPICS, inbox_max=3)


def test_slot_gives_the_latest_value_and_counts_what_it_replaced() -> None:
    async def main() -> tuple[bytes | None, int, bytes | None]:
        slot = LatestSlot()
        slot.put(b"1")
        slot.put(b"2")
        slot.put(b"3")
        first = await slot.get()
        slot.close()
        return first, slot.replaced, await slot.get()

    assert asyncio.run(main()) == (b"3", 2, None)


def test_hub_routes_messages_and_renders_one_view_for_every_tab(hub: Hub) -> None:
    async def main() -> tuple[bytes | None, bytes | None]:
        a, b = hub.attach(), hub.attach()
        await a.get(), await b.get()  # the current view on attach
        hub.receive(TOPICS.frames, encode_frame(frame(T0, HUDDLE_SPOTS)))
        hub.receive(TOPICS.alerts, encode_alert(alert()))
        assert hub.drain(T0)
        return await a.get(), await b.get()

    va, vb = asyncio.run(main())
    assert va is vb  # rendered once, shared
    view = json.loads(va or b"")
    assert len(view["frame"]["badges"]) == 4 and view["alerts"][0]["id"] == "a-1"


def test_a_retained_status_of_a_gateway_gone_for_hours_shows_stale_on_the_map(hub: Hub) -> None:
    # A restarted dashboard subscribes; the broker hands over gw-01's retained "online" of three hours ago.
    now = T0 + 3 * 3600
    hub.receive(TOPICS.gateway_status("gw-01"), encode_status("gw-01", "online", T0, version="0.1.0", adapter="hci0"))
    assert hub.drain(now)
    gw01 = {g["id"]: g for g in json.loads(hub.live)["gateways"]}["gw-01"]
    assert gw01["state"] == "stale" and gw01["last_heard_s"] == 10800.0


def test_hub_inbox_drops_oldest_and_counts(hub: Hub) -> None:
    for i in range(5):
        hub.receive(TOPICS.frames, encode_frame(frame(T0 + i, HUDDLE_SPOTS)))
    assert hub.dropped == 2 and len(hub.inbox) == 3
    hub.drain(T0 + 5)
    assert hub.state.frame is not None and hub.state.frame.ts == T0 + 4


def test_hub_counts_and_survives_hostile_messages(hub: Hub) -> None:
    hub.inbox_max = 100
    bad = [
        (TOPICS.frames, b"not json"),
        (TOPICS.frames, b"[]"),
        (TOPICS.frames, b'{"site":"expo","ts":1.7e9,"badges":[{"badge":"b-01","x":"a","y":1,"err":1}],"clusters":[]}'),
        (TOPICS.alerts, b'{"id":"a-1"}'),
        (TOPICS.nudge("b-01"), b'{"badge":"b-01"}'),
        (TOPICS.gateway_status("gw-01"), b'{"state":1}'),
        ("elsewhere/expo/frames", encode_frame(frame(T0, HUDDLE_SPOTS))),
        (TOPICS.base + "/frames/extra", b"{}"),
    ]
    for topic, payload in bad:
        hub.receive(topic, payload)
    assert not hub.drain(T0)
    assert hub.rejected == 5 and hub.state.frame is None and hub.state.alert_feed() == []
    hub.receive(TOPICS.frames, encode_frame(frame(T0, HUDDLE_SPOTS)))
    assert hub.drain(T0)


def test_a_bad_gateway_status_is_counted_and_logged_not_dropped_silently(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    no_ts = {"v": 1, "gateway": "gw-01", "state": "online"}
    unknown = {"v": 1, "gateway": "gw-99", "state": "online", "ts": T0}
    with caplog.at_level(logging.WARNING, logger="mingle.dashboard"):
        hub.receive(TOPICS.gateway_status("gw-01"), json.dumps(no_ts).encode())
        hub.receive(TOPICS.gateway_status("gw-99"), json.dumps(unknown).encode())
        assert not hub.drain(T0)
    assert hub.rejected == 2
    logged = [r.getMessage() for r in caplog.records]
    assert any("gw-99" in m and "not in the venue" in m for m in logged), logged
