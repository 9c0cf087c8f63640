"""Conversational groups as F-formations: who stands where around a shared o-space.

Members of a group stand evenly around its centre, facing it (Kendon's F-formation; the
o-space is the shared space in front of everyone). The circle grows with the group, from
0.6 m radius for two people (1.2 m apart, face to face) to 1.0 m for seven. Group centres
keep :data:`CLEARANCE_M` apart, so adjacent groups stand 2.6–4 m apart: close enough to
be hard to tell apart by radio, as in a real hall.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["CLEARANCE_M", "MAX_GROUP_SIZE", "Group", "find_spot", "formation_radius", "slot_angles"]

FloatArray = npt.NDArray[np.float64]

#: Largest conversational group (F-formations beyond seven split in practice).
MAX_GROUP_SIZE: Final = 7
#: Minimum distance between two group centres, metres.
CLEARANCE_M: Final = 2.6
#: Group centres keep this far from the walls, metres.
_WALL_MARGIN_M: Final = 1.6
#: ... and this far outside booth rectangles.
_BOOTH_MARGIN_M: Final = 1.0
_RING_RADII_M: Final = (0.0, 1.5, 3.0, 4.5, 6.0, 8.0, 11.0)
_RING_POINTS: Final = 10


def formation_radius(size: int) -> float:
    """Radius (metres) of the circle ``size`` people stand on: 0.6 for two, up to 1.0 for seven."""
    return min(1.0, 0.6 + 0.08 * max(0, size - 2))


def slot_angles(angles: Sequence[float]) -> list[float]:
    """Evenly spaced angles for people now at ``angles`` (radians around the centre).

    Keeps their circular order and rotates the pattern as little as possible; the result
    is in the order of the input.
    """
    n = len(angles)
    if n == 0:
        return []
    tau = 2.0 * math.pi
    order = sorted(range(n), key=lambda i: angles[i] % tau)
    offsets = [angles[order[k]] - tau * k / n for k in range(n)]
    base = math.atan2(sum(math.sin(o) for o in offsets), sum(math.cos(o) for o in offsets))
    out = [0.0] * n
    for k, i in enumerate(order):
        out[i] = base + tau * k / n
    return out


class Group:
    """A conversational group (mutable state of the crowd model, not a value).

    ``members`` stand in formation (they are the group in the truth file once there are
    two); ``incoming`` are walking towards it. ``born`` is when it got its id (Unix s);
    ``booth`` is the booth index or -1;
    ``company`` the company it was formed around (``None`` for a mixed group); ``formed``
    whether it has stood with two or more members under its current id (ids are never
    reused: a group that falls below two members and fills again gets a new one).
    """

    __slots__ = ("booth", "born", "company", "cx", "cy", "formed", "id", "incoming", "members")

    def __init__(self, ident: int, cx: float, cy: float, born: float, *, booth: int = -1, company: str | None = None):
        self.id = ident
        self.cx = cx
        self.cy = cy
        self.born = born
        self.booth = booth
        self.company = company
        self.formed = False
        self.members: list[int] = []
        self.incoming: list[int] = []

    @property
    def label(self) -> str:
        """The id written to the truth file, ``g-<n>``."""
        return f"g-{self.id}"

    @property
    def headcount(self) -> int:
        """Members plus people on their way."""
        return len(self.members) + len(self.incoming)


def find_spot(
    near: tuple[float, float],
    centres: FloatArray,
    floor: tuple[float, float],
    keep_out: Sequence[tuple[float, float, float, float]],
    rng: np.random.Generator,
) -> tuple[float, float] | None:
    """A new group centre close to ``near``, or ``None`` when the floor around is full.

    Valid spots are :data:`CLEARANCE_M` from every centre in ``centres`` (``(k, 2)``),
    clear of the walls and 1 m outside every ``keep_out`` rectangle ``(x0, y0, x1, y1)``.
    Candidates lie on rings of growing radius (random rotation); the nearest valid wins.
    """
    rings = []
    for radius in _RING_RADII_M:
        count = 1 if radius == 0.0 else _RING_POINTS
        phase = rng.uniform(0.0, 2.0 * math.pi)
        ang = phase + np.arange(count) * (2.0 * math.pi / count)
        rings.append(np.column_stack((near[0] + radius * np.cos(ang), near[1] + radius * np.sin(ang))))
    cand = np.vstack(rings)
    width, height = floor
    ok = (
        (cand[:, 0] >= _WALL_MARGIN_M)
        & (cand[:, 0] <= width - _WALL_MARGIN_M)
        & (cand[:, 1] >= _WALL_MARGIN_M)
        & (cand[:, 1] <= height - _WALL_MARGIN_M)
    )
    for x0, y0, x1, y1 in keep_out:
        inside = (
            (cand[:, 0] > x0 - _BOOTH_MARGIN_M)
            & (cand[:, 0] < x1 + _BOOTH_MARGIN_M)
            & (cand[:, 1] > y0 - _BOOTH_MARGIN_M)
            & (cand[:, 1] < y1 + _BOOTH_MARGIN_M)
        )
        ok &= ~inside
    if centres.shape[0]:
        gap = np.min(np.hypot(cand[:, None, 0] - centres[None, :, 0], cand[:, None, 1] - centres[None, :, 1]), axis=1)
        ok &= gap >= CLEARANCE_M
    hits = np.flatnonzero(ok)
    if hits.size == 0:
        return None
    x, y = cand[int(hits[0])]
    return float(x), float(y)
