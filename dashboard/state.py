"""What the dashboard knows: the pure, synchronous core behind the map and the phone pages.

:class:`DashboardState` takes the pipeline's decoded outputs (frames, alerts, nudges,
gateway and pipeline statuses), each with ``now`` (the caller's clock: the wall clock
live, the demo's scaled clock in the demo), and answers with JSON-ready views. It never
reads a clock, never does I/O and never imports a web framework.

Privacy is applied once, by :class:`~dashboard.people.People`, which every view names
people through.

KPI definitions (``docs/dashboard.md`` has the prose):

- **people placed**: roster badges in the latest frame whose role counts (not staff or
  organizers — the venue policy's ``exempt_roles``).
- **live mixing index**: the share of placed people standing in a group (a cluster of at
  least two counted members) that is *not* dominated by one company (its homogeneity is
  below the venue policy's huddle threshold).
- **huddles now**: alerted huddles still standing: an alert of the last ``history_s`` at
  least ``min_size`` of whose members are placed within ``huddle_radius_m`` of the
  members' median position in the latest frame (4.5 m: RSSI positions are good to
  2–4 m). Alerts name their own huddle tracks, not the frame's DBSCAN clusters, so the
  map finds a huddle by its members.
- **nudges sent**: distinct ``nudges/<badge>`` messages seen.
- **nudges that worked**: judged by :mod:`.outcomes` with ``worked_within_s`` (5 min),
  ``worked_hold_s`` (10 s) and ``huddle_radius_m``: the nudged badge left its huddle and
  stands in no group its company dominates, for 10 s, within 5 minutes.

Decoded values are checked by :mod:`.checks` before any view renders them; the words for a
suggestion are :mod:`.wording`'s.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mingle_wire import Alert, Frame
from pipeline.roster import Roster
from pipeline.venue import Venue

from .alerts import AlertFeed
from .checks import check_alert, check_frame
from .geometry import convex_hull
from .health import Health
from .history import FrameHistory
from .nudges import NudgeInbox, NudgeRecord
from .outcomes import NudgeOutcomes
from .people import People

__all__ = ["FRAME_REORDER_S", "DashboardState", "StateConfig"]

#: A frame older than the newest by at most this (s) was overtaken in transit and is dropped;
#: one older still means the pipeline's clock went back, and the map follows it.
FRAME_REORDER_S = 30.0


@dataclass(frozen=True, slots=True)
class StateConfig:
    """Bounds and windows (seconds; counts inclusive).

    ``history_s`` of frames are kept for the time slider, one every ``history_every_s``
    (30 min at 5 s = 360 frames; each is kept as its compact JSON, zlib-compressed: about
    135 kB at 2,000 badges in groups, 30–40 kB compressed, so the history stays near 12 MB).
    """

    history_s: float = 1800.0
    history_every_s: float = 5.0
    alert_feed_max: int = 200
    nudges_per_badge: int = 5
    worked_within_s: float = 300.0
    worked_hold_s: float = 10.0
    gateway_stale_s: float = 30.0
    pending_max: int = 10_000
    huddle_radius_m: float = 4.5

    def __post_init__(self) -> None:
        for name in ("history_s", "history_every_s", "worked_within_s", "gateway_stale_s", "huddle_radius_m"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be seconds > 0, got {value!r}")
        if not (isinstance(self.worked_hold_s, (int, float)) and 0 <= self.worked_hold_s <= self.worked_within_s):
            raise ValueError(f"worked_hold_s must be in [0, worked_within_s], got {self.worked_hold_s!r}")
        for name in ("alert_feed_max", "nudges_per_badge", "pending_max"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


class DashboardState:
    """The dashboard's memory; every method takes ``now`` (Unix seconds) where time matters."""

    def __init__(self, venue: Venue, roster: Roster, config: StateConfig | None = None) -> None:
        self.venue = venue
        self.roster = roster
        self.config = config if config is not None else StateConfig()
        self.frame: Frame | None = None
        self.frame_received: float | None = None
        self._people = People(roster, exempt_roles=venue.policy.exempt_roles)
        self.companies = self._people.companies
        self._alerts = AlertFeed(max_alerts=self.config.alert_feed_max)
        self._inbox = NudgeInbox(per_badge=self.config.nudges_per_badge)
        self.nudges_sent = 0
        cfg = self.config
        self._outcomes = NudgeOutcomes(
            within_s=cfg.worked_within_s,
            hold_s=cfg.worked_hold_s,
            radius_m=cfg.huddle_radius_m,
            max_open=cfg.pending_max,
        )
        self._health = Health([g.id for g in venue.gateways], stale_s=cfg.gateway_stale_s)
        self._history = FrameHistory(span_s=cfg.history_s, every_s=cfg.history_every_s)
        self.dropped_nudges = 0

    # --- who may be shown ---------------------------------------------------------------
    def public_id(self, badge: str) -> str | None:
        """The badge id a view may show: ``None`` for opted-out and off-roster badges."""
        return self._people.public_id(badge)

    def display_name(self, badge: str) -> str:
        return self._people.display_name(badge)

    # --- inputs -------------------------------------------------------------------------
    def apply_frame(self, frame: Frame, now: float) -> None:
        """Take the newest frame; keep it for the slider every ``history_every_s`` of frame time."""
        check_frame(frame)
        if self.frame is not None and frame.ts < self.frame.ts:
            if self.frame.ts - frame.ts <= FRAME_REORDER_S:
                return  # an old frame overtaken in transit (frames are QoS 0)
            # Far older: the pipeline's clock was set back (or it was restarted on another
            # clock). The map follows it; the slider's history, in the old time, is dropped.
            self._history.clear()
        self.frame = frame
        self.frame_received = now
        self._outcomes.judge(frame, self.venue.policy.homogeneity, self._alerts.members_of)
        self._history.add(frame.ts, lambda: self.frame_view(frame))

    def apply_alert(self, alert: Alert, now: float) -> None:
        check_alert(alert)
        self._alerts.add(alert, now)

    def apply_nudge(self, badge: str, payload: Mapping[str, Any], now: float) -> bool:
        """Keep a ``nudges/<badge>`` message for that attendee's phone; False when it is not kept.

        Only roster badges are kept (a flood of made-up badge ids cannot grow memory), at
        most ``nudges_per_badge`` each.
        """
        attendee = self.roster.get(badge)
        if attendee is None or payload.get("badge") != badge:
            self.dropped_nudges += 1
            return False
        try:
            record = NudgeRecord(payload["alert"], payload["ts"], payload["text"])
        except (KeyError, TypeError, ValueError):
            self.dropped_nudges += 1
            return False
        if not self._inbox.add(badge, record):
            return False
        self.nudges_sent += 1
        self._outcomes.add(badge, attendee.company, record.alert, float(record.ts))
        return True

    def apply_gateway_status(self, gateway: str, payload: Mapping[str, Any], now: float) -> bool:
        """Keep a ``gateways/<gateway>/status`` (:meth:`.Health.apply_gateway_status`)."""
        return self._health.apply_gateway_status(gateway, payload, now)

    def apply_pipeline_status(self, payload: Mapping[str, Any], now: float) -> None:
        """Keep a ``pipeline/status`` (:meth:`.Health.apply_pipeline_status`)."""
        self._health.apply_pipeline_status(payload, now)

    def ack(self, alert_id: str, now: float) -> bool:
        """An organizer acknowledged an alert; False when there is no such alert in the feed."""
        return self._alerts.ack(alert_id, now)

    def pause(self, badge: str, until: float) -> None:
        """Remember an attendee's pause (the pipeline is told over MQTT; this is for their page)."""
        if badge in self.roster:
            self._inbox.pause(badge, until)

    # --- views --------------------------------------------------------------------------
    def active_huddles(self, frame: Frame) -> list[dict[str, Any]]:
        """Alerted huddles still standing in ``frame`` (see "huddles now" in the module docstring)."""
        cfg = self.config
        return self._alerts.standing(
            frame, min_size=self.venue.policy.min_size, radius_m=cfg.huddle_radius_m, within_s=cfg.history_s
        )

    def frame_view(self, frame: Frame) -> dict[str, Any]:
        """A frame for the map: badges ``[id or null, x, y, company index or -1]``, clusters with hulls."""
        where: dict[str, tuple[float, float]] = {}
        badges: list[list[Any]] = []
        anonymous: list[list[Any]] = []
        for b in frame.badges:
            where[b.badge] = (b.x, b.y)
            colour = self._people.colour(b.badge)
            if colour is not None:
                badges.append([b.badge, round(b.x, 2), round(b.y, 2), colour])
            else:
                anonymous.append([None, round(b.x, 2), round(b.y, 2), -1])
        # Anonymous dots after the named ones, in an order of where they stand: in the frame's order
        # (by badge id) a dot between two named badges would tell which id it is.
        badges.extend(sorted(anonymous, key=lambda d: (d[1], d[2])))
        clusters = []
        for c in frame.clusters:
            pts = [where[m] for m in c.members if m in where]
            hull = convex_hull(pts) if pts else [(c.x, c.y)]
            clusters.append(
                {
                    "id": c.id,
                    "x": round(c.x, 2),
                    "y": round(c.y, 2),
                    "hull": [[round(x, 2), round(y, 2)] for x, y in hull],
                    "size": len(c.members),
                    "company": c.company,
                    "homogeneity": round(c.homogeneity, 3),
                    "dwell_s": round(max(0.0, frame.ts - c.since), 1),
                    "zone": c.zone,
                }
            )
        return {"ts": frame.ts, "badges": badges, "clusters": clusters, "huddles": self.active_huddles(frame)}

    def kpis(self) -> dict[str, Any]:
        frame = self.frame
        placed = mixed = huddles = clusters = 0
        if frame is not None:
            placed_set = {b.badge for b in frame.badges if self._people.counted(b.badge)}
            placed = len(placed_set)
            clusters = len(frame.clusters)
            threshold = self.venue.policy.homogeneity
            for c in frame.clusters:
                members = [m for m in c.members if m in placed_set]
                if len(members) >= 2 and c.homogeneity < threshold:
                    mixed += len(members)
            huddles = len(self.active_huddles(frame))
        o = self._outcomes
        return {
            "placed": placed,
            "clusters": clusters,
            "mixing_index": round(mixed / placed, 3) if placed else None,
            "huddles": huddles,
            "nudges_sent": self.nudges_sent,
            "nudges_worked": o.worked,
            "nudges_judged": o.worked + o.failed,
            "nudges_open": o.open,
        }

    def alert_feed(self) -> list[dict[str, Any]]:
        """Newest first: who, where, how long, who was nudged, the suggestion, acknowledged or not."""
        return self._alerts.rows(self._people)

    def gateway_health(self, now: float) -> list[dict[str, Any]]:
        return self._health.gateway_health(now)

    def pipeline_health(self, now: float) -> dict[str, Any]:
        return self._health.pipeline_health(now)

    def live_view(self, now: float) -> dict[str, Any]:
        """Everything the map shows now (the WebSocket message)."""
        return {
            "type": "live",
            "now": now,
            "frame": None if self.frame is None else self.frame_view(self.frame),
            "kpis": self.kpis(),
            "alerts": self.alert_feed(),
            "gateways": self.gateway_health(now),
            "pipeline": self.pipeline_health(now),
            "history": self._history.span(),
        }

    def venue_view(self) -> dict[str, Any]:
        """The static part of the map: floor, zones, gateways, companies, and who may be named."""
        v = self.venue
        return {
            "site": v.site,
            "name": v.name,
            "floor": {"width": v.floor.width, "height": v.floor.height},
            "zones": [{"name": z.name, "polygon": [list(p) for p in z.polygon], "nudges": z.nudges} for z in v.zones],
            "gateways": [{"id": g.id, "x": g.x, "y": g.y} for g in v.gateways],
            "companies": list(self.companies),
            "people": self._people.shown(),
        }

    def history_at(self, ts: float) -> bytes | None:
        """The kept frame at or just before ``ts`` (the earliest one for an earlier time)."""
        return self._history.at(ts)

    @property
    def history_bytes(self) -> int:
        """Memory held by the history's frames (compressed)."""
        return self._history.nbytes

    def attendee_view(self, badge: str, now: float) -> dict[str, Any]:
        """One attendee's own nudges, newest first, and their pause; nothing about anyone else."""
        return self._inbox.attendee_view(badge, now)

    @property
    def _nudge_ids(self) -> dict[str, deque[str]]:
        # The inbox's copy filter, under the name tests/dashboard/test_dash_state.py reads to
        # check it stays bounded.
        return self._inbox.ids
