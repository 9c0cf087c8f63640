from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.windows import RssiWindows


def arr(*v: float) -> np.ndarray:
    return np.array(v)


def iarr(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def test_median_and_iqr_per_pair() -> None:
    w = RssiWindows(10.0)
    w.add(iarr(0, 0, 0, 0, 1), iarr(2, 2, 2, 2, 0), arr(1, 2, 3, 4, 4), arr(-60, -70, -65, -90, -50))
    s = w.summarize(5.0, 3)
    assert s.badge.tolist() == [0, 1] and s.gateway.tolist() == [2, 0]
    assert s.median.tolist() == [-67.5, -50.0]
    assert s.count.tolist() == [4, 1]
    assert s.iqr[0] == pytest.approx(np.subtract(*np.percentile([-60, -70, -65, -90], [75, 25])))
    assert s.last_ts.tolist() == [4.0, 4.0]


def test_window_lower_bound_is_exclusive_and_late_readings_count() -> None:
    w = RssiWindows(10.0)
    w.add(iarr(0), iarr(0), arr(100.0), arr(-60))
    w.add(iarr(0), iarr(0), arr(96.0), arr(-80))  # arrives late, out of order: still in the window
    s = w.summarize(105.0, 1)
    assert s.count.tolist() == [2] and s.median.tolist() == [-70.0]
    assert w.summarize(106.0, 1).count.tolist() == [1]  # 96 is not > 106 - 10
    assert len(w.summarize(110.0, 1)) == 0
    assert w.too_old == 2


def test_future_readings_wait_for_their_time() -> None:
    w = RssiWindows(10.0, future_slack_s=1.0)
    w.add(iarr(0, 0), iarr(0, 0), arr(100.0, 103.0), arr(-60, -40))
    assert w.summarize(101.0, 1).median.tolist() == [-60.0]
    assert w.summarize(102.0, 1).median.tolist() == [-50.0]


def test_empty_and_bad_arguments() -> None:
    w = RssiWindows(5.0)
    assert len(w.summarize(0.0, 4)) == 0
    with pytest.raises(ValueError, match="window_s"):
        RssiWindows(0)
    with pytest.raises(ValueError, match="aligned"):
        w.add(iarr(0, 1), iarr(0), arr(1.0), arr(-50))


def test_one_store_serves_a_short_and_a_long_window() -> None:
    w = RssiWindows(10.0, keep_s=30.0)
    w.add(iarr(0, 0, 0), iarr(1, 1, 1), arr(75.0, 85.0, 99.0), arr(-80, -70, -60))
    assert w.summarize(100.0, 2).count.tolist() == [1]  # the 10 s window: only ts 99
    long = w.summarize(100.0, 2, span_s=30.0)
    assert long.count.tolist() == [3] and long.median.tolist() == [-70.0]
    assert w.summarize(110.0, 2, span_s=30.0).count.tolist() == [2]  # 75 has expired for good
    assert w.size == 2
    with pytest.raises(ValueError, match="span_s"):
        w.summarize(110.0, 2, span_s=31.0)
    with pytest.raises(ValueError, match="keep_s"):
        RssiWindows(10.0, keep_s=5.0)


@pytest.mark.parametrize("seed", range(5))
def test_summaries_match_a_plain_median_over_random_late_and_out_of_order_input(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = RssiWindows(10.0, keep_s=30.0)
    seen: list[tuple[int, int, float, float]] = []
    for now in range(100, 160):
        n = int(rng.integers(0, 40))
        b, g = rng.integers(0, 6, n), rng.integers(0, 4, n)
        t = now - rng.uniform(-1.5, 14.0, n)  # late, out of order, a little ahead
        r = np.round(rng.normal(-75, 8, n))
        w.add(b.astype(np.int64), g.astype(np.int64), t, r)
        seen += zip(b.tolist(), g.tolist(), t.tolist(), r.tolist(), strict=True)
        for span in (10.0, 30.0):
            s = w.summarize(float(now), 4, span_s=span)
            want: dict[tuple[int, int], list[float]] = {}
            for bb, gg, tt, rr in seen:
                if now - span < tt <= now + w.future_slack_s:
                    want.setdefault((bb, gg), []).append(rr)
            assert list(zip(s.badge.tolist(), s.gateway.tolist(), strict=True)) == sorted(want)
            assert s.median.tolist() == pytest.approx([float(np.median(want[k])) for k in sorted(want)])
            assert s.count.tolist() == [len(want[k]) for k in sorted(want)]


def test_series_holds_the_mean_of_each_second_per_pair() -> None:
    w = RssiWindows(10.0, keep_s=30.0)
    badge = np.array([1, 1, 1, 0, 1])
    gateway = np.array([2, 2, 2, 5, 3])
    ts = np.array([97.2, 97.9, 99.5, 99.9, 75.0])
    rssi = np.array([-60.0, -70.0, -55.0, -80.0, -90.0])
    w.add(badge, gateway, ts, rssi)
    s = w.series(100.0, 4)
    assert s.badge.tolist() == [0, 1] and s.gateway.tolist() == [5, 2]  # 75.0 is outside the 4 s
    assert np.isnan(s.values[0, :3]).all() and s.values[0, 3] == -80.0
    assert np.isnan(s.values[1, 0]) and s.values[1, 1] == -65.0  # (97, 98]: the mean of two
    assert np.isnan(s.values[1, 2]) and s.values[1, 3] == -55.0
    with pytest.raises(ValueError, match="seconds"):
        w.series(100.0, 31)
