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


def _random_levels(
    rng: np.random.Generator,
    n: int,
    gateways: int,
    seconds: int,
    *,
    least_gateways: int,
    gaps: float,
    first_badge: int = 0,
) -> dict[tuple[int, int], np.ndarray]:
    """Per-second levels of ``n`` badges, each heard by ``least_gateways`` or more random
    gateways, with a share ``gaps`` of the seconds unheard (NaN)."""
    levels = {}
    for b in range(n):
        for g in rng.choice(gateways, size=int(rng.integers(least_gateways, gateways + 1)), replace=False).tolist():
            v = np.round(-70 + rng.normal(0, 4, seconds), 2)
            v[rng.random(seconds) < gaps] = np.nan
            levels[(b + first_badge, g)] = v
    return levels


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


def test_rows_are_built_when_a_pair_first_asks_and_give_what_building_all_gives() -> None:
    rng = np.random.default_rng(11)
    n, gateways, seconds = 12, 6, 30
    # badge indices 100.. are rows 11 .. 0
    series = _series(_random_levels(rng, n, gateways, seconds, least_gateways=2, gaps=0.3, first_badge=100))
    row_of = np.full(200, -1, dtype=np.int64)
    row_of[100 : 100 + n] = np.arange(n)[::-1]
    eager = Fluctuations.from_series(series, row_of, n, gateways)
    asked: list[list[int]] = []

    def source(badges: np.ndarray) -> PairSeries:
        asked.append(badges.tolist())
        take = np.isin(series.badge, badges)
        return PairSeries(series.badge[take], series.gateway[take], series.values[take])

    lazy = Fluctuations(source, row_of, n, gateways)
    assert asked == [] and lazy.residual.shape[0] == 0
    r, c = np.array([3, 0]), np.array([0, 5])
    first = lazy.correlation(r, c, min_common=1)
    assert asked == [[106, 108, 111]]  # the badges of rows 0, 3 and 5 only, once each
    assert first.tobytes() == eager.correlation(r, c, min_common=1).tobytes()
    lazy.correlation(np.array([5]), np.array([3]), min_common=1)
    assert len(asked) == 1  # nothing new to build
    i, j = np.triu_indices(n, 1)
    assert lazy.correlation(i, j, min_common=1).tobytes() == eager.correlation(i, j, min_common=1).tobytes()
    assert not np.isnan(eager.correlation(i, j, min_common=1)).all()
    assert lazy.key.tolist() == eager.key.tolist()


def test_slots_found_by_table_and_by_search_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.core.covary as covary

    rng = np.random.default_rng(12)
    n, gateways, seconds = 30, 9, 30
    series = _series(_random_levels(rng, n, gateways, seconds, least_gateways=1, gaps=0.2))
    i, j = np.triu_indices(n, 1)
    by_table = Fluctuations.from_series(series, np.arange(n), n, gateways)
    assert by_table._cell is not None
    monkeypatch.setattr(covary, "_DENSE_CELLS", 0)
    by_search = Fluctuations.from_series(series, np.arange(n), n, gateways)
    assert by_search._cell is None
    got = by_table.correlation(i, j, min_common=2)
    assert got.tobytes() == by_search.correlation(i, j, min_common=2).tobytes()
    assert np.count_nonzero(~np.isnan(got)) > 100


def _plain_correlation(fl: Fluctuations, row: np.ndarray, col: np.ndarray, min_common: int) -> np.ndarray:
    """Pair by pair: per common gateway the float64 dot of the two residual rows (added second
    by second), summed in gateway order, over the square root of the product of the summed squares."""
    out = np.full(row.shape[0], np.nan)
    for k, (r, c) in enumerate(zip(row.tolist(), col.tolist(), strict=True)):
        a = range(fl.first[r], fl.first[r] + fl.count[r])
        b = {int(fl.gateway[s]): s for s in range(fl.first[c], fl.first[c] + fl.count[c])}
        num = norm_a = norm_b = 0.0
        common = 0
        for s in a:
            t = b.get(int(fl.gateway[s]))
            if t is None:
                continue
            num += float(np.cumsum(fl.residual[s].astype(np.float64) * fl.residual[t])[-1])  # (added in order)
            norm_a += float(fl.sumsq[s])
            norm_b += float(fl.sumsq[t])
            common += 1
        if common >= min_common and norm_a > 0 and norm_b > 0:
            out[k] = num / np.sqrt(norm_a * norm_b)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_correlations_are_the_plain_ones(seed: int) -> None:
    rng = np.random.default_rng(20 + seed)
    n, gateways, seconds = 40, 9, 30
    series = _series(_random_levels(rng, n, gateways, seconds, least_gateways=1, gaps=0.2))
    fl = Fluctuations.from_series(series, np.arange(n), n, gateways)
    i, j = np.triu_indices(n, 1)
    i, j = np.r_[i, j], np.r_[j, i]  # both ways round
    whole = fl.correlation(i, j, min_common=2)
    assert np.count_nonzero(~np.isnan(whole)) > 500
    assert whole.tobytes() == _plain_correlation(fl, i, j, 2).tobytes()
    # Pair by pair, or in any order, each pair's figure is the same.
    back = rng.permutation(i.shape[0])
    assert fl.correlation(i[back], j[back], min_common=2).tobytes() == whole[back].tobytes()
    assert fl.correlation(i[:1], j[:1], min_common=2).tobytes() == whole[:1].tobytes()


def test_series_of_gateways_outside_the_venue_are_refused_not_read() -> None:
    rng = np.random.default_rng(3)
    levels = _random_levels(rng, 4, 5, 30, least_gateways=3, gaps=0.0)
    levels[(2, 5)] = np.round(-70 + rng.normal(0, 4, 30), 2)  # gateway 5 of a venue of 5 (0..4)
    with pytest.raises(IndexError, match=r"outside 0\.\.4"):
        Fluctuations.from_series(_series(levels), np.arange(4), 4, 5)
    del levels[(2, 5)]
    fl = Fluctuations.from_series(_series(levels), np.arange(4), 4, 5)
    assert fl.residual.shape[0] == len(levels)
    with pytest.raises(ValueError, match="aligned"):
        fl.correlation(np.zeros(1000, dtype=np.int64), np.array([1]))
    whole = _series(levels)
    # A source whose series hold fewer rows of values than they name pairs:
    lazy = Fluctuations(lambda badges: PairSeries(whole.badge, whole.gateway, whole.values[:1]), np.arange(4), 4, 5)
    with pytest.raises(ValueError, match="misaligned"):
        lazy.build(np.arange(4))
