"""Per-pair stores: moving averages kept across ticks, and one tick's memo of pair scores.

:class:`PairAverages` stores, per unordered pair of badge ids, an exponential moving average
(time constant ``smooth_s`` seconds) of a distance measured now and then: a pair that stands
together keeps a small average through a noisy tick (the "agreement over time" a single tick
lacks). Each measurement is first capped at ``cap_m`` (if > 0), so the average says whether
the pair stood together lately rather than how far apart they once were. A pair unseen for
more than ``forget_s`` seconds is forgotten and starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .jit import compiled
from .runs import find_sorted

__all__ = ["PairAverages", "PairMemo"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class PairAverages:
    """Per-pair moving averages (pairs of badge ids below 2**31, either order)."""

    def __init__(self, smooth_s: float, *, cap_m: float = 0.0, forget_s: float = 60.0) -> None:
        self.smooth_s = smooth_s
        self.cap_m = cap_m
        self.forget_s = forget_s
        # Sorted pair keys (lower id << 32 | higher id), their value and when last updated.
        self._keys = np.empty(0, dtype=np.int64)
        self._values = np.empty(0, dtype=np.float64)
        self._times = np.empty(0, dtype=np.float64)

    def __len__(self) -> int:
        return int(self._keys.shape[0])

    def update(self, a: IntArray, b: IntArray, dist: FloatArray, now: float) -> FloatArray:
        """Fold this tick's ``dist`` of pairs (``a``, ``b``) into their averages; returns them
        (``dist`` itself when ``smooth_s`` <= 0: nothing is kept)."""
        if self.smooth_s <= 0:
            return dist
        if self.cap_m > 0:
            dist = np.minimum(dist, self.cap_m)
        keys, pos, found = self._find(a, b)
        stored = self._keys
        prev_t = self._times[pos] if stored.shape[0] else np.zeros(keys.shape[0])
        live = found & (now - prev_t <= self.forget_s)
        alpha = 1.0 - np.exp(-np.maximum(now - prev_t, 0.0) / self.smooth_s)
        prev_v = self._values[pos] if stored.shape[0] else dist
        out = np.where(live, prev_v + alpha * (dist - prev_v), dist)
        # Keep this tick's pairs and the others not yet forgotten (an older one would start afresh).
        updated = np.zeros(stored.shape[0], dtype=np.bool_)
        updated[pos[found]] = True
        keep = ~updated & (self._times >= now - self.forget_s)
        order = np.argsort(keys, kind="stable")
        size = keys.shape[0] + int(np.count_nonzero(keep))
        merged = np.empty(size, dtype=np.int64), np.empty(size), np.empty(size)
        _merge(stored, self._values, self._times, keep, keys, out, order, now, *merged)
        self._keys, self._values, self._times = merged
        return np.asarray(out, dtype=np.float64)

    def at(self, a: IntArray, b: IntArray, now: float) -> FloatArray:
        """Each pair's average as updated at ``now``; NaN for a pair not updated at ``now``."""
        _, pos, found = self._find(a, b)
        out = np.full(pos.shape[0], np.nan)
        hit = np.flatnonzero(found)
        hit = hit[self._times[pos[hit]] == now]
        out[hit] = self._values[pos[hit]]
        return out

    def recall(self, a: IntArray, b: IntArray, now: float) -> FloatArray:
        """Each pair's average as last updated (``inf`` for a pair never updated, or forgotten)."""
        _, pos, found = self._find(a, b)
        out = np.full(pos.shape[0], np.inf)
        hit = np.flatnonzero(found)
        hit = hit[now - self._times[pos[hit]] <= self.forget_s]
        out[hit] = self._values[pos[hit]]
        return out

    def _find(self, a: IntArray, b: IntArray) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
        """Each pair's key, where it is or would go among the stored averages, and whether it is there."""
        lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
        keys = (lo << 32) | hi
        pos, found = find_sorted(self._keys, keys)
        return keys, pos, found


@compiled
def _merge(
    keys: IntArray,
    values: FloatArray,
    times: FloatArray,
    keep: npt.NDArray[np.bool_],
    new_keys: IntArray,
    new_values: FloatArray,
    order: IntArray,
    now: float,
    out_keys: IntArray,
    out_values: FloatArray,
    out_times: FloatArray,
) -> None:
    """The kept entries of the sorted store and the new ones (in ``order``, sorted; stamped
    ``now``) merged into one sorted store: a stable sort of the new ones followed by the kept
    ones, as one pass (a new key is never a kept one: it was found, so not kept)."""
    i = j = k = 0
    n_old, n_new = keys.shape[0], order.shape[0]
    while True:
        while i < n_old and not keep[i]:
            i += 1
        if j < n_new and (i >= n_old or new_keys[order[j]] <= keys[i]):
            p = order[j]
            out_keys[k], out_values[k], out_times[k] = new_keys[p], new_values[p], now
            j += 1
        elif i < n_old:
            out_keys[k], out_values[k], out_times[k] = keys[i], values[i], times[i]
            i += 1
        else:
            break
        k += 1


class PairMemo:
    """One tick's pair scores, each measured once: ``score(r, c)`` of row pairs (rows below
    ``n``) is called for the pairs not asked before, and a pair asked again is read back (in
    ``step`` the floor's groups ask first, then the colleagues and their strangers). Only for a
    ``score`` whose value for a pair depends on that pair alone: then a read-back value is the
    very value a new measurement would give."""

    def __init__(self, score: Callable[[IntArray, IntArray], FloatArray], n: int) -> None:
        self.score = score
        self.n = n
        self.keys = np.empty(0, dtype=np.int64)
        self.values = np.empty(0, dtype=np.float64)

    def __call__(self, r: IntArray, c: IntArray) -> FloatArray:
        key = r.astype(np.int64) * self.n + c
        out = np.empty(key.shape[0], dtype=np.float64)
        pos, hit = find_sorted(self.keys, key)
        out[hit] = self.values[pos[hit]]
        miss = np.flatnonzero(~hit)
        if miss.shape[0]:
            new, first, back = np.unique(key[miss], return_index=True, return_inverse=True)
            values = np.asarray(self.score(r[miss[first]], c[miss[first]]), dtype=np.float64)
            out[miss] = values[back.ravel()]
            keys = np.concatenate([self.keys, new])
            order = np.argsort(keys, kind="stable")
            self.keys, self.values = keys[order], np.concatenate([self.values, values])[order]
        return out
