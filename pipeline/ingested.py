"""What an ingest hands the tick: badge indices, and what it drained, as arrays.

:class:`BadgeIndex` numbers badge ids (and other transmitters) as they first appear;
:class:`Drained` is one drain of an :class:`~.ingest.Ingest` — what ``step`` ticks on, and
what a replay's read-ahead process sends its parent each tick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from mingle_wire import Pause, Position

__all__ = ["BadgeIndex", "Contacts", "Drained", "Message"]

Message = tuple[str, bytes | str | dict[str, Any]]  # (topic, payload) as it arrived


class BadgeIndex:
    """Stable integer indices for badge ids (and other transmitters), capped at ``capacity``."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self.ids: list[str] = []
        self._index: dict[str, int] = {}

    def get(self, badge: str) -> int | None:
        idx = self._index.get(badge)
        if idx is None and len(self.ids) < self.capacity:
            idx = len(self.ids)
            self.ids.append(badge)
            self._index[badge] = idx
        return idx

    def find(self, badge: str) -> int | None:
        return self._index.get(badge)

    def find_all(self, badges: list[str]) -> list[int | None]:
        """:meth:`find` for each of ``badges``, in one C-level pass."""
        return list(map(self._index.get, badges))

    @property
    def index(self) -> Mapping[str, int]:
        """Id → index, read-only."""
        return self._index

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Drained:
    """Accepted input since the last drain: readings as aligned arrays, latest position per badge,
    attendees' pause requests in arrival order, and badges' neighbour reports (one per
    reporter, report and neighbour, however many gateways relayed it) as aligned arrays."""

    badge: npt.NDArray[np.int64]
    gateway: npt.NDArray[np.int64]
    ts: npt.NDArray[np.float64]
    rssi: npt.NDArray[np.float64]
    positions: dict[int, Position]
    pauses: tuple[Pause, ...] = ()
    contacts: Contacts | None = None


@dataclass(frozen=True, slots=True)
class Contacts:
    """Neighbour reports as aligned arrays: ``badge`` heard ``near`` at ``rssi`` dBm (its best
    in the report period); ``ts`` when the first gateway received the report."""

    badge: npt.NDArray[np.int64]
    near: npt.NDArray[np.int64]
    rssi: npt.NDArray[np.float64]
    ts: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.badge.shape[0])
