"""The broker: where it is (``BrokerConfig``) and the paho-mqtt bridge (``MqttLink``).

The bridge: paho's network loop runs in paho's own thread (``loop_start``). Inbound data
crosses at one point: with an ``inbox``, paho's thread stamps each message's arrival time
and puts it into that thread-safe, bounded :class:`~.inbox.Inbox`, which the loop drains
at each tick (no per-message wakeup of the loop). Everything else — connection events,
and messages for an ``on_message`` callback — only stamps the time and hops into the one
asyncio loop with ``loop.call_soon_threadsafe``; the service and every counter live on
that loop. Publishing from the loop is ``Client.publish``, which paho makes thread-safe.

Reconnect policy lives in one place, paho's loop: on a lost or refused connection it
retries with exponential backoff between ``reconnect_min_s`` and ``reconnect_max_s``
(also for the first connection, so the service may start before the broker). Every
successful (re)connect runs :meth:`MqttLink._on_connect` on the loop, which resubscribes
(clean sessions: the broker forgets subscriptions) and republishes the retained
``online`` status, so the last will's retained ``offline`` never sticks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .inbox import Inbox

__all__ = ["BrokerConfig", "MqttLink"]

log = logging.getLogger("mingle.live.broker")

OnMessage = Callable[[str, bytes, float], None]


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where the broker is and how to log in; ``tls_ca`` turns TLS on (a CA bundle file)."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: Path | None = None
    keepalive_s: int = 15
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 8.0

    @classmethod
    def from_url(
        cls, url: str, *, username: str | None = None, password: str | None = None, tls_ca: Path | None = None
    ) -> BrokerConfig:
        """``mqtt://host[:port]`` or ``mqtts://host[:port]`` (TLS, default port 8883)."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"broker must be mqtt://host[:port] or mqtts://host[:port], got {url!r}")
        if parts.scheme == "mqtts" and tls_ca is None:
            raise ValueError(f"broker {url!r} uses TLS: give --tls-ca FILE")
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        user = username if username is not None else parts.username
        word = password if password is not None else parts.password
        return cls(parts.hostname, port, user, word, tls_ca)

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls_ca else 'mqtt'}://{self.host}:{self.port}"


class MqttLink:
    """One MQTT connection as an async context manager.

    ``subscriptions`` are (topic filter, QoS), renewed on every connect. Each message
    goes into ``inbox`` straight from paho's thread if one is given, else to
    ``on_message`` (topic, payload, arrival time) on the event loop. ``status`` is the retained
    status topic: its last will is ``offline_payload`` and ``online_payload`` is published
    retained on every connect. Leaving the context publishes ``offline_payload`` retained,
    flushes and disconnects.
    """

    def __init__(
        self,
        config: BrokerConfig,
        *,
        subscriptions: Sequence[tuple[str, int]] = (),
        on_message: OnMessage | None = None,
        inbox: Inbox | None = None,
        status: str | None = None,
        online_payload: bytes = b'{"v":1,"state":"online"}',
        offline_payload: bytes = b'{"v":1,"state":"offline"}',
        max_outgoing: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.subscriptions = tuple(subscriptions)
        if inbox is not None and on_message is not None:
            raise ValueError("give an inbox or an on_message callback, not both")
        self.on_message = on_message
        self.inbox = inbox
        self.status = status
        self.online_payload = online_payload
        self.offline_payload = offline_payload
        self.max_outgoing = max_outgoing
        self.clock = clock
        self.connects = 0
        self.disconnects = 0
        self.publish_failed = 0
        self.connected = asyncio.Event()
        #: Set once the broker acknowledged this connection's subscriptions.
        self.subscribed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: mqtt.Client | None = None
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._closing = False

    async def __aenter__(self) -> MqttLink:
        self._loop = asyncio.get_running_loop()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"mingle-{uuid.uuid4().hex[:12]}", clean_session=True
        )
        cfg = self.config
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password)
        if cfg.tls_ca is not None:
            client.tls_set(ca_certs=str(cfg.tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if self.status is not None:
            client.will_set(self.status, self.offline_payload, qos=1, retain=True)
        client.reconnect_delay_set(cfg.reconnect_min_s, cfg.reconnect_max_s)  # type: ignore[arg-type]
        client.max_queued_messages_set(self.max_outgoing)
        client.on_connect = self._paho_connect
        client.on_disconnect = self._paho_disconnect
        client.on_message = self._paho_message
        client.on_subscribe = self._paho_subscribe
        self._client = client
        client.connect_async(cfg.host, cfg.port, cfg.keepalive_s)
        client.loop_start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        client = self._client
        if client is None:
            return
        if self.status is not None and self.connected.is_set():
            self.publish(self.status, self.offline_payload, qos=1, retain=True)
        await self.flush(2.0)
        self._closing = True
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        self._client = None

    # --- paho's thread: stamp and queue or hop, nothing else ---------------------------
    def _hop(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(fn, *args)

    def _paho_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self._hop(self._on_connect, not rc.is_failure, str(rc))

    def _paho_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self._hop(self._on_disconnect, str(rc))

    def _paho_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        self._hop(self.subscribed.set)

    def _paho_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self.inbox is not None:
            payload = msg.payload
            self.inbox.put(msg.topic, payload if isinstance(payload, bytes) else bytes(payload), self.clock())
        else:
            self._hop(self._on_message, msg.topic, msg.payload, self.clock())

    # --- the event loop ---------------------------------------------------------------
    def _on_connect(self, ok: bool, reason: str) -> None:
        if not ok:
            log.warning("broker %s refused the connection: %s (retrying)", self.config.url, reason)
            return
        self.connects += 1
        log.info("connected to %s (connect #%d)", self.config.url, self.connects)
        client = self._client
        if client is None:
            return
        if self.subscriptions:
            client.subscribe(list(self.subscriptions))
        if self.status is not None:
            self.publish(self.status, self.online_payload, qos=1, retain=True)
        self.connected.set()

    def _on_disconnect(self, reason: str) -> None:
        if self.connected.is_set() and not self._closing:
            self.disconnects += 1
            self.subscribed.clear()
            log.warning("lost broker %s: %s (reconnecting with backoff)", self.config.url, reason)
        self.connected.clear()

    def _on_message(self, topic: str, payload: bytes, t: float) -> None:
        if self.on_message is not None:
            self.on_message(topic, payload, t)

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> bool:
        """Queue one message; False (and counted) when paho refuses it (QoS 0 offline, queue full)."""
        client = self._client
        if client is None:
            self.publish_failed += 1
            return False
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and not (qos > 0 and info.rc == mqtt.MQTT_ERR_NO_CONN):
            self.publish_failed += 1
            return False
        if qos > 0:
            self._pending.append(info)
            if len(self._pending) > 1000:
                self._pending = [i for i in self._pending if not i.is_published()]
        return True

    async def flush(self, timeout_s: float) -> bool:
        """Wait until every QoS ≥ 1 message is acknowledged, at most ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._pending = [i for i in self._pending if not i.is_published()]
            if not self._pending:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
