"""The async shell: a ticker (the clock), the broker link and the service, in one loop.

A :class:`Ticker` yields tick times; :class:`WallTicker` follows the wall clock (scaled
by ``speed`` for the demo), :class:`ManualTicker` lets a test decide when each tick runs.
:func:`run_service` runs until the ticker ends or ``stop`` is set; a tick in progress
always finishes, then the link publishes ``offline`` (retained), flushes and disconnects.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Protocol

from .broker import BrokerConfig, MqttLink
from .service import LiveService, Outbound

__all__ = ["ManualTicker", "Ticker", "WallTicker", "run_service"]

log = logging.getLogger("mingle.live")

OnTick = Callable[[float, list[Outbound]], None]


class Ticker(Protocol):
    async def next(self) -> float | None:
        """The next tick's time (pipeline Unix seconds), or ``None`` to stop."""
        ...

    def done(self, now: float) -> None:
        """Called once the tick at ``now`` ran and its messages were handed to the link."""
        ...


class WallTicker:
    """A tick at every multiple of ``tick_s`` of pipeline time.

    Pipeline time is ``origin + (clock() - start) * speed`` (``origin`` defaults to the
    wall clock at construction, so with ``speed=1`` it is the wall clock). The tick for
    ``now`` runs once pipeline time reaches ``now + delay_s``: gateways close their 1 s
    windows on whole seconds and publish a few milliseconds later (± their clock
    error), so a tick exactly on the second would just miss the second that ended then
    and see it a whole tick later; ``delay_s`` (seconds, >= 0, less than ``tick_s``) lets
    it in. When a tick runs late by more than a whole interval, the missed ticks are
    skipped (counted in ``skipped``): the window is about now, and a backlog of ticks
    would only add lag.
    """

    def __init__(
        self,
        tick_s: float = 1.0,
        *,
        speed: float = 1.0,
        origin: float | None = None,
        delay_s: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not tick_s > 0 or not speed > 0:
            raise ValueError(f"tick_s and speed must be > 0, got {tick_s!r} and {speed!r}")
        if not 0 <= delay_s < tick_s:
            raise ValueError(f"delay_s must be in [0, tick_s={tick_s!r}) seconds, got {delay_s!r}")
        self.tick_s = tick_s
        self.speed = speed
        self.clock = clock
        self.start = clock()
        self.origin = self.start if origin is None else origin
        self.delay_s = delay_s
        self.skipped = 0
        self._next = (math.floor((self.now() - delay_s) / tick_s) + 1) * tick_s

    def now(self) -> float:
        """Pipeline time (Unix seconds)."""
        return self.origin + (self.clock() - self.start) * self.speed

    async def next(self) -> float | None:
        wait = (self._next + self.delay_s - self.now()) / self.speed
        if wait > 0:
            await asyncio.sleep(wait)
        late = math.floor((self.now() - self.delay_s - self._next) / self.tick_s)
        if late >= 1:
            self.skipped += late
            self._next += late * self.tick_s
        now = self._next
        self._next += self.tick_s
        return now

    def done(self, now: float) -> None:
        return None


class ManualTicker:
    """Ticks when told: ``await ticker.tick(now)`` returns after that tick ran."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[tuple[float, asyncio.Future[None]] | None] = asyncio.Queue(maxsize=1)
        self._current: asyncio.Future[None] | None = None

    async def tick(self, now: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((now, fut))
        await fut

    async def stop(self) -> None:
        await self._queue.put(None)

    async def next(self) -> float | None:
        item = await self._queue.get()
        if item is None:
            return None
        self._current = item[1]
        return item[0]

    def done(self, now: float) -> None:
        if self._current is not None and not self._current.done():
            self._current.set_result(None)
        self._current = None


async def run_service(
    service: LiveService,
    broker: BrokerConfig,
    ticker: Ticker,
    *,
    stop: asyncio.Event | None = None,
    on_tick: OnTick | None = None,
    ready: Callable[[MqttLink], None] | None = None,
) -> None:
    """Run ``service`` against ``broker`` on ``ticker`` until it ends or ``stop`` is set.

    Raises :class:`~.broker.BrokerError` when the broker cannot be used as configured
    (a TLS CA file that does not load, a certificate that does not verify).
    """
    stop = stop if stop is not None else asyncio.Event()
    link = MqttLink(
        broker,
        subscriptions=service.subscriptions,
        inbox=service.inbox,
        status=service.topics.pipeline_status,
        online_payload=service.status_payload("online"),
        offline_payload=service.status_payload("offline"),
    )
    async with link:
        service.status_extra = lambda: {
            "broker": {
                "connects": link.connects,
                "disconnects": link.disconnects,
                "publish_failed": link.publish_failed,
            }
        }
        if ready is not None:
            ready(link)
        stopping = asyncio.ensure_future(stop.wait())
        broken = asyncio.ensure_future(link.broken.wait())
        try:
            while True:
                upcoming = asyncio.ensure_future(ticker.next())
                await asyncio.wait({upcoming, stopping, broken}, return_when=asyncio.FIRST_COMPLETED)
                if link.error is not None:
                    upcoming.cancel()
                    raise link.error
                if not upcoming.done():
                    upcoming.cancel()
                    break
                now = upcoming.result()
                if now is None:
                    break
                try:
                    out = service.tick(now)
                except Exception:  # a bug in one tick must not take the venue down: log, count, go on
                    log.exception("tick at %.3f failed; its messages are lost", now)
                    service.tick_errors += 1
                    try:
                        out = service.status_due(now)
                    except Exception:
                        log.exception("the status at %.3f failed too", now)
                        out = []
                for m in out:
                    link.publish(m.topic, m.payload, qos=m.qos, retain=m.retain)
                if on_tick is not None:
                    on_tick(now, out)
                ticker.done(now)
        finally:
            stopping.cancel()
            broken.cancel()
