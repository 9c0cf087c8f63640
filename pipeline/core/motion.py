"""Who is walking: a per-badge speed from the last few seconds of positions.

A walker is not in a conversation, however close it passes: in an F-formation people
stand (they sway a few centimetres and shuffle half a metre when someone joins), and a
person walking up to a group is not a member until they reach their spot (Kendon; the
simulator's truth says the same, docs/simulator.md). Counting a passer-by as a member for
a second or two turns a same-company circle "mixed" and restarts its dwell clock.

:class:`Motion` keeps each badge's positions over the last ``window_s`` seconds and fits a
straight line through them (least squares in x and y against time): the slope is the
speed. With per-fix noise σ per axis and k fixes a second apart, the slope's noise per
axis is σ / sqrt(Σ(t - t̄)²) — 0.3 m / sqrt(10) ≈ 0.1 m/s over five fixes — well below
walking pace (0.6–1.4 m/s). A badge with fewer than ``min_fixes`` fixes in the window is
not called walking (nothing says it is).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Motion"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Motion:
    """``window_s``: seconds of positions a speed is fitted over (inclusive);
    ``walk_m_s``: speed (m/s) from which a badge counts as walking (inclusive);
    ``min_fixes``: fixes in the window needed for a speed (at least 2)."""

    def __init__(self, *, window_s: float = 4.0, walk_m_s: float = 0.45, min_fixes: int = 3) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0 seconds, got {window_s!r}")
        if not walk_m_s > 0:
            raise ValueError(f"walk_m_s must be > 0 m/s, got {walk_m_s!r}")
        if not (isinstance(min_fixes, int) and min_fixes >= 2):
            raise ValueError(f"min_fixes must be an integer >= 2, got {min_fixes!r}")
        self.window_s = window_s
        self.walk_m_s = walk_m_s
        self.min_fixes = min_fixes
        # A ring of the last updates: one column per update, a row per badge (NaN: no fix).
        self._x = np.empty((0, 0))
        self._y = np.empty((0, 0))
        self._t = np.empty(0)  # the time of each column (-inf: unused)

    def _room(self, n_badges: int, now: float) -> int:
        """The column for an update at ``now``, growing the ring and the rows as needed."""
        free = np.flatnonzero(~(self._t >= now - self.window_s))
        if free.shape[0] == 0:  # every column is in the window: one more
            self._x = np.column_stack([self._x, np.full(self._x.shape[0], np.nan)])
            self._y = np.column_stack([self._y, np.full(self._y.shape[0], np.nan)])
            self._t = np.r_[self._t, -np.inf]
            free = np.array([self._t.shape[0] - 1])
        if n_badges > self._x.shape[0]:
            extra = np.full((n_badges - self._x.shape[0], self._x.shape[1]), np.nan)
            self._x = np.vstack([self._x, extra])
            self._y = np.vstack([self._y, extra])
        return int(free[0])

    def record(self, badge: IntArray, x: FloatArray, y: FloatArray, now: float) -> None:
        """Record fixes of ``badge`` (indices, unique) taken at ``now``."""
        badge = np.asarray(badge, dtype=np.int64)
        if badge.shape[0] == 0:
            return
        col = self._room(int(badge.max()) + 1, now)
        self._x[:, col] = np.nan
        self._y[:, col] = np.nan
        self._x[badge, col] = x
        self._y[badge, col] = y
        self._t[col] = now

    def walking(self, badge: IntArray, now: float) -> BoolArray:
        """Per badge of ``badge`` (indices): is it walking, by its fixes of the last ``window_s``?"""
        badge = np.asarray(badge, dtype=np.int64)
        cols = np.flatnonzero(self._t >= now - self.window_s)
        if badge.shape[0] == 0 or cols.shape[0] < self.min_fixes:
            return np.zeros(badge.shape[0], dtype=np.bool_)
        known = badge < self._x.shape[0]
        rows = np.where(known, badge, 0)
        t = self._t[cols] - now
        xs = np.where(known[:, None], self._x[np.ix_(rows, cols)], np.nan)
        ys = self._y[np.ix_(rows, cols)]
        seen = ~np.isnan(xs)
        k = seen.sum(axis=1)
        tbar = np.where(seen, t, 0.0).sum(axis=1) / np.maximum(k, 1)
        dt = np.where(seen, t - tbar[:, None], 0.0)
        sxx = (dt * dt).sum(axis=1)
        # Σ dt = 0 over a badge's own fixes, so the slope is Σ dt·x / Σ dt².
        vx = (dt * np.where(seen, xs, 0.0)).sum(axis=1) / np.maximum(sxx, 1e-12)
        vy = (dt * np.where(seen, ys, 0.0)).sum(axis=1) / np.maximum(sxx, 1e-12)
        moving = (k >= self.min_fixes) & (sxx > 0) & (np.hypot(vx, vy) >= self.walk_m_s)
        return np.asarray(moving, dtype=np.bool_)
