"""The alert feed: the latest huddle alerts, their acknowledgements, and which still stand.

:class:`AlertFeed` keeps the last ``max_alerts`` alerts by id (a QoS 1 copy is kept once),
oldest first; an organizer's acknowledgement is kept with its alert. It answers with the
feed's rows (newest first, people named through :class:`~dashboard.people.People`) and
with the alerted huddles still standing in a frame (the "huddles now" KPI, defined in
:mod:`.views`).
"""

from __future__ import annotations

import statistics
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from mingle_wire import Alert, Frame

from .geometry import convex_hull
from .people import People
from .wording import suggestion_words

__all__ = ["AlertFeed"]


@dataclass(slots=True)
class _AlertEntry:
    alert: Alert
    received: float
    acked_at: float | None = None


class AlertFeed:
    """The last ``max_alerts`` alerts, by id."""

    def __init__(self, *, max_alerts: int) -> None:
        self.max_alerts = max_alerts
        self._alerts: OrderedDict[str, _AlertEntry] = OrderedDict()

    def add(self, alert: Alert, now: float) -> None:
        """Keep an alert received at ``now``; a copy of one kept is ignored, the oldest beyond
        ``max_alerts`` is dropped."""
        if alert.id in self._alerts:
            return
        self._alerts[alert.id] = _AlertEntry(alert, now)
        while len(self._alerts) > self.max_alerts:
            self._alerts.popitem(last=False)

    def ack(self, alert_id: str, now: float) -> bool:
        """An organizer acknowledged an alert; False when there is no such alert in the feed."""
        entry = self._alerts.get(alert_id)
        if entry is None:
            return False
        if entry.acked_at is None:
            entry.acked_at = now
        return True

    def members_of(self, alert_id: str) -> tuple[str, ...] | None:
        entry = self._alerts.get(alert_id)
        return None if entry is None else entry.alert.members

    def standing(self, frame: Frame, *, min_size: int, radius_m: float, within_s: float) -> list[dict[str, Any]]:
        """Alerted huddles still standing in ``frame``: alerts of the last ``within_s`` seconds
        (up to ``frame.ts``, inclusive) at least ``min_size`` of whose members are placed within
        ``radius_m`` metres (inclusive) of the members' median position."""
        where = {b.badge: (b.x, b.y) for b in frame.badges}
        radius2 = radius_m**2
        out: list[dict[str, Any]] = []
        for entry in self._alerts.values():
            a = entry.alert
            if frame.ts - a.ts > within_s or frame.ts < a.ts:
                continue
            pts = [where[m] for m in a.members if m in where]
            if len(pts) < min_size:
                continue
            cx = statistics.median(p[0] for p in pts)
            cy = statistics.median(p[1] for p in pts)
            close = [p for p in pts if (p[0] - cx) ** 2 + (p[1] - cy) ** 2 <= radius2]
            if len(close) < min_size:
                continue
            out.append(
                {
                    "alert": a.id,
                    "company": a.company,
                    "x": round(cx, 2),
                    "y": round(cy, 2),
                    "hull": [[round(x, 2), round(y, 2)] for x, y in convex_hull(close)],
                    "size": len(close),
                    "dwell_s": round(frame.ts - a.since, 1),
                    "acked": entry.acked_at is not None,
                }
            )
        return out

    def rows(self, people: People) -> list[dict[str, Any]]:
        """Newest first: who, where, how long, who was nudged, the suggestion, acknowledged or not."""
        out = []
        for entry in reversed(self._alerts.values()):
            a = entry.alert
            out.append(
                {
                    "id": a.id,
                    "ts": a.ts,
                    "since": a.since,
                    "dwell_s": round(a.ts - a.since, 1),
                    "company": a.company,
                    "zone": a.zone,
                    "x": a.x,
                    "y": a.y,
                    "cluster": a.cluster,
                    "who": people.names(a.members),
                    "nudged": people.names(a.nudge),
                    "held_out": a.held_out,
                    "suggestion": suggestion_words(a),
                    "acked": entry.acked_at is not None,
                }
            )
        return out
