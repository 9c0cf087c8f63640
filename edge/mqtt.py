"""paho-mqtt bridged into asyncio: one event loop, no paho network thread.

paho's socket callbacks register its socket with the running loop (``add_reader`` /
``add_writer``) and a one-second task runs ``loop_misc`` for keepalives — the approach of
aiomqtt. Only the blocking TCP connect runs in the default executor. :class:`Link` is one
connection; :class:`Bridge` owns the reconnect policy (exponential backoff) and drains a
:class:`~edge.buffer.StoreAndForward` in order, acknowledging each QoS 1 message only
after the broker's PUBACK.

Exception tree::

    LinkDownError      the connection failed or dropped (wraps OSError and paho error codes)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .buffer import Outbound, StoreAndForward

__all__ = ["Backoff", "Bridge", "BrokerConfig", "Link", "LinkDownError"]

log = logging.getLogger(__name__)
MessageHandler = Callable[[str, bytes], None]


class LinkDownError(Exception):
    """The MQTT connection failed or dropped."""


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("broker host must not be empty")
        if not 0 < self.port < 65536:
            raise ValueError(f"broker port must be within [1, 65535], got {self.port!r}")

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> BrokerConfig:
        """``mqtt://host[:port]`` (credentials in the URL are accepted too)."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "tcp"):
            raise ValueError(f"--broker must be mqtt://host[:port], got {url!r}")
        kwargs.setdefault("username", parts.username)
        kwargs.setdefault("password", parts.password)
        return cls(host=parts.hostname or "", port=parts.port or 1883, **kwargs)


class Backoff:
    """Exponential reconnect delay in seconds, with seeded jitter of ±20 %."""

    def __init__(self, initial_s: float = 0.5, max_s: float = 30.0, *, seed: int = 0) -> None:
        self.initial_s, self.max_s = initial_s, max_s
        self._rng = random.Random(seed)
        self._next = initial_s

    def reset(self) -> None:
        self._next = self.initial_s

    def next(self) -> float:
        delay = self._next
        self._next = min(self.max_s, self._next * 2)
        return delay * self._rng.uniform(0.8, 1.2)


class Link:
    """One MQTT connection on the running loop; use :meth:`connect` then :meth:`close`."""

    def __init__(self, config: BrokerConfig, *, will: Outbound | None = None, on_message: MessageHandler | None = None):
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._config = config
        self._on_message = on_message
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._connected: asyncio.Future[None] = self._loop.create_future()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self._misc: asyncio.Task[None] | None = None
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=config.client_id, clean_session=True)
        if config.username is not None:
            c.username_pw_set(config.username, config.password)
        if will is not None:
            c.will_set(will.topic, will.payload, will.qos, will.retain)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_msg
        c.on_socket_open = self._on_socket_open
        c.on_socket_close = self._on_socket_close
        c.on_socket_register_write = self._on_register_write
        c.on_socket_unregister_write = self._on_unregister_write
        self._client = c

    # paho's socket callbacks. paho calls them from the thread that drives it: the loop's own
    # (reads, writes, keepalive, close) or, during connect(), the executor's. On the loop's thread
    # they act at once, in paho's order: close() makes paho ask for a write watch (DISCONNECT
    # queued), then flushes and closes the socket; an add_writer put off with call_soon ran only
    # after that, on the closed socket, and asyncio logged "Exception in callback add_writer ...
    # Invalid file descriptor: -1". From the executor they must hop onto the loop, and a socket
    # closed (or no longer paho's) by the time they run is left alone.
    def _on_loop_thread(self, action: Callable[..., None], sock: Any, *args: Any) -> None:
        if threading.get_ident() == self._loop_thread:
            self._if_open(action, sock, *args)
        else:
            self._loop.call_soon_threadsafe(self._if_open, action, sock, *args)

    def _if_open(self, action: Callable[..., None], sock: Any, *args: Any) -> None:
        if sock.fileno() >= 0 and self._client.socket() is sock:
            action(sock, *args)

    def _on_socket_open(self, client: Any, userdata: Any, sock: Any) -> None:
        self._on_loop_thread(self._loop.add_reader, sock, client.loop_read)

    def _on_socket_close(self, client: Any, userdata: Any, sock: Any) -> None:
        # (paho has let go of the socket and closes it next; one closed already was unwatched first)
        self._unwatch(sock)

    def _unwatch(self, sock: Any) -> None:
        if sock.fileno() >= 0:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)

    def _on_register_write(self, client: Any, userdata: Any, sock: Any) -> None:
        self._on_loop_thread(self._loop.add_writer, sock, client.loop_write)

    def _on_unregister_write(self, client: Any, userdata: Any, sock: Any) -> None:
        if sock.fileno() >= 0:
            self._loop.remove_writer(sock)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self._connected.done():
            return
        if reason.is_failure:
            self._connected.set_exception(LinkDownError(f"broker refused the connection: {reason}"))
        else:
            self._connected.set_result(None)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._fail(LinkDownError(f"disconnected: {reason}"))

    def _fail(self, exc: LinkDownError) -> None:
        for fut in (self._connected, self.closed, *self._pending.values()):
            if not fut.done():
                fut.set_exception(exc)
        self._pending.clear()
        self.closed.exception()  # mark retrieved: nobody may be waiting on it

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        fut = self._pending.pop(mid, None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        self._on_publish(client, userdata, mid, None, properties)

    def _on_msg(self, client: Any, userdata: Any, msg: Any) -> None:
        if self._on_message is not None:
            self._on_message(msg.topic, bytes(msg.payload))

    async def _misc_loop(self) -> None:
        """paho's keepalive, once a second. It ends by failing the link, never by raising: an
        exception kept in this task would stop the pings unseen, then escape :meth:`close`."""
        while True:
            await asyncio.sleep(1.0)
            try:
                rc = self._client.loop_misc()
            except Exception as exc:  # paho, or our own socket callbacks it calls: drop the link
                log.error("keepalive failed: %s: %s; dropping the link", type(exc).__name__, exc, exc_info=exc)
                self._fail(LinkDownError(f"keepalive failed: {type(exc).__name__}: {exc}"))
                return
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._fail(LinkDownError("keepalive lost"))
                return

    async def connect(self) -> None:
        cfg = self._config
        try:
            await self._loop.run_in_executor(None, self._client.connect, cfg.host, cfg.port, cfg.keepalive_s)
        except (OSError, ValueError) as exc:
            raise LinkDownError(f"cannot reach {cfg.host}:{cfg.port}: {exc}") from exc
        self._misc = self._loop.create_task(self._misc_loop())
        try:
            await asyncio.wait_for(asyncio.shield(self._connected), cfg.timeout_s)
        except TimeoutError as exc:
            raise LinkDownError(f"no CONNACK from {cfg.host}:{cfg.port} in {cfg.timeout_s} s") from exc

    async def _await_mid(self, rc: int, mid: int, what: str) -> None:
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise LinkDownError(f"{what} failed: {mqtt.error_string(rc)}")
        fut = self._pending.setdefault(mid, self._loop.create_future())
        try:
            await asyncio.wait_for(asyncio.shield(fut), self._config.timeout_s)
        except TimeoutError as exc:
            self._pending.pop(mid, None)
            raise LinkDownError(f"{what}: no acknowledgement in {self._config.timeout_s} s") from exc

    async def publish(self, message: Outbound) -> None:
        """Publish; for QoS ≥ 1 return only once the broker acknowledged it."""
        info = self._client.publish(message.topic, message.payload, message.qos, message.retain)
        if message.qos == 0:
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise LinkDownError(f"publish failed: {mqtt.error_string(info.rc)}")
            return
        await self._await_mid(info.rc, info.mid, f"publish to {message.topic}")

    async def subscribe(self, topic: str, qos: int = 1) -> None:
        rc, mid = self._client.subscribe(topic, qos)
        await self._await_mid(rc, mid or 0, f"subscribe to {topic}")

    async def close(self) -> None:
        """End the connection cleanly, with a DISCONNECT: the broker discards the will, so
        whoever closes must have published what the will would have said (``offline``)."""
        await self._stop_misc()
        if self._open_socket() is not None:  # (also a link we failed ourselves: keepalive)
            self._client.disconnect()
            self._client.loop_write()  # flush DISCONNECT now: paho then closes the socket
        self._finish("closed")

    async def abort(self) -> None:
        """Drop the connection without a DISCONNECT, so the broker publishes the will: for a
        connection that ends without its ``offline`` said (a bug, a cancellation, a dead link)."""
        await self._stop_misc()
        sock = self._open_socket()
        if sock is not None:
            self._unwatch(sock)
            sock.close()  # (paho keeps the closed socket; its callbacks skip it, and nobody uses it)
        self._finish("aborted")

    def _open_socket(self) -> Any | None:
        sock = self._client.socket()
        return sock if sock is not None and sock.fileno() >= 0 else None

    async def _stop_misc(self) -> None:
        if self._misc is not None:
            self._misc.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._misc

    def _finish(self, why: str) -> None:
        self._fail(LinkDownError(why))
        if self._connected.done() and not self._connected.cancelled():
            self._connected.exception()  # mark retrieved


class Bridge:
    """Keep a link up (reconnect with backoff) and drain ``buffer`` into it, in order."""

    def __init__(
        self,
        config: BrokerConfig,
        buffer: StoreAndForward,
        *,
        will: Outbound | None = None,
        on_connect: Callable[[], Iterable[Outbound]] = tuple,
        subscriptions: Iterable[str] = (),
        on_message: MessageHandler | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.config, self.buffer, self.will = config, buffer, will
        self._on_connect, self._subs, self._on_message = on_connect, tuple(subscriptions), on_message
        self.backoff = backoff or Backoff()
        self.wakeup = asyncio.Event()
        self.connects = 0
        self.link: Link | None = None
        self._latest: dict[str, Outbound] = {}  # per topic, the newest of messages that supersede each other

    def push(self, message: Outbound) -> None:
        self.buffer.push(message)
        self.wakeup.set()

    def push_latest(self, message: Outbound) -> None:
        """A message the next one on its topic supersedes (the retained status): only the newest
        waits, outside the store-and-forward buffer, so an outage's statuses neither take the
        readings' places nor overwrite, once delivered, the fresh status sent on reconnect."""
        self._latest[message.topic] = message
        self.wakeup.set()

    async def run(self, stop: asyncio.Event, final: Callable[[], Iterable[Outbound]] = tuple) -> None:
        """Until ``stop`` is set; then publish ``final()`` (e.g. retained ``offline``) and disconnect.

        Only that clean stop sends a DISCONNECT. Every other end of a connection (it dropped, an
        exception out of here, a cancellation) drops it without one, so the broker publishes the
        will: a DISCONNECT would discard it, and the retained status would read ``online`` until
        the next connect, for ever if the gateway dies. Relying on the will rather than publishing
        ``offline`` from here asks nothing of a link in an unknown state, and cannot hang."""
        while not stop.is_set():
            link = Link(self.config, will=self.will, on_message=self._on_message)
            clean = False
            try:
                await link.connect()
                self.link, self.connects = link, self.connects + 1
                self.backoff.reset()
                log.info("connected to %s:%s", self.config.host, self.config.port)
                self._latest.clear()  # (on_connect sends what is fresh now)
                for message in self._on_connect():
                    await link.publish(message)
                for topic in self._subs:
                    await link.subscribe(topic)
                await self._drain(link, stop)
                for message in final():
                    await link.publish(message)
                clean = True
            except LinkDownError as exc:
                log.warning("broker link down: %s", exc)
            finally:
                self.link = None
                await (link.close() if clean else link.abort())
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.backoff.next())

    async def _drain(self, link: Link, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if link.closed.done():
                raise LinkDownError("connection lost")
            if self._latest:
                topic, latest = next(iter(self._latest.items()))
                await link.publish(latest)
                if self._latest.get(topic) is latest:  # (a newer one pushed meanwhile still goes)
                    del self._latest[topic]
                continue
            message = self.buffer.peek()
            if message is None:
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), 0.5)
                continue
            await link.publish(message)
            self.buffer.ack(message)
