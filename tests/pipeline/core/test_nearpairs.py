"""pairs_within: the k-d tree's pairs within a radius, sorted by row then column."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from pipeline.core.nearpairs import pairs_within


def kd_pairs(pts: np.ndarray, r: float) -> tuple[list[int], list[int]]:
    pairs = cKDTree(pts).query_pairs(r, output_type="ndarray").astype(np.int64)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return pairs[order, 0].tolist(), pairs[order, 1].tolist()


@pytest.mark.parametrize("seed", range(4))
def test_the_pairs_are_the_kd_trees_sorted_by_row_then_column(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1500
    pts = rng.uniform((0, 0), (80, 60), (n, 2))
    pts[: n // 3] = np.round(pts[: n // 3])  # whole metres: pairs exactly r apart
    for r in (0.5, 3.0, 7.0, 200.0):
        row, col = pairs_within(pts, r)
        assert (row.tolist(), col.tolist()) == kd_pairs(pts, r)
    assert pairs_within(pts, 3.0)[0].shape[0] > 1000


def test_a_crowd_packed_tighter_than_its_spread_suggests_is_counted_then_filled() -> None:
    rng = np.random.default_rng(7)
    # 300 at one spot, 30 spread over a large floor: far more pairs than a uniform spread gives.
    pts = np.r_[np.full((300, 2), 5.0) + rng.normal(0, 0.1, (300, 2)), rng.uniform(0, 2000, (30, 2))]
    row, col = pairs_within(pts, 2.0)
    assert row.shape[0] >= 300 * 299 // 2
    assert (row.tolist(), col.tolist()) == kd_pairs(pts, 2.0)


def test_few_points_a_tiny_radius_and_bad_input() -> None:
    assert pairs_within(np.empty((0, 2)), 1.0)[0].shape == (0,)
    assert pairs_within(np.zeros((1, 2)), 1.0)[1].shape == (0,)
    assert [a.tolist() for a in pairs_within(np.zeros((3, 2)), 0.0)] == [[0, 0, 1], [1, 2, 2]]
    far = np.array([[0.0, 0.0], [1e6, 1e6], [1e6, 1e6 + 1e-4]])
    assert [a.tolist() for a in pairs_within(far, 1e-3)] == [[1], [2]]  # (a grid that would be huge)
    with pytest.raises(ValueError, match="finite"):
        pairs_within(np.array([[0.0, 0.0], [np.nan, 1.0]]), 1.0)
    with pytest.raises(ValueError, match="too far apart"):
        pairs_within(np.array([[-1e308, 0.0], [1e308, 1.0]]), 1.0)
    with pytest.raises(ValueError, match=r"\[n, 2\]"):
        pairs_within(np.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError, match="r must be"):
        pairs_within(np.zeros((3, 2)), -1.0)


def test_pairs_exactly_r_apart_across_a_cell_edge_rounding_puts_them_over() -> None:
    edge = 0.75 - 2.0**-53  # (x - lo) rounds: 1 - 2^-53 for one point and 2.0 for the next
    pts = np.array([[-edge, 0.0], [0.25, 0.0], [1.25, 0.0]])
    assert [a.tolist() for a in pairs_within(pts, 1.0)] == [[0, 1], [1, 2]]
    assert (pairs_within(pts, 1.0)[0].tolist(), pairs_within(pts, 1.0)[1].tolist()) == kd_pairs(pts, 1.0)


def test_an_endless_radius_and_points_on_a_line() -> None:
    line = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    for r in (np.inf, 1e200):  # every pair (r squared overflows)
        assert [a.tolist() for a in pairs_within(line, r)] == [[0, 0, 1], [1, 2, 2]]
    rng = np.random.default_rng(3)
    on_a_line = np.c_[rng.uniform(0, 50, 3000), np.zeros(3000)]  # (a uniform estimate would be n^2)
    row, col = pairs_within(on_a_line, 0.5)
    assert (row.tolist(), col.tolist()) == kd_pairs(on_a_line, 0.5)
