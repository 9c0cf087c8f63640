"""Badge positions from RSSI summaries, vectorised over all badges at once.

:class:`Multilaterator` solves a weighted non-linear least-squares fit of the
log-distance model for every badge together (Levenberg–Marquardt steps on 2×2 normal
equations), bounded to the floor, and estimates each position's error from the fit's
residual and geometry. Badges heard by fewer than ``min_gateways`` gateways fall back to
a weighted centroid with a large error. :class:`CentroidPositioner` is the naive
baseline: the weighted centroid of the strongest gateways.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .radio import BADGE_HEIGHT_M, LN10, PathLoss, distance_from_rssi
from .runs import ranks, runs
from .windows import PairSummary

__all__ = ["CentroidPositioner", "Fixes", "Multilaterator", "strongest"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Fixes:
    """Positions for ``badge`` indices: metres, and error estimate ``err`` (metres, 1 σ radial)."""

    badge: IntArray
    x: FloatArray
    y: FloatArray
    err: FloatArray

    def __len__(self) -> int:
        return int(self.badge.shape[0])


def strongest(summary: PairSummary, k: int) -> tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.bool_]]:
    """Per badge, the ``k`` strongest gateways as padded ``[B, k]`` arrays (ties: lower
    gateway first, as the summary lists them).

    Returns (badges, gateway index per slot, median RSSI per slot, mask of used slots).
    """
    if len(summary) == 0:
        e = np.empty(0, dtype=np.int64)
        return e, np.empty((0, k), np.int64), np.empty((0, k)), np.empty((0, k), bool)
    b = summary.badge
    if not np.all(b[1:] >= b[:-1]):  # not grouped by badge (a summary always is): sort first
        order = np.lexsort((summary.gateway, b))
        summary = PairSummary(*(getattr(summary, f)[order] for f in PairSummary.__slots__))
        b = summary.badge
    starts, counts = runs(b)
    # Each badge's levels in one padded row (gateway order), sorted strongest first by a
    # stable sort of the rows: small per-row sorts, not one sort of every pair.
    levels = np.full((starts.shape[0], int(counts.max())), np.inf)
    row = np.repeat(np.arange(starts.shape[0]), counts)
    levels[row, ranks(counts)] = -summary.median
    pick = np.argsort(levels, axis=1, kind="stable")[:, :k]
    mask = pick < counts[:, None]
    at = np.where(mask, starts[:, None] + pick, 0)
    gw = np.where(mask, summary.gateway[at], 0)
    rs = np.where(mask, summary.median[at], -200.0)
    if pick.shape[1] < k:  # fewer than k gateways for every badge: pad
        pad = k - pick.shape[1]
        gw = np.pad(gw, ((0, 0), (0, pad)))
        rs = np.pad(rs, ((0, 0), (0, pad)), constant_values=-200.0)
        mask = np.pad(mask, ((0, 0), (0, pad)))
    return b[starts], gw, rs, mask


class CentroidPositioner:
    """Weighted centroid of the ``k`` strongest gateways (the naive baseline).

    Weights are received power in milliwatts relative to the strongest, so the nearest
    gateway dominates; ``err`` is a flat ``err_m`` metres.
    """

    def __init__(self, gateways_xy: FloatArray, *, k: int = 3, err_m: float = 3.0) -> None:
        self.gateways_xy = np.asarray(gateways_xy, dtype=np.float64)
        self.k = k
        self.err_m = err_m

    def locate(self, summary: PairSummary, model: PathLoss | None = None) -> Fixes:
        badges, gw, rs, mask = strongest(summary, self.k)
        w = np.where(mask, 10.0 ** ((rs - rs[:, :1]) / 10.0), 0.0)
        w /= w.sum(axis=1, keepdims=True)
        x = (w * self.gateways_xy[gw, 0]).sum(axis=1)
        y = (w * self.gateways_xy[gw, 1]).sum(axis=1)
        return Fixes(badges, x, y, np.full(badges.shape[0], self.err_m))


class Multilaterator:
    """Weighted non-linear least squares on the log-distance model.

    ``k`` strongest gateways per badge (at least ``min_gateways`` for a full fit),
    ``iterations`` damped Gauss–Newton steps, ``noise_floor_db`` the smallest residual
    scale assumed when estimating error, ``fallback_err_m`` the error reported for
    centroid fallbacks. Bounds: the floor rectangle ``[0, width] x [0, height]``.
    """

    def __init__(
        self,
        gateways_xyz: FloatArray,
        floor_wh: tuple[float, float],
        *,
        k: int = 8,
        min_gateways: int = 3,
        iterations: int = 10,
        noise_floor_db: float = 3.0,
        fallback_err_m: float = 6.0,
    ) -> None:
        self.gateways = np.asarray(gateways_xyz, dtype=np.float64)
        self.width, self.height = floor_wh
        self.k = k
        self.min_gateways = min_gateways
        self.iterations = iterations
        self.noise_floor_db = noise_floor_db
        self.fallback_err_m = fallback_err_m

    def locate(self, summary: PairSummary, model: PathLoss, weights: FloatArray | None = None) -> Fixes:
        badges, gw, rs, mask = strongest(summary, self.k)
        if badges.shape[0] == 0:
            e = np.empty(0)
            return Fixes(badges, e, e, e)
        gx, gy = self.gateways[gw, 0], self.gateways[gw, 1]
        dz2 = (self.gateways[gw, 2] - BADGE_HEIGHT_M) ** 2
        a = model.a_dbm[gw]
        n = model.n[gw]
        w = mask.astype(np.float64)
        # Start: centroid weighted by estimated inverse distance squared.
        d_est = distance_from_rssi(rs, a, n)
        w0 = np.where(mask, 1.0 / np.maximum(d_est, 0.5) ** 2, 0.0)
        w0 /= w0.sum(axis=1, keepdims=True)
        x = (w0 * gx).sum(axis=1)
        y = (w0 * gy).sum(axis=1)
        used = mask.sum(axis=1)
        full = used >= self.min_gateways
        lam = np.full(badges.shape[0], 1e-2)
        slope = 10.0 * n / LN10

        def cost(px: FloatArray, py: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
            dx = px[:, None] - gx
            dy = py[:, None] - gy
            d2 = np.maximum(dx * dx + dy * dy + dz2, 0.25)
            resid = rs - (a - 5.0 * n * np.log10(d2))
            return (w * resid * resid).sum(axis=1), resid, dx, dy, d2

        c, resid, dx, dy, d2 = cost(x, y)
        for _ in range(self.iterations):
            # d(model)/dp = -slope * (p - g) / d^2 ; residual r = rssi - model ; dr/dp = slope*(p-g)/d^2
            jx = slope * dx / d2
            jy = slope * dy / d2
            wjx = w * jx
            wjy = w * jy
            hxx = (wjx * jx).sum(axis=1)
            hyy = (wjy * jy).sum(axis=1)
            hxy = (wjx * jy).sum(axis=1)
            gxr = (wjx * resid).sum(axis=1)
            gyr = (wjy * resid).sum(axis=1)
            hxx_d = hxx * (1 + lam) + 1e-9
            hyy_d = hyy * (1 + lam) + 1e-9
            det = hxx_d * hyy_d - hxy * hxy
            step_x = -(hyy_d * gxr - hxy * gyr) / det
            step_y = -(hxx_d * gyr - hxy * gxr) / det
            nx = np.clip(x + step_x, 0.0, self.width)
            ny = np.clip(y + step_y, 0.0, self.height)
            nc, nresid, ndx, ndy, nd2 = cost(nx, ny)
            better = (nc < c) & full
            x = np.where(better, nx, x)
            y = np.where(better, ny, y)
            c = np.where(better, nc, c)
            keep = better[:, None]
            resid = np.where(keep, nresid, resid)
            dx = np.where(keep, ndx, dx)
            dy = np.where(keep, ndy, dy)
            d2 = np.where(keep, nd2, d2)
            lam = np.where(better, lam * 0.3, lam * 10.0)
        # Error: residual scale times the geometry's covariance.
        jx = slope * dx / d2
        jy = slope * dy / d2
        hxx = (w * jx * jx).sum(axis=1)
        hyy = (w * jy * jy).sum(axis=1)
        hxy = (w * jx * jy).sum(axis=1)
        det = np.maximum(hxx * hyy - hxy * hxy, 1e-9)
        dof = np.maximum(used - 2, 1)
        sigma2 = np.maximum(c / dof, self.noise_floor_db**2)
        err = np.sqrt(sigma2 * (hxx + hyy) / det)
        err = np.where(full, np.clip(err, 0.3, 25.0), self.fallback_err_m)
        return Fixes(badges, x, y, err)
