"""The huddle policy: when a tracked group becomes an alert, and whom to nudge.

A track is *huddling* while its counted members (see :mod:`.composition`) number at
least ``min_size``, one company holds a share of at least ``homogeneity`` of them, and
its centre is not in a ``nudges: false`` zone (at least ``zone_margin_m`` inside it, when
given: a position the radio puts metres off is not held to a booth's edge). The condition
may lapse for up to ``grace_s`` seconds (a noisy tick, a track missed briefly) without
resetting the clock, or for up to ``shrunk_grace_s`` (at most ``grace_s``) once the group is
seen short of a member — fewer than ``min_size`` counted members, or fewer of the clock's
company than any huddle holds (``ceil(homogeneity x min_size)``: a colleague gone while a
stranger stays is a member short, not a stranger too many) — counted from the last tick it
was seen with enough (ticks it went unseen count too): a member gone is a new huddle when
they come back. After ``dwell_s`` continuous seconds the track raises one alert. An alert whose
counted members were mostly in another alert within ``cooldown_s`` is suppressed (the same
huddle seen again after its track broke). The "missionaries" are the one or two eligible members
nudged least recently (never an opt-out, paused or cooled-down badge); a seeded
``holdout_fraction`` of alerts nudges nobody, for the analytics to measure nudges against.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mingle_wire import Alert, Suggestion

from ..venue import Policy, Zone, zone_at
from .composition import Composition, Person, compose
from .tracking import Track

__all__ = ["HuddlePolicy", "HuddleState"]

ROOM_MAX_SIZE = 5  # a mixed group with at most this many members has room for one more
SUGGEST_RADIUS_M = 25.0


@dataclass(slots=True)
class HuddleState:
    since: float
    company: str
    last_ok: float
    alerted: bool = False
    last_sized: float = -math.inf  # the last time it had at least ``min_size`` counted members


class HuddlePolicy:
    def __init__(
        self,
        policy: Policy,
        people: Mapping[str, Person],
        zones: Sequence[Zone] = (),
        *,
        site: str,
        grace_s: float = 10.0,
        suppress_repeats: bool = True,
        shrunk_grace_s: float | None = None,
    ) -> None:
        """``shrunk_grace_s`` None: a group short of a member keeps ``grace_s`` like any lapse."""
        self.policy = policy
        self.people = people
        self.zones = tuple(zones)
        self.site = site
        self.grace_s = grace_s
        self.shrunk_grace_s = grace_s if shrunk_grace_s is None else shrunk_grace_s
        self.suppress_repeats = suppress_repeats
        # The fewest colleagues any huddle holds: 3 at min_size 3 and homogeneity 0.75.
        self.min_colleagues = math.ceil(policy.homogeneity * policy.min_size - 1e-9)
        self.rng = random.Random(policy.seed)
        self.state: dict[str, HuddleState] = {}
        self.last_nudged: dict[str, float] = {}
        # badge -> pause source -> (until, sent) of that source's latest pause
        self._pauses: dict[str, dict[str, tuple[float, float]]] = {}
        self.recent: list[tuple[float, frozenset[str]]] = []
        self.alerts = 0
        self.suppressed = 0
        # Compositions by member tuple, for this tick and the last: a group's members rarely
        # change from one tick to the next, and the frame asks again for the groups this tick.
        self._comps: dict[tuple[str, ...], Composition] = {}
        self._comps_last: dict[tuple[str, ...], Composition] = {}
        self._exempt = frozenset(policy.exempt_roles)
        self._previous: float | None = None  # the ``now`` of the last update: a clock OK then has no lapse

    def zone_at(self, x: float, y: float) -> Zone | None:
        return zone_at(self.zones, x, y)

    def pause(self, badge: str, until: float, sent: float = -math.inf, source: str = "phone") -> None:
        """Honour an attendee's "pause nudges" until ``until`` (Unix seconds). Each ``source`` (the
        phone page, the badge's button) holds its own latest pause, by ``sent``: one source's
        cancel does not end the other's pause, and a pause delivered late does not undo a newer one."""
        held = self._pauses.setdefault(badge, {})
        if source in held and sent < held[source][1]:
            return
        held[source] = (until, sent)

    def paused(self, badge: str, now: float) -> bool:
        """Whether any source's pause holds ``badge`` at ``now``."""
        return any(until > now for until, _ in self._pauses.get(badge, {}).values())

    def composition(self, members: Sequence[str]) -> Composition:
        """Who counts in a group of ``members`` and which company dominates it (a pure
        function of the members, the roster and the exempt roles, so it is remembered for
        the groups of this tick and the last)."""
        key = tuple(members)
        comp = self._comps.get(key)
        if comp is None:
            comp = self._comps_last.get(key)
            if comp is None:
                comp = compose(key, self.people, self._exempt)
            self._comps[key] = comp
        return comp

    def update(
        self,
        seen: Sequence[Track],
        ended: Sequence[str],
        positions: Mapping[str, tuple[float, float]],
        now: float,
        groups: Sequence[Track] | None = None,
        lead_s: float = 0.0,
        zone_margin_m: float = 0.0,
    ) -> list[Alert]:
        """Advance every huddle clock to ``now``; returns the alerts that fire.

        ``seen`` are the huddle-candidate tracks; ``groups`` the floor's groups this tick,
        from which a suggestion picks a mixed group with room (``seen`` when omitted).
        ``lead_s``: how long before it is seen a huddle is taken to have begun (the lag of
        the evidence the candidates come from); a clock that starts now starts that much
        earlier, and the alert's ``since`` says so. ``zone_margin_m``: a track exempt by a
        ``nudges: false`` zone must stand at least this far inside it (from its nearest edge).
        """
        groups = seen if groups is None else groups
        self._comps_last, self._comps = self._comps, {}
        for tid in ended:
            self.state.pop(tid, None)
        # A clock lapsed beyond its grace restarts whenever its track is seen again (OK at the
        # last update is no lapse): forgotten now, a track that ends unreported (the other
        # tracker's, when a venue's input flips between a feed and the radio) leaves nothing.
        gone = [t for t, st in self.state.items() if now - st.last_ok > self.grace_s and st.last_ok != self._previous]
        for tid in gone:
            del self.state[tid]
        horizon = now - self.policy.cooldown_s
        self.recent = [r for r in self.recent if r[0] >= horizon]
        comps = {t.id: self.composition(t.members) for t in (*seen, *groups)}
        alerts: list[Alert] = []
        for track in seen:
            comp = comps[track.id]
            zone = self.zone_at(track.x, track.y)
            st = self.state.get(track.id)
            sized = len(comp.counted) >= self.policy.min_size
            # Enough of this clock's company left to be its huddle (a colleague gone while a
            # stranger stays leaves 2 of 3: short of a member, not mixed).
            enough = sized and (st is None or comp.count(st.company) >= self.min_colleagues)
            ok = (
                comp.company is not None
                and sized
                and comp.share >= self.policy.homogeneity
                and (zone is None or zone.nudges or zone.depth(track.x, track.y) < zone_margin_m)
            )
            if ok:
                assert comp.company is not None
                # OK at the last update is no lapse, whatever the grace (0: no lapse at all allowed).
                lapsed = st is not None and now - st.last_ok > self.grace_s and st.last_ok != self._previous
                if st is None or st.company != comp.company or lapsed:
                    st = HuddleState(since=now - lead_s, company=comp.company, last_ok=now)
                    self.state[track.id] = st
                st.last_ok = now
            elif st is not None and (
                now - st.last_ok > self.grace_s or (not enough and now - st.last_sized > self.shrunk_grace_s)
            ):
                del self.state[track.id]
                st = None
            if st is not None and (ok or enough):
                st.last_sized = now
            if st is None or st.alerted or not ok or now - st.since < self.policy.dwell_s:
                continue
            st.alerted = True
            counted = frozenset(comp.counted)
            if self.suppress_repeats and any(len(counted & prev) * 2 >= len(counted) for _, prev in self.recent):
                self.suppressed += 1
                continue
            self.recent.append((now, counted))
            alerts.append(self._alert(track, comp, st, zone, groups, comps, positions, now))
        self._previous = now
        return alerts

    def _eligible(self, comp: Composition, now: float) -> list[str]:
        out = []
        for b in comp.counted:
            person = self.people[b]
            if person.opt_out or self.paused(b, now):
                continue
            if now - self.last_nudged.get(b, -math.inf) < self.policy.cooldown_s:
                continue
            out.append(b)
        return out

    def _alert(
        self,
        track: Track,
        comp: Composition,
        st: HuddleState,
        zone: Zone | None,
        seen: Sequence[Track],
        comps: Mapping[str, Composition],
        positions: Mapping[str, tuple[float, float]],
        now: float,
    ) -> Alert:
        self.alerts += 1
        held_out = self.rng.random() < self.policy.holdout_fraction
        nudge: tuple[str, ...] = ()
        if not held_out:
            eligible = sorted(self._eligible(comp, now))
            self.rng.shuffle(eligible)
            eligible.sort(key=lambda b: self.last_nudged.get(b, -math.inf))
            want = min(self.policy.max_nudge, 1 if len(comp.counted) <= 4 else 2)
            nudge = tuple(sorted(eligible[:want]))
            for b in nudge:
                self.last_nudged[b] = now
        suggestion = self._suggest(track, st.company, nudge or comp.counted, seen, comps, positions)
        return Alert(
            id=f"a-{self.alerts}",
            site=self.site,
            ts=now,
            cluster=track.id,
            company=st.company,
            members=tuple(sorted(track.members)),
            since=st.since,
            nudge=nudge,
            held_out=held_out,
            zone=None if zone is None else zone.name,
            suggestion=suggestion,
            x=track.x,
            y=track.y,
        )

    def _suggest(
        self,
        track: Track,
        company: str,
        who: Sequence[str],
        seen: Sequence[Track],
        comps: Mapping[str, Composition],
        positions: Mapping[str, tuple[float, float]],
    ) -> Suggestion | None:
        best: tuple[float, Track] | None = None
        mine = set(track.members)
        for other in seen:
            if other.id == track.id or len(other.members) > ROOM_MAX_SIZE or mine.intersection(other.members):
                continue
            oc = comps[other.id]
            mixed = oc.company is not None and (oc.share < self.policy.homogeneity or oc.company != company)
            zone = self.zone_at(other.x, other.y)
            if not mixed or (zone is not None and not zone.nudges):
                continue
            dist = math.hypot(other.x - track.x, other.y - track.y)
            if dist <= SUGGEST_RADIUS_M and (best is None or dist < best[0]):
                best = (dist, other)
        if best is not None:
            dist, other = best
            return Suggestion("group", other.x, other.y, dist, cluster=other.id, companies=comps[other.id].companies)
        grouped = mine.union(*(t.members for t in seen))
        wanted = {i for b in who for i in self.people[b].interests}
        pick: tuple[int, float, str] | None = None
        for badge, (x, y) in positions.items():
            person = self.people.get(badge)
            if person is None or person.opt_out or person.role != "attendee":
                continue
            if person.company == company or badge in grouped:
                continue
            dist = math.hypot(x - track.x, y - track.y)
            if dist > SUGGEST_RADIUS_M:
                continue
            key = (-len(wanted.intersection(person.interests)), dist, badge)
            if pick is None or key < pick:
                pick = key
        if pick is None:
            return None
        _, dist, badge = pick
        person = self.people[badge]
        x, y = positions[badge]
        shared = tuple(sorted(wanted.intersection(person.interests)))
        return Suggestion("person", x, y, dist, badge=badge, companies=(person.company,), shared_interests=shared)
