"""Feed positions held between two drains of the ingest: a few per badge, bounded, and the
newest that is not stamped ahead of the clock handed on."""

from __future__ import annotations

import math

from mingle_wire import Position

__all__ = ["POSITIONS_HELD", "SURELY_AHEAD_S", "HeldPositions"]

#: A feed sends a badge's position a few times a second at most; of more between two drains,
#: the oldest are let go (the newest not stamped ahead is the one a drain hands on).
POSITIONS_HELD = 16

#: Beyond the last drain's limit by more than this, a position is ahead of any tick to come (a
#: replay crosses a longer silence with one tick: ``pipeline.replay.MAX_GAP_S``).
SURELY_AHEAD_S = 600.0


def _stamp(p: Position) -> float:
    return p.ts


class HeldPositions:
    """Positions per badge index, in arrival order, until :meth:`take`. ``ahead_s``: how far
    ahead of the clock a position may be stamped; ``clock``: the last drain's (None: none)."""

    def __init__(self, ahead_s: float) -> None:
        self.ahead_s = ahead_s
        self.clock: float | None = None
        self.by_badge: dict[int, list[Position]] = {}

    def add(self, idx: int, p: Position) -> bool:
        """Hold ``p`` for badge ``idx``; True when that let go of a position stamped more than
        ``SURELY_AHEAD_S`` past the last clock's limit (the caller rejects it as ahead)."""
        held = self.by_badge.setdefault(idx, [])
        held.append(p)
        return len(held) > POSITIONS_HELD and self._let_go(held)

    def _let_go(self, held: list[Position]) -> bool:
        """One of a badge's positions held past :data:`POSITIONS_HELD` goes: the oldest, but never
        the newest of those the last drain's clock would pass (a flood stamped ahead must not push
        out the good one; ticks a minute apart make most of a fast feed's positions look ahead of
        the last drain, yet they are on time for the next). It is superseded, as the drain would
        pass it over for a newer one; one stamped more than ``SURELY_AHEAD_S`` past the last
        drain's limit cannot be on time for any tick (True)."""
        limit = math.inf if self.clock is None else self.clock + self.ahead_s
        keep = max((p for p in held if p.ts <= limit), key=_stamp, default=None)
        gone = min((p for p in held if p is not keep), key=_stamp)
        held[:] = [p for p in held if p is not gone]
        return gone.ts > limit + SURELY_AHEAD_S

    def take(self, now: float | None) -> tuple[dict[int, Position], int]:
        """Each badge's newest position stamped at most ``ahead_s`` after ``now`` (of equal stamps,
        the last to arrive), and how many were stamped later; those do not hide an earlier one.
        Empties the hold, and ``now`` is its clock from then on."""
        limit = math.inf if now is None else now + self.ahead_s
        out: dict[int, Position] = {}
        ahead = 0
        for idx, held in self.by_badge.items():
            best = None
            for p in held:
                if p.ts > limit:
                    ahead += 1
                elif best is None or p.ts >= best.ts:
                    best = p
            if best is not None:
                out[idx] = best
        self.by_badge = {}
        self.clock = now
        return out, ahead
