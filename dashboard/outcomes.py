"""Did a nudge work? Judged frame by frame, for the dashboard's "nudges that worked" KPI.

A nudge *worked* when, within ``within_s`` of it, the nudged badge is placed, stands in no
cluster dominated by its own company (a cluster whose homogeneity reaches the venue's huddle
threshold) and more than ``radius_m`` from the median position of the rest of its huddle
(the alert's other members), for ``hold_s`` seconds without a break; it *did not* when
``within_s`` passes without that. Still-open nudges count in neither. At most ``max_open``
nudges are followed at once (a flood cannot grow memory; the rest are not judged).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mingle_wire import Frame

__all__ = ["NudgeOutcomes"]


@dataclass(slots=True)
class _Open:
    badge: str
    company: str
    alert: str
    ts: float
    away_since: float | None = None


class NudgeOutcomes:
    """Counts of nudges that worked and did not, and the ones still being watched."""

    def __init__(self, *, within_s: float, hold_s: float, radius_m: float, max_open: int) -> None:
        self.within_s = within_s
        self.hold_s = hold_s
        self.radius_m = radius_m
        self.max_open = max_open
        self.worked = 0
        self.failed = 0
        self._open: list[_Open] = []

    @property
    def open(self) -> int:
        return len(self._open)

    def add(self, badge: str, company: str, alert: str, ts: float) -> None:
        """Follow the nudge of ``alert`` to ``badge`` (of ``company``) sent at ``ts``."""
        if len(self._open) < self.max_open:
            self._open.append(_Open(badge, company, alert, ts))

    def judge(self, frame: Frame, homogeneity: float, members_of: Callable[[str], Sequence[str] | None]) -> None:
        """Advance every open nudge by ``frame``; ``members_of(alert)`` gives an alert's members,
        ``None`` when the alert is unknown (then only the clusters can tell)."""
        if not self._open:
            return
        placed = {b.badge: (b.x, b.y) for b in frame.badges}
        dominated_by: dict[str, str | None] = {}
        for c in frame.clusters:
            dominant = c.company if c.homogeneity >= homogeneity else None
            for m in c.members:
                dominated_by[m] = dominant
        still: list[_Open] = []
        for p in self._open:
            if frame.ts < p.ts:
                still.append(p)
                continue
            away = (
                p.badge in placed
                and dominated_by.get(p.badge) != p.company
                and self._left_huddle(p.badge, members_of(p.alert), placed)
            )
            if away:
                if p.away_since is None:
                    p.away_since = frame.ts
                if frame.ts - p.away_since >= self.hold_s and frame.ts - p.ts <= self.within_s:
                    self.worked += 1
                    continue
            else:
                p.away_since = None
            if frame.ts - p.ts > self.within_s:
                self.failed += 1
                continue
            still.append(p)
        self._open = still

    def _left_huddle(
        self, badge: str, members: Sequence[str] | None, placed: Mapping[str, tuple[float, float]]
    ) -> bool:
        """Is ``badge`` farther than ``radius_m`` from the rest of its alert's huddle?"""
        if members is None:
            return True
        rest = [placed[m] for m in members if m != badge and m in placed]
        if not rest:
            return True
        cx = statistics.median(q[0] for q in rest)
        cy = statistics.median(q[1] for q in rest)
        x, y = placed[badge]
        return (x - cx) ** 2 + (y - cy) ** 2 > self.radius_m**2
