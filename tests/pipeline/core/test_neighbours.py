"""The neighbour-report store: per pair, the best level either badge reported of the other."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.core.neighbours import NeighbourReports

T = 1000.0


def arr(*values: float) -> np.ndarray:
    return np.array(values)


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_the_best_level_of_either_direction_within_the_window() -> None:
    store = NeighbourReports(window_s=20.0, unheard_dbm=-95.0)
    # 1 heard 2 at -70 then -64; 2 heard 1 at -66; 1 heard 3 at -80; 4 reported only 5.
    store.add(ints(1, 1, 2, 1, 4), ints(2, 2, 1, 3, 5), arr(-70, -64, -66, -80, -75), arr(T, T + 4, T + 2, T, T))
    got = store.level(ints(2, 1, 3, 4, 6), ints(1, 3, 4, 1, 7), T + 5)
    assert got[:4].tolist() == [-64.0, -80.0, -95.0, -95.0]  # (3, 4): 4 reported, not naming 3
    assert math.isnan(got[4])  # neither 6 nor 7 reports: no evidence either way


def test_the_pairs_heard_strongly() -> None:
    store = NeighbourReports()
    store.add(ints(5, 1, 2), ints(1, 2, 9), arr(-60, -75, -58), arr(T, T, T))
    a, b, level = store.pairs(T, -70.0)
    assert (a.tolist(), b.tolist(), level.tolist()) == ([1, 2], [5, 9], [-60.0, -58.0])


def test_how_far_down_its_list_each_badge_puts_the_other() -> None:
    reports = NeighbourReports()
    # 1 hears 2 at -55, 3 at -60 and 4 at -70 dBm; 5 hears 4 at -50 (and 4 hears 1 again, weaker).
    reports.add(ints(1, 1, 1, 5, 4), ints(2, 3, 4, 4, 1), arr(-55, -60, -70, -50, -75), arr(T, T, T, T, T))
    a, b = ints(1, 3, 4, 4, 2, 1), ints(2, 1, 1, 5, 3, 5)
    # (1, 2): first on both lists; (1, 3): 1's second, but 3 heard nobody louder than 1; (1, 4): 1's
    # third, 4's second (after 5); (4, 5): first for both; (2, 3) and (1, 5) never named each other.
    assert reports.rank(a, b, T + 1).tolist() == [0, 0, 1, 0, -1, -1]
    assert NeighbourReports().rank(a, b, T).tolist() == [-1] * 6


def test_reports_leave_the_window_and_future_ones_wait() -> None:
    store = NeighbourReports(window_s=10.0)
    store.add(ints(1, 1), ints(2, 2), arr(-60, -70), arr(T, T + 8))
    assert store.level(ints(1), ints(2), T + 9).tolist() == [-60.0]
    assert store.level(ints(1), ints(2), T + 10.5).tolist() == [-70.0]  # -60 left the window
    assert math.isnan(store.level(ints(1), ints(2), T + 30)[0])  # nothing left: no reporter
    assert len(store) == 0
    store.add(ints(1), ints(2), arr(-50), arr(T + 41))
    assert math.isnan(store.level(ints(1), ints(2), T + 40)[0])  # stamped ahead of now: not yet
    assert store.level(ints(1), ints(2), T + 41).tolist() == [-50.0]


def test_the_last_seconds_of_the_window_alone() -> None:
    store = NeighbourReports(window_s=20.0, unheard_dbm=-95.0)
    # 1 named 2 at -60 at T; since then 1 has named only 3 (louder than 2 was), 4 only 5.
    store.add(ints(1, 1, 4), ints(2, 3, 5), arr(-60, -58, -70), arr(T, T + 10, T))
    a, b = ints(1, 1, 4), ints(2, 3, 5)
    assert store.level(a, b, T + 12).tolist() == [-60.0, -58.0, -70.0]
    assert store.rank(a, b, T + 12).tolist() == [0, 0, 0]  # (2 heard by none but 1: first on its list)
    # Over the last 8 s: 1 reported without naming 2 (unheard), and 4 not at all (no evidence).
    recent = store.level(a, b, T + 12, span_s=8.0)
    assert recent[:2].tolist() == [-95.0, -58.0] and math.isnan(recent[2])
    assert store.rank(a, b, T + 12, span_s=8.0).tolist() == [-1, 0, -1]
    # The whole window's answers are kept beside the span's, not replaced by them.
    assert store.level(a, b, T + 12).tolist() == [-60.0, -58.0, -70.0]
    with pytest.raises(ValueError, match="span_s"):
        store.level(a, b, T + 12, span_s=30.0)


def test_it_validates_its_settings() -> None:
    with pytest.raises(ValueError):
        NeighbourReports(window_s=0.0)
    with pytest.raises(ValueError):
        NeighbourReports(unheard_dbm=float("nan"))


def test_the_store_stays_bounded_when_nobody_asks() -> None:
    # A detector that does not read the reports never queries: adding alone must forget the old.
    store = NeighbourReports(window_s=20.0)
    for s in range(300):
        store.add(ints(1, 3), ints(2, 4), arr(-60, -61), arr(T + s, T + s), now=T + s)
    assert len(store) == 2 * 20  # the window's worth, not 300 seconds'
    assert store.level(ints(1, 3), ints(2, 4), T + 299).tolist() == [-60.0, -61.0]
    # A report stamped ahead of the clock does not push out what the window still holds.
    store.add(ints(5), ints(6), arr(-70), arr(T + 325), now=T + 300)
    assert store.level(ints(1), ints(2), T + 300).tolist() == [-60.0]


@pytest.mark.parametrize("seed", range(4))
def test_ranks_are_the_lexsort_definition_ties_included(seed: int) -> None:
    from pipeline.core.neighbours import _places
    from pipeline.core.runs import ranks, runs

    rng = np.random.default_rng(seed)
    n = 400
    lo = rng.integers(0, 60, n)
    hi = lo + rng.integers(1, 40, n)
    best = rng.integers(-90, -50, n).astype(np.float64) + rng.choice([0.0, 0.5], n)  # many ties
    badge, level = np.r_[lo, hi], np.r_[best, best]
    order = np.lexsort((-level, badge))
    want = np.empty(2 * n, dtype=np.int64)
    want[order] = ranks(runs(badge[order])[1])
    got = np.empty(2 * n, dtype=np.int64)
    _places(badge, best, int(hi.max()) + 1, got)
    assert got.tolist() == want.tolist()
