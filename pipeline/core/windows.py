"""Sliding RSSI windows per (badge, gateway), kept as per-second bins and summarised robustly.

Each (badge, gateway) pair heard in the last ``keep_s`` seconds owns a *slot*: one row of
a ring buffer of whole seconds holding the mean RSSI of the readings stamped in that second
(in 0.01 dB steps; none = empty) and how many there were. Second ``k`` (an integer) holds readings stamped in
``(k - 1, k]``. A summary is the median and inter-quartile range of a pair's per-second
means over the window — the same as over the raw readings whenever a second holds at most
one reading, which is the rule: badges advertise about once a second (ESPresense found a
median+IQR window better than one-euro or percentile filters for BLE RSSI).

The work of a tick is proportional to the new readings plus the live slots, not to every
reading in the window: a new reading updates one cell; a second that leaves the window is
one column cleared; a pair silent for ``keep_s`` frees its slot. Late and out-of-order
readings are placed by their own timestamp; readings stamped beyond ``now +
future_slack_s`` wait, unbinned, until their second comes into view.

Time is counted in whole seconds: ``now`` is taken to the whole second at or before it
(ticks fall on whole seconds, where every window below is exact), the window of a summary
is the seconds ``k`` with ``now - span_s < k <= now + future_slack_s``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .binning import bin_cells, cell_order, clear_column, find_ascending, leave_recent
from .runs import ranks
from .windowreads import gather_series, live_pairs, slot_quartiles

__all__ = ["PairSeries", "PairSummary", "RssiWindows"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_GATEWAY_BITS = 12  # up to 4,096 gateways
_BADGE_BITS = 32  # badge indices; far beyond any BadgeIndex capacity
_MAX_COUNT = np.iinfo(np.uint8).max  # readings counted per cell (saturates; a badge sends ~1/s)
_SCALE = 100.0  # levels held in 0.01 dB steps (int16), far below the radio's own noise
_EMPTY = np.iinfo(np.int16).max  # no reading in that second; sorts after every level
# Every int16 level (indexed by its bit pattern as uint16) in dBm as float32 (level / 100, as
# numpy divides int16 by float32), NaN for _EMPTY: one gather converts a block of levels.
_LEVEL_DBM = (np.arange(1 << 16, dtype=np.uint16).view(np.int16) / np.float32(_SCALE)).astype(np.float32)
_LEVEL_DBM[np.uint16(_EMPTY)] = np.nan
Levels = npt.NDArray[np.int16]
_SUMMARY_BLOCK = 1 << 16  # slots per block when summarize() counts heard seconds afresh
Counts = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class PairSummary:
    """Per (badge, gateway) pair with at least one reading in the window.

    Arrays are aligned and sorted by ``badge`` then ``gateway``. ``median``/``iqr`` (dBm)
    are taken over the per-second mean RSSI of the seconds the pair was heard in the
    window (linear interpolation between order statistics); ``count`` is how many such
    seconds (≈ readings: a badge advertises about once a second); ``last_ts`` the newest
    reading's time (s).
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
    """Readings of the last ``window_s`` seconds (exclusive lower bound), binned per second.

    ``keep_s`` (>= ``window_s``; default ``window_s``) is how long readings are kept, so one
    store serves a longer summary too: ``summarize(now, n, span_s=keep_s)``.

    ``future_slack_s`` admits readings stamped slightly ahead of ``now`` (gateway clocks
    skew); later ones are kept for the next ticks. ``too_old`` counts readings dropped for
    age (arriving too late, or leaving the ``keep_s`` window).
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
        self.too_old = 0
        self.revision = 0  # changes whenever what a query at a given time would see may have changed
        # Seconds visible at whole second t: (t - keep_s, t + ahead]. The ring has room for
        # them, rounded up to a power of two (32 for 30 s + 2 s) so a column is a bit mask.
        self._ahead = math.floor(future_slack_s)
        self._ring_bits = (math.ceil(self.keep_s) + self._ahead - 1).bit_length()
        self._ring = 1 << self._ring_bits
        self._t: int | None = None  # newest whole second a query has seen (the expiry clock)
        self._pending: list[tuple[IntArray, FloatArray, FloatArray]] = []  # (key, ts, rssi) unbinned
        self._clear()

    def _clear(self) -> None:
        """An empty store (counters kept)."""
        self._keys = np.empty(0, dtype=np.int64)  # live pair keys (badge << 12 | gateway), sorted
        self._slot_of = np.empty(0, dtype=np.int64)  # their slots, aligned with _keys
        self._level = np.full((0, self._ring), _EMPTY, dtype=np.int16)  # [slot, k % ring] mean, 0.01 dBm
        self._count = np.zeros((0, self._ring), dtype=np.uint8)  # readings in that second
        self._last_ts = np.empty(0, dtype=np.float64)  # per slot: newest reading (s)
        self._last_k = np.empty(0, dtype=np.int64)  # per slot: newest second with a reading
        self._heard = np.empty(0, dtype=np.int32)  # per slot: seconds with a reading in the ring
        self._heard_recent = np.empty(0, dtype=np.int32)  # ... of them in the last window_s (+ slack)
        self._col_cells = np.zeros(self._ring, dtype=np.int64)  # per column: pairs with a reading
        self._free = np.empty(0, dtype=np.int64)  # free slots (a stack)
        self._used = 0  # slots [0, _used) have ever been handed out
        self._held = 0  # readings in the ring

    def add(self, badge: IntArray, gateway: IntArray, ts: FloatArray, rssi: FloatArray) -> None:
        """Append aligned arrays of readings (badge and gateway as integer indices)."""
        n = badge.shape[0]
        if not (gateway.shape[0] == ts.shape[0] == rssi.shape[0] == n):
            lengths = (n, gateway.shape[0], ts.shape[0], rssi.shape[0])
            raise ValueError(f"arrays must be aligned, got lengths {lengths}")
        if n == 0:
            return
        self.revision += 1
        if int(gateway.max()) >= 1 << _GATEWAY_BITS or int(badge.max()) >= 1 << _BADGE_BITS:
            raise ValueError(f"at most {1 << _GATEWAY_BITS} gateways and {1 << _BADGE_BITS} badges")
        key = (badge.astype(np.int64) << _GATEWAY_BITS) | gateway.astype(np.int64)
        level = np.clip(np.asarray(rssi, dtype=np.float64), -128.0, 76.0)
        self._pending.append((key, np.asarray(ts, dtype=np.float64), level))

    # -- the store ------------------------------------------------------------------------

    def _first_kept(self, t: int) -> int:
        """The oldest second kept at whole second ``t``."""
        return math.floor(t - self.keep_s) + 1

    def _first_recent(self, t: int) -> int:
        """The oldest second of the ``window_s`` summary at whole second ``t``."""
        return math.floor(t - self.window_s) + 1

    def _advance(self, t: int) -> None:
        """Move the expiry clock to ``t``: clear the seconds that left, free silent slots."""
        if self._t is None:
            self._t = t
            return
        if t < self._first_kept(self._t):
            # The clock stepped back past everything held (a host clock set back): what is held
            # is stamped ahead of the new clock, which would drop everything heard until it
            # caught up. Start afresh from the new clock.
            self.revision += 1
            self.too_old += self._held
            self._clear()
            self._t = t
            # Readings still pending from before the step are stamped for the old clock.
            stamped = [(key, ts, rssi, ts <= t + self._ahead + 1) for key, ts, rssi in self._pending]
            self.too_old += sum(int((~keep).sum()) for *_, keep in stamped)
            self._pending = [(key[keep], ts[keep], rssi[keep]) for key, ts, rssi, keep in stamped]
            return
        if t <= self._t:
            return
        self.revision += 1
        gone_lo, gone_hi = self._first_kept(self._t), self._first_kept(t)  # seconds [lo, hi) leave
        used = self._used
        # Seconds leaving the window_s summary first (they may leave the ring too, below).
        old_lo, old_hi = self._first_recent(self._t), self._first_recent(t)
        if old_hi > self._t + self._ahead:  # everything recent has left
            self._heard_recent[:used] = 0
        else:
            for k in range(old_lo, old_hi):
                if self._col_cells[k % self._ring]:
                    leave_recent(self._count, self._heard_recent, k % self._ring, used)
        gone = range(gone_lo, min(gone_hi, gone_lo + self._ring))  # at most the whole ring
        for col in (k % self._ring for k in gone) if used else ():
            if self._col_cells[col]:
                dropped = clear_column(self._level, self._count, self._heard, col, used, _EMPTY)
                self.too_old += dropped
                self._held -= dropped
                self._col_cells[col] = 0
        self._t = t
        if self._keys.shape[0]:
            silent = self._last_k[self._slot_of] < gone_hi
            if silent.any():
                self._free = np.r_[self._free, self._slot_of[silent]]
                self._keys, self._slot_of = self._keys[~silent], self._slot_of[~silent]

    def _grow(self, need: int) -> None:
        cap = self._level.shape[0]
        if need <= cap:
            return
        new_cap = max(need, cap + cap // 4, 1024)  # (a quarter more: at 20,000 badges the store is ~100 MB)
        extra = new_cap - cap
        self._level = np.concatenate([self._level, np.full((extra, self._ring), _EMPTY, dtype=np.int16)])
        self._count = np.concatenate([self._count, np.zeros((extra, self._ring), dtype=np.uint8)])
        self._last_ts = np.r_[self._last_ts, np.full(extra, -np.inf)]
        self._last_k = np.r_[self._last_k, np.full(extra, np.iinfo(np.int64).min)]
        self._heard = np.r_[self._heard, np.zeros(extra, dtype=np.int32)]
        self._heard_recent = np.r_[self._heard_recent, np.zeros(extra, dtype=np.int32)]

    def _slots_for(self, ukey: IntArray) -> IntArray:
        """Slots of sorted unique pair keys, handing out slots to keys not yet live."""
        pos, found = find_ascending(self._keys, ukey)
        if not found.all():
            new = ukey[~found]
            take = min(new.shape[0], self._free.shape[0])
            fresh = self._used + np.arange(new.shape[0] - take, dtype=np.int64)
            slots = np.r_[self._free[self._free.shape[0] - take :], fresh]
            self._free = self._free[: self._free.shape[0] - take]
            self._used += new.shape[0] - take
            self._grow(self._used)
            self._last_ts[slots] = -np.inf  # a reused slot starts afresh (its cells are already empty)
            self._last_k[slots] = np.iinfo(np.int64).min
            out = np.empty(ukey.shape[0], dtype=np.int64)
            out[found] = self._slot_of[pos[found]]
            out[~found] = slots
            at = pos[~found]
            self._keys = np.insert(self._keys, at, new)
            self._slot_of = np.insert(self._slot_of, at, slots)
            return out
        return self._slot_of[pos]

    def _admit(self, t: int) -> None:
        """Bin the pending readings that are due at whole second ``t``; keep the rest pending."""
        if not self._pending:
            return
        key = np.concatenate([p[0] for p in self._pending])
        ts = np.concatenate([p[1] for p in self._pending])
        rssi = np.concatenate([p[2] for p in self._pending])
        self._pending = []
        assert self._t is not None
        k = np.ceil(ts).astype(np.int64)
        old = k < self._first_kept(self._t)
        late = k > t + self._ahead
        if old.any():
            self.too_old += int(np.count_nonzero(old))
        if late.any():
            self._pending.append((key[late], ts[late], rssi[late]))
        due = ~(old | late)
        if not due.all():
            key, ts, rssi, k = key[due], ts[due], rssi[due], k[due]
        n = key.shape[0]
        if n == 0:
            return
        bits = self._ring_bits
        cell = (key << bits) | (k & (self._ring - 1))  # sorted by pair, then by column
        order = cell_order(cell, _GATEWAY_BITS + bits)
        cell = cell[order]
        pair_key = cell >> bits
        new_pair = np.flatnonzero(pair_key[1:] != pair_key[:-1]) + 1
        pair_slots = self._slots_for(pair_key[np.r_[0, new_pair]])
        store = (
            self._level,
            self._count,
            self._last_ts,
            self._last_k,
            self._heard,
            self._heard_recent,
            self._col_cells,
        )
        bin_cells(
            cell,
            rssi[order],
            ts[order],
            k[order],
            bits,
            pair_slots,
            _SCALE,
            _MAX_COUNT,
            self._first_recent(self._t),
            store,
        )
        self._held += n

    def _sync(self, now: float) -> int:
        t = math.floor(now)
        self._advance(t)
        self._admit(t)
        return t

    def _columns(self, first: int, last: int) -> tuple[list[tuple[int, int]], Counts | None]:
        """The ring columns holding seconds ``first .. last`` (clipped to what is kept), as
        ranges ``[a, b)``, in any order: the whole ring may stand for every second kept (its
        spare columns are empty) and seconds nobody was heard in are left out (a summary sorts
        each row anyway); and, where the seconds are all kept or exactly those of the
        ``window_s`` summary, the seconds heard per slot (kept up to date as readings come and go)."""
        assert self._t is not None
        first_kept = self._first_kept(self._t)
        lo = max(first, first_kept)
        hi = min(last, self._t + self._ahead)
        used = self._used
        if hi < lo:
            return [], None
        heard: Counts | None = None
        if lo == first_kept and hi == self._t + self._ahead:
            return [(0, self._ring)], self._heard[:used]
        if lo == self._first_recent(self._t) and hi == self._t + self._ahead:
            heard = self._heard_recent[:used]
        # Leave out empty seconds at either end (the future ones, mostly).
        while lo < hi and not self._col_cells[hi % self._ring]:
            hi -= 1
        while lo < hi and not self._col_cells[lo % self._ring]:
            lo += 1
        a, b = lo % self._ring, hi % self._ring
        if a <= b:
            return [(a, b + 1)], heard
        return [(a, self._ring), (0, b + 1)], heard

    def _empty_summary(self) -> PairSummary:
        e_i = np.empty(0, dtype=np.int64)
        e_f = np.empty(0, dtype=np.float64)
        return PairSummary(e_i, e_i, e_f, e_f, e_i, e_f)

    def summarize(self, now: float, n_gateways: int, span_s: float | None = None, *, min_count: int = 1) -> PairSummary:
        """Expire old readings and summarise the ``span_s`` seconds (default ``window_s``,
        at most ``keep_s``) ending at ``now``, for the pairs heard in at least ``min_count``
        of them (inclusive; the others are left out before their quantiles are taken).

        ``n_gateways`` is kept for callers that size arrays by it; gateway indices are as added.
        """
        span = self.window_s if span_s is None else span_s
        if not 0 < span <= self.keep_s:
            raise ValueError(f"span_s must be in (0, {self.keep_s}] seconds, got {span_s!r}")
        t = self._sync(now)
        columns, counted = self._columns(math.floor(t - span) + 1, t + self._ahead)
        width = sum(b - a for a, b in columns)
        if width == 0 or self._keys.shape[0] == 0:
            return self._empty_summary()
        used = self._used
        if counted is not None:
            heard = counted
        else:
            heard = np.full(used, width, dtype=np.int32)
            for lo in range(0, used, _SUMMARY_BLOCK):
                hi = min(lo + _SUMMARY_BLOCK, used)
                for a, b in columns:
                    heard[lo:hi] -= (self._level[lo:hi, a:b] == _EMPTY).sum(axis=1, dtype=np.int32)
        # The live pairs only, in key order (free slots and pairs heard too little are left out).
        badge, gateway, count, last_ts, slots = live_pairs(
            self._keys, self._slot_of, heard, max(min_count, 1), self._last_ts, _GATEWAY_BITS
        )
        if slots.shape[0] == 0:
            return self._empty_summary()
        median = np.empty(slots.shape[0], dtype=np.float64)
        iqr = np.empty(slots.shape[0], dtype=np.float64)
        # Each live slot's levels sorted, empty last: a pair's heard seconds come first, in order.
        cols = np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in columns])
        slot_quartiles(self._level, slots, cols, count, _EMPTY, _SCALE, median, iqr)
        return PairSummary(badge, gateway, median, iqr, count, last_ts)

    def series(self, now: float, seconds: int, badges: IntArray | None = None, *, min_heard: int = 1) -> PairSeries:
        """Per-second means over the last ``seconds`` (1 .. ``keep_s``) whole seconds ending at
        ``now``; with ``badges`` (indices), only those badges' pairs; only the pairs heard in at
        least ``min_heard`` of those seconds."""
        if not (isinstance(seconds, int) and 0 < seconds <= self.keep_s):
            raise ValueError(f"seconds must be an integer in [1, {self.keep_s}], got {seconds!r}")
        t = self._sync(now)
        keys, slots = self._keys, self._slot_of
        if badges is not None:
            # Each badge's pairs are one run of the sorted keys.
            wanted = np.unique(np.asarray(badges, dtype=np.int64))
            lo = np.searchsorted(keys, wanted << _GATEWAY_BITS)
            hi = np.searchsorted(keys, (wanted + 1) << _GATEWAY_BITS)
            at = np.repeat(lo, hi - lo) + ranks(hi - lo)
            keys, slots = keys[at], slots[at]
        first = t - seconds + 1
        # (What is kept is by the store's own clock, which a query for an earlier now does not move.)
        assert self._t is not None
        lo_k = max(first, self._first_kept(self._t))
        hi_k = min(t, t + self._ahead)
        if hi_k < lo_k:
            keys, values = keys[:0], np.full((0, seconds), np.nan, dtype=np.float32)
        else:
            # Only the pairs asked for, and only the columns of the span, in time order, copied
            # straight into the result (nothing else as big as it is made).
            offset = lo_k - first  # the span's first column in the result (the rest: NaN)
            m = slots.shape[0]
            if offset == 0 and hi_k - lo_k + 1 == seconds:
                values = np.empty((m, seconds), dtype=np.float32)  # every column written below
            else:
                values = np.full((m, seconds), np.nan, dtype=np.float32)
            # The span's ring columns in time order.
            cols = np.arange(lo_k, hi_k + 1, dtype=np.int64) % self._ring
            heard = np.empty(m, dtype=np.bool_)
            kept = gather_series(self._level, slots, cols, offset, max(min_heard, 1), _EMPTY, _LEVEL_DBM, values, heard)
            keys = keys[heard]
            if kept < m:  # shrunk in place (no view of it exists): never two copies at once
                values.resize((kept, seconds), refcheck=False)
        gateway_mask = (1 << _GATEWAY_BITS) - 1
        return PairSeries(keys >> _GATEWAY_BITS, keys & gateway_mask, values)

    @property
    def size(self) -> int:
        """Readings currently held (binned or waiting for their second)."""
        return self._held + sum(int(p[0].shape[0]) for p in self._pending)
