"""Shared stand-ins for the edge's tests: a subscriber on the real Mosquitto, and a scanner
at the bleak boundary that repeats one advertisement."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from paho.mqtt.enums import CallbackAPIVersion


class Listener:
    """Subscribes to ``topic`` on 127.0.0.1:1883 and keeps every message, parsed."""

    def __init__(self, topic: str) -> None:
        self.got: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        ready = threading.Event()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"edge-test-{uuid.uuid4().hex[:8]}")
        c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(topic, 1)
        c.on_subscribe = lambda cl, u, mid, rcs, p: ready.set()
        c.on_message = self._on_message
        c.connect("127.0.0.1", 1883)
        c.loop_start()
        assert ready.wait(5)
        self.client = c

    def _on_message(self, client: object, userdata: object, m: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.got.append((m.topic, json.loads(m.payload)))

    def of(self, suffix: str) -> list[Any]:
        """The parsed payloads of the topics ending in ``suffix``, in arrival order."""
        with self.lock:
            return [p for t, p in self.got if t.endswith(suffix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class RepeatingScanner:
    """Stands in for BleakScanner: one badge repeating ``data`` every 50 ms."""

    def __init__(self, callback: Callable[[Any, Any], None], data: AdvertisementData) -> None:
        self.callback = callback
        self.data = data
        self.task: asyncio.Task[None] | None = None

    async def _emit(self) -> None:
        dev = BLEDevice("AA:BB:CC:DD:EE:FF", None, None)
        while True:
            self.callback(dev, self.data)
            await asyncio.sleep(0.05)

    async def start(self) -> None:
        self.task = asyncio.create_task(self._emit())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
