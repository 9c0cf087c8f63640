"""The bounded ingest queue between the broker and the tick — the one thread crossing for data.

paho's network thread calls :meth:`Inbox.put` directly (no hop into the event loop per
message: a ``call_soon_threadsafe`` per message costs a wakeup and a GIL hand-over each,
which at thousands of messages a second was most of the live path's overhead); the
event loop's tick calls :meth:`Inbox.take`. Both hold one lock for a few bytecodes.

Policy: **drop-oldest**. When the service falls behind, the newest readings are the ones
that place people now; the oldest would soon fall out of the RSSI window anyway. Every
drop is counted (``dropped``) and reported on ``pipeline/status``.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import NamedTuple

__all__ = ["Inbox", "Received"]


class Received(NamedTuple):
    """One inbound message: ``topic``, raw ``payload`` and arrival time ``t`` (Unix s)."""

    topic: str
    payload: bytes
    t: float


class Inbox:
    """FIFO of at most ``maxlen`` messages; beyond that the oldest is dropped and counted.

    Thread-safe: any thread may :meth:`put` (paho's), any thread may :meth:`take` (the loop's).
    """

    def __init__(self, maxlen: int = 100_000) -> None:
        if not maxlen >= 1:
            raise ValueError(f"maxlen must be >= 1 message, got {maxlen!r}")
        self.maxlen = maxlen
        self._q: deque[Received] = deque()
        self._lock = threading.Lock()
        self.received = 0
        self.dropped = 0

    def put(self, topic: str, payload: bytes, t: float) -> None:
        with self._lock:
            if len(self._q) >= self.maxlen:
                self._q.popleft()
                self.dropped += 1
            self._q.append(Received(topic, payload, t))
            self.received += 1

    def take(self) -> list[Received]:
        """Everything queued, oldest first; the inbox is empty afterwards."""
        with self._lock:
            out = list(self._q)
            self._q.clear()
        return out

    def __len__(self) -> int:
        return len(self._q)
