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

from .jit import compiled, in_parts
from .radio import BADGE_HEIGHT_M, LN10, PathLoss, distance_from_rssi
from .runs import runs
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
    pick = np.full((starts.shape[0], k), -1, dtype=np.int64)
    _pick_strongest(summary.median, starts, counts, pick)
    mask = pick >= 0
    at = np.where(mask, pick, 0)
    gw = np.where(mask, summary.gateway[at], 0)
    rs = np.where(mask, summary.median[at], -200.0)
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
        # Start: centroid weighted by estimated inverse distance squared.
        d_est = distance_from_rssi(rs, a, n)
        w0 = np.where(mask, 1.0 / np.maximum(d_est, 0.5) ** 2, 0.0)
        w0 /= w0.sum(axis=1, keepdims=True)
        x = (w0 * gx).sum(axis=1)
        y = (w0 * gy).sum(axis=1)
        used = mask.sum(axis=1)
        full = used >= self.min_gateways
        err = np.empty(badges.shape[0])
        bounds = (self.width, self.height, self.noise_floor_db, self.fallback_err_m)
        args = (gx, gy, dz2, a, n, rs, mask, full, used, self.iterations, *bounds, x, y, err)
        in_parts(_fit, badges.shape[0], _FIT_PART, *args)
        return Fixes(badges, x, y, err)


_FIT_PART = 2_000  # badges at least per part of the fits run at once (about 3 ms)


@compiled
def _fit(
    lo: int,
    hi: int,
    gx: FloatArray,
    gy: FloatArray,
    dz2: FloatArray,
    a: FloatArray,
    n: FloatArray,
    rs: FloatArray,
    mask: npt.NDArray[np.bool_],
    full: npt.NDArray[np.bool_],
    used: IntArray,
    iterations: int,
    width: float,
    height: float,
    noise_floor_db: float,
    fallback_err_m: float,
    x: FloatArray,
    y: FloatArray,
    err: FloatArray,
) -> None:
    """Per badge (row ``lo`` to ``hi``), from the start ``x``, ``y`` (updated in place): ``iterations`` damped
    Gauss-Newton steps on the log-distance model over its used gateways (``mask``), a step
    kept only where it lowers the weighted squared residual and the badge has a ``full`` fit
    (the damping shrinks after a kept step and grows after a refused one), each step clipped
    to the floor; then ``err``, the residual scale (at least ``noise_floor_db``) times the
    geometry's covariance, clipped to 0.3-25 m, or ``fallback_err_m`` without a full fit.

    Distances are 3-D (``dz2``: the gateway's height above a badge, squared), at least 0.5 m.
    """
    k = gx.shape[1]
    resid, dx, dy, d2 = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    nresid, ndx, ndy, nd2 = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    model = (gx, gy, dz2, a, n, rs, mask)
    for i in range(lo, hi):
        px, py = x[i], y[i]
        c = _cost(model, i, px, py, dx, dy, d2, resid)
        lam = 1e-2
        for _ in range(iterations if full[i] else 0):  # (no step is ever kept without a full fit)
            hxx, hyy, hxy, gxr, gyr = _normal_equations(n, mask, i, dx, dy, d2, resid)
            hxx_d = hxx * (1 + lam) + 1e-9
            hyy_d = hyy * (1 + lam) + 1e-9
            det = hxx_d * hyy_d - hxy * hxy
            nx = min(max(px - (hyy_d * gxr - hxy * gyr) / det, 0.0), width)
            ny = min(max(py - (hxx_d * gyr - hxy * gxr) / det, 0.0), height)
            nc = _cost(model, i, nx, ny, ndx, ndy, nd2, nresid)
            if nc < c:  # taken: the candidate's distances and residuals are the badge's now
                px, py, c = nx, ny, nc
                resid, nresid = nresid, resid
                dx, ndx = ndx, dx
                dy, ndy = ndy, dy
                d2, nd2 = nd2, d2
                lam *= 0.3
            else:
                lam *= 10.0
        x[i], y[i] = px, py
        if not full[i]:
            err[i] = fallback_err_m
            continue
        hxx, hyy, hxy, _, _ = _normal_equations(n, mask, i, dx, dy, d2, resid)
        det = max(hxx * hyy - hxy * hxy, 1e-9)
        sigma2 = max(c / max(used[i] - 2, 1), noise_floor_db**2)
        err[i] = min(max(np.sqrt(sigma2 * (hxx + hyy) / det), 0.3), 25.0)


@compiled
def _cost(
    model: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]],
    i: int,
    px: float,
    py: float,
    dx: FloatArray,
    dy: FloatArray,
    d2: FloatArray,
    resid: FloatArray,
) -> float:
    """Badge ``i`` at (``px``, ``py``): its offsets, squared distances (at least 0.25 m²) and
    residuals per slot, in place, and the sum of its used slots' squared residuals."""
    gx, gy, dz2, a, n, rs, mask = model
    c = 0.0
    for j in range(gx.shape[1]):
        dx[j], dy[j] = px - gx[i, j], py - gy[i, j]
        d2[j] = max(dx[j] * dx[j] + dy[j] * dy[j] + dz2[i, j], 0.25)
        # (An unused slot's residual is 0: it adds exactly nothing to the cost.)
        resid[j] = rs[i, j] - (a[i, j] - 5.0 * n[i, j] * np.log10(d2[j])) if mask[i, j] else 0.0
        c += resid[j] * resid[j]
    return c


@compiled
def _normal_equations(
    n: FloatArray,
    mask: npt.NDArray[np.bool_],
    i: int,
    dx: FloatArray,
    dy: FloatArray,
    d2: FloatArray,
    resid: FloatArray,
) -> tuple[float, float, float, float, float]:
    """Badge ``i``'s J^T J (xx, yy, xy) and J^T r (x, y) over its used slots."""
    hxx = hyy = hxy = gxr = gyr = 0.0
    for j in range(dx.shape[0]):
        if mask[i, j]:
            slope = 10.0 * n[i, j] / LN10  # d(model)/dp = -slope * (p - g) / d^2
            jx, jy = slope * dx[j] / d2[j], slope * dy[j] / d2[j]
            hxx += jx * jx
            hyy += jy * jy
            hxy += jx * jy
            gxr += jx * resid[j]
            gyr += jy * resid[j]
    return hxx, hyy, hxy, gxr, gyr


@compiled
def _pick_strongest(level: FloatArray, starts: IntArray, counts: IntArray, pick: IntArray) -> None:
    """Per run of entries (``starts``, ``counts``), the entries of its ``pick.shape[1]``
    highest levels, highest first, ties (and NaN, last) in entry order: a stable sort of
    the run by level, descending, cut short (insertion into the few kept; -1 past the run)."""
    k = pick.shape[1]
    for i in range(starts.shape[0]):
        held = 0
        for e in range(starts[i], starts[i] + counts[i]):
            v = level[e]
            at = held  # after every kept entry at least as strong (NaN is weaker than any level)
            while at > 0 and (
                v > level[pick[i, at - 1]] or (v == v and level[pick[i, at - 1]] != level[pick[i, at - 1]])
            ):
                at -= 1
            if at >= k:
                continue
            for j in range(min(held, k - 1), at, -1):
                pick[i, j] = pick[i, j - 1]
            pick[i, at] = e
            held = min(held + 1, k)
