"""Pure batching of decoded advertisements into one :class:`ReadingBatch` per window.

Windows are aligned to multiples of ``window_s`` on the gateway's (NTP-synced) clock, so
every gateway's batches cover the same slots. bleak gives no receive time: the shell
passes ``now`` when the callback fires and that is the reading's ``ts``.

A Raspberry Pi has no real-time clock: until NTP sets it, its clock may read 1970. A time
outside the wire's range is no reading's time, so readings heard then are dropped and
counted (``clock_unset``). If NTP sets the clock back, the window in progress (stamped on the
old clock) is dropped and counted (``clock_stepped_back``) and the windows start again from
the new time, instead of waiting for the old window's end to come round.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from mingle_wire import MAX_ITEMS, RSSI_MAX_DBM, RSSI_MIN_DBM, Reading, ReadingBatch, valid_id
from mingle_wire.messages import TS_MAX, TS_MIN

from .advert import BadgeAdvert

__all__ = ["FRESH_S", "NO_RSSI_DBM", "Batcher", "BatcherConfig", "WindowClock", "clock_set", "window_end"]

#: BlueZ's "no RSSI" value; never a measurement.
NO_RSSI_DBM = -127

#: A badge's flags (its huddle button, its battery) are reported while it was heard this recently (s).
FRESH_S = 60.0


def clock_set(now: float) -> bool:
    """Whether ``now`` can be a time on the wire (a clock NTP has not set yet reads 1970)."""
    return TS_MIN <= now <= TS_MAX


def window_end(now: float, window_s: float) -> float:
    """The end (exclusive) of the ``window_s``-long window holding ``now``, both in seconds."""
    return (math.floor(now / window_s) + 1) * window_s


class WindowClock:
    """The windows of ``window_s`` on the gateway's clock: whether the one in progress is over,
    and whether the clock was set back past it (what was gathered belongs to the old clock)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.end: float | None = None

    def begin(self, now: float) -> None:
        """Start the first window at ``now`` if none has started."""
        if self.end is None:
            self.end = window_end(now, self.window_s)

    def tick(self, now: float) -> Literal["running", "over", "restarted"]:
        """``running``; ``over`` (the next window has begun); or ``restarted``: the first window
        begins now, or the clock was set back and windows start again from it."""
        if not clock_set(now):
            return "running"
        if self.end is None or now < self.end - self.window_s:
            self.end = window_end(now, self.window_s)
            return "restarted"
        if now < self.end:
            return "running"
        self.end = window_end(now, self.window_s)
        return "over"


@dataclass(frozen=True, slots=True)
class BatcherConfig:
    """``window_s`` in seconds (> 0); at most ``max_readings`` readings per window (inclusive)."""

    gateway: str
    window_s: float = 1.0
    max_readings: int = MAX_ITEMS

    def __post_init__(self) -> None:
        if not valid_id(self.gateway):
            raise ValueError(f"gateway must be a valid id, got {self.gateway!r}")
        if not (isinstance(self.window_s, (int, float)) and math.isfinite(self.window_s) and self.window_s > 0):
            raise ValueError(f"window_s must be a positive number of seconds, got {self.window_s!r}")
        if not 1 <= self.max_readings <= MAX_ITEMS:
            raise ValueError(f"max_readings must be within [1, {MAX_ITEMS}], got {self.max_readings!r}")


class Batcher:
    """``add(advert, rssi, now)`` readings; ``flush(now)`` returns the window once it is over.

    Drops are counted in :attr:`dropped` by reason: ``no_rssi`` (−127),
    ``rssi_out_of_range`` and ``window_full``.
    """

    def __init__(self, config: BatcherConfig) -> None:
        self.config = config
        self.dropped: Counter[str] = Counter()
        self.accepted = 0
        self._readings: list[Reading] = []
        self._clock = WindowClock(config.window_s)
        self._huddle: dict[str, tuple[bool, float]] = {}  # badge -> its huddle flag, when last heard

    def add(self, advert: BadgeAdvert, rssi_dbm: float, now: float) -> bool:
        """Add one advertisement heard at ``now`` (Unix s) with ``rssi_dbm``; False when dropped."""
        if not clock_set(now):
            self.dropped["clock_unset"] += 1
            return False
        self._clock.begin(now)
        if rssi_dbm == NO_RSSI_DBM:
            self.dropped["no_rssi"] += 1
            return False
        if not RSSI_MIN_DBM <= rssi_dbm <= RSSI_MAX_DBM:
            self.dropped["rssi_out_of_range"] += 1
            return False
        if len(self._readings) >= self.config.max_readings:
            self.dropped["window_full"] += 1
            return False
        self._readings.append(Reading(advert.badge, float(rssi_dbm), now, advert.tx_dbm, advert.seq))
        if advert.kind == "mingle":
            self._huddle[advert.badge] = (advert.huddle, now)
        self.accepted += 1
        return True

    def huddle_badges(self, now: float) -> list[str]:
        """The badges heard with their huddle flag on within the last ``FRESH_S`` (sorted);
        older flags are forgotten."""
        self._huddle = {b: v for b, v in self._huddle.items() if 0 <= now - v[1] <= FRESH_S}
        return sorted(b for b, (on, _) in self._huddle.items() if on)

    def flush(self, now: float) -> ReadingBatch | None:
        """The finished window's batch (possibly empty) once ``now`` reaches its end, else ``None``."""
        state = self._clock.tick(now)
        if state == "restarted" and self._readings:  # the clock was set back
            self.dropped["clock_stepped_back"] += len(self._readings)
            self._readings = []
        if state != "over":
            return None
        batch = ReadingBatch(self.config.gateway, now, tuple(self._readings))
        self._readings = []
        return batch

    @property
    def pending(self) -> int:
        return len(self._readings)
