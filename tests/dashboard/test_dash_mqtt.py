"""The dashboard's lifespan against the real Mosquitto: it consumes the pipeline's topics and publishes pauses."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import paho.mqtt.client as mqtt
import pytest
from dash_helpers import HUDDLE_SPOTS, T0, frame, venue_and_roster
from paho.mqtt.enums import CallbackAPIVersion
from starlette.testclient import TestClient

from dashboard.app import Dashboard, DashboardConfig, create_app
from dashboard.tokens import badge_token
from mingle_wire import Topics, decode_pause, encode_frame, loads
from pipeline.live.broker import BrokerConfig

pytestmark = [pytest.mark.mqtt, pytest.mark.timeout(60)]

SECRET = b"m" * 32
T = TypeVar("T")


def eventually(what: str, cond: Callable[[], T], timeout_s: float = 10.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := cond():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def test_dashboard_reads_the_broker_and_publishes_a_pause(venue_file: Path, roster_file: Path) -> None:
    venue, roster = venue_and_roster(venue_file, roster_file)
    topics = Topics(venue.site, f"t-{uuid.uuid4().hex[:8]}")
    got: list[tuple[str, bytes]] = []
    lock = threading.Lock()
    subscribed = threading.Event()

    def on_message(c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        with lock:
            got.append((msg.topic, msg.payload))

    peer = mqtt.Client(CallbackAPIVersion.VERSION2)
    peer.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.pause(), qos=1)
    peer.on_subscribe = lambda c, u, mid, codes, p: subscribed.set()
    peer.on_message = on_message
    peer.connect("127.0.0.1", 1883)
    peer.loop_start()
    try:
        assert subscribed.wait(5)
        config = DashboardConfig(venue, roster, "a-password", SECRET, broker=BrokerConfig(), prefix=topics.prefix)
        with TestClient(create_app(config, clock=lambda: T0 + 200)) as client:
            dash = client.app.state.dashboard  # type: ignore[attr-defined]
            assert isinstance(dash, Dashboard) and dash.link is not None and client.portal is not None
            link = dash.link
            eventually("the dashboard's subscription", lambda: client.portal.call(link.subscribed.is_set))  # type: ignore[union-attr]
            body = {"v": 1, "badge": "b-01", "alert": "a-1", "ts": T0 + 120, "via": None, "text": "Hello!"}
            peer.publish(topics.frames, encode_frame(frame(T0 + 120, HUDDLE_SPOTS)), qos=1)
            peer.publish(topics.nudge("b-01"), json.dumps(body).encode(), qos=1)
            token = badge_token(SECRET, "b-01")
            eventually("the nudge on the phone page", lambda: client.get(f"/me/{token}/nudges").json()["nudges"])
            assert client.post("/login", data={"password": "a-password"}).status_code == 200
            eventually("the frame on the map", lambda: json.loads(client.get("/api/state").text)["frame"])

            assert client.post(f"/me/{token}/pause").status_code == 200

            def pauses() -> list[bytes]:
                with lock:
                    return [p for t, p in got if t == topics.pause("b-01")]

            pause = decode_pause(loads(eventually("the pause on the broker", pauses)[0]), "b-01")
            assert (pause.sent, pause.until) == (T0 + 200, T0 + 200 + 1800)
            # Retained: a pipeline that subscribes later (a restart) is given it too.
            late: list[bytes] = []
            restarted = mqtt.Client(CallbackAPIVersion.VERSION2)
            restarted.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.pause(), qos=1)
            restarted.on_message = lambda c, u, m: late.append(m.payload) if m.retain else None
            restarted.connect("127.0.0.1", 1883)
            restarted.loop_start()
            try:
                assert decode_pause(loads(eventually("the retained pause", lambda: late[:1])[0]), "b-01") == pause
            finally:
                restarted.disconnect()
                restarted.loop_stop()
    finally:
        peer.publish(topics.pause("b-01"), b"", qos=1, retain=True).wait_for_publish(5)  # leave nothing retained
        peer.disconnect()
        peer.loop_stop()
