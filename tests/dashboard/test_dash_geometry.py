from __future__ import annotations

from dashboard.geometry import convex_hull


def test_square_with_inner_point_is_its_corners_counter_clockwise() -> None:
    pts = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (1.0, 1.0)]
    assert convex_hull(pts) == [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)]


def test_collinear_points_keep_only_the_ends() -> None:
    assert convex_hull([(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)]) == [(0.0, 0.0), (2.0, 2.0)]


def test_one_two_and_duplicate_points() -> None:
    assert convex_hull([]) == []
    assert convex_hull([(1.0, 1.0), (1.0, 1.0)]) == [(1.0, 1.0)]
    assert convex_hull([(3.0, 1.0), (1.0, 1.0)]) == [(1.0, 1.0), (3.0, 1.0)]


def test_does_not_mutate_its_input() -> None:
    pts = [(2.0, 0.0), (0.0, 0.0), (1.0, 3.0)]
    before = list(pts)
    convex_hull(pts)
    assert pts == before
