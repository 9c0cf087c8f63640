"""Distances in words no more precise than the radio knows them: the phone's nudge, the
organizers' feed and the demo's alert lines say the same (standard library only)."""

from __future__ import annotations

import math

__all__ = ["NEAR_M", "how_far"]

#: Below this the estimated distance to a suggestion is not told in metres. Measured against
#: the simulator's truth (stop 20; seeds 3-5 with reports, 199 group suggestions), a
#: suggestion the radio put 0-5 m away was truly a median 3.4-4.0 m away whatever the
#: estimate (p10-p90 1.7-7.0 m): "1 m away" sent people looking beside them for a group
#: 4 m off.
NEAR_M = 5.0


def how_far(distance_m: float) -> str:
    """ "a few steps away" below :data:`NEAR_M`, else "about N m away" in steps of 5 m (halves
    up). The distance is first taken to the centimetre, as the wire carries it, so the
    pipeline's words and a reader of the wire's agree."""
    d = round(distance_m, 2)
    if d < NEAR_M:
        return "a few steps away"
    return f"about {5 * max(1, math.floor(d / 5 + 0.5))} m away"
