"""The floor at the first second: an event already under way.

Booth staff stand at their booths. Of the people there at the start, about 70 % are
already talking in groups of 2–7 (sizes 2..7 drawn with probabilities 0.36, 0.28, 0.18,
0.10, 0.05, 0.03: most conversations are small), placed anywhere on the open floor with
the usual clearance; the rest stand alone. A group's founder clings to colleagues with
probability ``clinginess`` when colleagues are free, exactly as later decisions do. Each
member has already spent part of their stay (the remaining stay is a uniform 10–100 %
share of a fresh one), so groups break up at staggered times.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import numpy as np

from .formation import find_spot, formation_radius
from .states import IDLE, MEMBER

if TYPE_CHECKING:
    from .crowd import Crowd

__all__ = ["initial_groups"]

_IN_GROUPS: Final = 0.7
_SIZES: Final = (2, 3, 4, 5, 6, 7)
_SIZE_P: Final = (0.36, 0.28, 0.18, 0.10, 0.05, 0.03)


def _stand(crowd: Crowd, members: list[int], centre: tuple[float, float], now: float, residual: bool) -> None:
    """Put ``members`` in formation round ``centre`` in the group created last."""
    rng = crowd.rng
    g = crowd.groups[max(crowd.groups)]
    radius = formation_radius(max(2, len(members)))
    base = rng.uniform(0.0, 2.0 * math.pi)
    for k, a in enumerate(members):
        ang = base + 2.0 * math.pi * k / len(members)
        crowd.pos[a] = (centre[0] + radius * math.cos(ang), centre[1] + radius * math.sin(ang))
        crowd.state[a] = MEMBER
        crowd.group[a] = g.id
        g.members.append(a)
    crowd.arrange(g)
    for a in members:
        stay = crowd.stay_s(a, g)
        crowd.until[a] = now + (stay * rng.uniform(0.1, 1.0) if residual else stay)
        crowd.heading[a] = math.atan2(centre[1] - crowd.pos[a, 1], centre[0] - crowd.pos[a, 0])


def initial_groups(crowd: Crowd, now: float) -> None:
    """Place everyone due at ``now`` (the start) on the floor, mostly in groups."""
    rng = crowd.rng
    for booth in crowd.booths:
        staff = [int(a) for a in np.flatnonzero(crowd.booth_of == booth.index)]
        crowd.new_group(booth.centre[0], booth.centre[1], now, booth=booth.index)
        crowd.booth_group.append(max(crowd.groups))
        _stand(crowd, staff, booth.centre, now, residual=False)
    due = crowd.schedule.due(now) & (crowd.booth_of < 0)
    taken = ~due
    width, height = crowd.floor
    loners: list[int] = []
    for a in rng.permutation(np.flatnonzero(due)).tolist():
        if taken[a]:
            continue
        taken[a] = True
        if rng.random() >= _IN_GROUPS:
            loners.append(a)
            continue
        size = int(rng.choice(_SIZES, p=_SIZE_P))
        code = crowd.company_code[a]
        same = (crowd.company_code == code) & (code >= 0)
        mates = np.flatnonzero(~taken & same)
        cling = mates.size > 0 and rng.random() < crowd.clinginess
        pool = mates if cling else np.flatnonzero(~taken & ~same)
        others = [int(p) for p in rng.permutation(pool)[: size - 1]]
        if not others:
            loners.append(a)
            continue
        near = (rng.uniform(2.0, width - 2.0), rng.uniform(2.0, height - 2.0))
        spot = find_spot(near, crowd.centres(), crowd.floor, crowd.keep_out, rng)
        if spot is None:
            loners.append(a)
            continue
        members = [a, *others]
        taken[others] = True
        crowd.new_group(spot[0], spot[1], now, company=crowd.company[a] if cling else None)
        crowd.cling[members] = cling
        _stand(crowd, members, spot, now, residual=True)
    for a in loners:
        crowd.pos[a] = (rng.uniform(1.0, width - 1.0), rng.uniform(1.0, height - 1.0))
        crowd.heading[a] = rng.uniform(-math.pi, math.pi)
        crowd.state[a] = IDLE
        crowd.until[a] = now + rng.uniform(0.0, 20.0)
