"""Sliding RSSI windows per (badge, gateway), summarised robustly.

Readings are kept column-wise in numpy chunks; a summary sorts them once and takes,
per pair, the median and inter-quartile range of the readings whose timestamp falls in
``(now - window_s, now + future_slack_s]``. Late and out-of-order readings are fine:
membership depends on each reading's own time, not on when it arrived. ESPresense found a
median+IQR window better than one-euro or percentile filters for BLE RSSI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["PairSummary", "RssiWindows"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class PairSummary:
    """Per (badge, gateway) pair with at least one reading in the window.

    Arrays are aligned and sorted by ``badge`` then ``gateway``; ``median``/``iqr`` in
    dBm, ``count`` readings in the window, ``last_ts`` the newest reading's time (s).
    """

    badge: IntArray
    gateway: IntArray
    median: FloatArray
    iqr: FloatArray
    count: IntArray
    last_ts: FloatArray

    def __len__(self) -> int:
        return int(self.badge.shape[0])


class RssiWindows:
    """Readings of the last ``window_s`` seconds (exclusive lower bound).

    ``future_slack_s`` admits readings stamped slightly ahead of ``now`` (gateway clocks
    skew); later ones are counted as ``future`` and kept for the next ticks.
    """

    def __init__(self, window_s: float = 10.0, *, future_slack_s: float = 2.0) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0 seconds, got {window_s!r}")
        if not future_slack_s >= 0:
            raise ValueError(f"future_slack_s must be >= 0 seconds, got {future_slack_s!r}")
        self.window_s = window_s
        self.future_slack_s = future_slack_s
        self._chunks: list[tuple[IntArray, IntArray, FloatArray, FloatArray]] = []
        self.too_old = 0

    def add(self, badge: IntArray, gateway: IntArray, ts: FloatArray, rssi: FloatArray) -> None:
        """Append aligned arrays of readings (badge and gateway as integer indices)."""
        n = badge.shape[0]
        if not (gateway.shape[0] == ts.shape[0] == rssi.shape[0] == n):
            lengths = (n, gateway.shape[0], ts.shape[0], rssi.shape[0])
            raise ValueError(f"arrays must be aligned, got lengths {lengths}")
        if n:
            self._chunks.append((badge, gateway, ts, rssi))

    def _columns(self, now: float) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        if not self._chunks:
            empty_i = np.empty(0, dtype=np.int64)
            empty_f = np.empty(0, dtype=np.float64)
            return empty_i, empty_i, empty_f, empty_f
        if len(self._chunks) == 1:
            b, g, t, r = self._chunks[0]
        else:
            b = np.concatenate([c[0] for c in self._chunks])
            g = np.concatenate([c[1] for c in self._chunks])
            t = np.concatenate([c[2] for c in self._chunks])
            r = np.concatenate([c[3] for c in self._chunks])
        keep = t > now - self.window_s
        self.too_old += int(keep.shape[0] - np.count_nonzero(keep))
        b, g, t, r = b[keep], g[keep], t[keep], r[keep]
        self._chunks = [(b, g, t, r)] if b.shape[0] else []
        return b, g, t, r

    def summarize(self, now: float, n_gateways: int) -> PairSummary:
        """Expire old readings and summarise the window ending at ``now``."""
        b, g, t, r = self._columns(now)
        current = t <= now + self.future_slack_s
        b, g, t, r = b[current], g[current], t[current], r[current]
        if b.shape[0] == 0:
            e_i = np.empty(0, dtype=np.int64)
            e_f = np.empty(0, dtype=np.float64)
            return PairSummary(e_i, e_i, e_f, e_f, e_i, e_f)
        key = b * n_gateways + g
        order = np.lexsort((r, key))
        key, r, t = key[order], r[order], t[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        counts = np.diff(np.r_[starts, key.shape[0]])

        # Quantiles by linear interpolation inside each sorted group.
        def quantile(q: float) -> FloatArray:
            pos = starts + q * (counts - 1)
            lo = np.floor(pos).astype(np.int64)
            hi = np.minimum(lo + 1, starts + counts - 1)
            frac = pos - lo
            return np.asarray(r[lo] * (1.0 - frac) + r[hi] * frac, dtype=np.float64)

        median = quantile(0.5)
        iqr = quantile(0.75) - quantile(0.25)
        last_ts = np.maximum.reduceat(t, starts)
        ukey = key[starts]
        return PairSummary(ukey // n_gateways, ukey % n_gateways, median, iqr, counts.astype(np.int64), last_ts)

    @property
    def size(self) -> int:
        """Readings currently held."""
        return sum(int(c[0].shape[0]) for c in self._chunks)
