"""Log-distance path-loss model per gateway, and its continuous calibration.

``rssi = a_dbm - 10 * n * log10(d_m)`` with ``d_m`` the 3-D distance in metres,
``a_dbm`` the RSSI at 1 m as this gateway hears a nominal badge (measured power plus the
gateway's gain offset) and ``n`` the path-loss exponent. Calibration fits both from
reference badges at known spots (and from gateways that hear each other), as a ridge
regression towards the defaults so that a gateway with little evidence stays sane, and
blends each fit into the running estimate so the model follows the crowd over the
evening.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Calibrator", "PathLoss", "distance_from_rssi"]

FloatArray = npt.NDArray[np.float64]

LN10 = math.log(10.0)
BADGE_HEIGHT_M = 1.2


@dataclass(frozen=True, slots=True)
class PathLoss:
    """Per-gateway model parameters (aligned with the venue's gateways)."""

    a_dbm: FloatArray
    n: FloatArray

    @classmethod
    def default(cls, n_gateways: int, a_dbm: float = -59.0, n: float = 2.2) -> PathLoss:
        return cls(np.full(n_gateways, a_dbm), np.full(n_gateways, n))


def distance_from_rssi(rssi: FloatArray, a_dbm: FloatArray, n: FloatArray) -> FloatArray:
    """Invert the model: metres for each RSSI (dBm)."""
    return np.asarray(10.0 ** ((a_dbm - rssi) / (10.0 * n)), dtype=np.float64)


class Calibrator:
    """Fits :class:`PathLoss` from known-position transmitters.

    ``prior_a_sd_db`` and ``prior_n_sd`` set how far a fit may stray from the defaults
    per unit of evidence; ``blend`` (0–1] is the weight of each new fit in the running
    estimate (0.1 per tick ≈ a 10-tick memory on top of the RSSI window).
    """

    def __init__(
        self,
        n_gateways: int,
        *,
        a_dbm: float = -59.0,
        n: float = 2.2,
        prior_a_sd_db: float = 6.0,
        prior_n_sd: float = 0.4,
        noise_sd_db: float = 5.0,
        blend: float = 0.1,
    ) -> None:
        if not 0 < blend <= 1:
            raise ValueError(f"blend must be in (0, 1], got {blend!r}")
        self.n_gateways = n_gateways
        self.a_default = a_dbm
        self.n_default = n
        self.prior_a_sd_db = prior_a_sd_db
        self.prior_n_sd = prior_n_sd
        self.noise_sd_db = noise_sd_db
        self.blend = blend
        self.model = PathLoss.default(n_gateways, a_dbm, n)
        self.fits = 0

    def update(self, gateway: npt.NDArray[np.int64], distance_m: FloatArray, rssi: FloatArray) -> PathLoss:
        """Refit from observations (gateway index, true distance, median RSSI)."""
        if gateway.shape[0] == 0:
            return self.model
        g = self.n_gateways
        # Ridge least squares for a_0..a_{g-1} and n: observations rssi ≈ a_gw - n·u with
        # u = 10·log10(d) (weight 1/noise_sd), priors a ≈ a_default, n ≈ n_default. Each a_gw
        # is, for a given n, a weighted mean of its own observations and its prior, so the
        # normal equations reduce to one equation in n (a Schur complement): O(observations +
        # gateways), where a dense solve was cubic in the number of gateways.
        u = 10.0 * np.log10(np.maximum(distance_m, 0.5))
        w2 = 1.0 / self.noise_sd_db**2
        p2 = 1.0 / self.prior_a_sd_db**2
        q2 = 1.0 / self.prior_n_sd**2
        count = np.bincount(gateway, minlength=g)
        denom = w2 * count + p2
        alpha = (w2 * np.bincount(gateway, weights=rssi, minlength=g) + p2 * self.a_default) / denom
        beta = w2 * np.bincount(gateway, weights=u, minlength=g) / denom
        num = w2 * float(np.sum(u * (alpha[gateway] - rssi))) + q2 * self.n_default
        den = w2 * float(np.sum(u * (u - beta[gateway]))) + q2
        n_solved = num / den
        a_fit = alpha + beta * n_solved
        n_fit = float(np.clip(n_solved, 1.5, 4.5))
        heard = count > 0
        b = self.blend
        a_new = np.where(heard, (1 - b) * self.model.a_dbm + b * a_fit, self.model.a_dbm)
        n_new = (1 - b) * self.model.n + b * n_fit
        self.model = PathLoss(a_new, n_new)
        self.fits += 1
        return self.model
