"""The simulated hall's geometry: floor size, gateway grid, reference spots and booths.

Pure functions of plain numbers and an owned generator; :mod:`.scenario` assembles them
into a :class:`~pipeline.venue.Venue`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from pipeline.venue import Gateway, Reference, Zone

__all__ = [
    "BOOTH_DEPTH_M",
    "BOOTH_WIDTH_M",
    "Booth",
    "booth_capacity",
    "booth_slots",
    "booth_stands",
    "entrance",
    "floor_size",
    "gateway_grid",
    "reference_spots",
]

#: A booth is a 4 m wide, 3 m deep stand against a wall, 1 m between neighbours.
BOOTH_WIDTH_M: Final = 4.0
BOOTH_DEPTH_M: Final = 3.0
_BOOTH_GAP_M: Final = 1.0
#: The booth's conversation stands this far from its wall (its o-space centre).
_BOOTH_CENTRE_M: Final = 1.6
#: Nothing is built within this many metres either side of the entrance.
_ENTRANCE_CLEAR_M: Final = 4.0
_MIN_WIDTH_M: Final = 10.0
_MIN_HEIGHT_M: Final = 8.0


def floor_size(attendees: int, area_per_attendee_m2: float) -> tuple[float, float]:
    """Width and height (metres) of a 4:3 floor of ``attendees * area_per_attendee_m2`` m²."""
    area = attendees * area_per_attendee_m2
    width = max(_MIN_WIDTH_M, float(round(math.sqrt(area * 4.0 / 3.0))))
    height = max(_MIN_HEIGHT_M, float(round(area / width)))
    return width, height


def entrance(width: float) -> tuple[float, float]:
    """Where people come in and leave: the middle of the bottom wall, just inside."""
    return width / 2.0, 0.5


@dataclass(frozen=True, slots=True)
class Booth:
    """A booth stand: its ``zone`` (exempt from nudges) and the centre of its conversation."""

    index: int
    zone: Zone
    centre: tuple[float, float]


def _rect(x0: float, y0: float, x1: float, y1: float) -> tuple[tuple[float, float], ...]:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def booth_slots(width: float, height: float) -> list[tuple[tuple[tuple[float, float], ...], tuple[float, float]]]:
    """Every place a booth fits, as (rectangle, conversation centre), walls in a fixed order.

    Top wall left to right, then the left and right walls bottom to top (clear of the top
    and bottom rows), then the bottom wall clear of the entrance.
    """
    slots: list[tuple[tuple[tuple[float, float], ...], tuple[float, float]]] = []
    step = BOOTH_WIDTH_M + _BOOTH_GAP_M
    x = _BOOTH_GAP_M
    while x + BOOTH_WIDTH_M <= width - _BOOTH_GAP_M:
        rect = _rect(x, height - BOOTH_DEPTH_M, x + BOOTH_WIDTH_M, height)
        slots.append((rect, (x + BOOTH_WIDTH_M / 2, height - _BOOTH_CENTRE_M)))
        x += step
    side: list[tuple[tuple[tuple[float, float], ...], tuple[float, float]]] = []
    y = BOOTH_DEPTH_M + _BOOTH_GAP_M
    while y + BOOTH_WIDTH_M <= height - BOOTH_DEPTH_M - _BOOTH_GAP_M:
        mid = y + BOOTH_WIDTH_M / 2
        side.append((_rect(0.0, y, BOOTH_DEPTH_M, y + BOOTH_WIDTH_M), (_BOOTH_CENTRE_M, mid)))
        side.append((_rect(width - BOOTH_DEPTH_M, y, width, y + BOOTH_WIDTH_M), (width - _BOOTH_CENTRE_M, mid)))
        y += step
    slots.extend(side)
    door_x = entrance(width)[0]
    x = _BOOTH_GAP_M
    while x + BOOTH_WIDTH_M <= width - _BOOTH_GAP_M:
        if x + BOOTH_WIDTH_M <= door_x - _ENTRANCE_CLEAR_M or x >= door_x + _ENTRANCE_CLEAR_M:
            slots.append((_rect(x, 0.0, x + BOOTH_WIDTH_M, BOOTH_DEPTH_M), (x + BOOTH_WIDTH_M / 2, _BOOTH_CENTRE_M)))
        x += step
    return slots


def booth_capacity(width: float, height: float) -> int:
    """How many booths fit along the walls of a ``width`` x ``height`` m floor."""
    return len(booth_slots(width, height))


def booth_stands(count: int, width: float, height: float) -> tuple[Booth, ...]:
    """``count`` booths spread evenly over the available wall slots (``nudges: false`` zones)."""
    slots = booth_slots(width, height)
    if count > len(slots):
        raise ValueError(f"booths: {count} do not fit along the walls (at most {len(slots)})")
    chosen = [slots[(k * len(slots)) // count] for k in range(count)] if count else []
    return tuple(
        Booth(k, Zone(f"booth-{k + 1:02d}", rect, nudges=False), centre) for k, (rect, centre) in enumerate(chosen)
    )


def gateway_grid(width: float, height: float, spacing_m: float, rng: np.random.Generator) -> tuple[Gateway, ...]:
    """Ceiling gateways on a grid of about ``spacing_m``, at 2.5–3 m height, row by row."""
    nx = max(2, round(width / spacing_m))
    ny = max(2, round(height / spacing_m))
    digits = max(2, len(str(nx * ny)))
    heights = rng.uniform(2.5, 3.0, size=nx * ny)
    out: list[Gateway] = []
    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            x = round((i + 0.5) * width / nx, 2)
            y = round((j + 0.5) * height / ny, 2)
            out.append(Gateway(f"gw-{k + 1:0{digits}d}", x, y, round(float(heights[k]), 2)))
    return tuple(out)


def reference_spots(
    count: int, width: float, height: float, keep_out: tuple[Zone, ...], rng: np.random.Generator
) -> tuple[Reference, ...]:
    """``count`` reference badges at 1.2 m on fixed stands, spread over the open floor.

    Candidates are drawn 2 m clear of the walls and outside ``keep_out`` zones; each new
    spot is the candidate farthest from those already chosen (deterministic under ``rng``).
    """
    if count == 0:
        return ()
    margin = 2.0
    candidates = rng.uniform((margin, margin), (width - margin, height - margin), size=(64 * count, 2))
    free = [c for c in candidates if not any(z.contains(float(c[0]), float(c[1])) for z in keep_out)]
    pool = np.array(free if free else candidates)
    chosen = [pool[0]]
    for _ in range(1, count):
        d = np.min(np.linalg.norm(pool[:, None, :] - np.array(chosen)[None, :, :], axis=2), axis=1)
        chosen.append(pool[int(np.argmax(d))])
    digits = max(2, len(str(count)))
    return tuple(
        Reference(f"ref-{k + 1:0{digits}d}", round(float(p[0]), 2), round(float(p[1]), 2), 1.2)
        for k, p in enumerate(chosen)
    )
