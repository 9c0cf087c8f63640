"""What the dashboard knows: the pure, synchronous core behind the map and the phone pages.

:class:`DashboardState` takes the pipeline's decoded outputs (frames, alerts, nudges,
gateway and pipeline statuses), each with ``now`` (the caller's clock: the wall clock
live, the demo's scaled clock in the demo), and answers with JSON-ready views. It never
reads a clock, never does I/O and never imports a web framework.

It routes each input to the part that owns it and assembles the views from them:

- :mod:`.people`: who a view may name (privacy is applied there, once), company colours,
  who counts in the KPIs;
- :mod:`.alerts`: the alert feed, acknowledgements, the alerted huddles still standing;
- :mod:`.nudges`: each attendee's own nudges and pause (the attendee view);
- :mod:`.outcomes`: whether each nudge worked;
- :mod:`.health`: gateway and pipeline health;
- :mod:`.history`: the time slider's kept frames;
- :mod:`.views`: the map's frame, KPI (their definitions) and venue views.

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

from . import views
from .alerts import AlertFeed
from .checks import check_alert, check_frame
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
    132 kB at 2,000 badges in groups, 41 kB compressed, so the history stays near 15 MB).
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
        self.config = cfg = config if config is not None else StateConfig()
        self.frame: Frame | None = None
        self.frame_received: float | None = None
        self._people = People(roster, exempt_roles=venue.policy.exempt_roles)
        self.companies = self._people.companies
        self._alerts = AlertFeed(max_alerts=cfg.alert_feed_max)
        self._inbox = NudgeInbox(per_badge=cfg.nudges_per_badge)
        self.nudges_sent = 0
        self.dropped_nudges = 0
        self._outcomes = NudgeOutcomes(
            within_s=cfg.worked_within_s,
            hold_s=cfg.worked_hold_s,
            radius_m=cfg.huddle_radius_m,
            max_open=cfg.pending_max,
        )
        self._health = Health([g.id for g in venue.gateways], stale_s=cfg.gateway_stale_s)
        self._history = FrameHistory(span_s=cfg.history_s, every_s=cfg.history_every_s)

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
        """Alerted huddles still standing in ``frame`` (see "huddles now" in :mod:`.views`)."""
        cfg = self.config
        return self._alerts.standing(
            frame, min_size=self.venue.policy.min_size, radius_m=cfg.huddle_radius_m, within_s=cfg.history_s
        )

    def frame_view(self, frame: Frame) -> dict[str, Any]:
        """A frame for the map (:func:`.views.frame_view`), with the huddles standing in it."""
        return views.frame_view(frame, self._people, self.active_huddles(frame))

    def kpis(self) -> dict[str, Any]:
        """The map's KPIs now (defined in :mod:`.views`)."""
        frame = self.frame
        return views.kpis(
            frame,
            self._people,
            homogeneity=self.venue.policy.homogeneity,
            huddles=0 if frame is None else len(self.active_huddles(frame)),
            nudges_sent=self.nudges_sent,
            outcomes=self._outcomes,
        )

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
        return views.venue_view(self.venue, self._people)

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
