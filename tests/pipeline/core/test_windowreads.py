"""The compiled loops that read the RSSI windows' store, against plain formulations."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("size", [1, 2, 4, 8, 16])
def test_the_sorting_network_sorts_every_zero_one_input(size: int) -> None:
    from pipeline.core.windowreads import _network

    # The 0-1 principle: a comparator network that sorts every sequence of 0s and 1s sorts all.
    lower, higher = _network(size)
    x = ((np.arange(1 << size)[:, None] >> np.arange(size)[None, :]) & 1).astype(np.int8)
    for a, b in zip(lower.tolist(), higher.tolist(), strict=True):
        x[:, a], x[:, b] = np.minimum(x[:, a], x[:, b]), np.maximum(x[:, a], x[:, b])
    assert (np.diff(x, axis=1) >= 0).all()
    assert len(_network(32)[0]) == 191  # Batcher's count for 32


@pytest.mark.parametrize("seed", range(3))
def test_slot_quartiles_are_numpys_quantiles_of_the_heard_seconds(seed: int) -> None:
    from pipeline.core.windowreads import slot_quartiles

    rng = np.random.default_rng(seed)
    slots, ring = 700, 32
    empty = np.iinfo(np.int16).max
    level = np.where(rng.random((slots, ring)) < 0.6, rng.integers(-9000, -4000, (slots, ring)), empty)
    level = level.astype(np.int16)
    level[5, :] = rng.integers(-9000, -4000, ring)  # heard in every second
    for cols in (np.arange(ring), np.array([30, 31, 0, 1, 2, 3, 4, 5, 6, 7, 8]), np.array([3]), np.arange(4, 21)):
        count = (level[:, cols] != empty).sum(axis=1)
        take = rng.permutation(np.flatnonzero(count > 0))[:600]  # in no order, as slots are handed out
        median, iqr = np.empty(take.shape[0]), np.empty(take.shape[0])
        slot_quartiles(level, take, cols, count[take], empty, 100.0, median, iqr)
        ordered = np.sort(level[take][:, cols], axis=1)
        for k, s in enumerate(take.tolist()):
            heard = ordered[k, : count[s]] / 100.0
            q1, q2, q3 = np.quantile(heard, [0.25, 0.5, 0.75])
            assert median[k] == pytest.approx(q2, abs=1e-12) and iqr[k] == pytest.approx(q3 - q1, abs=1e-12)
        # Bit for bit the store's earlier reading of them off rows sorted by numpy.
        last = np.maximum(count[take] - 1, 0)
        flat, start = ordered.reshape(-1), np.arange(take.shape[0]) * cols.shape[0]

        def quantile(
            num: int, last: np.ndarray = last, flat: np.ndarray = flat, start: np.ndarray = start
        ) -> np.ndarray:
            pos = num * last
            at = start + (pos >> 2)
            a, b = flat[at] / 100.0, flat[np.minimum(at + 1, start + last)] / 100.0
            return np.asarray(a + (b - a) * ((pos & 3) / 4.0), dtype=np.float64)

        assert median.tobytes() == quantile(2).tobytes()
        assert iqr.tobytes() == (quantile(3) - quantile(1)).tobytes()
    out = np.empty(2)
    with pytest.raises(ValueError, match="counts outside"):
        slot_quartiles(level, np.array([0, 1]), np.arange(4), np.array([1, 5]), empty, 100.0, out, out.copy())
    with pytest.raises(IndexError, match="slots outside"):
        slot_quartiles(level, np.array([0, slots]), np.arange(4), np.array([1, 1]), empty, 100.0, out, out.copy())
    with pytest.raises(IndexError, match="columns outside"):
        slot_quartiles(level, np.array([0, 1]), np.array([0, ring]), np.array([1, 1]), empty, 100.0, out, out.copy())


def test_live_pairs_are_the_pairs_heard_often_enough_in_key_order() -> None:
    from pipeline.core.windowreads import live_pairs

    keys = np.array([(1 << 12) | 3, (1 << 12) | 7, (2 << 12) | 0, (5 << 12) | 4095], dtype=np.int64)
    slot_of = np.array([2, 0, 3, 1], dtype=np.int64)
    heard = np.array([5, 1, 0, 9], dtype=np.int32)  # per slot
    last_ts = np.array([10.0, 11.0, 12.0, 13.0])
    badge, gateway, count, last, slots = live_pairs(keys, slot_of, heard, 1, last_ts, 12)
    assert badge.tolist() == [1, 2, 5] and gateway.tolist() == [7, 0, 4095]
    assert count.tolist() == [5, 9, 1] and last.tolist() == [10.0, 13.0, 11.0] and slots.tolist() == [0, 3, 1]
    assert live_pairs(keys, slot_of, heard, 6, last_ts, 12)[0].tolist() == [2]
    with pytest.raises(IndexError, match="slots outside"):
        live_pairs(keys, np.array([2, 0, 4, 1]), heard, 1, last_ts, 12)
    with pytest.raises(ValueError, match="4 keys for 3 slots"):
        live_pairs(keys, slot_of[:3], heard, 1, last_ts, 12)
