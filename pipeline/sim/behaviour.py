"""What a person standing alone decides to do next.

Pure choice: :func:`choose` reads the crowd and draws from its generator, and returns a
plan; :class:`~.crowd.Crowd` carries it out. The rules, with their numbers:

* booth visit with probability 0.10 (if there are booths with room; nearer booths likelier);
* a person with colleagues on the floor *clings* with probability ``clinginess``: they
  only consider groups where colleagues are at least half of the people, and free
  colleagues to start one with (recruiting up to two more free colleagues nearby);
* otherwise they *mix*: groups where colleagues are fewer than half, free people of other
  companies; or, with probability 0.2, a stroll or a pause. Smaller groups are more inviting; options fall off
  with distance (e-folding 8 m when mixing, 12 m when looking for colleagues).
* organizers mostly walk the floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from .formation import MAX_GROUP_SIZE, find_spot
from .states import ABSENT

if TYPE_CHECKING:
    from .crowd import Crowd

__all__ = ["Idle", "Join", "Plan", "Start", "Wander", "choose"]

_P_BOOTH: Final = 0.10
#: A person who mixes takes a stroll or a pause instead of talking with this probability.
_P_ALONE: Final = 0.2
_P_ORGANIZER_WALK: Final = 0.6
_BOOTH_ROOM: Final = 5
_REACH_M: Final = 25.0
#: Weight of a group by its headcount: people prefer joining small groups.
_SIZE_PREF: Final = (0.0, 1.2, 1.0, 0.9, 0.6, 0.35, 0.15, 0.0)


@dataclass(frozen=True, slots=True)
class Join:
    """Walk over to group ``group`` (``cling``: chosen because of colleagues)."""

    group: int
    cling: bool = False


@dataclass(frozen=True, slots=True)
class Start:
    """Start a new group centred at ``x``, ``y`` (metres) with ``partners``.

    ``company`` is the company it forms around, ``None`` for a mixed group.
    """

    x: float
    y: float
    partners: tuple[int, ...]
    company: str | None


@dataclass(frozen=True, slots=True)
class Wander:
    """Stroll to ``x``, ``y`` (metres) and stand there a while."""

    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Idle:
    """Stand alone for ``seconds``."""

    seconds: float


Plan = Join | Start | Wander | Idle


def _wander(crowd: Crowd, a: int) -> Wander:
    rng = crowd.rng
    ang = rng.uniform(0.0, 2.0 * math.pi)
    dist = rng.uniform(4.0, 12.0)
    width, height = crowd.floor
    x = min(max(crowd.pos[a, 0] + dist * math.cos(ang), 1.0), width - 1.0)
    y = min(max(crowd.pos[a, 1] + dist * math.sin(ang), 1.0), height - 1.0)
    return Wander(x, y)


def _booth(crowd: Crowd, a: int) -> Join | None:
    x, y = crowd.pos[a]
    ids: list[int] = []
    weights: list[float] = []
    for gid in crowd.booth_group:
        g = crowd.groups[gid]
        if g.headcount < _BOOTH_ROOM:
            ids.append(gid)
            weights.append(math.exp(-math.hypot(g.cx - x, g.cy - y) / 15.0))
    if not ids:
        return None
    w = np.array(weights)
    return Join(ids[int(crowd.rng.choice(len(ids), p=w / w.sum()))])


def _options(crowd: Crowd, a: int, cling: bool) -> list[tuple[str, int, float]]:
    """(kind, ref, weight) for ``join`` a group or ``start`` one with a free person."""
    x, y = crowd.pos[a]
    code = int(crowd.company_code[a])
    fall_off = 12.0 if cling else 8.0
    out: list[tuple[str, int, float]] = []
    for g in crowd.groups.values():
        n = g.headcount
        if g.booth >= 0 or n == 0 or n >= MAX_GROUP_SIZE:
            continue
        d = math.hypot(g.cx - x, g.cy - y)
        if d > _REACH_M:
            continue
        mates = sum(1 for m in (*g.members, *g.incoming) if code >= 0 and crowd.company_code[m] == code)
        share = mates / n
        if cling and mates and share >= 0.5:
            out.append(("join", g.id, 3.0 * math.exp(-d / fall_off) * _SIZE_PREF[n]))
        elif not cling and share < 0.5:
            out.append(("join", g.id, math.exp(-d / fall_off) * _SIZE_PREF[n]))
    free = crowd.free() & (crowd.booth_of < 0)
    free[a] = False
    cand = np.flatnonzero(free)
    if cand.size:
        dist = np.hypot(crowd.pos[cand, 0] - x, crowd.pos[cand, 1] - y)
        same = (crowd.company_code[cand] == code) & (code >= 0)
        keep = (dist <= _REACH_M) & (same if cling else ~same)
        scale = 2.0 if cling else 0.8
        for p, d in zip(cand[keep].tolist(), dist[keep].tolist(), strict=True):
            out.append(("start", p, scale * math.exp(-d / fall_off)))
    return out


def _recruits(crowd: Crowd, a: int, partner: int, cling: bool) -> tuple[int, ...]:
    """Who else comes along when ``a`` starts a group with ``partner``."""
    rng = crowd.rng
    free = crowd.free() & (crowd.booth_of < 0)
    free[[a, partner]] = False
    code = crowd.company_code[a]
    same = (crowd.company_code == code) & (code >= 0)
    near = np.hypot(crowd.pos[:, 0] - crowd.pos[a, 0], crowd.pos[:, 1] - crowd.pos[a, 1]) <= (15.0 if cling else 10.0)
    pool = np.flatnonzero(free & near & (same if cling else ~same))
    p_each, most = (0.5, 2) if cling else (0.2, 1)
    extra = [int(p) for p in pool if rng.random() < p_each]
    return (partner, *extra[:most])


def choose(crowd: Crowd, a: int, now: float) -> Plan:
    """The next plan for ``a``, who is standing alone at ``now`` (seconds)."""
    rng = crowd.rng
    if crowd.role[a] == "organizer" and rng.random() < _P_ORGANIZER_WALK:
        return _wander(crowd, a)
    if crowd.booth_group and rng.random() < _P_BOOTH:
        visit = _booth(crowd, a)
        if visit is not None:
            return visit
    code = int(crowd.company_code[a])
    colleagues = (crowd.company_code == code) & (code >= 0) & (crowd.state != ABSENT) & (crowd.booth_of < 0)
    colleagues[a] = False
    cling = bool(colleagues.any()) and rng.random() < crowd.clinginess
    options = _options(crowd, a, cling)
    if cling and not options:
        if rng.random() < 0.5:
            return Idle(rng.uniform(10.0, 30.0))
        cling = False
        options = _options(crowd, a, cling)
    if not options or (not cling and rng.random() < _P_ALONE):
        return _wander(crowd, a) if rng.random() < 0.5 else Idle(rng.uniform(5.0, 30.0))
    weights = np.array([w for _, _, w in options])
    kind, ref, _ = options[int(rng.choice(len(options), p=weights / weights.sum()))]
    if kind == "join":
        return Join(ref, cling)
    partners = _recruits(crowd, a, ref, cling)
    mid = ((crowd.pos[a, 0] + crowd.pos[ref, 0]) / 2.0, (crowd.pos[a, 1] + crowd.pos[ref, 1]) / 2.0)
    spot = find_spot(mid, crowd.centres(), crowd.floor, crowd.keep_out, rng)
    if spot is None:  # no room for another group nearby
        return _wander(crowd, a)
    return Start(spot[0], spot[1], partners, crowd.company[a] if cling else None)
