"""The calibrator against the dense least-squares problem it solves."""

from __future__ import annotations

import numpy as np
import pytest


def test_calibration_solves_the_same_ridge_problem_as_a_dense_least_squares() -> None:
    from pipeline.core.radio import Calibrator

    rng = np.random.default_rng(11)
    g, rows = 30, 80
    gateway = rng.integers(0, g - 5, rows)  # the last five gateways hear nothing
    d = rng.uniform(0.5, 25.0, rows)
    rssi = -55.0 - 10 * 2.6 * np.log10(d) + rng.normal(0, 4, rows)
    cal = Calibrator(g, blend=1.0)
    got = cal.update(gateway, d, rssi)
    # The definition: one dense weighted least-squares system with the priors as rows.
    w, pa, pn = 1 / 5.0, 1 / 6.0, 1 / 0.4
    design = np.zeros((rows + g + 1, g + 1))
    target = np.zeros(rows + g + 1)
    design[np.arange(rows), gateway] = w
    design[np.arange(rows), g] = -10 * np.log10(d) * w
    target[:rows] = rssi * w
    design[rows + np.arange(g), np.arange(g)] = pa
    target[rows : rows + g] = -59.0 * pa
    design[rows + g, g] = pn
    target[rows + g] = 2.2 * pn
    want, *_ = np.linalg.lstsq(design, target, rcond=None)
    assert got.n == pytest.approx(float(np.clip(want[g], 1.5, 4.5)), abs=1e-9)
    heard = np.bincount(gateway, minlength=g) > 0
    np.testing.assert_allclose(got.a_dbm[heard], want[:g][heard], atol=1e-9)
    np.testing.assert_allclose(got.a_dbm[~heard], -59.0)
