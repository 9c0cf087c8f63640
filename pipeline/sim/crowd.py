"""People on the floor, second by second: walking, standing in groups, arriving, leaving.

State lives in per-person numpy arrays (position, heading, what they are doing) plus a
dictionary of :class:`~.formation.Group`; movement is vectorised, decisions are
event-driven (a person decides only when a timer runs out or they reach a target), so a
second costs little even for 500 people. What people decide is :mod:`.behaviour`'s job.

Walking speed is about 1 m/s (N(1.0, 0.15) per person, 0.6–1.4); group members shuffle to
their slot at up to 0.5 m/s; standing people sway (AR(1), about 5 cm and 0.1 rad).
Walkers steer round other groups' circles rather than through them.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from .behaviour import Idle, Join, Plan, Start, Wander, choose
from .formation import MAX_GROUP_SIZE, Group, formation_radius, slot_angles
from .scenario import Scenario
from .schedule import Schedule
from .seeding import initial_groups
from .states import ABSENT, GO_EXIT, GO_JOIN, GO_WANDER, IDLE, MEMBER, WALK

__all__ = ["Crowd"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_SHUFFLE_SPEED: Final = 0.5
_ARRIVED_M: Final = 0.3
_SWAY_KEEP: Final = 0.8
_SWAY_STEP_M: Final = 0.03
_SWAY_STEP_RAD: Final = 0.06


def _lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return float(median * math.exp(sigma * rng.standard_normal()))


class Crowd:
    """The people of ``scenario`` (roster, then unknown badges) and their groups.

    Owns ``rng`` for every behavioural draw. The floor starts as an event under way
    (:func:`~.seeding.initial_groups`); call :meth:`advance` once per second with
    increasing ``now`` and read the floor with :meth:`positions` and :meth:`formed`.
    """

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        cfg = scenario.config
        roster = scenario.roster
        self.rng = rng
        self.clinginess = cfg.clinginess
        self.badges: tuple[str, ...] = (*roster.keys(), *scenario.cast.unknown)
        self.order: IntArray = np.array(sorted(range(len(self.badges)), key=self.badges.__getitem__), dtype=np.int64)
        n = len(self.badges)
        self.company: list[str | None] = [roster[b].company if b in roster else None for b in self.badges]
        codes = {c: i for i, c in enumerate(sorted({c for c in self.company if c is not None}))}
        self.company_code: IntArray = np.array([-1 if c is None else codes[c] for c in self.company], dtype=np.int64)
        self.role: list[str] = [roster[b].role if b in roster else "attendee" for b in self.badges]
        self.booth_of: IntArray = np.full(n, -1, dtype=np.int64)
        index = {b: i for i, b in enumerate(self.badges)}
        for k, pair in enumerate(scenario.cast.booth_staff):
            for b in pair:
                self.booth_of[index[b]] = k
        self.floor = (scenario.venue.floor.width, scenario.venue.floor.height)
        self.door = scenario.entrance
        self.booths = scenario.booths
        self.keep_out = [
            (min(p[0] for p in b.zone.polygon), min(p[1] for p in b.zone.polygon),
             max(p[0] for p in b.zone.polygon), max(p[1] for p in b.zone.polygon))
            for b in scenario.booths
        ]  # fmt: skip
        self.speed: FloatArray = np.clip(rng.normal(1.0, 0.15, size=n), 0.6, 1.4)
        self.state = np.zeros(n, dtype=np.int8)
        self.intent = np.zeros(n, dtype=np.int8)
        self.group: IntArray = np.full(n, -1, dtype=np.int64)
        self.pos: FloatArray = np.zeros((n, 2))
        self.target: FloatArray = np.zeros((n, 2))
        self.slot: FloatArray = np.zeros((n, 2))
        self.centre: FloatArray = np.zeros((n, 2))
        self.heading: FloatArray = np.zeros(n)
        self.until: FloatArray = np.full(n, math.inf)
        self.cling = np.zeros(n, dtype=np.bool_)
        self.sway: FloatArray = np.zeros((n, 2))
        self.sway_h: FloatArray = np.zeros(n)
        self.groups: dict[int, Group] = {}
        self.booth_group: list[int] = []
        self._next_group = 1
        resident = (self.booth_of >= 0) | np.array([r == "organizer" for r in self.role])
        self.schedule = Schedule(resident, cfg.start, float(cfg.duration_s), rng)
        initial_groups(self, cfg.start)

    # ------------------------------------------------------------------ groups
    def new_group(self, cx: float, cy: float, now: float, *, booth: int = -1, company: str | None = None) -> Group:
        g = Group(self._next_group, cx, cy, now, booth=booth, company=company)
        self._next_group += 1
        self.groups[g.id] = g
        return g

    def centres(self) -> FloatArray:
        """Centres of every group, pending ones included, ``(k, 2)`` in id order."""
        if not self.groups:
            return np.zeros((0, 2))
        return np.array([(g.cx, g.cy) for g in self.groups.values()])

    def arrange(self, g: Group) -> None:
        """Even slots round ``g``'s centre for its members, keeping their circular order."""
        if not g.members:
            return
        g.formed = g.formed or len(g.members) >= 2
        radius = formation_radius(max(2, len(g.members)))
        pts = self.pos[g.members]
        angles = slot_angles([math.atan2(y - g.cy, x - g.cx) for x, y in pts.tolist()])
        for a, ang in zip(g.members, angles, strict=True):
            self.slot[a] = (g.cx + radius * math.cos(ang), g.cy + radius * math.sin(ang))
            self.centre[a] = (g.cx, g.cy)

    def stay_s(self, a: int, g: Group) -> float:
        """How long ``a`` stays in ``g`` (seconds, lognormal).

        Booth visits last about 1.5 min, small talk about 2.5 min; colleagues who cling to a
        group formed around their own company stay about 7 min (see docs/simulator.md).
        """
        if self.booth_of[a] >= 0:
            return math.inf
        if g.booth >= 0:
            return _lognormal(self.rng, 90.0, 0.5)
        if self.role[a] == "organizer":
            return _lognormal(self.rng, 60.0, 0.5)
        if g.company is not None and g.company == self.company[a]:
            return _lognormal(self.rng, 420.0 if self.cling[a] else 240.0, 0.5)
        return _lognormal(self.rng, 150.0, 0.6)

    def _changed(self, g: Group, now: float) -> None:
        if g.booth >= 0:
            self.arrange(g)
            return
        if g.headcount == 0:
            del self.groups[g.id]
        elif len(g.members) <= 1 and not g.incoming:
            for a in g.members:
                self.group[a] = -1
                self.state[a] = IDLE
                self.until[a] = now + self.rng.uniform(3.0, 20.0)
            del self.groups[g.id]
        else:
            if g.formed and len(g.members) < 2:
                self._renew(g, now)
            self.arrange(g)

    def _renew(self, g: Group, now: float) -> None:
        """``g`` fell below two members but people are on their way: a new conversation, a new id."""
        del self.groups[g.id]
        g.id = self._next_group
        self._next_group += 1
        g.born = now
        g.formed = False
        self.groups[g.id] = g
        for a in (*g.members, *g.incoming):
            self.group[a] = g.id

    def head_to(self, a: int, g: Group, now: float) -> None:
        """Send ``a`` walking to a free place on ``g``'s circle."""
        g.incoming.append(a)
        self.group[a] = g.id
        radius = formation_radius(max(2, g.headcount))
        dx, dy = self.pos[a, 0] - g.cx, self.pos[a, 1] - g.cy
        norm = math.hypot(dx, dy)
        if norm < 1e-6:
            ang = self.rng.uniform(0.0, 2.0 * math.pi)
            dx, dy, norm = math.cos(ang), math.sin(ang), 1.0
        self._walk_to(a, g.cx + radius * dx / norm, g.cy + radius * dy / norm, GO_JOIN, now)

    def _walk_to(self, a: int, x: float, y: float, intent: int, now: float) -> None:
        self.state[a] = WALK
        self.intent[a] = intent
        self.target[a] = (x, y)
        dist = math.hypot(x - self.pos[a, 0], y - self.pos[a, 1])
        self.until[a] = now + 2.0 * dist / self.speed[a] + 20.0

    def _drop(self, a: int, now: float) -> None:
        """``a`` stops belonging to (or heading for) their group."""
        g = self.groups.get(int(self.group[a]))
        self.group[a] = -1
        if g is None:
            return
        if a in g.members:
            g.members.remove(a)
        if a in g.incoming:
            g.incoming.remove(a)
        self._changed(g, now)

    def _stroll_off(self, a: int, now: float) -> None:
        """Leave the spot: walk 2.5–6 m away from the group centre, then stand and decide."""
        base = math.atan2(self.pos[a, 1] - self.centre[a, 1], self.pos[a, 0] - self.centre[a, 0])
        ang = base + self.rng.uniform(-0.6, 0.6)
        dist = self.rng.uniform(2.5, 6.0)
        width, height = self.floor
        x = min(max(self.pos[a, 0] + dist * math.cos(ang), 0.8), width - 0.8)
        y = min(max(self.pos[a, 1] + dist * math.sin(ang), 0.8), height - 0.8)
        self._walk_to(a, x, y, GO_WANDER, now)

    # ------------------------------------------------------------------ decisions
    def free(self) -> npt.NDArray[np.bool_]:
        """People who may be asked to start a conversation: standing alone or strolling."""
        out: npt.NDArray[np.bool_] = (self.state == IDLE) | ((self.state == WALK) & (self.intent == GO_WANDER))
        return out

    def apply(self, a: int, plan: Plan, now: float) -> None:
        """Carry out what :func:`~.behaviour.choose` decided for ``a``."""
        if isinstance(plan, Join):
            self.cling[a] = plan.cling
            self.head_to(a, self.groups[plan.group], now)
        elif isinstance(plan, Start):
            g = self.new_group(plan.x, plan.y, now, company=plan.company)
            for p in (a, *plan.partners):
                if p != a:
                    self._drop(p, now)
                self.cling[p] = plan.company is not None
                self.head_to(p, g, now)
        elif isinstance(plan, Wander):
            self._walk_to(a, plan.x, plan.y, GO_WANDER, now)
        elif isinstance(plan, Idle):
            self.state[a] = IDLE
            self.until[a] = now + plan.seconds

    def _decide(self, a: int, now: float) -> None:
        self.apply(a, choose(self, a, now), now)

    # ------------------------------------------------------------------ time
    def advance(self, now: float) -> None:
        """Move everyone from ``now - 1`` to ``now`` (seconds)."""
        present = self.state != ABSENT
        self.schedule.update(now, present)
        due = self.schedule.due(now)
        for a in np.flatnonzero(present & ~due & (self.intent != GO_EXIT) & (self.booth_of < 0)).tolist():
            self._drop(a, now)
            self._walk_to(a, self.door[0] + self.rng.uniform(-1.5, 1.5), self.door[1], GO_EXIT, now)
        for a in np.flatnonzero(~present & due).tolist():
            self.pos[a] = (self.door[0] + self.rng.uniform(-1.5, 1.5), self.door[1])
            self.heading[a] = math.pi / 2
            self.state[a] = IDLE
            self.intent[a] = 0
            self.until[a] = now
        for a in self._walk():
            self._reached(a, now)
        self._settle()
        for a in np.flatnonzero((self.state != ABSENT) & (self.until <= now)).tolist():
            if self.until[a] > now:  # an earlier decision this second already gave them a new plan
                continue
            if self.state[a] == MEMBER:
                self._drop(a, now)
                self._stroll_off(a, now)
            elif self.state[a] == WALK:
                self._drop(a, now)
                self.state[a] = IDLE
                self._decide(a, now)
            else:
                self._decide(a, now)
        self._sway()

    def _reached(self, a: int, now: float) -> None:
        intent = self.intent[a]
        self.intent[a] = 0
        if intent == GO_EXIT:
            self.state[a] = ABSENT
            self.until[a] = math.inf
            return
        if intent == GO_JOIN:
            g = self.groups.get(int(self.group[a]))
            if g is not None and a in g.incoming and len(g.members) < MAX_GROUP_SIZE:
                g.incoming.remove(a)
                g.members.append(a)
                self.state[a] = MEMBER
                self.until[a] = now + self.stay_s(a, g)
                self.arrange(g)
                return
            self._drop(a, now)
            self.state[a] = IDLE
            self.until[a] = now
            return
        self.state[a] = IDLE
        self.until[a] = now + self.rng.uniform(2.0, 25.0)

    def _walk(self) -> list[int]:
        """Move walkers one second towards their targets; return who arrived, in index order."""
        w = np.flatnonzero(self.state == WALK)
        if w.size == 0:
            return []
        p = self.pos[w]
        d = self.target[w] - p
        dist = np.hypot(d[:, 0], d[:, 1])
        u = d / np.maximum(dist, 1e-9)[:, None]
        standing = [g for g in self.groups.values() if g.members]
        if standing:
            cen = np.array([(g.cx, g.cy) for g in standing])
            rad = np.array([formation_radius(max(2, len(g.members))) + 0.45 for g in standing])
            gid = np.array([g.id for g in standing])
            rel = cen[None, :, :] - p[:, None, :]
            along = rel[:, :, 0] * u[:, None, 0] + rel[:, :, 1] * u[:, None, 1]
            lateral = rel[:, :, 1] * u[:, None, 0] - rel[:, :, 0] * u[:, None, 1]
            other = gid[None, :] != self.group[w][:, None]
            ahead = (along > 0) & (along < np.minimum(dist[:, None], rad[None, :] + 2.0))
            weight = np.where(
                other & ahead & (np.abs(lateral) < rad[None, :]), 1.0 - np.abs(lateral) / rad[None, :], 0.0
            )
            k = np.argmax(weight, axis=1)
            wk = weight[np.arange(w.size), k]
            side = np.where(lateral[np.arange(w.size), k] > 0, -1.0, 1.0)
            steer = u + (1.5 * wk * side)[:, None] * np.column_stack((-u[:, 1], u[:, 0]))
            gap = np.hypot(rel[:, :, 0], rel[:, :, 1])
            inside = other & (gap < rad[None, :]) & (gap > 1e-6)
            push = -(rel / np.maximum(gap, 1e-6)[:, :, None]) * inside[:, :, None]
            steer = steer + push.sum(axis=1)
            u = steer / np.maximum(np.hypot(steer[:, 0], steer[:, 1]), 1e-9)[:, None]
        speed = self.speed[w]
        arrived = dist <= np.maximum(speed, _ARRIVED_M)
        self.pos[w] = np.where(arrived[:, None], self.target[w], p + u * speed[:, None])
        moving = dist > 1e-6
        self.heading[w] = np.where(moving, np.arctan2(u[:, 1], u[:, 0]), self.heading[w])
        return [int(a) for a in w[arrived]]

    def _settle(self) -> None:
        m = np.flatnonzero(self.state == MEMBER)
        if m.size == 0:
            return
        d = self.slot[m] - self.pos[m]
        dist = np.hypot(d[:, 0], d[:, 1])
        step = np.minimum(dist, _SHUFFLE_SPEED) / np.maximum(dist, 1e-9)
        self.pos[m] += d * step[:, None]
        to_c = self.centre[m] - self.pos[m]
        self.heading[m] = np.arctan2(to_c[:, 1], to_c[:, 0])

    def _sway(self) -> None:
        n = self.state.shape[0]
        standing = (self.state == MEMBER) | (self.state == IDLE)
        self.sway = np.where(
            standing[:, None], _SWAY_KEEP * self.sway + self.rng.normal(0.0, _SWAY_STEP_M, (n, 2)), 0.0
        )
        self.sway_h = np.where(standing, _SWAY_KEEP * self.sway_h + self.rng.normal(0.0, _SWAY_STEP_RAD, n), 0.0)
        idle = self.state == IDLE
        self.heading[idle] += self.rng.normal(0.0, 0.1, int(idle.sum()))

    # ------------------------------------------------------------------ output
    def positions(self) -> tuple[IntArray, FloatArray, FloatArray]:
        """People on the floor in badge-id order: (agent indices, ``(n, 2)`` xy m, heading rad in (-π, π])."""
        idx = self.order[self.state[self.order] != ABSENT]
        xy = self.pos[idx] + self.sway[idx]
        h = self.heading[idx] + self.sway_h[idx]
        return idx, xy, np.arctan2(np.sin(h), np.cos(h))

    def formed(self) -> list[tuple[str, tuple[str, ...]]]:
        """Groups standing in formation with two or more members: (id, sorted member badges), by id."""
        return [
            (g.label, tuple(sorted(self.badges[a] for a in g.members)))
            for g in self.groups.values()
            if len(g.members) >= 2
        ]
