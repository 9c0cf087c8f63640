"""The pipeline's compiled loops (pipeline/core/jit.py), made ready before the first tick.

numba compiles a loop on its first call, for the types it is given, and caches it on disk.
Without a cache (a fresh install, an upgrade, a read-only one) the first ticks would stall
for about 5 s while their loops compile, with the broker's messages piling up behind them.
:func:`warm_up` calls each loop once on two made-up badges, through the same objects and with
the same types a tick uses (the venue's own positioner, whose floor may be whole metres), so
that cost is paid while the pipeline is built; with a cache, it is the half second of
loading them that the first tick would pay anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .core.covary import Fluctuations
from .core.grouping import GroupFinder, Profiles
from .core.windows import PairSeries, PairSummary

if TYPE_CHECKING:
    from .step import PipelineState

__all__ = ["warm_up"]

_SECONDS = 30  # a series as long as the profile window's


def warm_up(state: PipelineState) -> None:
    """Compile (or load) every compiled loop a tick of ``state`` runs; changes nothing in it."""
    n_gateways = state.gateways_xyz.shape[0]
    if n_gateways == 0:
        return  # (a venue with no gateways never runs them)
    heard = np.arange(min(n_gateways, 3), dtype=np.int64)
    badge = np.repeat(np.arange(2, dtype=np.int64), heard.shape[0])
    gateway = np.tile(heard, 2)
    level = np.linspace(-60.0, -75.0, badge.shape[0])
    m = badge.shape[0]
    summary = PairSummary(badge, gateway, level, np.zeros(m), np.full(m, _SECONDS, dtype=np.int64), np.zeros(m))
    state.multilaterator.locate(summary, state.calibrator.model)
    profiles = Profiles.from_entries(badge, gateway, level, 2, n_gateways)
    GroupFinder(1.5, profile_weight=0.5, min_common_gateways=1).distances(np.zeros((2, 2)), profiles)
    values = np.linspace(-60.0, -70.0, m * _SECONDS, dtype=np.float32).reshape(m, _SECONDS)
    values[:, ::2] += np.float32(3.0)  # (a series that varies)
    smooth_s = state.detector.covary_smooth_s
    series = PairSeries(badge, gateway, values)
    covary = Fluctuations.from_series(series, np.arange(2), 2, n_gateways, min_seconds=1, smooth_s=smooth_s)
    covary.correlation(np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64), 1)
