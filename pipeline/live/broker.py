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

TLS: ``tls_ca`` turns it on and the broker's certificate must chain to that CA and name
the host connected to. A CA file that cannot be loaded raises :class:`BrokerError` on
entering the link. A failed TLS handshake (wrong CA, wrong host name, a plain listener)
is logged with OpenSSL's reason every time; before the first successful connection it
is also fatal — :attr:`MqttLink.error` is set, :attr:`MqttLink.broken` fires and the
runner raises it — because retrying cannot fix a misconfiguration, and a service that
silently retries forever looks like a hang. After a successful connection, handshake
failures are retried like any other lost connection (a certificate being rotated).
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
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from pipeline.errors import MingleError

from .inbox import Inbox

__all__ = ["BrokerConfig", "BrokerError", "MqttLink"]

log = logging.getLogger("mingle.live.broker")

OnMessage = Callable[[str, bytes, float], None]


class BrokerError(MingleError):
    """The broker cannot be used as configured (TLS CA file, TLS handshake); the message says why."""


class _TlsContext(ssl.SSLContext):
    """Remembers the socket it wrapped last, so a failed handshake's socket can be closed.

    (paho drops the socket of a failed handshake without closing it: a ResourceWarning
    and an open descriptor until the garbage collector runs, on every retry.)
    """

    last: ssl.SSLSocket | None = None

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.last = super().wrap_socket(*args, **kwargs)
        return self.last


class _Client(mqtt.Client):
    """paho's client, telling ``on_connect_error`` why a (re)connection failed.

    paho's network loop catches the ``OSError`` of a failed connection and retries, so
    without this hook the reason (a certificate that does not verify) is lost.
    """

    on_connect_error: Callable[[OSError], None] | None = None
    tls: _TlsContext | None = None

    def reconnect(self) -> MQTTErrorCode:
        if self.tls is not None:
            self.tls.last = None
        try:
            return super().reconnect()
        except OSError as exc:
            if self.tls is not None and self.tls.last is not None:
                self.tls.last.close()
                self.tls.last = None
            if self.on_connect_error is not None:
                self.on_connect_error(exc)
            raise


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
        #: Set when the link cannot work as configured; :attr:`error` says why.
        self.broken = asyncio.Event()
        self.error: BrokerError | None = None
        self._last_failure = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: mqtt.Client | None = None
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._prune_at = 1000  # rescan the pending list for acknowledged messages beyond this many
        self._closing = False

    async def __aenter__(self) -> MqttLink:
        self._loop = asyncio.get_running_loop()
        client = _Client(CallbackAPIVersion.VERSION2, client_id=f"mingle-{uuid.uuid4().hex[:12]}", clean_session=True)
        cfg = self.config
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password)
        if cfg.tls_ca is not None:
            context = _TlsContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the chain and the host name
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            try:
                context.load_verify_locations(cafile=cfg.tls_ca)
            except (OSError, ValueError) as exc:  # missing, unreadable or not a PEM CA bundle
                raise BrokerError(f"TLS CA file {str(cfg.tls_ca)!r} cannot be used: {exc}") from exc
            client.tls_set_context(context)
            client.tls = context
        client.on_connect_error = self._paho_connect_error
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

    def _paho_connect_error(self, exc: OSError) -> None:
        self._hop(self._on_connect_error, exc)

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
        self._last_failure = ""
        log.info("connected to %s (connect #%d)", self.config.url, self.connects)
        client = self._client
        if client is None:
            return
        if self.subscriptions:
            client.subscribe(list(self.subscriptions))
        if self.status is not None:
            self.publish(self.status, self.online_payload, qos=1, retain=True)
        self.connected.set()

    def _on_connect_error(self, exc: OSError) -> None:
        url = self.config.url
        if isinstance(exc, ssl.SSLError):
            hint = ""
            if isinstance(exc, ssl.SSLCertVerificationError):
                hint = f" (is {str(self.config.tls_ca)!r} the CA that signed the broker's certificate for this host?)"
            message = f"TLS handshake with {url} failed: {exc}{hint}"
            if self.connects == 0 and self.error is None:
                log.error("%s; giving up", message)
                self.error = BrokerError(message)
                self.broken.set()
                return
            log.error("%s (retrying)", message)
            return
        message = f"cannot connect to {url}: {exc}"
        if message != self._last_failure:  # the first of a run of identical failures
            log.warning("%s (retrying with backoff)", message)
        self._last_failure = message

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
            if len(self._pending) > self._prune_at:
                self._pending = [i for i in self._pending if not i.is_published()]
                # (Amortised: during an outage nothing is acknowledged, and rescanning the whole
                # list at every publish would cost more the longer it lasts.)
                self._prune_at = max(1000, 2 * len(self._pending))
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
