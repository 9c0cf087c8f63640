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

import numpy as np
import numpy.typing as npt

from .runs import ranks, runs
from .windows import PairSeries

__all__ = ["Fluctuations"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CHUNK = 1 << 21  # gateway-seconds compared per chunk of pairs
_SLOTS_PER_BLOCK = 1 << 15  # (badge, gateway) series centred and smoothed per block


class Fluctuations:
    """Centred per-second RSSI series for ``n`` badges (rows).

    ``residual[s]`` is slot ``s``'s series minus its mean (float32; 0 where no reading);
    slots are sorted by row, then gateway, and found by ``key`` = row x ``n_gateways`` +
    gateway (sorted); ``first[row]``/``count[row]`` give each row's run of slots.
    """

    __slots__ = ("count", "first", "gateway", "key", "n_gateways", "residual", "sumsq")

    def __init__(self, residual: npt.NDArray[np.float32], row: IntArray, gateway: IntArray, n: int, n_gateways: int):
        self.residual = residual
        self.gateway = gateway
        self.n_gateways = max(int(n_gateways), 1)
        self.key = row * self.n_gateways + gateway
        self.first = np.zeros(n, dtype=np.int64)
        self.count = np.zeros(n, dtype=np.int64)
        if row.shape[0]:
            starts, lengths = runs(row)
            self.first[row[starts]] = starts
            self.count[row[starts]] = lengths
        self.sumsq = np.einsum("ij,ij->i", residual, residual, dtype=np.float64) if residual.size else np.zeros(0)

    @classmethod
    def from_series(
        cls,
        series: PairSeries,
        row_of: IntArray,
        n: int,
        n_gateways: int,
        *,
        min_seconds: int = 8,
        smooth_s: int = 3,
    ) -> Fluctuations:
        """From a :class:`PairSeries`; ``row_of[badge]`` is the badge's row (-1: not wanted).

        A (badge, gateway) series needs readings in ``min_seconds`` seconds to be kept.
        """
        if not (isinstance(smooth_s, int) and smooth_s >= 1):
            raise ValueError(f"smooth_s must be an integer >= 1 seconds, got {smooth_s!r}")
        rows = row_of[series.badge] if len(series) else np.empty(0, dtype=np.int64)
        heard = (~np.isnan(series.values)).sum(axis=1)
        keep = np.flatnonzero((rows >= 0) & (heard >= min_seconds))
        rows, gws = rows[keep], series.gateway[keep]
        order = np.lexsort((gws, rows))  # slots sorted by row, then gateway
        keep, rows, gws = keep[order], rows[order], gws[order]
        residual = np.empty((keep.shape[0], series.values.shape[1]), dtype=np.float32)
        # In blocks of slots, so the temporaries stay small at 20,000 badges.
        for lo in range(0, keep.shape[0], _SLOTS_PER_BLOCK):
            hi = min(lo + _SLOTS_PER_BLOCK, keep.shape[0])
            residual[lo:hi] = _centred(series.values[keep[lo:hi]], smooth_s)
        return cls(residual, rows.astype(np.int64), gws.astype(np.int64), n, n_gateways)

    def correlation(self, row: IntArray, col: IntArray, min_common: int = 3) -> FloatArray:
        """Pooled correlation of pairs' residuals over the gateways both hear (NaN: fewer than
        ``min_common`` gateways in common)."""
        m = row.shape[0]
        out = np.full(m, np.nan)
        if m == 0 or self.residual.shape[0] == 0:
            return out
        seconds = max(self.residual.shape[1], 1)
        per_pair = max(float(self.count.mean()), 1.0) * seconds
        step = max(1, int(_CHUNK // per_pair))
        for lo in range(0, m, step):
            hi = min(lo + step, m)
            out[lo:hi] = self._chunk(row[lo:hi], col[lo:hi], min_common)
        return out

    def _chunk(self, row: IntArray, col: IntArray, min_common: int) -> FloatArray:
        counts = self.count[row]
        pair = np.repeat(np.arange(row.shape[0]), counts)
        slot_a = self.first[row][pair] + ranks(counts)
        want = col[pair] * self.n_gateways + self.gateway[slot_a]
        slot_b = np.minimum(np.searchsorted(self.key, want), self.key.shape[0] - 1)
        ok = self.key[slot_b] == want
        pair, slot_a, slot_b = pair[ok], slot_a[ok], slot_b[ok]
        m = row.shape[0]
        dot = np.einsum("ij,ij->i", self.residual[slot_a], self.residual[slot_b], dtype=np.float64)
        num = np.bincount(pair, weights=dot, minlength=m)
        norm_a = np.bincount(pair, weights=self.sumsq[slot_a], minlength=m)
        norm_b = np.bincount(pair, weights=self.sumsq[slot_b], minlength=m)
        common = np.bincount(pair, minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = num / np.sqrt(norm_a * norm_b)
        return np.asarray(np.where((common >= min_common) & (norm_a > 0) & (norm_b > 0), corr, np.nan), np.float64)


def _centred(values: npt.NDArray[np.float32], smooth_s: int) -> npt.NDArray[np.float32]:
    """Rows of per-second levels (NaN = none), box-smoothed over ``smooth_s`` seconds, each
    minus its own mean, 0 where nothing was heard."""
    present = ~np.isnan(values)
    filled = np.where(present, values, np.float32(0.0))
    # Centre first (float32 is then ample for running sums of a few dB).
    filled -= (filled.sum(axis=1, dtype=np.float64) / np.maximum(present.sum(axis=1), 1)).astype(np.float32)[:, None]
    filled[~present] = 0.0
    if smooth_s > 1 and values.shape[0]:
        # The mean of the readings within the box (running sums over the seconds heard).
        seen = _convolve_rows(present.astype(np.float32), smooth_s)
        total = _convolve_rows(filled, smooth_s)
        present = seen > 0
        filled = np.divide(total, seen, out=np.zeros_like(total), where=present)
        filled -= (filled.sum(axis=1, dtype=np.float64) / np.maximum(present.sum(axis=1), 1)).astype(np.float32)[
            :, None
        ]
        filled[~present] = 0.0
    return np.asarray(filled, dtype=np.float32)


def _convolve_rows(a: npt.NDArray[np.float32], width: int) -> npt.NDArray[np.float32]:
    """Centred box sum of ``width`` along each row ('same' length), zero beyond the ends."""
    pad = np.pad(a, ((0, 0), (width // 2 + 1, width - 1 - width // 2)))
    csum = np.cumsum(pad, axis=1, dtype=np.float32)
    return np.asarray(csum[:, width:] - csum[:, :-width], dtype=np.float32)
