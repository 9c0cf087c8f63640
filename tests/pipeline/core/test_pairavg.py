"""PairAverages' store: its merge of this tick's pairs into the kept ones is the plain
formulation's (a stable sort of the new pairs followed by the kept ones), entry for entry."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.pairavg import PairAverages


def _plain_update(store: tuple[np.ndarray, np.ndarray, np.ndarray], a, b, dist, now, smooth_s, forget_s):  # type: ignore[no-untyped-def]
    """The update as first written: every key sorted again each time."""
    stored, values, times = store
    keys = (np.minimum(a, b).astype(np.int64) << 32) | np.maximum(a, b).astype(np.int64)
    pos = np.minimum(np.searchsorted(stored, keys), max(stored.shape[0] - 1, 0))
    found = stored[pos] == keys if stored.shape[0] else np.zeros(keys.shape[0], dtype=bool)
    prev_t = times[pos] if stored.shape[0] else np.zeros(keys.shape[0])
    live = found & (now - prev_t <= forget_s)
    alpha = 1.0 - np.exp(-np.maximum(now - prev_t, 0.0) / smooth_s)
    prev_v = values[pos] if stored.shape[0] else dist
    out = np.where(live, prev_v + alpha * (dist - prev_v), dist)
    updated = np.zeros(stored.shape[0], dtype=bool)
    updated[pos[found]] = True
    keep = ~updated & (times >= now - forget_s)
    all_keys = np.r_[keys, stored[keep]]
    order = np.argsort(all_keys, kind="stable")
    new = (all_keys[order], np.r_[out, values[keep]][order], np.r_[np.full(keys.shape[0], now), times[keep]][order])
    return out, new


@pytest.mark.parametrize("seed", range(4))
def test_an_update_is_the_plain_formulation_entry_for_entry(seed: int) -> None:
    rng = np.random.default_rng(seed)
    averages = PairAverages(20.0, forget_s=6.0)
    store = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
    for now in np.arange(1.0, 30.0):
        m = int(rng.integers(0, 300))
        key = np.unique(rng.integers(0, 80 * 80, m))  # (distinct pairs, as callers give them)
        a, b = key // 80, key % 80
        keep = a != b
        a, b = a[keep], b[keep]
        flip = rng.random(a.shape[0]) < 0.5
        a, b = np.where(flip, b, a), np.where(flip, a, b)  # either order
        perm = rng.permutation(a.shape[0])
        a, b = a[perm], b[perm]
        dist = rng.uniform(0.0, 3.0, a.shape[0])
        want, store = _plain_update(store, a, b, dist, now, 20.0, 6.0)
        got = averages.update(a, b, dist, now)
        assert got.tobytes() == want.tobytes()
        assert averages._keys.tolist() == store[0].tolist()
        assert averages._values.tobytes() == store[1].tobytes() and averages._times.tobytes() == store[2].tobytes()
    assert len(averages) > 0
