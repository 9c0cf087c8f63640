"""Between the broker and the browsers: a bounded inbox in, one latest-value slot per tab out.

:class:`Hub` is synchronous except for the slots' wake-up events. ``receive`` (called on
the event loop by the MQTT bridge) only queues; ``drain(now)`` decodes and applies what
was queued to the :class:`DashboardState` and, when anything changed, renders the live
view once and offers the same bytes to every tab's :class:`LatestSlot`. A slot holds only
the newest view: a slow tab skips views (counted), it never builds a backlog.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from mingle_wire import DecodeError, Topics, alert_from_dict, dumps, frame_from_dict, loads, valid_id

from .state import DashboardState

__all__ = ["Hub", "LatestSlot"]

log = logging.getLogger("mingle.dashboard")


class LatestSlot:
    """One value, latest wins: ``put`` replaces what a slow reader has not taken yet (counted)."""

    def __init__(self) -> None:
        self._value: bytes | None = None
        self._ready = asyncio.Event()
        self.replaced = 0
        self.closed = False

    def put(self, value: bytes) -> None:
        if self._value is not None:
            self.replaced += 1
        self._value = value
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def get(self) -> bytes | None:
        """The newest value (waits for one); ``None`` once closed."""
        await self._ready.wait()
        self._ready.clear()
        value, self._value = self._value, None
        return None if self.closed else value


class Hub:
    """The inbox (bounded, drop-oldest, drops counted), the state, and the tabs' slots."""

    def __init__(self, state: DashboardState, topics: Topics, *, inbox_max: int = 10_000) -> None:
        if inbox_max < 1:
            raise ValueError(f"inbox_max must be >= 1, got {inbox_max!r}")
        self.state = state
        self.topics = topics
        self.inbox: deque[tuple[str, bytes]] = deque()
        self.inbox_max = inbox_max
        self.dropped = 0
        self.rejected = 0
        self.slots: set[LatestSlot] = set()
        self.wakeup = asyncio.Event()
        self.live: bytes = dumps(state.live_view(0.0))
        self._base = topics.base + "/"

    @property
    def subscriptions(self) -> list[tuple[str, int]]:
        t = self.topics
        return [(t.frames, 0), (t.alerts, 1), (t.nudge(), 1), (t.gateway_status(), 1), (t.pipeline_status, 1)]

    def receive(self, topic: str, payload: bytes, t: float = 0.0) -> None:
        if len(self.inbox) >= self.inbox_max:
            self.inbox.popleft()
            self.dropped += 1
        self.inbox.append((topic, payload))
        self.wakeup.set()

    def _apply(self, topic: str, payload: bytes, now: float) -> bool:
        if not topic.startswith(self._base):
            return False
        rest = topic[len(self._base) :].split("/")
        obj = loads(payload)
        if not isinstance(obj, dict):
            raise DecodeError("not_object", "payload is not a JSON object")
        st = self.state
        if rest == ["frames"]:
            st.apply_frame(frame_from_dict(obj), now)
        elif rest == ["alerts"]:
            st.apply_alert(alert_from_dict(obj), now)
        elif len(rest) == 2 and rest[0] == "nudges" and valid_id(rest[1]):
            return st.apply_nudge(rest[1], obj, now)
        elif len(rest) == 3 and rest[0] == "gateways" and rest[2] == "status":
            return st.apply_gateway_status(rest[1], obj, now)
        elif rest == ["pipeline", "status"]:
            st.apply_pipeline_status(obj, now)
        else:
            return False
        return True

    def drain(self, now: float) -> bool:
        """Apply everything queued; publish a fresh view to every tab if anything changed."""
        changed = False
        while self.inbox:
            topic, payload = self.inbox.popleft()
            try:
                changed |= self._apply(topic, payload, now)
            except (DecodeError, TypeError, ValueError, KeyError, OverflowError) as exc:
                self.rejected += 1
                if self.rejected <= 5 or self.rejected % 1000 == 0:
                    log.warning("ignored a message on %s: %s (%d so far)", topic, exc, self.rejected)
        if changed:
            self.publish(now)
        return changed

    def publish(self, now: float) -> None:
        """Render the live view once and offer it to every tab."""
        self.live = dumps(self.state.live_view(now))
        for slot in self.slots:
            slot.put(self.live)

    def attach(self) -> LatestSlot:
        slot = LatestSlot()
        slot.put(self.live)
        self.slots.add(slot)
        return slot

    def detach(self, slot: LatestSlot) -> None:
        slot.close()
        self.slots.discard(slot)
