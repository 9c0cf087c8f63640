"""Helpers for the dashboard tests: the shared test venue and roster, and frames built by hand."""

from __future__ import annotations

from pathlib import Path

from mingle_wire import Alert, Frame, FrameBadge, FrameCluster, Suggestion
from pipeline.roster import Roster, load_roster
from pipeline.venue import Venue, load_venue

T0 = 1_764_140_000.0


def venue_and_roster(venue_file: Path, roster_file: Path) -> tuple[Venue, Roster]:
    return load_venue(venue_file), load_roster(roster_file)


def frame(
    ts: float, spots: dict[str, tuple[float, float]], clusters: tuple[FrameCluster, ...] = (), site: str = "expo"
) -> Frame:
    return Frame(site, ts, tuple(FrameBadge(b, x, y, 1.0) for b, (x, y) in spots.items()), clusters)


def cluster(
    cid: str, members: tuple[str, ...], company: str | None, homogeneity: float, since: float, zone: str | None = None
) -> FrameCluster:
    return FrameCluster(cid, members, 10.0, 7.0, company, homogeneity, since, zone)


def alert(aid: str = "a-1", *, nudge: tuple[str, ...] = ("b-01",), ts: float = T0 + 120) -> Alert:
    return Alert(
        id=aid,
        site="expo",
        ts=ts,
        cluster="c-1",
        company="Acme",
        members=("b-01", "b-02", "b-03"),
        since=T0,
        nudge=nudge,
        held_out=not nudge,
        suggestion=Suggestion("person", 15.0, 7.0, 5.4, badge="b-05", companies=("Globex",), shared_interests=("ml",)),
        x=10.0,
        y=7.0,
    )


#: Ann, Bob and Cat (opted out) of Acme standing together in the middle of the hall.
HUDDLE_SPOTS = {"b-01": (10.0, 7.0), "b-02": (10.6, 7.0), "b-03": (10.3, 7.5), "b-05": (16.0, 3.0)}
