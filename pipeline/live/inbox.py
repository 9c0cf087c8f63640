"""The bounded ingest queue between the broker and the tick.

Policy: **drop-oldest**. When the service falls behind, the newest readings are the ones
that place people now; the oldest would soon fall out of the RSSI window anyway. Every
drop is counted (``dropped``) and reported on ``pipeline/status``. Only the event loop's
thread touches an :class:`Inbox` (the MQTT bridge hops threads before calling ``put``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["Inbox", "Received"]


@dataclass(frozen=True, slots=True)
class Received:
    """One inbound message: ``topic``, raw ``payload`` and arrival time ``t`` (Unix s)."""

    topic: str
    payload: bytes
    t: float


class Inbox:
    """FIFO of at most ``maxlen`` messages; beyond that the oldest is dropped and counted."""

    def __init__(self, maxlen: int = 100_000) -> None:
        if not maxlen >= 1:
            raise ValueError(f"maxlen must be >= 1 message, got {maxlen!r}")
        self.maxlen = maxlen
        self._q: deque[Received] = deque()
        self.received = 0
        self.dropped = 0

    def put(self, topic: str, payload: bytes, t: float) -> None:
        if len(self._q) >= self.maxlen:
            self._q.popleft()
            self.dropped += 1
        self._q.append(Received(topic, payload, t))
        self.received += 1

    def take(self) -> list[Received]:
        """Everything queued, oldest first; the inbox is empty afterwards."""
        out = list(self._q)
        self._q.clear()
        return out

    def __len__(self) -> int:
        return len(self._q)
