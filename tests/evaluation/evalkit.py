"""Builders of hand-made rosters, venues, truth, frames and alerts for the evaluator tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from mingle_wire import Alert, Frame, FrameBadge, FrameCluster
from pipeline.evaluation import Truth, parse_truth
from pipeline.roster import Attendee, Roster
from pipeline.venue import Floor, Gateway, Policy, Venue, Zone

T0 = 1_764_140_000.0


def roster(*specs: tuple[Any, ...]) -> Roster:
    """``(badge, company[, role[, opt_out]])`` per attendee."""
    return Roster(
        [Attendee(s[0], s[1], role=s[2] if len(s) > 2 else "attendee", opt_out=len(s) > 3 and s[3]) for s in specs]
    )


def employees(company: str, *badges: str) -> list[tuple[str, str]]:
    """Roster specs of attendees of ``company``."""
    return [(b, company) for b in badges]


def venue(zones: Sequence[Zone] = (), **policy: Any) -> Venue:
    """A 50 x 50 m floor; ``policy`` overrides (small dwell and min_size suit short tests)."""
    return Venue("site-1", "Hall", Floor(50.0, 50.0), (Gateway("gw-1", 0.0, 0.0),), (), tuple(zones), Policy(**policy))


def square(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def record(
    t: float,
    groups: Mapping[str, Sequence[str]],
    *,
    at: Mapping[str, tuple[float, float]] | None = None,
    extra: Sequence[str] = (),
    xy: tuple[float, float] = (10.0, 10.0),
) -> dict[str, Any]:
    """One truth line: every group member and ``extra`` badge on the floor, at ``xy`` unless in ``at``."""
    at = at or {}
    badges = list(dict.fromkeys([*(m for ms in groups.values() for m in ms), *extra]))
    people = [{"badge": b, "x": at.get(b, xy)[0], "y": at.get(b, xy)[1], "heading": 0.0} for b in badges]
    return {"t": t, "people": people, "groups": [{"id": g, "members": list(ms)} for g, ms in groups.items()]}


def truth_of(records: Sequence[Mapping[str, Any]]) -> Truth:
    return parse_truth([json.dumps(r) for r in records])


def steady(groups: Mapping[str, Sequence[str]], seconds: int, *, start: float = T0, **kw: Any) -> list[dict[str, Any]]:
    """The same ``groups`` for ``seconds`` consecutive seconds from ``start``."""
    return [record(start + i, groups, **kw) for i in range(seconds)]


def alert(
    ident: str,
    ts: float,
    company: str,
    members: Sequence[str],
    *,
    nudge: Sequence[str] = (),
    held_out: bool = False,
) -> Alert:
    return Alert(ident, "site-1", ts, "c-1", company, tuple(members), T0, tuple(nudge), held_out)


def frame(ts: float, *clusters: Sequence[str]) -> Frame:
    members = sorted({m for c in clusters for m in c})
    return Frame(
        "site-1",
        ts,
        tuple(FrameBadge(m, 1.0, 1.0, 0.5) for m in members),
        tuple(FrameCluster(f"c-{i}", tuple(c), 1.0, 1.0, None, 0.0, ts) for i, c in enumerate(clusters)),
    )
