"""What scanning badges say of each other: their neighbour reports, kept over a window.

A scanning badge reports, every few seconds, the (at most four) badges it heard strongest
(``contacts/<gateway>``, docs/protocol.md). Bodies shield 2.4 GHz, so two people facing
each other in one circle hear each other far better than a neighbour who stands behind
either of them a metre further on — the physics SocioPatterns' face-to-face badges rely on.

:class:`NeighbourReports` keeps the reports of the last ``window_s`` seconds and answers,
per pair of badges, the strongest level either reported of the other (``heard``), or
``unheard_dbm`` when at least one of them reported in the window without naming the other
(it heard others better), or NaN when neither reported (a badge that does not scan, or
a venue without contacts: no evidence either way). Each answer may be asked over a shorter
span of the window (``span_s``: the last so many seconds), for a rule that must see a badge
walk away sooner than the window would.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .jit import compiled
from .runs import find_sorted, runs

__all__ = ["NeighbourReports"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_BITS = 32


class NeighbourReports:
    """Neighbour reports of the last ``window_s`` seconds (``now - window_s < ts <= now``)."""

    def __init__(self, window_s: float = 20.0, unheard_dbm: float = -95.0) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0 seconds, got {window_s!r}")
        if not math.isfinite(unheard_dbm):
            raise ValueError(f"unheard_dbm must be finite, got {unheard_dbm!r}")
        self.window_s = window_s
        self.unheard_dbm = unheard_dbm
        # The reports, sorted by pair key (as they arrived, within a key).
        self._ts = np.empty(0, dtype=np.float64)
        self._key = np.empty(0, dtype=np.int64)  # (low badge << 32) | high badge
        self._reporter = np.empty(0, dtype=np.int64)
        self._rssi = np.empty(0, dtype=np.float64)
        # Per span asked: (now, keys, best, reporters), and (that table's keys, each key's rank).
        self._tables: dict[float, tuple[float, IntArray, FloatArray, IntArray, BoolArray]] = {}
        self._ranks: dict[float, tuple[IntArray, IntArray]] = {}

    def __len__(self) -> int:
        return int(self._ts.shape[0])

    def add(self, badge: IntArray, near: IntArray, rssi: FloatArray, ts: FloatArray, now: float | None = None) -> None:
        """Aligned arrays: ``badge`` heard ``near`` at ``rssi`` dBm, reported at ``ts``. With the
        clock's ``now``, the reports that have left the window by then are dropped, as a query at
        ``now`` would: the store stays bounded when nobody asks (a detector that does not read them)."""
        if now is not None:
            self._forget(now)
        if badge.shape[0] == 0:
            return
        lo, hi = np.minimum(badge, near), np.maximum(badge, near)
        key = (lo.astype(np.int64) << _BITS) | hi.astype(np.int64)
        # The store is kept sorted by pair key (a query then needs no sort): these go in after
        # the ones already held with their key.
        order = np.argsort(key, kind="stable")
        at = np.searchsorted(self._key, key[order], side="right")
        self._key = np.insert(self._key, at, key[order])
        self._ts = np.insert(self._ts, at, ts.astype(np.float64)[order])
        self._reporter = np.insert(self._reporter, at, badge.astype(np.int64)[order])
        self._rssi = np.insert(self._rssi, at, rssi.astype(np.float64)[order])
        self._tables.clear()
        self._ranks.clear()

    def _forget(self, now: float) -> None:
        """Drop the reports that have left the window at ``now``: reports only age, so for good."""
        live = self._ts > now - self.window_s
        if not live.all():
            self._ts, self._key = self._ts[live], self._key[live]
            self._reporter, self._rssi = self._reporter[live], self._rssi[live]

    def _span(self, span_s: float | None) -> float:
        if span_s is None:
            return self.window_s
        if not 0 < span_s <= self.window_s:
            raise ValueError(f"span_s must be in (0, window_s={self.window_s}], got {span_s!r}")
        return float(span_s)

    def _at(self, now: float, span_s: float | None = None) -> tuple[IntArray, FloatArray, IntArray, BoolArray]:
        """Per pair key (sorted) the best level in the last ``span_s`` seconds (the window when
        None), the badges that reported in them (sorted), and a table of them by badge index."""
        span = self._span(span_s)
        table = self._tables.get(span)
        if table is not None and table[0] == now:
            return table[1], table[2], table[3], table[4]
        self._forget(now)
        due = self._ts <= now  # (a report stamped ahead of now waits for its second)
        if span < self.window_s:
            due &= self._ts > now - span
        key, rssi = self._key[due], self._rssi[due]  # (sorted by key, as held)
        if key.shape[0]:
            starts, _ = runs(key)
            keys, best = key[starts], np.maximum.reduceat(rssi, starts)
        else:
            keys, best = key, rssi
        reporter = self._reporter[due]
        reporting = np.zeros(int(reporter.max()) + 1 if reporter.shape[0] else 0, dtype=np.bool_)
        reporting[reporter] = True
        reporters = np.flatnonzero(reporting)
        self._tables[span] = (now, keys, best, reporters, reporting)
        return keys, best, reporters, reporting

    def pairs(self, now: float, min_dbm: float) -> tuple[IntArray, IntArray, FloatArray]:
        """The pairs (badge ``a`` < ``b``) either of which reported the other at ``min_dbm`` or
        better in the window, with that best level."""
        keys, best, _, _ = self._at(now)
        strong = best >= min_dbm
        key = keys[strong]
        return key >> _BITS, key & ((1 << _BITS) - 1), best[strong]

    def level(self, a: IntArray, b: IntArray, now: float, span_s: float | None = None) -> FloatArray:
        """Per pair (aligned badge index arrays): the best level either reported of the other
        in the window (its last ``span_s`` seconds); ``unheard_dbm`` if one of them reported
        but named not the other; NaN if neither reported."""
        keys, best, reporters, reporting = self._at(now, span_s)
        out = np.full(a.shape[0], np.nan)
        if reporters.shape[0] == 0:
            return out
        listening = _among(a, reporting) | _among(b, reporting)
        out[listening] = self.unheard_dbm
        key = (np.minimum(a, b).astype(np.int64) << _BITS) | np.maximum(a, b).astype(np.int64)
        at, found = find_sorted(keys, key)
        out[found] = best[at[found]]
        return out

    def rank(self, a: IntArray, b: IntArray, now: float, span_s: float | None = None) -> IntArray:
        """Per pair (aligned badge index arrays): how far down its own list of the badges it heard
        or was heard by in the window (its last ``span_s`` seconds), loudest first, either badge
        puts the other (0: the other is its loudest; the smaller of the two ranks); -1 where
        neither named the other."""
        span = self._span(span_s)
        keys, best, _, _ = self._at(now, span)
        out = np.full(a.shape[0], -1, dtype=np.int64)
        if keys.shape[0] == 0:
            return out
        cached = self._ranks.get(span)
        if cached is None or cached[0] is not keys:  # (ranks of this very table)
            lo, hi = keys >> _BITS, keys & ((1 << _BITS) - 1)
            place = np.empty(2 * keys.shape[0], dtype=np.int64)
            _places(np.concatenate([lo, hi]), best, int(hi.max()) + 1, place)
            n = keys.shape[0]
            cached = (keys, np.minimum(place[:n], place[n:]))  # lo's rank of hi, hi's rank of lo
            self._ranks[span] = cached
        pair_rank = cached[1]
        key = (np.minimum(a, b).astype(np.int64) << _BITS) | np.maximum(a, b).astype(np.int64)
        at, found = find_sorted(keys, key)
        out[found] = pair_rank[at[found]]
        return out


def _among(badge: IntArray, table: BoolArray) -> BoolArray:
    """Whether each of ``badge`` is marked in ``table`` (by badge index; beyond it: no)."""
    inside = badge < table.shape[0]
    out = np.zeros(badge.shape[0], dtype=np.bool_)
    out[inside] = table[badge[inside]]
    return out


@compiled
def _places(badge: IntArray, best: FloatArray, n_badges: int, place: IntArray) -> None:
    """Each entry's place in its badge's list, loudest first: entry ``e`` is badge ``badge[e]``'s
    report of level ``best[e % len(best)]`` (the pair's lower badge, then its higher); ties
    in entry order. The order ``np.lexsort((-level, badge))`` gives: a counting sort by
    badge, then each badge's few entries sorted in place by level."""
    m = best.shape[0]
    starts = np.zeros(n_badges + 1, dtype=np.int64)
    for e in range(badge.shape[0]):
        starts[badge[e] + 1] += 1
    for b in range(n_badges):
        starts[b + 1] += starts[b]
    at = starts[:-1].copy()
    order = np.empty(badge.shape[0], dtype=np.int64)
    for e in range(badge.shape[0]):
        order[at[badge[e]]] = e
        at[badge[e]] += 1
    for b in range(n_badges):
        lo, hi = starts[b], starts[b + 1]
        for j in range(lo + 1, hi):  # insertion: after every entry at least as loud
            x = order[j]
            v = best[x % m]
            k = j
            while k > lo and best[order[k - 1] % m] < v:
                order[k] = order[k - 1]
                k -= 1
            order[k] = x
        for j in range(lo, hi):
            place[order[j]] = j - lo
