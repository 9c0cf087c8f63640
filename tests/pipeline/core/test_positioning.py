"""Positioners: exact on noise-free data, bounded, sane with one gateway; shared conformance."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.positioning import CentroidPositioner, Multilaterator, strongest
from pipeline.core.radio import BADGE_HEIGHT_M, Calibrator, PathLoss
from pipeline.core.windows import PairSummary

GATEWAYS = np.array([[0, 0, 2.5], [10, 0, 2.5], [0, 10, 2.5], [10, 10, 2.5], [5, 5, 2.5]], dtype=float)
MODEL = PathLoss.default(5, -59.0, 2.2)


def ideal(points: list[tuple[float, float]], gateways: list[int] | None = None) -> PairSummary:
    rows = []
    for b, (x, y) in enumerate(points):
        for g in gateways if gateways is not None else range(len(GATEWAYS)):
            d = np.sqrt((x - GATEWAYS[g, 0]) ** 2 + (y - GATEWAYS[g, 1]) ** 2 + (GATEWAYS[g, 2] - BADGE_HEIGHT_M) ** 2)
            rows.append((b, g, -59.0 - 22.0 * np.log10(d)))
    b, g, r = (np.array(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return PairSummary(b.astype(np.int64), g.astype(np.int64), r, np.zeros(n), np.ones(n, np.int64), np.zeros(n))


def test_multilateration_is_exact_without_noise() -> None:
    pts = [(2.0, 3.0), (7.5, 8.0), (5.0, 1.0)]
    fixes = Multilaterator(GATEWAYS, (10, 10), iterations=30).locate(ideal(pts), MODEL)
    assert fixes.badge.tolist() == [0, 1, 2]
    np.testing.assert_allclose(np.c_[fixes.x, fixes.y], pts, atol=0.05)
    assert np.all(fixes.err > 0)


def test_fixes_stay_on_the_floor() -> None:
    s = ideal([(5.0, 5.0)])
    s = PairSummary(s.badge, s.gateway, s.median - np.array([0, 40, 0, 40, 0.0]), s.iqr, s.count, s.last_ts)
    fixes = Multilaterator(GATEWAYS, (10, 10)).locate(s, MODEL)
    assert 0 <= fixes.x[0] <= 10 and 0 <= fixes.y[0] <= 10


def test_fewer_than_three_gateways_fall_back_with_a_large_error() -> None:
    fixes = Multilaterator(GATEWAYS, (10, 10), fallback_err_m=6.0).locate(ideal([(1.0, 1.0)], [0]), MODEL)
    assert (fixes.x[0], fixes.y[0]) == (0.0, 0.0) and fixes.err[0] == 6.0


POSITIONERS = [lambda: Multilaterator(GATEWAYS, (10, 10)), lambda: CentroidPositioner(GATEWAYS[:, :2])]


@pytest.mark.parametrize("make", POSITIONERS)
def test_positioner_conformance(make: object) -> None:
    positioner = make()  # type: ignore[operator]
    s = ideal([(2.0, 3.0), (8.0, 8.0)])
    before = s.median.copy()
    a = positioner.locate(s, MODEL)
    b = positioner.locate(s, MODEL)
    np.testing.assert_array_equal(s.median, before)  # input untouched
    np.testing.assert_array_equal(a.x, b.x)  # deterministic
    empty = PairSummary(*(getattr(s, f)[:0] for f in PairSummary.__slots__))
    assert len(positioner.locate(empty, MODEL)) == 0
    single = positioner.locate(ideal([(1.0, 1.0)], [4]), MODEL)
    assert len(single) == 1 and np.isfinite(single.x[0])


def test_centroid_leans_to_the_strongest_gateway() -> None:
    fixes = CentroidPositioner(GATEWAYS[:, :2]).locate(ideal([(1.0, 1.0)]), MODEL)
    assert fixes.x[0] < 3 and fixes.y[0] < 3


def test_strongest_keeps_k_per_badge() -> None:
    badges, gw, _rs, mask = strongest(ideal([(1.0, 1.0), (9.0, 9.0)]), 2)
    assert badges.tolist() == [0, 1] and mask.all()
    assert gw[0, 0] == 0 and gw[1, 0] == 3


def test_calibration_recovers_a_gateway_offset() -> None:
    cal = Calibrator(2, blend=1.0, prior_a_sd_db=50.0)
    d = np.array([1.0, 2.0, 4.0, 8.0, 1.0, 2.0, 4.0, 8.0])
    g = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    rssi = np.where(g == 0, -59.0, -65.0) - 22.0 * np.log10(d)
    model = cal.update(g, d, rssi)
    assert model.a_dbm[0] == pytest.approx(-59.0, abs=0.3)
    assert model.a_dbm[1] == pytest.approx(-65.0, abs=0.3)
    assert model.n[0] == pytest.approx(2.2, abs=0.05)


def _strongest_by_one_sort(summary: PairSummary, k: int) -> tuple[np.ndarray, ...]:
    """The definition: sort every pair by badge, then strongest first (stable), keep k."""
    order = np.lexsort((-summary.median, summary.badge))
    b = summary.badge[order]
    badges, first = np.unique(b, return_index=True)
    gw = np.zeros((badges.shape[0], k), dtype=np.int64)
    rs = np.full((badges.shape[0], k), -200.0)
    mask = np.zeros((badges.shape[0], k), dtype=bool)
    for i, (start, end) in enumerate(zip(first, [*first[1:], b.shape[0]], strict=True)):
        n = min(k, end - start)
        gw[i, :n] = summary.gateway[order][start : start + n]
        rs[i, :n] = summary.median[order][start : start + n]
        mask[i, :n] = True
    return badges, gw, rs, mask


@pytest.mark.parametrize("seed", range(5))
def test_strongest_is_a_stable_sort_by_level_per_badge(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pairs = np.unique(rng.integers(0, 40, (300, 2)), axis=0)  # sorted by badge, then gateway
    median = np.round(rng.normal(-75, 6, pairs.shape[0]))  # many ties
    n = pairs.shape[0]
    s = PairSummary(pairs[:, 0], pairs[:, 1], median, np.zeros(n), np.ones(n, np.int64), np.zeros(n))
    for k in (1, 3, 8, 20):
        got = strongest(s, k)
        for a, b in zip(got, _strongest_by_one_sort(s, k), strict=True):
            np.testing.assert_array_equal(a, b)


def _plain_fit(m: Multilaterator, summary: PairSummary, model: PathLoss) -> tuple[np.ndarray, ...]:
    """The whole-array formulation of the fit (every badge's step at once), which the compiled
    loop per badge follows step for step: the same positions and errors up to the last bits
    (numpy's own log10 differs from the C library's in the last bit now and then, and a step
    that lowers the cost by no more than that may be taken by one and refused by the other:
    micrometres)."""
    badges, gw, rs, mask = strongest(summary, m.k)
    gx, gy = m.gateways[gw, 0], m.gateways[gw, 1]
    dz2 = (m.gateways[gw, 2] - BADGE_HEIGHT_M) ** 2
    a, n, w = model.a_dbm[gw], model.n[gw], mask.astype(np.float64)
    w0 = np.where(mask, 1.0 / np.maximum(10.0 ** ((a - rs) / (10.0 * n)), 0.5) ** 2, 0.0)
    w0 /= w0.sum(axis=1, keepdims=True)
    x, y = (w0 * gx).sum(axis=1), (w0 * gy).sum(axis=1)
    used = mask.sum(axis=1)
    full = used >= m.min_gateways
    lam = np.full(badges.shape[0], 1e-2)
    slope = 10.0 * n / np.log(10.0)

    def cost(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, ...]:
        dx, dy = px[:, None] - gx, py[:, None] - gy
        d2 = np.maximum(dx * dx + dy * dy + dz2, 0.25)
        resid = rs - (a - 5.0 * n * np.log10(d2))
        return (w * resid * resid).sum(axis=1), resid, dx, dy, d2

    c, resid, dx, dy, d2 = cost(x, y)
    for _ in range(m.iterations):
        jx, jy = slope * dx / d2, slope * dy / d2
        hxx, hyy, hxy = (w * jx * jx).sum(axis=1), (w * jy * jy).sum(axis=1), (w * jx * jy).sum(axis=1)
        gxr, gyr = (w * jx * resid).sum(axis=1), (w * jy * resid).sum(axis=1)
        hxx_d, hyy_d = hxx * (1 + lam) + 1e-9, hyy * (1 + lam) + 1e-9
        det = hxx_d * hyy_d - hxy * hxy
        nx = np.clip(x - (hyy_d * gxr - hxy * gyr) / det, 0.0, m.width)
        ny = np.clip(y - (hxx_d * gyr - hxy * gxr) / det, 0.0, m.height)
        nc, nresid, ndx, ndy, nd2 = cost(nx, ny)
        better = (nc < c) & full
        x, y, c = np.where(better, nx, x), np.where(better, ny, y), np.where(better, nc, c)
        keep = better[:, None]
        resid, dx, dy, d2 = (
            np.where(keep, new, old) for new, old in ((nresid, resid), (ndx, dx), (ndy, dy), (nd2, d2))
        )
        lam = np.where(better, lam * 0.3, lam * 10.0)
    jx, jy = slope * dx / d2, slope * dy / d2
    hxx, hyy, hxy = (w * jx * jx).sum(axis=1), (w * jy * jy).sum(axis=1), (w * jx * jy).sum(axis=1)
    det = np.maximum(hxx * hyy - hxy * hxy, 1e-9)
    sigma2 = np.maximum(c / np.maximum(used - 2, 1), m.noise_floor_db**2)
    err = np.where(full, np.clip(np.sqrt(sigma2 * (hxx + hyy) / det), 0.3, 25.0), m.fallback_err_m)
    return badges, x, y, err


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_fit_is_the_whole_array_formulation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    gateways = np.column_stack([rng.uniform(0, 30, 12), rng.uniform(0, 20, 12), rng.uniform(2, 4, 12)])
    model = PathLoss(rng.normal(-59, 3, 12), rng.uniform(1.8, 3.0, 12))
    n = 300
    where = rng.uniform((0, 0), (30, 20), (n, 2))
    rows = []
    for b in range(n):  # each badge heard by 1-12 gateways, with noise
        for g in rng.permutation(12)[: int(rng.integers(1, 13))]:
            d = np.sqrt(((where[b] - gateways[g, :2]) ** 2).sum() + (gateways[g, 2] - BADGE_HEIGHT_M) ** 2)
            rows.append((b, g, model.a_dbm[g] - 10 * model.n[g] * np.log10(d) + rng.normal(0, 4)))
    rows.sort()
    b, g, r = (np.array(c) for c in zip(*rows, strict=True))
    k = len(rows)
    summary = PairSummary(b.astype(np.int64), g.astype(np.int64), r, np.zeros(k), np.ones(k, np.int64), np.zeros(k))
    m = Multilaterator(gateways, (30.0, 20.0), k=8)
    fixes = m.locate(summary, model)
    badges, x, y, err = _plain_fit(m, summary, model)
    assert fixes.badge.tolist() == badges.tolist()
    assert np.allclose(fixes.x, x, rtol=0, atol=1e-6) and np.allclose(fixes.y, y, rtol=0, atol=1e-6)
    assert np.allclose(fixes.err, err, rtol=1e-6, atol=0)
    assert np.unique(np.round(fixes.err, 3)).shape[0] > 50  # errors that differ from badge to badge
