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

__all__ = ["PairSeries", "PairSummary", "RssiWindows"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_RSSI_BITS = 11  # RSSI + 128 dBm in 0.1 dB steps: 0 .. 2047
_GATEWAY_BITS = 12  # up to 4,096 gateways
_BADGE_BITS = 40  # badge indices; far beyond any BadgeIndex capacity


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


@dataclass(frozen=True, slots=True)
class PairSeries:
    """Per (badge, gateway) pair heard in a span: the mean RSSI of each whole second.

    ``values[k, s]`` (dBm, float32, NaN = no reading) covers readings stamped in
    ``(start + s, start + s + 1]`` with ``start = now - seconds``; rows sorted by ``badge``
    then ``gateway``. Badges advertise about once a second, so a second rarely holds more
    than one reading, and the series keeps what the readings say over time (for example,
    whether two badges' levels rise and fall together).
    """

    badge: IntArray
    gateway: IntArray
    values: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return int(self.badge.shape[0])


class RssiWindows:
    """Readings of the last ``window_s`` seconds (exclusive lower bound).

    ``keep_s`` (>= ``window_s``; default ``window_s``) is how long readings are kept, so one
    store serves a longer summary too: ``summarize(now, n, span_s=keep_s)``.

    ``future_slack_s`` admits readings stamped slightly ahead of ``now`` (gateway clocks
    skew); later ones are kept for the next ticks. Internally each reading is one packed
    integer — badge, gateway and RSSI quantised to 0.1 dB (far below the radio's own noise) —
    kept sorted, so a tick merges the new readings into the window in near-linear time
    instead of sorting it all again.
    """

    def __init__(self, window_s: float = 10.0, *, keep_s: float | None = None, future_slack_s: float = 2.0) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0 seconds, got {window_s!r}")
        if keep_s is not None and not keep_s >= window_s:
            raise ValueError(f"keep_s must be >= window_s ({window_s!r} s), got {keep_s!r}")
        if not future_slack_s >= 0:
            raise ValueError(f"future_slack_s must be >= 0 seconds, got {future_slack_s!r}")
        self.window_s = window_s
        self.keep_s = window_s if keep_s is None else keep_s
        self.future_slack_s = future_slack_s
        self._packed = np.empty(0, dtype=np.int64)
        self._ts = np.empty(0, dtype=np.float64)
        self._pending: list[tuple[IntArray, FloatArray]] = []
        self.too_old = 0

    def add(self, badge: IntArray, gateway: IntArray, ts: FloatArray, rssi: FloatArray) -> None:
        """Append aligned arrays of readings (badge and gateway as integer indices)."""
        n = badge.shape[0]
        if not (gateway.shape[0] == ts.shape[0] == rssi.shape[0] == n):
            lengths = (n, gateway.shape[0], ts.shape[0], rssi.shape[0])
            raise ValueError(f"arrays must be aligned, got lengths {lengths}")
        if n == 0:
            return
        if int(gateway.max()) >= 1 << _GATEWAY_BITS or int(badge.max()) >= 1 << _BADGE_BITS:
            raise ValueError(f"at most {1 << _GATEWAY_BITS} gateways and {1 << _BADGE_BITS} badges")
        quant = np.rint((np.clip(rssi, -128.0, 76.0) + 128.0) * 10.0).astype(np.int64)
        packed = (
            (badge.astype(np.int64) << (_GATEWAY_BITS + _RSSI_BITS)) | (gateway.astype(np.int64) << _RSSI_BITS) | quant
        )
        order = np.argsort(packed, kind="stable")
        self._pending.append((packed[order], np.asarray(ts, dtype=np.float64)[order]))

    def _window(self, now: float) -> tuple[IntArray, FloatArray]:
        if self._pending:
            if len(self._pending) == 1:
                new, new_ts = self._pending[0]
            else:
                new = np.concatenate([p for p, _ in self._pending])
                new_ts = np.concatenate([t for _, t in self._pending])
                order = np.argsort(new, kind="stable")
                new, new_ts = new[order], new_ts[order]
            self._pending = []
            # Merge the (small) sorted new readings into the (large) sorted window: each new one
            # goes after its equals already there, as a stable sort of [old, new] would put it.
            at = np.searchsorted(self._packed, new, side="right") + np.arange(new.shape[0])
            size = self._packed.shape[0] + new.shape[0]
            old = np.ones(size, dtype=np.bool_)
            old[at] = False
            packed = np.empty(size, dtype=np.int64)
            ts = np.empty(size, dtype=np.float64)
            packed[at], ts[at] = new, new_ts
            packed[old], ts[old] = self._packed, self._ts
        else:
            packed, ts = self._packed, self._ts
        keep = ts > now - self.keep_s
        dropped = int(keep.shape[0] - np.count_nonzero(keep))
        if dropped:
            self.too_old += dropped
            packed, ts = packed[keep], ts[keep]
        self._packed, self._ts = packed, ts
        return packed, ts

    def summarize(self, now: float, n_gateways: int, span_s: float | None = None) -> PairSummary:
        """Expire old readings and summarise the ``span_s`` seconds (default ``window_s``,
        at most ``keep_s``) ending at ``now``.

        ``n_gateways`` is kept for callers that size arrays by it; gateway indices are as added.
        """
        span = self.window_s if span_s is None else span_s
        if not 0 < span <= self.keep_s:
            raise ValueError(f"span_s must be in (0, {self.keep_s}] seconds, got {span_s!r}")
        packed, t = self._window(now)
        current = t <= now + self.future_slack_s
        if span < self.keep_s:
            current &= t > now - span
        if not current.all():
            packed, t = packed[current], t[current]
        if packed.shape[0] == 0:
            e_i = np.empty(0, dtype=np.int64)
            e_f = np.empty(0, dtype=np.float64)
            return PairSummary(e_i, e_i, e_f, e_f, e_i, e_f)
        # New pair where the bits above the RSSI differ; RSSI decoded only where a quantile
        # reads it (a few values per pair, not every reading).
        starts = np.flatnonzero(np.r_[True, (packed[1:] ^ packed[:-1]) >> _RSSI_BITS != 0])
        counts = np.diff(np.r_[starts, packed.shape[0]])
        rssi_mask = (1 << _RSSI_BITS) - 1

        def rssi_at(i: IntArray) -> FloatArray:
            return np.asarray((packed[i] & rssi_mask).astype(np.float64) / 10.0 - 128.0, dtype=np.float64)

        # Quantiles by linear interpolation inside each sorted group.
        def quantile(q: float) -> FloatArray:
            pos = starts + q * (counts - 1)
            lo = np.floor(pos).astype(np.int64)
            hi = np.minimum(lo + 1, starts + counts - 1)
            frac = pos - lo
            return np.asarray(rssi_at(lo) * (1.0 - frac) + rssi_at(hi) * frac, dtype=np.float64)

        median = quantile(0.5)
        iqr = quantile(0.75) - quantile(0.25)
        last_ts = np.maximum.reduceat(t, starts)
        ukey = packed[starts] >> _RSSI_BITS
        gateway_mask = (1 << _GATEWAY_BITS) - 1
        return PairSummary(ukey >> _GATEWAY_BITS, ukey & gateway_mask, median, iqr, counts.astype(np.int64), last_ts)

    def series(self, now: float, seconds: int) -> PairSeries:
        """Per-second means over the last ``seconds`` (1 .. ``keep_s``) whole seconds ending at ``now``."""
        if not (isinstance(seconds, int) and 0 < seconds <= self.keep_s):
            raise ValueError(f"seconds must be an integer in [1, {self.keep_s}], got {seconds!r}")
        packed, t = self._window(now)
        start = now - seconds
        current = (t > start) & (t <= now)
        packed, t = packed[current], t[current]
        if packed.shape[0] == 0:
            e_i = np.empty(0, dtype=np.int64)
            return PairSeries(e_i, e_i, np.empty((0, seconds), dtype=np.float32))
        key = packed >> _RSSI_BITS
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        row = np.repeat(np.arange(starts.shape[0]), np.diff(np.r_[starts, key.shape[0]]))
        col = np.minimum(np.ceil(t - start).astype(np.int64) - 1, seconds - 1)
        cell = row * seconds + np.maximum(col, 0)
        rssi = (packed & ((1 << _RSSI_BITS) - 1)).astype(np.float64) / 10.0 - 128.0
        size = starts.shape[0] * seconds
        total = np.bincount(cell, weights=rssi, minlength=size)
        count = np.bincount(cell, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = (total / count).astype(np.float32).reshape(-1, seconds)
        ukey = key[starts]
        gateway_mask = (1 << _GATEWAY_BITS) - 1
        return PairSeries(ukey >> _GATEWAY_BITS, ukey & gateway_mask, values)

    @property
    def size(self) -> int:
        """Readings currently held."""
        return int(self._packed.shape[0]) + sum(int(p.shape[0]) for p, _ in self._pending)
