"""``mingle record``: a live site's inbound traffic into a recording (with arrival ``t``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mingle_wire import RecordingWriter, Topics

from .broker import BrokerConfig, MqttLink

__all__ = ["record"]


async def record(
    broker: BrokerConfig,
    topics: Topics,
    out: Path,
    *,
    seconds: float | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Record ``readings/+`` and ``positions/+`` of ``topics``' site until ``stop`` or ``seconds``.

    Returns the number of messages written; raises :class:`~.broker.BrokerError` when the
    broker cannot be used as configured (TLS). Payloads that are not JSON objects are kept
    verbatim (``raw``), so a replay rejects them exactly as the live service did.
    """
    stop = stop if stop is not None else asyncio.Event()
    count = 0
    with RecordingWriter(out) as writer:

        def write(topic: str, payload: bytes, t: float) -> None:
            nonlocal count
            writer.write(topic, payload, t)
            count += 1

        subs = [(topics.readings(), 1), (topics.positions(), 1), (topics.contacts(), 1), (topics.pause(), 1)]
        async with MqttLink(broker, subscriptions=subs, on_message=write) as link:
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(link.broken.wait())}
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
            for w in waits:
                w.cancel()
            if link.error is not None:
                raise link.error
    return count
