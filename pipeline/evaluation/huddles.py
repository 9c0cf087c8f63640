"""True huddle episodes: the same-company groups the pipeline ought to alert on.

Definition (every alert score rests on it). For each truth second and each truth group:

- *counted members* are the members on the roster whose role is not in
  ``policy.exempt_roles``; unknown badges (not on the roster) are not counted;
- the group's *centre* is the mean position of all its members (counted or not), and its
  *zone* is ``venue.zone_at(centre)``;
- the *dominant company* is the most common company among the counted members (a tie goes
  to the alphabetically first company; a tie can never meet a homogeneity above 0.5);
- the *huddle condition* holds when ``len(counted) >= policy.min_size`` and the dominant
  company's share of the counted members is ``>= policy.homogeneity`` (both inclusive; the
  share is compared with a 1e-9 tolerance) and (``zone is None`` or ``zone.nudges``).

An *episode* is a maximal run of consecutive truth seconds (``t`` rounded half up, rising by exactly
1) in which the same group id meets the condition with the same dominant company. A
missing second, a second on which the group is absent or fails the condition, or a change
of dominant company ends it. ``start`` and ``end`` are the ``t`` of its first and last
second. A *true huddle* is an episode with ``end - start >= policy.dwell_s`` (inclusive,
with a 1e-6 s tolerance). Each episode keeps the group's full member set (all members,
unknown and exempt included) at every one of its seconds.

That strict definition is the one every published figure uses. ``true_huddles(...,
bridge_s=B)`` gives a second view for comparison, the organizer's: episodes of one group
id with one dominant company whose gap (next ``start`` minus previous ``end``, minus the
1 s of a truth tick) is at most ``B`` seconds are first joined into one (a member stepping
away for a few seconds does not end the huddle), and the joined episode's ``end - start``
is what must reach ``dwell_s``.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from pipeline.roster import Roster
from pipeline.venue import Policy, Venue

from .truth import Truth, TruthTick

__all__ = ["SHARE_TOLERANCE", "TrueHuddle", "bridge_episodes", "huddle_company", "huddle_episodes", "true_huddles"]

#: Tolerance of the inclusive homogeneity comparison (a share, not a percentage).
SHARE_TOLERANCE: Final = 1e-9
_DWELL_TOLERANCE_S: Final = 1e-6


@dataclass(frozen=True, slots=True)
class TrueHuddle:
    """One episode of a truth group meeting the huddle condition for ``company``.

    ``times`` are the ``t`` (Unix seconds) of its seconds, increasing (consecutive unless
    joined by :func:`bridge_episodes`);
    ``members[i]`` is the group's full member set at ``times[i]``.
    """

    group: str
    company: str
    times: tuple[float, ...]
    members: tuple[frozenset[str], ...]

    def __post_init__(self) -> None:
        if not self.times or len(self.times) != len(self.members):
            raise ValueError(
                f"huddle {self.group!r} needs one member set per second, "
                f"got {len(self.times)} seconds and {len(self.members)} member sets"
            )

    @property
    def start(self) -> float:
        return self.times[0]

    @property
    def end(self) -> float:
        """The ``t`` of the last second the condition held."""
        return self.times[-1]

    @property
    def duration_s(self) -> float:
        return self.end - self.start

    def members_at(self, ts: float) -> frozenset[str]:
        """Members at the episode second nearest to ``ts`` clamped into [start, end] (ties: earlier)."""
        i = bisect.bisect_left(self.times, ts)
        if i == 0:
            return self.members[0]
        if i == len(self.times):
            return self.members[-1]
        before, after = self.times[i - 1], self.times[i]
        return self.members[i - 1] if ts - before <= after - ts else self.members[i]


@dataclass(slots=True)
class _Run:
    """An episode still being extended (private, mutable while scanning)."""

    group: str
    company: str
    times: list[float] = field(default_factory=list)
    members: list[frozenset[str]] = field(default_factory=list)

    def add(self, t: float, members: tuple[str, ...]) -> None:
        current = frozenset(members)
        # Consecutive seconds usually share one member set: keep one object for the run.
        self.members.append(self.members[-1] if self.members and self.members[-1] == current else current)
        self.times.append(t)

    def close(self) -> TrueHuddle:
        return TrueHuddle(self.group, self.company, tuple(self.times), tuple(self.members))


class _Centre:
    """Mean position of a set of badges at one tick (built only when a group gets that far)."""

    __slots__ = ("_rows", "_tick", "_where")

    def __init__(self, tick: TruthTick) -> None:
        self._tick = tick
        self._where: dict[str, int] | None = None
        self._rows: list[list[float]] = []

    def __call__(self, members: tuple[str, ...]) -> tuple[float, float]:
        if self._where is None:
            self._where = {badge: i for i, badge in enumerate(self._tick.badges)}
            self._rows = self._tick.xy.tolist()
        points = [self._rows[self._where[badge]] for badge in members]
        return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _huddle_company(
    members: tuple[str, ...], counted: dict[str, str], centre: _Centre, venue: Venue, policy: Policy
) -> str | None:
    """The dominant company if a group of ``members`` meets the huddle condition, else ``None``.

    ``counted`` maps each counted badge to its company; ``centre`` gives the members' mean position.
    """
    companies = [counted[badge] for badge in members if badge in counted]
    if len(companies) < policy.min_size:
        return None
    company, count = min(Counter(companies).items(), key=lambda kv: (-kv[1], kv[0]))
    if count / len(companies) < policy.homogeneity - SHARE_TOLERANCE:
        return None
    zone = venue.zone_at(*centre(members))
    return company if zone is None or zone.nudges else None


def huddle_company(tick: TruthTick, members: tuple[str, ...], roster: Roster, venue: Venue) -> str | None:
    """The company a true group of ``members`` huddles as at ``tick`` (the huddle condition:
    counting, share and zone; not the dwell), or ``None``."""
    policy = venue.policy
    counted = {b: roster[b].company for b in members if b in roster and roster[b].role not in policy.exempt_roles}
    return _huddle_company(members, counted, _Centre(tick), venue, policy)


def huddle_episodes(truth: Truth, roster: Roster, venue: Venue) -> list[TrueHuddle]:
    """Every episode of the huddle condition, however short, ordered by (start, group)."""
    policy = venue.policy
    counted = {badge: a.company for badge, a in roster.items() if a.role not in policy.exempt_roles}
    running: dict[str, _Run] = {}
    done: list[TrueHuddle] = []
    previous: int | None = None
    for tick in truth.ticks:
        if previous is not None and tick.second != previous + 1:
            done.extend(run.close() for run in running.values())
            running.clear()
        previous = tick.second
        centre = _Centre(tick)
        still: dict[str, _Run] = {}
        for group in tick.groups:
            company = _huddle_company(group.members, counted, centre, venue, policy)
            if company is None:
                continue
            run = running.pop(group.id, None)
            if run is not None and run.company != company:
                done.append(run.close())
                run = None
            if run is None:
                run = _Run(group.id, company)
            run.add(tick.t, group.members)
            still[group.id] = run
        done.extend(run.close() for run in running.values())  # absent or failing this second
        running = still
    done.extend(run.close() for run in running.values())
    done.sort(key=lambda h: (h.start, h.group))
    return done


def bridge_episodes(episodes: Sequence[TrueHuddle], bridge_s: float) -> list[TrueHuddle]:
    """``episodes`` (ordered by start) with those of one group and company joined across gaps
    of at most ``bridge_s`` seconds (inclusive) between one's last second and the next's
    first, not counting the truth tick itself; ordered by (start, group)."""
    if bridge_s < 0 or not math.isfinite(bridge_s):
        raise ValueError(f"bridge_s must be a finite number of seconds >= 0, got {bridge_s!r}")
    joined: list[TrueHuddle] = []
    latest: dict[tuple[str, str], int] = {}
    for episode in episodes:
        key = (episode.group, episode.company)
        at = latest.get(key)
        if at is not None and episode.start - joined[at].end - 1.0 <= bridge_s + _DWELL_TOLERANCE_S:
            before = joined[at]
            joined[at] = TrueHuddle(
                before.group, before.company, before.times + episode.times, before.members + episode.members
            )
        else:
            latest[key] = len(joined)
            joined.append(episode)
    joined.sort(key=lambda h: (h.start, h.group))
    return joined


def true_huddles(truth: Truth, roster: Roster, venue: Venue, *, bridge_s: float = 0.0) -> list[TrueHuddle]:
    """The episodes lasting at least ``venue.policy.dwell_s``: what a perfect detector alerts on.

    ``bridge_s`` > 0 joins a group's episodes across gaps that short first (the comparison
    view in the module docstring); 0, the default, is the strict definition.
    """
    dwell_s = venue.policy.dwell_s
    episodes = huddle_episodes(truth, roster, venue)
    if bridge_s:
        episodes = bridge_episodes(episodes, bridge_s)
    return [h for h in episodes if h.duration_s >= dwell_s - _DWELL_TOLERANCE_S]
