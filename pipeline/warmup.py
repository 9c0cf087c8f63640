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
from .core.grouping import GroupFinder, dbscan_pairs
from .core.nearpairs import pairs_within
from .core.neighbours import NeighbourReports
from .core.pairavg import PairAverages
from .core.profiles import Profiles
from .core.windows import PairSeries, PairSummary, RssiWindows

if TYPE_CHECKING:
    from .step import PipelineState

__all__ = ["warm_up"]

_SECONDS = 30  # a series as long as the profile window's


def warm_up(state: PipelineState) -> None:
    """Compile (or load) every compiled loop a tick of ``state`` runs, and only those;
    changes nothing in it."""
    det = state.detector
    n_gateways = state.gateways_xyz.shape[0]
    heard = np.arange(min(n_gateways, 3), dtype=np.int64)
    badge = np.repeat(np.arange(2, dtype=np.int64), heard.shape[0])
    gateway = np.tile(heard, 2)
    level = np.linspace(-60.0, -75.0, badge.shape[0])
    m = badge.shape[0]
    # The groups (every detector; from a positions feed too, with no gateway at all).
    profiles = Profiles.from_entries(badge, gateway, level, 2, n_gateways)
    finder = GroupFinder(1.5, profile_weight=det.profile_weight, min_common_gateways=1)
    finder.distances(np.zeros((2, 2)), profiles if det.profile_weight > 0 else None)
    pairs_within(np.r_[np.zeros((100, 2)), [[1e3, 1e3]]], 1.0)  # (its path for a crowd packed tight)
    dbscan_pairs(np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64), np.ones(1), 2, 1.5, 2)
    if n_gateways == 0:
        return  # (no readings: no positions fit, no series)
    # The windows' binning (readings put into a store of their own, not the state's).
    windows = RssiWindows(state.windows.window_s, keep_s=state.windows.keep_s)
    windows.add(badge, gateway, np.full(m, 1.0), level)
    windows.summarize(1.0, n_gateways)
    if det.covary_m > 0:
        windows.series(1.0, 1, min_heard=1)
    # ... and what it does as seconds leave it (the recent window, then the store).
    windows.summarize(2.0 + state.windows.window_s, n_gateways)
    windows.summarize(3.0 + state.windows.keep_s + state.windows.future_slack_s, n_gateways)
    summary = PairSummary(badge, gateway, level, np.zeros(m), np.full(m, _SECONDS, dtype=np.int64), np.zeros(m))
    positioner = state.multilaterator if det.positioner == "multilateration" else state.centroid
    positioner.locate(summary, state.calibrator.model)
    if det.covary_m > 0:
        values = np.linspace(-60.0, -70.0, m * _SECONDS, dtype=np.float32).reshape(m, _SECONDS)
        values[:, ::2] += np.float32(3.0)  # (a series that varies)
        series = PairSeries(badge, gateway, values)
        rows = np.arange(2)
        covary = Fluctuations.from_series(series, rows, 2, n_gateways, min_seconds=1, smooth_s=det.covary_smooth_s)
        covary.correlation(np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64), 1)
    if state.colleagues is not None:  # (the pair averages' store)
        averages = PairAverages(1.0)
        for now in (1.0, 2.0):
            averages.update(np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64), np.ones(1), now)
    ranked = (det.neighbour_attach_dbm < 0 and det.neighbour_attach_rank > 0) or det.neighbour_cohesion_rank > 0
    if det.neighbour_m_per_db > 0 and ranked:  # (the badges' neighbour reports, ranked)
        reports = NeighbourReports(det.neighbour_window_s)
        one = np.zeros(1, dtype=np.int64)
        reports.add(one, one + 1, np.full(1, -60.0), np.ones(1))
        reports.rank(one, one + 1, 1.0)
