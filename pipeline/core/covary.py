"""Do two badges' RSSI levels rise and fall together? Evidence that they stand together.

Shadowing in a crowd has a slow, moving part: people walking between a badge and a
gateway attenuate it for seconds at a time (Gudmundson's correlated shadowing, in space
*and* in time; the simulator's moving field has a 3 m decorrelation distance and a
10 s time constant, see docs/simulator.md). Two badges a metre apart sit under nearly the
same moving shadow, so at every gateway both hear, their levels go up and down together;
two badges in adjacent circles 3–4 m apart share much less of it. A static profile
comparison (:class:`~pipeline.core.grouping.Profiles`) sees only the time-averaged part.

:class:`Fluctuations` holds, per badge and gateway, the per-second RSSI of the last few
seconds with its own mean removed (box-smoothed over ``smooth_s`` seconds to damp per-packet
fading, missing seconds as zero), and :meth:`Fluctuations.correlation` gives pairs of badges
their pooled correlation over the gateways both hear: near 1 for badges that move in step,
near 0 for unrelated ones. It is a feature for the pair distance, not a decision.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .runs import find_sorted, ranks, runs
from .windows import PairSeries

__all__ = ["MIN_SECONDS", "Fluctuations"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MIN_SECONDS = 8  # seconds heard a (badge, gateway) series needs to be kept, by default

# Gateway-seconds compared per chunk of pairs: small enough that a chunk's gathered rows
# (1 MB of float32 each) stay in cache and come from the allocator's heap, not fresh pages
# (at 1 << 21 the 8 MB temporaries cost more in page faults than the arithmetic). Each pair's
# figures depend on its own rows only, so the chunking changes no bit.
_CHUNK = 1 << 18
_SLOTS_PER_BLOCK = 1 << 15  # (badge, gateway) series centred and smoothed per block
_MAX_SMOOTH_S = 127  # the box counts are int8
_DENSE_CELLS = 1 << 22  # up to this many (row, gateway) cells, slots are found by a table


class Fluctuations:
    """Centred per-second RSSI series for ``n`` badges (rows), built row by row on demand.

    ``source(badges)`` gives the :class:`PairSeries` of the given badge indices (sorted,
    unique); ``row_of[badge]`` is a badge's row (-1: not wanted). A row's series are
    fetched, centred and smoothed the first time a pair asks for that row, so a tick pays
    for the badges its pairs involve, not for every badge on the floor; each row's result
    does not depend on which other rows are built (every step is per series), so the
    correlations are the same as with every row built up front. ``source`` must give the
    same series for the same badges for as long as the object is used (``step`` builds
    one per tick).

    ``residual[s]`` is slot ``s``'s series minus its mean (float32; 0 where no reading);
    a row's slots are contiguous and sorted by gateway, ``first[row]``/``count[row]``
    give each built row's run of slots (count 0: none kept, or not built yet); ``key`` =
    row x ``n_gateways`` + gateway lists the built slots in sorted order.
    """

    __slots__ = (
        "_badge_of",
        "_built",
        "_cell",
        "_gateway",
        "_key",
        "_key_slot",
        "_residual",
        "_size",
        "_source",
        "_sumsq",
        "count",
        "first",
        "min_seconds",
        "n_gateways",
        "row_of",
        "smooth_s",
    )

    def __init__(
        self,
        source: Callable[[IntArray], PairSeries],
        row_of: IntArray,
        n: int,
        n_gateways: int,
        *,
        min_seconds: int = MIN_SECONDS,
        smooth_s: int = 3,
    ) -> None:
        if not (isinstance(smooth_s, int) and 1 <= smooth_s <= _MAX_SMOOTH_S):
            raise ValueError(f"smooth_s must be an integer in [1, {_MAX_SMOOTH_S}] seconds, got {smooth_s!r}")
        self._source = source
        self.row_of = np.asarray(row_of, dtype=np.int64)
        self.n_gateways = max(int(n_gateways), 1)
        self.min_seconds = min_seconds
        self.smooth_s = smooth_s
        wanted = np.flatnonzero(self.row_of >= 0)
        self._badge_of = np.full(n, -1, dtype=np.int64)  # the badge each row is built from
        self._badge_of[self.row_of[wanted]] = wanted  # (a row given twice keeps the last badge)
        self._built = np.zeros(n, dtype=np.bool_)
        self.first = np.zeros(n, dtype=np.int64)
        self.count = np.zeros(n, dtype=np.int64)
        self._residual = np.empty((0, 0), dtype=np.float32)  # storage; slots [0, _size) used
        self._sumsq = np.empty(0, dtype=np.float64)
        self._gateway = np.empty(0, dtype=np.int64)
        self._size = 0
        self._key = np.empty(0, dtype=np.int64)  # built slots' keys, sorted
        self._key_slot = np.empty(0, dtype=np.int64)  # ... and their slots
        # With few rows x gateways, also a table from key to slot (-1: none): one gather
        # finds a pair's slots instead of a binary search each.
        cells = n * self.n_gateways
        self._cell = np.full(cells, -1, dtype=np.int64) if cells <= _DENSE_CELLS else None

    @classmethod
    def from_series(
        cls,
        series: PairSeries,
        row_of: IntArray,
        n: int,
        n_gateways: int,
        *,
        min_seconds: int = MIN_SECONDS,
        smooth_s: int = 3,
    ) -> Fluctuations:
        """From a :class:`PairSeries`, every wanted row built at once; ``row_of[badge]`` is
        the badge's row (-1: not wanted).

        A (badge, gateway) series needs readings in ``min_seconds`` seconds to be kept.
        """

        def source(badges: IntArray) -> PairSeries:
            take = np.flatnonzero(np.isin(series.badge, badges))
            return PairSeries(series.badge[take], series.gateway[take], series.values[take])

        out = cls(source, row_of, n, n_gateways, min_seconds=min_seconds, smooth_s=smooth_s)
        out.build(np.arange(n, dtype=np.int64))
        return out

    @property
    def residual(self) -> npt.NDArray[np.float32]:
        return self._residual[: self._size]

    @property
    def gateway(self) -> IntArray:
        return self._gateway[: self._size]

    @property
    def sumsq(self) -> FloatArray:
        return self._sumsq[: self._size]

    @property
    def key(self) -> IntArray:
        return self._key

    def build(self, rows: IntArray) -> None:
        """Fetch, centre and smooth the series of ``rows`` not built yet."""
        rows = np.asarray(rows, dtype=np.int64)
        todo = np.unique(rows[~self._built[rows]]) if rows.shape[0] else rows
        if todo.shape[0] == 0:
            return
        self._built[todo] = True
        badges = self._badge_of[todo]
        badges = np.sort(badges[badges >= 0])
        if badges.shape[0] == 0:
            return
        series = self._source(badges)
        if len(series) == 0:
            return
        rows_s = self.row_of[series.badge]
        heard = _row_counts(~np.isnan(series.values))
        keep = np.flatnonzero((rows_s >= 0) & (heard >= self.min_seconds))
        rows_s, gws = rows_s[keep], series.gateway[keep].astype(np.int64)
        order = np.argsort(rows_s * self.n_gateways + gws, kind="stable")  # slots by row, then gateway
        keep, rows_s, gws = keep[order], rows_s[order], gws[order]
        m = keep.shape[0]
        if m == 0:
            return
        lo = self._size
        self._reserve(lo + m, series.values.shape[1])
        # In blocks of slots, so the temporaries stay small at 20,000 badges.
        for a in range(0, m, _SLOTS_PER_BLOCK):
            b = min(a + _SLOTS_PER_BLOCK, m)
            self._residual[lo + a : lo + b] = _centred(series.values[keep[a:b]], self.smooth_s)
        new = self._residual[lo : lo + m]
        self._sumsq[lo : lo + m] = np.einsum("ij,ij->i", new, new, dtype=np.float64) if new.size else 0.0
        self._gateway[lo : lo + m] = gws
        self._size = lo + m
        starts, lengths = runs(rows_s)
        self.first[rows_s[starts]] = lo + starts
        self.count[rows_s[starts]] = lengths
        key = rows_s * self.n_gateways + gws  # sorted
        at = np.searchsorted(self._key, key)
        self._key = np.insert(self._key, at, key)
        self._key_slot = np.insert(self._key_slot, at, lo + np.arange(m, dtype=np.int64))
        if self._cell is not None:
            self._cell[key] = lo + np.arange(m, dtype=np.int64)

    def _reserve(self, size: int, seconds: int) -> None:
        cap = self._residual.shape[0]
        if self._residual.shape[1] != seconds:
            if self._size:
                raise ValueError(f"series of {seconds} s after series of {self._residual.shape[1]} s")
            cap = 0
        if size <= cap:
            return
        new_cap = max(size, cap + cap // 2)
        residual = np.empty((new_cap, seconds), dtype=np.float32)
        if self._size:
            residual[: self._size] = self._residual[: self._size]
        self._residual = residual
        self._sumsq = np.r_[self._sumsq[: self._size], np.empty(new_cap - self._size)]
        self._gateway = np.r_[self._gateway[: self._size], np.empty(new_cap - self._size, dtype=np.int64)]

    def correlation(self, row: IntArray, col: IntArray, min_common: int = 3) -> FloatArray:
        """Pooled correlation of pairs' residuals over the gateways both hear (NaN: fewer than
        ``min_common`` gateways in common)."""
        m = row.shape[0]
        out = np.full(m, np.nan)
        if m == 0:
            return out
        self.build(np.concatenate([row, col]))
        if self._size == 0:
            return out
        seconds = max(self._residual.shape[1], 1)
        per_pair = max(float(self.count[row].mean()), 1.0) * seconds
        step = max(1, int(_CHUNK // per_pair))
        for lo in range(0, m, step):
            hi = min(lo + step, m)
            out[lo:hi] = self._chunk(row[lo:hi], col[lo:hi], min_common)
        return out

    def _chunk(self, row: IntArray, col: IntArray, min_common: int) -> FloatArray:
        counts = self.count[row]
        pair = np.repeat(np.arange(row.shape[0]), counts)
        slot_a = self.first[row][pair] + ranks(counts)
        want = col[pair] * self.n_gateways + self._gateway[slot_a]
        if self._cell is not None:
            slot_b = self._cell[want]
            ok = slot_b >= 0
            pair, slot_a, slot_b = pair[ok], slot_a[ok], slot_b[ok]
        else:
            at, ok = find_sorted(self._key, want)
            pair, slot_a, slot_b = pair[ok], slot_a[ok], self._key_slot[at[ok]]
        m = row.shape[0]
        residual, sumsq = self._residual, self._sumsq
        dot = np.einsum("ij,ij->i", residual.take(slot_a, axis=0), residual.take(slot_b, axis=0), dtype=np.float64)
        num = np.bincount(pair, weights=dot, minlength=m)
        norm_a = np.bincount(pair, weights=sumsq[slot_a], minlength=m)
        norm_b = np.bincount(pair, weights=sumsq[slot_b], minlength=m)
        common = np.bincount(pair, minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = num / np.sqrt(norm_a * norm_b)
        return np.asarray(np.where((common >= min_common) & (norm_a > 0) & (norm_b > 0), corr, np.nan), np.float64)


def _centred(values: npt.NDArray[np.float32], smooth_s: int) -> npt.NDArray[np.float32]:
    """Rows of per-second levels (NaN = none), box-smoothed over ``smooth_s`` seconds, each
    minus its own mean, 0 where nothing was heard.

    The arithmetic is that of the plain formulation (``np.where`` for the gaps, a padded
    ``np.cumsum`` per row for the box sums, ``np.divide(..., where=)``) operation for
    operation, bit for bit; only the bookkeeping around it is cheaper (bit masks for the
    gaps, counts by a product, the running sums across rows).
    """
    present = ~np.isnan(values)
    keep = _bits(present)
    filled = _masked(values.copy(), keep)
    # Centre first (float32 is then ample for running sums of a few dB).
    filled -= (filled.sum(axis=1, dtype=np.float64) / np.maximum(_row_counts(present), 1)).astype(np.float32)[:, None]
    _masked(filled, keep)
    if smooth_s > 1 and values.shape[0]:
        # The mean of the readings within the box (running sums over the seconds heard).
        seen = _box_counts(present, smooth_s)
        total = _convolve_rows(filled, smooth_s)
        present = seen > 0
        keep = _bits(present)
        # Where nothing was heard in the box its sum is exactly 0 (running sums of zeros).
        filled = _masked(np.asarray(total / np.maximum(seen, np.float32(1.0)), dtype=np.float32), keep)
        mean = filled.sum(axis=1, dtype=np.float64) / np.maximum(_row_counts(present), 1)
        filled -= mean.astype(np.float32)[:, None]
        _masked(filled, keep)
    return filled


def _bits(present: npt.NDArray[np.bool_]) -> npt.NDArray[np.int32]:
    """All 32 bits set where ``present``, none elsewhere."""
    return np.asarray(-present.view(np.int8).astype(np.int32), dtype=np.int32)


def _masked(a: npt.NDArray[np.float32], keep: npt.NDArray[np.int32]) -> npt.NDArray[np.float32]:
    """``a`` with +0.0 where ``keep`` has no bits (in place)."""
    bits = a.view(np.int32)
    np.bitwise_and(bits, keep, out=bits)
    return a


def _row_counts(present: npt.NDArray[np.bool_]) -> IntArray:
    """Per row, how many are ``present`` (integer sums: exact in any order; not BLAS, whose
    threads only wait on a busy machine)."""
    return np.asarray(np.einsum("ij->i", present.view(np.int8), dtype=np.int64), dtype=np.int64)


def _box_counts(present: npt.NDArray[np.bool_], width: int) -> npt.NDArray[np.float32]:
    """Centred box count of ``width`` along each row ('same' length), zero beyond the ends."""
    n = present.shape[1]
    padded = np.zeros((present.shape[0], n + width - 1), dtype=np.int8)
    padded[:, width // 2 : width // 2 + n] = present
    out = np.zeros((present.shape[0], n), dtype=np.int8)
    for k in range(width):
        out += padded[:, k : k + n]
    return out.astype(np.float32)


def _convolve_rows(a: npt.NDArray[np.float32], width: int) -> npt.NDArray[np.float32]:
    """Centred box sum of ``width`` along each row ('same' length), zero beyond the ends: the
    difference of running float32 sums over the row padded with zeros, added in row order
    (as ``np.cumsum`` adds them) but for every row at once, a column at a time."""
    m, n = a.shape
    lead, trail = width // 2 + 1, width - 1 - width // 2
    columns = np.ascontiguousarray(a.T)
    csum = np.zeros((lead + n + trail, m), dtype=np.float32)
    for j in range(n + trail):
        np.add(csum[lead + j - 1], columns[j] if j < n else np.float32(0.0), out=csum[lead + j])
    return np.ascontiguousarray((csum[width:] - csum[:-width]).T)
