from __future__ import annotations

import math
from collections.abc import Iterator

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


def per_second_quantiles(values_by_second: dict[int, list[float]]) -> tuple[float, float]:
    """Median and IQR over the mean of each second (what the store keeps), by plain numpy."""
    means = [float(np.mean(v)) for v in values_by_second.values()]
    q25, q50, q75 = np.percentile(means, [25, 50, 75])
    return float(q50), float(q75 - q25)


@pytest.mark.parametrize(("seed", "keep_s", "slack_s"), [(s, 30.0, 2.0) for s in range(5)] + [(5, 10.0, 1.0)])
def test_summaries_match_a_plain_median_of_per_second_means_over_random_late_and_out_of_order_input(
    seed: int, keep_s: float, slack_s: float
) -> None:
    rng = np.random.default_rng(seed)
    w = RssiWindows(10.0, keep_s=keep_s, future_slack_s=slack_s)
    seen: list[tuple[int, int, float, float]] = []
    for now in (100 + np.cumsum(rng.choice([1, 1, 1, 2, 5], 60))).tolist():  # ticks 1-5 s apart
        n = int(rng.integers(0, 40))
        b, g = rng.integers(0, 6, n), rng.integers(0, 4, n)
        t = now - rng.uniform(-1.5, 14.0, n)  # late, out of order, a little ahead
        r = np.round(rng.normal(-75, 8, n))
        w.add(b.astype(np.int64), g.astype(np.int64), t, r)
        seen += zip(b.tolist(), g.tolist(), t.tolist(), r.tolist(), strict=True)
        for span in sorted({10.0, keep_s}):
            s = w.summarize(float(now), 4, span_s=span)
            # Pairs heard in fewer seconds left out: exactly the others' rows.
            few = w.summarize(float(now), 4, span_s=span, min_count=3)
            enough = s.count >= 3
            for f in ("badge", "gateway", "median", "iqr", "count", "last_ts"):
                assert getattr(few, f).tobytes() == getattr(s, f)[enough].tobytes()
            want: dict[tuple[int, int], dict[int, list[float]]] = {}
            newest: dict[tuple[int, int], float] = {}
            for bb, gg, tt, rr in seen:
                if now - span < tt <= now + w.future_slack_s:
                    want.setdefault((bb, gg), {}).setdefault(int(np.ceil(tt)), []).append(rr)
                    newest[bb, gg] = max(newest.get((bb, gg), -np.inf), tt)
            keys = sorted(want)
            assert list(zip(s.badge.tolist(), s.gateway.tolist(), strict=True)) == keys
            expected = [per_second_quantiles(want[k]) for k in keys]
            # Per-second means are held in 0.01 dB steps.
            assert s.median.tolist() == pytest.approx([m for m, _ in expected], abs=0.006)
            assert s.iqr.tolist() == pytest.approx([q for _, q in expected], abs=0.011)
            assert s.count.tolist() == [len(want[k]) for k in keys]  # seconds heard
            assert s.last_ts.tolist() == [newest[k] for k in keys]
        span_s = int(keep_s) - 1
        series = w.series(float(now), span_s)
        cells: dict[tuple[int, int], dict[int, list[float]]] = {}
        for bb, gg, tt, rr in seen:
            if now - span_s < tt <= now:
                cells.setdefault((bb, gg), {}).setdefault(int(np.ceil(tt)) - (now - span_s) - 1, []).append(rr)
        assert list(zip(series.badge.tolist(), series.gateway.tolist(), strict=True)) == sorted(cells)
        want_values = np.full((len(cells), span_s), np.nan, dtype=np.float32)
        for row, k in enumerate(sorted(cells)):
            for col, v in cells[k].items():
                want_values[row, col] = np.mean(v)
        np.testing.assert_allclose(series.values, want_values, atol=0.006)
        heard = series.values[~np.isnan(series.values)]  # levels held in 0.01 dB steps, as float32
        assert heard.tobytes() == (np.rint(heard * 100).astype(np.int16) / np.float32(100)).tobytes()
        # Some badges only: exactly those badges' rows of the whole series.
        subset = np.flatnonzero(np.random.default_rng(now).random(6) < 0.5)
        part = w.series(float(now), span_s, badges=subset)
        mine = np.isin(series.badge, subset)
        assert part.badge.tolist() == series.badge[mine].tolist()
        assert part.gateway.tolist() == series.gateway[mine].tolist()
        assert part.values.tobytes() == series.values[mine].tobytes()


def test_a_second_with_two_readings_counts_once_at_their_mean() -> None:
    w = RssiWindows(10.0)
    w.add(iarr(0, 0, 0), iarr(1, 1, 1), arr(98.2, 98.7, 99.5), arr(-60, -70, -80))
    w.add(iarr(0), iarr(1), arr(98.9), arr(-65))  # a late third reading in (98, 99]
    s = w.summarize(100.0, 2)
    assert s.count.tolist() == [2] and s.median.tolist() == [pytest.approx((-65.0 + -80.0) / 2)]
    assert w.size == 4


def test_a_silent_pair_frees_its_slot_and_a_returning_one_starts_afresh() -> None:
    w = RssiWindows(10.0, keep_s=30.0)
    w.add(iarr(3), iarr(7), arr(100.0), arr(-50))
    assert w.summarize(100.0, 8).last_ts.tolist() == [100.0]
    for now in range(101, 140):  # other pairs keep the store busy; pair (3, 7) falls silent
        w.add(iarr(now % 5), iarr(0), arr(float(now)), arr(-70))
        w.summarize(float(now), 8, span_s=30.0)
    w.add(iarr(3), iarr(7), arr(139.5), arr(-90))
    s = w.summarize(140.0, 8, span_s=30.0)
    row = list(zip(s.badge.tolist(), s.gateway.tolist(), strict=True)).index((3, 7))
    assert s.count[row] == 1 and s.median[row] == -90.0 and s.last_ts[row] == 139.5
    assert w.too_old == 1 + 10  # the first reading, and those of 101 .. 110 (not > 140 - 30)
    assert w._used == 6  # slots are reused: never more than the pairs live at once


def test_readings_far_ahead_wait_unbinned_and_a_long_gap_clears_everything() -> None:
    w = RssiWindows(10.0, future_slack_s=2.0)
    w.add(iarr(0, 0), iarr(0, 0), arr(100.0, 150.0), arr(-60, -40))
    assert w.summarize(100.0, 1).median.tolist() == [-60.0]
    assert w.size == 2  # the reading at 150 waits
    assert w.summarize(148.0, 1).median.tolist() == [-40.0]  # 150 <= 148 + 2; 100 has expired
    assert w.too_old == 1
    assert len(w.summarize(1000.0, 1)) == 0 and w.size == 0 and w.too_old == 2


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


def test_series_of_some_badges_and_the_revision() -> None:
    w = RssiWindows(10.0, keep_s=30.0)
    w.add(iarr(0, 1, 1, 2), iarr(5, 2, 3, 1), arr(99.5, 99.5, 98.5, 99.0), arr(-80, -60, -70, -50))
    s = w.series(100.0, 4, badges=iarr(2, 1, 9))  # any order; a badge never heard is no row
    assert s.badge.tolist() == [1, 1, 2] and s.gateway.tolist() == [2, 3, 1]
    assert s.values[0, 3] == -60.0 and s.values[1, 2] == -70.0 and s.values[2, 2] == -50.0
    assert int(np.count_nonzero(~np.isnan(s.values))) == 3
    assert len(w.series(100.0, 4, badges=iarr())) == 0
    before = w.revision
    w.summarize(100.0, 8)
    assert w.revision == before  # the same second again changes nothing
    w.add(iarr(0), iarr(5), arr(100.5), arr(-81))
    assert w.revision == before + 1
    w.summarize(101.0, 8)
    assert w.revision == before + 2


@pytest.mark.parametrize("seed", range(3))
def test_quartiles_are_bit_for_bit_those_of_each_pairs_own_sorted_seconds(seed: int) -> None:
    from pipeline.core.windows import _EMPTY, _GATEWAY_BITS, _SCALE

    rng = np.random.default_rng(seed)
    w = RssiWindows(10.0, keep_s=30.0)
    for now in (100 + np.cumsum(rng.choice([1, 1, 1, 2, 4], 25))).tolist():
        n = int(rng.integers(0, 300))
        b, g = rng.integers(0, 40, n), rng.integers(0, 6, n)
        t = now - rng.uniform(-1.5, 12.0, n)
        w.add(b.astype(np.int64), g.astype(np.int64), t, np.round(rng.normal(-75, 8, n), 1))
        for span, least in ((10.0, 1), (30.0, 1), (30.0, 4)):
            s = w.summarize(float(now), 6, span_s=span, min_count=least)
            sec = math.floor(now)
            first = max(math.floor(sec - span) + 1, w._first_kept(sec))
            for i, (bb, gg) in enumerate(zip(s.badge.tolist(), s.gateway.tolist(), strict=True)):
                slot = w._slot_of[np.searchsorted(w._keys, (bb << _GATEWAY_BITS) | gg)]
                cols = [k % w._ring for k in range(first, sec + w._ahead + 1)]
                v = np.sort(w._level[slot, cols])
                v = v[v != _EMPTY]  # the pair's heard seconds, sorted: the plain formulation
                assert v.shape[0] == s.count[i] >= least
                last = v.shape[0] - 1

                def q(num: int, v: np.ndarray = v, last: int = last) -> float:
                    pos = num * last
                    a, b = v[pos >> 2] / _SCALE, v[min((pos >> 2) + 1, last)] / _SCALE
                    return float(a + (b - a) * ((pos & 3) / 4.0))

                assert s.median[i] == q(2)
                assert s.iqr[i] == q(3) - q(1)


def _filling_windows(seed: int) -> Iterator[tuple[RssiWindows, float]]:
    """One store filled over 20 ticks (late, early and missing seconds): the store after each."""
    rng = np.random.default_rng(seed)
    w = RssiWindows(10.0, keep_s=30.0)
    for now in (100 + np.cumsum(rng.choice([1, 1, 2, 5], 20))).tolist():
        n = int(rng.integers(0, 400))
        b, g = rng.integers(0, 60, n), rng.integers(0, 8, n)
        w.add(b.astype(np.int64), g.astype(np.int64), now - rng.uniform(-1.5, 14.0, n), rng.normal(-75, 8, n))
        yield w, float(now)


def _series_cell_by_cell(  # type: ignore[no-untyped-def]
    w: RssiWindows, now: float, seconds: int, badges: np.ndarray | None, least: int, ahead: int = 0
):
    """Per-second series read off the store one cell at a time (the definition): second q
    of the span (the ``seconds`` up to ``now``, and ``ahead`` more) is ring column q % ring
    when the store still keeps it, its level / 100 as float32, NaN when nobody was heard or
    it is not kept."""
    from pipeline.core.windows import _EMPTY, _GATEWAY_BITS

    w.summarize(now, 8)  # (the store's clock moved to now, as series moves it)
    t = int(np.floor(now))
    first, first_kept = t - seconds + 1, w._first_kept(w._t)
    seconds += ahead
    t += ahead
    rows, keys = [], []
    for key, slot in zip(w._keys.tolist(), w._slot_of.tolist(), strict=True):
        if badges is not None and key >> _GATEWAY_BITS not in set(badges.tolist()):
            continue
        row = np.full(seconds, np.nan, dtype=np.float32)
        for q in range(max(first, first_kept), t + 1):
            level = int(w._level[slot, q % w._ring])
            if level != _EMPTY:
                row[q - first] = np.float32(level) / np.float32(100.0)
        if (~np.isnan(row)).sum() >= least:
            rows.append(row)
            keys.append(key)
    return np.array(keys, dtype=np.int64), np.array(rows, dtype=np.float32).reshape(-1, seconds)


@pytest.mark.parametrize("seed", range(3))
def test_series_are_the_stores_cells_read_one_by_one(seed: int) -> None:
    from pipeline.core.windows import _GATEWAY_BITS

    for w, now in _filling_windows(seed):
        for seconds, badges, least in ((30, None, 1), (4, None, 1), (12, np.arange(0, 60, 3), 1), (30, None, 8)):
            got = w.series(now, seconds, badges=badges, min_heard=least)
            keys, values = _series_cell_by_cell(w, now, seconds, badges, least)
            assert ((got.badge << _GATEWAY_BITS) | got.gateway).tolist() == keys.tolist()
            assert got.values.dtype == np.float32 and got.values.shape == values.shape
            assert got.values.tobytes() == values.tobytes()


@pytest.mark.parametrize("seed", range(3))
def test_summaries_are_the_quartiles_of_each_pairs_heard_seconds(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.core.windows as windows
    from pipeline.core.windows import _GATEWAY_BITS

    for w, now in _filling_windows(seed):
        # the short and the long window (seconds heard kept per slot), and spans counted afresh
        for span, least in ((10.0, 1), (30.0, 1), (30.0, 5), (5.0, 1), (17.0, 3)):
            got = w.summarize(now, 8, span_s=span, min_count=least)
            keys, values = _series_cell_by_cell(w, now, int(span), None, least, ahead=w._ahead)
            assert ((got.badge << _GATEWAY_BITS) | got.gateway).tolist() == keys.tolist()
            for k in range(keys.shape[0]):
                heard = np.sort(values[k][~np.isnan(values[k])].astype(np.float64))
                assert got.count[k] == heard.shape[0]
                q1, q2, q3 = np.quantile(heard, [0.25, 0.5, 0.75])
                assert got.median[k] == pytest.approx(q2, abs=1e-4) and got.iqr[k] == pytest.approx(q3 - q1, abs=1e-4)
            # Counting heard seconds afresh, a block of slots at a time, counts the same.
            monkeypatch.setattr(windows, "_SUMMARY_BLOCK", 7)
            again = w.summarize(now, 8, span_s=span, min_count=least)
            monkeypatch.undo()
            for f in ("badge", "gateway", "median", "iqr", "count", "last_ts"):
                assert getattr(again, f).tobytes() == getattr(got, f).tobytes()


@pytest.mark.parametrize("seed", range(3))
def test_series_of_pairs_heard_in_enough_seconds_are_those_rows_of_all_series(seed: int) -> None:
    for w, now in _filling_windows(seed):
        for seconds, badges in ((30, None), (12, np.arange(0, 60, 3))):
            every = w.series(now, seconds, badges=badges)
            heard = (~np.isnan(every.values)).sum(axis=1)
            for least in (1, 2, 8):
                got = w.series(now, seconds, badges=badges, min_heard=least)
                keep = heard >= least
                assert got.badge.tolist() == every.badge[keep].tolist()
                assert got.gateway.tolist() == every.gateway[keep].tolist()
                assert got.values.tobytes() == every.values[keep].tobytes()


def test_a_clock_set_back_past_the_window_starts_the_store_afresh() -> None:
    w = RssiWindows(10.0, keep_s=30.0)
    for t in range(1000, 1010):
        w.add(iarr(0), iarr(0), arr(float(t)), arr(-60))
        w.summarize(float(t), 1)
    # The host clock is set back ten minutes: what is heard from now on is placed at once.
    for t in range(400, 403):
        w.add(iarr(0, 1), iarr(0, 0), arr(float(t), float(t)), arr(-70, -50))
    s = w.summarize(402.0, 2)
    assert s.badge.tolist() == [0, 1] and s.count.tolist() == [3, 3] and s.median.tolist() == [-70.0, -50.0]
    assert w.too_old == 10  # what was held, stamped ahead of the new clock
    # A step back within the window is only late input: nothing is cleared.
    w.add(iarr(1), iarr(0), arr(399.0), arr(-52))
    assert w.summarize(402.0, 2).count.tolist() == [3, 4] and w.too_old == 10


def test_a_series_for_an_earlier_now_reads_only_the_seconds_still_kept() -> None:
    w = RssiWindows(10.0, keep_s=30.0)  # a ring of 32 seconds with 2 s of future slack
    k = np.arange(95, 133)
    w.add(np.zeros(k.size, np.int64), np.zeros(k.size, np.int64), k.astype(float), -k / 10.0)
    w.summarize(130.0, 1)  # the store's clock reaches 130: seconds 101 .. 132 are kept
    s = w.series(129.0, 30)  # one second earlier: seconds 100 .. 129
    assert math.isnan(s.values[0, 0])  # second 100 has left (its column now holds 132)
    assert s.values[0, 1:].tolist() == pytest.approx((-np.arange(101, 130) / 10.0).tolist(), abs=0.01)
