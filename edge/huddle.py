"""The badge's team-huddle button, turned into "pause my nudges" for the pipeline.

A badge whose wearer pressed the button ("we're in a team meeting — don't nudge me")
advertises the huddle flag until it is pressed again. The gateway publishes a
:class:`~mingle_wire.Pause` on ``pauses/<badge>`` for ``hold_s`` seconds and renews it
while the flag stays on (every ``renew_s``), so a badge that leaves the hall lets its pause
lapse on its own; when the flag goes off it publishes a cancel (``until`` = now). Every
gateway that hears the badge does this; the pipeline keeps the latest ``until``, so the
copies are harmless. Pure: ``now`` comes in, messages go out.
"""

from __future__ import annotations

from collections import OrderedDict

from mingle_wire import Pause, Topics, encode_pause

from .buffer import Outbound

__all__ = ["HuddleButton"]


class HuddleButton:
    """``update(badge, flag_on, now)`` per advertisement; returns a pause message to publish, if due.

    ``hold_s``: how long one pause lasts (seconds); ``renew_s``: renew when less than
    ``hold_s - renew_s`` remains; ``capacity``: badges remembered (least recent forgotten).
    """

    def __init__(self, topics: Topics, *, hold_s: float = 600.0, renew_s: float = 300.0, capacity: int = 5000) -> None:
        if not 0 < renew_s <= hold_s:
            raise ValueError(f"renew_s must be in (0, hold_s={hold_s!r}] seconds, got {renew_s!r}")
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1 badge, got {capacity!r}")
        self.topics = topics
        self.hold_s = hold_s
        self.renew_s = renew_s
        self.capacity = capacity
        self.published = 0
        self._until: OrderedDict[str, float] = OrderedDict()

    def update(self, badge: str, flag_on: bool, now: float) -> Outbound | None:
        until = self._until.get(badge)
        if flag_on:
            if until is not None and until - now > self.hold_s - self.renew_s:
                return None
            self._until[badge] = now + self.hold_s
            self._until.move_to_end(badge)
            if len(self._until) > self.capacity:
                self._until.popitem(last=False)
            return self._message(Pause(badge, now + self.hold_s, now, source="button"))
        if until is None:
            return None
        del self._until[badge]
        return self._message(Pause(badge, now, now, source="button")) if until > now else None

    def _message(self, pause: Pause) -> Outbound:
        self.published += 1
        return Outbound(self.topics.pause(pause.badge), encode_pause(pause), 1, False)
