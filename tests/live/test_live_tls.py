"""The live service over TLS: a throwaway CA, a private Mosquitto with a TLS listener, ``--tls-ca``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from live_helpers import Collector, Pki, PrivateBroker, make_pki, publisher

from pipeline.live import BrokerConfig, BrokerError, MqttLink

pytestmark = [pytest.mark.mqtt, pytest.mark.timeout(60)]

BASE = "mingle/expo"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Pki) -> Iterator[PrivateBroker]:
    broker = PrivateBroker(tmp_path, tls=pki.server)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _pipeline(venue: Path, roster: Path, port: int, ca: Path) -> subprocess.Popen[str]:
    args = ["pipeline", "--venue", str(venue), "--roster", str(roster), "--tick-s", "0.5"]
    args += ["--broker", f"mqtts://127.0.0.1:{port}", "--tls-ca", str(ca)]
    return subprocess.Popen(
        [sys.executable, "-m", "mingle", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait(cond: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def _readings(gateway: str, rssi: int) -> bytes:
    now = time.time()
    return orjson.dumps(
        {"v": 1, "gateway": gateway, "sent": now, "readings": [{"badge": "b-01", "rssi": rssi, "ts": now}]}
    )


def test_pipeline_over_tls_readings_in_frames_out(
    tls_broker: PrivateBroker, pki: Pki, venue_file: Path, roster_file: Path
) -> None:
    sink = Collector(tls_broker.port, [f"{BASE}/frames", f"{BASE}/pipeline/status"], tls_ca=pki.ca)
    proc = _pipeline(venue_file, roster_file, tls_broker.port, pki.ca)
    pub = publisher(tls_broker.port, tls_ca=pki.ca)
    try:
        _wait(lambda: bool(sink.on("/pipeline/status")), 20, "the service's online status over TLS")
        assert orjson.loads(sink.on("/pipeline/status")[0])["state"] == "online"

        def placed() -> bool:
            frames = [orjson.loads(p) for p in sink.on("/frames")]
            return any(b["badge"] == "b-01" for f in frames for b in f["badges"])

        deadline = time.monotonic() + 20
        while not placed():
            assert time.monotonic() < deadline, "b-01 never appeared in a frame"
            for k, gw in enumerate(["gw-01", "gw-02", "gw-04", "gw-05"]):
                pub.publish(f"{BASE}/readings/{gw}", _readings(gw, -55 - 8 * k), qos=1)
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        pub.disconnect()
        pub.loop_stop()
    try:
        assert proc.returncode == 0, err
        assert "mqtts://127.0.0.1" in out and "stopped after" in out
        _wait(lambda: orjson.loads(sink.on("/pipeline/status")[-1])["state"] == "offline", 5, "offline status")
    finally:
        sink.close()


def test_a_wrong_ca_stops_the_pipeline_with_a_clear_error(
    tls_broker: PrivateBroker, pki: Pki, venue_file: Path, roster_file: Path
) -> None:
    proc = _pipeline(venue_file, roster_file, tls_broker.port, pki.other_ca)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, (out, err)
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"mingle pipeline: TLS handshake with mqtts://127.0.0.1:{tls_broker.port} failed")
    assert "certificate verify failed" in last and str(pki.other_ca) in last
    assert "Traceback" not in err


def test_tls_against_a_plain_listener_is_logged_and_retried(
    tmp_path: Path, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    """The listener hangs up on the TLS hello: indistinguishable from a broker restarting, so retried."""
    plain = PrivateBroker(tmp_path)
    plain.start()

    async def main() -> tuple[bool, int]:
        cfg = BrokerConfig(port=plain.port, tls_ca=pki.ca, reconnect_min_s=0.2, reconnect_max_s=0.5)
        async with MqttLink(cfg) as link:
            deadline = time.monotonic() + 10
            while not any("cannot connect to mqtts://" in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "no warning about the failed connection"
                await asyncio.sleep(0.05)
            return link.broken.is_set(), link.connects

    try:
        with caplog.at_level(logging.WARNING, logger="mingle.live.broker"):
            assert asyncio.run(main()) == (False, 0)
    finally:
        plain.stop()


@pytest.mark.parametrize("content", [None, b"not a certificate\n"])
def test_an_unusable_ca_file_is_a_broker_error(tmp_path: Path, content: bytes | None) -> None:
    ca = tmp_path / "ca.pem"
    if content is not None:
        ca.write_bytes(content)

    async def main() -> None:
        async with MqttLink(BrokerConfig(tls_ca=ca)):
            pass

    with pytest.raises(BrokerError, match=r"TLS CA file .*ca\.pem"):
        asyncio.run(main())
