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

from .centring import centre_rows
from .jit import check_indices, check_pairs, compiled
from .runs import runs
from .windows import PairSeries

__all__ = ["MIN_SECONDS", "Fluctuations"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MIN_SECONDS = 8  # seconds heard a (badge, gateway) series needs to be kept, by default

_MAX_SMOOTH_S = 127  # seconds; far beyond any series
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
        if self._cell is not None:
            return np.flatnonzero(self._cell >= 0).astype(np.int64)  # (a table's cells are keys)
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
        if not series.badge.shape[0] == series.gateway.shape[0] == series.values.shape[0]:
            raise ValueError(
                f"series misaligned: {series.badge.shape[0]} badges, {series.gateway.shape[0]} gateways, "
                f"{series.values.shape[0]} rows of values"
            )
        rows_s = self.row_of[series.badge]
        heard = _row_counts(~np.isnan(series.values))
        keep = np.flatnonzero((rows_s >= 0) & (heard >= self.min_seconds))
        rows_s, gws = rows_s[keep], series.gateway[keep].astype(np.int64)
        # (The compiled correlation checks no bounds: a gateway past the table would read any memory.)
        check_indices(gws, self.n_gateways, f"series name gateways outside 0..{self.n_gateways - 1}")
        order = np.argsort(rows_s * self.n_gateways + gws, kind="stable")  # slots by row, then gateway
        keep, rows_s, gws = keep[order], rows_s[order], gws[order]
        m = keep.shape[0]
        if m == 0:
            return
        lo = self._size
        self._reserve(lo + m, series.values.shape[1])
        centre_rows(series.values, keep, self.smooth_s, self._residual[lo : lo + m], self._sumsq[lo : lo + m])
        self._gateway[lo : lo + m] = gws
        self._size = lo + m
        starts, lengths = runs(rows_s)
        self.first[rows_s[starts]] = lo + starts
        self.count[rows_s[starts]] = lengths
        key = rows_s * self.n_gateways + gws  # sorted
        if self._cell is not None:  # (the table finds a slot: no sorted keys are kept)
            self._cell[key] = lo + np.arange(m, dtype=np.int64)
        else:
            at = np.searchsorted(self._key, key)
            self._key = np.insert(self._key, at, key)
            self._key_slot = np.insert(self._key_slot, at, lo + np.arange(m, dtype=np.int64))

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
        check_pairs(row, col, self._built.shape[0], "rows")
        m = row.shape[0]
        out = np.full(m, np.nan)
        if m == 0:
            return out
        self.build(np.concatenate([row, col]))
        if self._size == 0:
            return out
        cell = self._cell if self._cell is not None else np.empty(0, dtype=np.int64)
        _correlate(
            np.asarray(row, dtype=np.int64),
            np.asarray(col, dtype=np.int64),
            self.first,
            self.count,
            self._gateway,
            self._residual,
            self._sumsq,
            self.n_gateways,
            cell,
            self._key,
            self._key_slot,
            min_common,
            out,
        )
        return out


@compiled
def _correlate(
    row: IntArray,
    col: IntArray,
    first: IntArray,
    count: IntArray,
    gateway: IntArray,
    residual: npt.NDArray[np.float32],
    sumsq: FloatArray,
    n_gateways: int,
    cell: IntArray,
    key: IntArray,
    key_slot: IntArray,
    min_common: int,
    out: FloatArray,
) -> None:
    """Per pair, over the row badge's slots (in gateway order) whose gateway the column badge
    has a slot for too: the float64 dot of the two residual rows (second by second, in order)
    summed, over the square root of the product of their summed squares. NaN (as ``out``
    holds) with fewer than ``min_common`` such gateways or a silent side. The column badge's
    slot is found by ``cell`` (row x n_gateways + gateway -> slot, -1: none) when it is not
    empty, else by binary search of the sorted ``key`` (its slots in ``key_slot``)."""
    seconds = residual.shape[1]
    for p in range(row.shape[0]):
        r, c = row[p], col[p]
        num = norm_a = norm_b = 0.0
        common = 0
        for a in range(first[r], first[r] + count[r]):
            want = c * n_gateways + gateway[a]
            if cell.shape[0]:
                b = cell[want]
            else:
                at = np.searchsorted(key, want)
                b = key_slot[at] if at < key.shape[0] and key[at] == want else -1
            if b < 0:
                continue
            dot = 0.0
            for t in range(seconds):
                dot += np.float64(residual[a, t]) * np.float64(residual[b, t])
            num += dot
            norm_a += sumsq[a]
            norm_b += sumsq[b]
            common += 1
        if common >= min_common and norm_a > 0 and norm_b > 0:
            out[p] = num / np.sqrt(norm_a * norm_b)


def _row_counts(present: npt.NDArray[np.bool_]) -> IntArray:
    """Per row, how many are ``present`` (integer sums: exact in any order; not BLAS, whose
    threads only wait on a busy machine)."""
    return np.asarray(np.einsum("ij->i", present.view(np.int8), dtype=np.int64), dtype=np.int64)
