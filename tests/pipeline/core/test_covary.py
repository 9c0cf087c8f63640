from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.covary import Fluctuations
from pipeline.core.windows import PairSeries


def _series(levels: dict[tuple[int, int], np.ndarray]) -> PairSeries:
    keys = sorted(levels)
    return PairSeries(
        np.array([k[0] for k in keys], dtype=np.int64),
        np.array([k[1] for k in keys], dtype=np.int64),
        np.array([levels[k] for k in keys], dtype=np.float32),
    )


def test_badges_that_fade_together_correlate_and_unrelated_ones_do_not() -> None:
    rng = np.random.default_rng(4)
    seconds, gateways = 30, 5
    shared = rng.normal(0, 4, (gateways, seconds))  # one moving shadow over badges 0 and 1
    levels = {}
    for g in range(gateways):
        levels[(0, g)] = -70 + shared[g] + rng.normal(0, 0.5, seconds)
        levels[(1, g)] = -75 + shared[g] + rng.normal(0, 0.5, seconds)  # another TX offset: no matter
        levels[(2, g)] = -70 + rng.normal(0, 4, seconds)
    fl = Fluctuations.from_series(_series(levels), np.arange(3), 3, gateways, smooth_s=1)
    corr = fl.correlation(np.array([0, 0, 1]), np.array([1, 2, 2]))
    assert corr[0] > 0.9
    assert abs(corr[1]) < 0.3 and abs(corr[2]) < 0.3
    # Symmetric, and the same through the smoothing path.
    assert fl.correlation(np.array([1]), np.array([0]))[0] == pytest.approx(corr[0])
    smooth = Fluctuations.from_series(_series(levels), np.arange(3), 3, gateways, smooth_s=3)
    assert smooth.correlation(np.array([0]), np.array([1]))[0] > 0.9


def test_missing_seconds_and_gateways_are_handled() -> None:
    t = np.arange(20, dtype=np.float64)
    wave = 5 * np.sin(t / 3)
    a = -60 + wave
    b = -65 + wave
    b_gappy = b.copy()
    b_gappy[::3] = np.nan  # a third of b's packets lost
    levels = {(0, 0): a, (0, 1): a + 1, (0, 2): a - 2, (1, 0): b_gappy, (1, 1): b, (1, 2): b, (1, 3): b}
    fl = Fluctuations.from_series(_series(levels), np.arange(2), 2, 4, smooth_s=1)
    assert fl.correlation(np.array([0]), np.array([1]))[0] > 0.9
    # Fewer common gateways than asked for: unknown, not zero.
    assert np.isnan(fl.correlation(np.array([0]), np.array([1]), min_common=4)[0])


def test_rows_not_wanted_or_too_sparse_are_left_out() -> None:
    a = np.full(20, np.nan)
    a[:5] = -60.0  # 5 seconds heard: below min_seconds
    levels = {(0, 0): a, (1, 0): np.full(20, -60.0), (2, 0): np.full(20, -61.0)}
    row_of = np.array([0, 1, -1])  # badge 2 is not wanted
    fl = Fluctuations.from_series(_series(levels), row_of, 2, 1, min_seconds=8, smooth_s=1)
    assert fl.key.tolist() == [1]  # row 1, gateway 0: row 0 was too sparse and badge 2 not wanted
    assert np.isnan(fl.correlation(np.array([0]), np.array([1]), min_common=1)[0])
    with pytest.raises(ValueError, match="smooth_s"):
        Fluctuations.from_series(_series(levels), row_of, 2, 1, smooth_s=0)
