import math

import numpy as np
import pytest

from pipeline.analytics import (
    SMALLER_COMPANIES,
    assortativity,
    companies_met,
    insularity,
    mixing_index_over_time,
    mixing_matrix,
    pair_weights,
    within_share,
)


def test_perfectly_assortative_is_one() -> None:
    e = mixing_matrix([0, 1, 2], [0, 1, 2], [5, 3, 1], 3)
    assert assortativity(e) == pytest.approx(1.0)
    assert within_share(e) == pytest.approx(1.0)


def test_random_mixing_construction_is_zero() -> None:
    a = np.array([0.2, 0.3, 0.5])
    assert assortativity(np.outer(a, a)) == pytest.approx(0.0, abs=1e-12)


def test_two_group_worked_example() -> None:
    # 6 windows A-A, 2 windows B-B, 2 windows A-B: e = [[.6, .1], [.1, .2]], Tr e = .8,
    # a = (.7, .3), ||e^2|| = .49 + .09 = .58, r = (.8 - .58) / (1 - .58) = 0.5238...
    e = mixing_matrix([0, 1, 0], [0, 1, 1], [6, 2, 2], 2)
    np.testing.assert_allclose(e, [[0.6, 0.1], [0.1, 0.2]])
    assert assortativity(e) == pytest.approx(0.22 / 0.42)
    assert within_share(e) == pytest.approx(0.8)


def test_disassortative_is_negative_and_undefined_is_nan() -> None:
    assert assortativity(mixing_matrix([0], [1], [1], 2)) == pytest.approx(-1.0)
    assert math.isnan(assortativity(np.zeros((2, 2))))
    assert math.isnan(assortativity(mixing_matrix([0], [0], [1], 1)))


def test_pair_weights_counts_windows_and_drops_self() -> None:
    lo, hi, w = pair_weights([1, 0, 2, 1, 3], [0, 1, 2, 2, 3])
    assert lo.tolist() == [0, 1] and hi.tolist() == [1, 2] and w.tolist() == [2, 1]


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="group codes"):
        mixing_matrix([0], [3], [1], 2)
    with pytest.raises(TypeError, match="integers"):
        pair_weights([0.5], [1.0])
    with pytest.raises(ValueError, match="square"):
        assortativity(np.zeros(3))


def test_insularity_ranks_and_pools_small_companies() -> None:
    e = mixing_matrix([0, 1, 2, 3, 0], [0, 1, 2, 3, 1], [8, 2, 1, 1, 2], 4)
    rows = insularity(e, ["acme", "beta", "c", "d"], [5, 6, 2, 4], min_size=5)
    assert [r.company for r in rows] == ["acme", "beta", SMALLER_COMPANIES]
    assert rows[0].share == pytest.approx(8 / 9)
    assert rows[1].share == pytest.approx(2 / 3)
    assert rows[2].share == pytest.approx(1.0) and rows[2].companies == 2 and rows[2].size == 6
    # the boundary: a company of exactly min_size is named
    assert insularity(e, ["acme", "beta", "c", "d"], [5, 5, 5, 5], min_size=5)[-1].company != SMALLER_COMPANIES
    # a pool of one small delegation, or of too few people, would name it by another name
    names = ["acme", "beta", "c", "d"]
    assert [r.company for r in insularity(e, names, [5, 6, 2, 5], min_size=5)] == ["d", "acme", "beta"]
    assert SMALLER_COMPANIES not in [r.company for r in insularity(e, names, [5, 6, 2, 2], min_size=5)]


def test_mixing_index_over_time_bins() -> None:
    starts, index, n = mixing_index_over_time([0, 20, 3600, 3620, 7300], [0, 0, 0, 1, 1], [0, 1, 1, 1, 0], bin_s=3600)
    assert starts.tolist() == [0.0, 3600.0, 7200.0]
    assert index.tolist() == [0.5, 0.5, 1.0] and n.tolist() == [2, 2, 1]
    with pytest.raises(ValueError, match="bin_s"):
        mixing_index_over_time([0], [0], [0], bin_s=0)


def test_companies_met_counts_distinct_other_companies() -> None:
    met = companies_met([0, 0, 0, 1], [1, 2, 3, 2], [0, 1, 1, 2])
    assert met.tolist() == [2, 1, 1, 1]
