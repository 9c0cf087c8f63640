"""Per-badge smoothing of position fixes over time (a vectorised Kalman filter).

A constant-position model whose uncertainty grows by ``process_sd`` metres per √second;
each fix enters with its own error as measurement noise. A fix implying a speed above
``gate_speed_m_s`` (beyond what the uncertainties explain) is down-weighted in proportion,
so one wild fix cannot throw a badge across the hall while real walking still gets
through within a few ticks. Badges unseen for ``forget_s`` start afresh.

The filter treats each fix's error as fresh noise, so its variance shrinks tick after tick;
but most of an RSSI fix's error is *bias* that persists while the badge stands still (static
shadowing, the wearer's body, the crowd between it and a gateway), which no averaging over
time removes. The error the smoother reports is therefore the filter's own, plus a
persistent part, ``sqrt(persistent_m² + (persistent_share · fix err)²)``, that never
averages away (both 0 by default: a fix's error is taken as noise). The position itself
does not depend on them.

A fix's error is taken as at least ``MIN_ERR_M``: a feed may report 0, and a fix of no error
on a state of no uncertainty (the same ``now`` twice) would make the filter's gain 0/0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .positioning import Fixes

__all__ = ["MIN_ERR_M", "Smoother"]

FloatArray = npt.NDArray[np.float64]

#: The least error (metres) a fix is taken to have.
MIN_ERR_M = 0.01


class Smoother:
    def __init__(
        self,
        *,
        process_sd: float = 0.35,
        gate_speed_m_s: float = 1.5,
        forget_s: float = 30.0,
        persistent_m: float = 0.0,
        persistent_share: float = 0.0,
    ) -> None:
        for name, value in (("process_sd", process_sd), ("gate_speed_m_s", gate_speed_m_s), ("forget_s", forget_s)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        for name, value in (("persistent_m", persistent_m), ("persistent_share", persistent_share)):
            if not value >= 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        self.persistent_m = persistent_m
        self.persistent_share = persistent_share
        self.process_sd = process_sd
        self.gate_speed_m_s = gate_speed_m_s
        self.forget_s = forget_s
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._var = np.zeros(0)
        self._t = np.zeros(0)
        self.gated = 0

    def _grow(self, size: int) -> None:
        if size > self._x.shape[0]:
            extra = size - self._x.shape[0]
            self._x = np.r_[self._x, np.zeros(extra)]
            self._y = np.r_[self._y, np.zeros(extra)]
            self._var = np.r_[self._var, np.zeros(extra)]
            self._t = np.r_[self._t, np.full(extra, -np.inf)]

    def update(self, fixes: Fixes, now: float) -> Fixes:
        """Fold ``fixes`` (taken at ``now``) in; returns the smoothed fixes for the same badges."""
        if len(fixes) == 0:
            return fixes
        idx = fixes.badge
        self._grow(int(idx.max()) + 1)
        dt = now - self._t[idx]
        fresh = ~(dt <= self.forget_s)
        dt = np.clip(dt, 0.0, self.forget_s)
        prior_var = self._var[idx] + self.process_sd**2 * dt
        meas_var = np.maximum(fixes.err, MIN_ERR_M) ** 2
        dx = fixes.x - self._x[idx]
        dy = fixes.y - self._y[idx]
        jump = np.hypot(dx, dy)
        allowed = self.gate_speed_m_s * dt + 2.0 * np.sqrt(prior_var + meas_var)
        over = (jump > allowed) & ~fresh
        self.gated += int(np.count_nonzero(over))
        meas_var = np.where(over, meas_var * (jump / np.maximum(allowed, 1e-6)) ** 2, meas_var)
        gain = np.where(fresh, 1.0, prior_var / (prior_var + meas_var))
        x = np.where(fresh, fixes.x, self._x[idx] + gain * dx)
        y = np.where(fresh, fixes.y, self._y[idx] + gain * dy)
        var = np.where(fresh, meas_var, (1.0 - gain) * prior_var)
        self._x[idx] = x
        self._y[idx] = y
        self._var[idx] = var
        self._t[idx] = now
        persistent2 = self.persistent_m**2 + (self.persistent_share * fixes.err) ** 2
        return Fixes(idx, x, y, np.sqrt(var + persistent2))
