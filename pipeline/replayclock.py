"""A recording's own clock: which messages each tick of a replay takes.

Each message's time is its recorded arrival ``t`` or, failing that, its payload's ``sent``;
a tick runs at every multiple of ``tick_s`` as the clock passes it, with the messages that
arrived before it. A time outside the wire's range (``TS_MIN`` .. ``TS_MAX``: a clock in
milliseconds, an unset clock) does not move the clock (the message still goes to the
pipeline, which rejects it with its reason), and a silence of more than ``MAX_GAP_S`` (the
recorder stopped overnight) is crossed with one tick, not one per second of it.

A replay's read-ahead process runs it without loading the detection core.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from mingle_wire import RecordedMessage
from mingle_wire.messages import TS_MAX, TS_MIN

from .ingested import Message

__all__ = ["MAX_GAP_S", "tick_batches"]

#: A silence longer than this (s) is crossed with one tick: every window and grace has long
#: run out by then, so the empty ticks between would change nothing but the frames' count.
MAX_GAP_S = 600.0


def _time_of(msg: RecordedMessage, last: float) -> float:
    t: object = msg.t
    if t is None and isinstance(msg.payload, dict):
        t = msg.payload.get("sent")
    if isinstance(t, (int, float)) and not isinstance(t, bool) and TS_MIN <= t <= TS_MAX:
        return float(t)
    return last


def tick_batches(messages: Iterable[RecordedMessage], tick_s: float = 1.0) -> Iterator[tuple[float, list[Message]]]:
    """Each tick's time and the messages (topic, payload) it takes, in arrival order, on the
    recording's own clock. Ticks with no message are yielded too (a tick with nothing new
    still moves every window and clock)."""
    if not tick_s > 0:
        raise ValueError(f"tick_s must be > 0 seconds, got {tick_s!r}")
    pending: list[Message] = []
    next_tick: float | None = None
    clock = -math.inf
    for msg in messages:
        t = _time_of(msg, clock)
        if next_tick is None:
            if not math.isfinite(t):
                pending.append((msg.topic, msg.payload))
                continue
            next_tick = (math.floor(t / tick_s) + 1) * tick_s
        clock = max(clock, t)
        while clock >= next_tick:
            yield next_tick, pending
            pending = []
            next_tick += tick_s
            if clock - next_tick > MAX_GAP_S:  # a long silence: on to the tick before the clock
                next_tick += math.floor((clock - next_tick) / tick_s) * tick_s
        pending.append((msg.topic, msg.payload))
    if next_tick is not None:
        yield next_tick, pending
