"""The organizer map's views: a frame (dots, cluster outlines, huddles), the KPIs, the venue.

Pure functions of a frame, the venue and :class:`~dashboard.people.People` (through which
every view names people), answering with JSON-ready dicts.

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
  map finds a huddle by its members (:meth:`.AlertFeed.standing`).
- **nudges sent**: distinct ``nudges/<badge>`` messages seen.
- **nudges that worked**: judged by :mod:`.outcomes` with ``worked_within_s`` (5 min),
  ``worked_hold_s`` (10 s) and ``huddle_radius_m``: the nudged badge left its huddle and
  stands in no group its company dominates, for 10 s, within 5 minutes.
"""

from __future__ import annotations

from typing import Any

from mingle_wire import Frame
from pipeline.venue import Venue

from .geometry import convex_hull
from .outcomes import NudgeOutcomes
from .people import People

__all__ = ["frame_view", "kpis", "venue_view"]


def frame_view(frame: Frame, people: People, huddles: list[dict[str, Any]]) -> dict[str, Any]:
    """A frame for the map: badges ``[id or null, x, y, company index or -1]``, clusters with hulls,
    and ``huddles`` (the alerted huddles standing in it) as given."""
    where: dict[str, tuple[float, float]] = {}
    badges: list[list[Any]] = []
    anonymous: list[list[Any]] = []
    for b in frame.badges:
        where[b.badge] = (b.x, b.y)
        colour = people.colour(b.badge)
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
    return {"ts": frame.ts, "badges": badges, "clusters": clusters, "huddles": huddles}


def kpis(
    frame: Frame | None,
    people: People,
    *,
    homogeneity: float,
    huddles: int,
    nudges_sent: int,
    outcomes: NudgeOutcomes,
) -> dict[str, Any]:
    """The KPIs for the latest ``frame`` (none yet: zeros); ``homogeneity`` is the venue policy's
    huddle threshold, ``huddles`` the count of alerted huddles standing in ``frame``."""
    placed = mixed = clusters = 0
    if frame is not None:
        placed_set = {b.badge for b in frame.badges if people.counted(b.badge)}
        placed = len(placed_set)
        clusters = len(frame.clusters)
        for c in frame.clusters:
            members = [m for m in c.members if m in placed_set]
            if len(members) >= 2 and c.homogeneity < homogeneity:
                mixed += len(members)
    o = outcomes
    return {
        "placed": placed,
        "clusters": clusters,
        "mixing_index": round(mixed / placed, 3) if placed else None,
        "huddles": huddles,
        "nudges_sent": nudges_sent,
        "nudges_worked": o.worked,
        "nudges_judged": o.worked + o.failed,
        "nudges_open": o.open,
    }


def venue_view(venue: Venue, people: People) -> dict[str, Any]:
    """The static part of the map: floor, zones, gateways, companies, and who may be named."""
    v = venue
    return {
        "site": v.site,
        "name": v.name,
        "floor": {"width": v.floor.width, "height": v.floor.height},
        "zones": [{"name": z.name, "polygon": [list(p) for p in z.polygon], "nudges": z.nudges} for z in v.zones],
        "gateways": [{"id": g.id, "x": g.x, "y": g.y} for g in v.gateways],
        "companies": list(people.companies),
        "people": people.shown(),
    }
