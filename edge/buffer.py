"""Bounded store-and-forward of encoded messages while the broker is unreachable.

Messages leave in the order they arrived. The publisher looks at :meth:`peek`, publishes,
and only :meth:`ack`-s once the broker acknowledged (QoS 1), so a message in flight when
the link drops is sent again after the reconnect. Beyond ``capacity`` the *oldest*
message is dropped and counted: the freshest readings are worth most to a live pipeline.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["Outbound", "StoreAndForward"]


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message waiting to be published."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.payload, bytes):
            raise TypeError(f"payload must be bytes, got {type(self.payload).__name__}")
        if self.qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {self.qos!r}")


class StoreAndForward:
    """A FIFO of at most ``capacity`` messages (inclusive) with counted drop-oldest."""

    def __init__(self, capacity: int = 3600) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = capacity
        self.dropped = 0
        self.delivered = 0
        self._queue: deque[Outbound] = deque()

    def push(self, message: Outbound) -> None:
        if len(self._queue) >= self.capacity:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(message)

    def peek(self) -> Outbound | None:
        return self._queue[0] if self._queue else None

    def ack(self, message: Outbound) -> None:
        """The broker has ``message``; remove it unless it was already dropped for space."""
        if self._queue and self._queue[0] is message:
            self._queue.popleft()
            self.delivered += 1

    def __len__(self) -> int:
        return len(self._queue)
