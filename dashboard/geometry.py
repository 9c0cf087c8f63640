"""Plane geometry for the map: convex hulls of cluster members (metres)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["convex_hull"]

Point = tuple[float, float]


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def convex_hull(points: Iterable[Point]) -> list[Point]:
    """The convex hull, counter-clockwise, without repeating the first point (Andrew's monotone chain).

    Fewer than three distinct points come back as they are (deduplicated, sorted): the map
    draws one or two members as a padded dot or capsule.
    """
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts
    lower: list[Point] = []
    for p in pts:
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[Point] = []
    for p in reversed(pts):
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]
