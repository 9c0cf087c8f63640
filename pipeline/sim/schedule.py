"""When each person is at the event: arrivals early, departures late, session after session.

The event runs in sessions of ``duration_s``. In the first, three quarters of the people
are there at the start and the rest arrive uniformly over the first third; about a third
leave during the last third. For an open-ended run (the live demo) every later session
repeats the pattern: whoever is away at a session boundary comes back during its first
third, and a new third leaves during its last third. Residents (booth staff, organizers)
are there throughout.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["Schedule"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_PRESENT_AT_START: Final = 0.75
_LEAVING: Final = 0.35
#: Nobody stays for less than this, seconds.
_MIN_STAY_S: Final = 120.0


class Schedule:
    """Arrival and departure times (Unix seconds) per person; ``inf`` means "not this session"."""

    def __init__(self, resident: BoolArray, start: float, duration_s: float, rng: np.random.Generator) -> None:
        self.start = start
        self.duration_s = duration_s
        self._resident = resident.copy()
        self._rng = rng
        n = resident.shape[0]
        self.arrive: FloatArray = np.full(n, start)
        late = ~resident & (rng.random(n) >= _PRESENT_AT_START)
        self.arrive[late] = start + rng.uniform(0.0, duration_s / 3.0, size=int(late.sum()))
        self.depart: FloatArray = np.full(n, math.inf)
        self.session = 0
        self._draw_departures(start)

    def _draw_departures(self, boundary: float) -> None:
        n = self._resident.shape[0]
        leaving = ~self._resident & (self._rng.random(n) < _LEAVING)
        when = boundary + self.duration_s * self._rng.uniform(2.0 / 3.0, 1.0, size=n)
        ok = leaving & (when >= self.arrive + _MIN_STAY_S)
        self.depart = np.where(ok, when, math.inf)

    def update(self, now: float, present: BoolArray) -> None:
        """Start the next session once ``now`` reaches its boundary; ``present`` is who is on the floor."""
        boundary = self.start + (self.session + 1) * self.duration_s
        while now >= boundary:
            self.session += 1
            away = ~self._resident & (~present | (self.depart <= boundary))
            n = self._resident.shape[0]
            back = boundary + self._rng.uniform(0.0, self.duration_s / 3.0, size=n)
            self.arrive = np.where(away, back, np.minimum(self.arrive, boundary))
            self._draw_departures(boundary)
            boundary = self.start + (self.session + 1) * self.duration_s

    def due(self, now: float) -> BoolArray:
        """Who should be on the floor at ``now``."""
        return (self.arrive <= now) & (now < self.depart)
