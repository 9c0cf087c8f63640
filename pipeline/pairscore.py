"""The learned pair score: how the detector judges whether two placed badges stand together.

The score (lower = together; see :class:`~pipeline.detector.Detector`) blends their position
distance, RSSI-profile difference, co-fluctuation and — where badges scan — their neighbour
reports; it drives the colleague candidates and, on RSSI, the floor's groups. These take the
pipeline's state and ``now`` like the rest of ``step()``, which composes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from .core.covary import Fluctuations
from .core.grouping import dbscan_pairs, distance_graph, upper_pairs
from .core.profiles import Profiles
from .core.runs import find_sorted
from .detector import Detector

if TYPE_CHECKING:
    from .step import PipelineState

__all__ = [
    "colleague_score",
    "covary_shift",
    "neighbour_term",
    "pair_groups",
    "profile_term",
    "reported_cohesion",
    "reported_together",
    "reports_in_use",
    "row_of",
    "with_neighbours",
]


def row_of(state: PipelineState, badges: np.ndarray) -> np.ndarray:
    """For every badge index, its row among ``badges`` (-1: not among them)."""
    row_of = np.full(len(state.badges), -1, dtype=np.int64)
    row_of[badges] = np.arange(badges.shape[0])
    return row_of


def profile_term(det: Detector, rms: np.ndarray, common: np.ndarray, min_common: int) -> np.ndarray:
    """Profile RMS differences as the colleague score reads them: ``colleague_far_db`` for pairs
    sharing fewer than ``min_common`` gateways."""
    return np.asarray(np.where(common >= min_common, rms, det.colleague_far_db), dtype=np.float64)


def covary_shift(
    state: PipelineState,
    graph: sparse.csr_matrix,
    covary: Fluctuations,
    now: float,
    upper: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> float:
    """How much less the crowd here makes badges that stand together fluctuate together than
    the crowds the score was fitted on, in score units (0 when at least as much).

    The co-fluctuation of the floor's closest pairs (blended distance within
    ``covary_probe_m``; most of them stand together; at most ``covary_probe_pairs`` of them,
    evenly spread over the floor's rows, since a median needs no more and every badge probed
    costs its per-second series) is averaged over ``covary_level_s``. The
    score expects ``covary_reference`` there; where the radio fluctuates less (a calmer crowd,
    other hardware) a pair is not held against for a correlation the venue cannot produce,
    and the score falls back towards its position and profile terms.
    """
    det = state.detector
    row, col, dist = upper_pairs(graph, det.covary_probe_m) if upper is None else upper
    close = np.flatnonzero(dist <= det.covary_probe_m)
    if close.shape[0] > det.covary_probe_pairs:
        close = close[np.linspace(0, close.shape[0] - 1, det.covary_probe_pairs).round().astype(np.int64)]
    if close.shape[0] >= 20:
        corr = covary.correlation(row[close], col[close])
        corr = corr[~np.isnan(corr)]
        if corr.shape[0] >= 20:
            level = float(np.median(corr))
            last = state.covary_level
            if last is None:
                state.covary_level = (level, now)
            else:
                alpha = 1.0 - np.exp(-max(now - last[1], 0.0) / det.covary_level_s)
                state.covary_level = (last[0] + alpha * (level - last[0]), now)
    if state.covary_level is None:
        return 0.0
    return det.covary_m * max(det.covary_reference - state.covary_level[0], 0.0)


def colleague_score(
    det: Detector,
    d: np.ndarray,
    rms: np.ndarray,
    common: np.ndarray,
    covary: Fluctuations,
    r: np.ndarray,
    c: np.ndarray,
    shift: float = 0.0,
    min_common: int = 3,
    near: np.ndarray | None = None,
) -> np.ndarray:
    """The learned colleague distance (see :class:`~pipeline.detector.Detector`), lowered by the
    venue's ``shift``: lower = together.

    A correlation is at most 1, so a pair whose position and profile terms already put it at the
    smoothing cap or beyond with a perfect correlation ends at the cap whatever it is; those
    pairs (most colleagues in a big hall stand far apart) skip the correlation. ``near``: the
    neighbour-report term per pair (metres; see :func:`neighbour_term`), when badges scan.
    """
    score = det.colleague_position_weight * d + det.colleague_m_per_db * profile_term(det, rms, common, min_common)
    if near is not None:
        score += near
    score -= shift
    need = np.flatnonzero(score - det.covary_m < det.colleague_cap_m) if det.colleague_cap_m > 0 else None
    if need is None:
        score = score - det.covary_m * np.nan_to_num(covary.correlation(r, c), nan=0.0)
    elif need.shape[0]:
        score[need] -= det.covary_m * np.nan_to_num(covary.correlation(r[need], c[need]), nan=0.0)
    return np.asarray(np.maximum(score, 1e-3), dtype=np.float64)


def reports_in_use(state: PipelineState) -> bool:
    """Whether the detector reads neighbour reports and any are held."""
    return state.detector.neighbour_m_per_db > 0 and len(state.neighbours) > 0


def neighbour_term(state: PipelineState, a: np.ndarray, b: np.ndarray, now: float) -> np.ndarray | None:
    """What the badges' neighbour reports add to the pair score of badges ``a``/``b`` (metres:
    ``neighbour_m_per_db`` per dB the pair's best level falls short of ``neighbour_ref_dbm``,
    the level of two people in one circle; a pair that reports without naming each other
    counts at the store's ``unheard_dbm``; 0 where neither reports). None when no badge
    scans or the detector does not use them."""
    det = state.detector
    if not reports_in_use(state):
        return None
    level = state.neighbours.level(a, b, now)
    return np.asarray(det.neighbour_m_per_db * np.nan_to_num(det.neighbour_ref_dbm - level, nan=0.0))


def _reported_near(
    state: PipelineState,
    a: np.ndarray,
    b: np.ndarray,
    now: float,
    min_dbm: float,
    first: int,
    span_s: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of badges ``a``/``b``: whether the reports of the last ``span_s`` seconds (the
    reports' window when None) put them together — either heard the other at ``min_dbm`` or
    better and (``first`` > 0) one of them has the other among the first ``first`` it heard or
    was heard by — and the pair's level (NaN: neither reports)."""
    level = state.neighbours.level(a, b, now, span_s)
    near = level >= min_dbm
    if first > 0:
        rank = state.neighbours.rank(a, b, now, span_s)
        near &= (rank >= 0) & (rank < first)
    return near, level


def reported_together(
    state: PipelineState, badge: np.ndarray, now: float
) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """Whether the badges' neighbour reports put pairs of rows (of ``badge``) together: either
    heard the other at ``neighbour_attach_dbm`` or better and one of them has the other among
    the first ``neighbour_attach_rank`` it heard or was heard by (the colleague finder attaches
    such a stranger to a member whatever their pair score). None when no badge scans or the
    detector does not use them."""
    det = state.detector
    if not reports_in_use(state) or det.neighbour_attach_dbm >= 0:
        return None

    def together(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        near, _ = _reported_near(state, badge[r], badge[c], now, det.neighbour_attach_dbm, det.neighbour_attach_rank)
        return np.asarray(near, dtype=np.bool_)

    return together


def reported_cohesion(
    state: PipelineState, badge: np.ndarray, now: float
) -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """Per pair of rows: 1 when the reports of the last ``neighbour_cohesion_window_s`` put them
    together (heard at ``neighbour_cohesion_dbm`` or better, one among the other's first
    ``neighbour_cohesion_rank``), 0 when they say apart, -1 when neither badge reported in
    them. None when off."""
    det = state.detector
    if not reports_in_use(state) or det.neighbour_cohesion_rank <= 0:
        return None

    def cohesion(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        near, level = _reported_near(
            state,
            badge[r],
            badge[c],
            now,
            det.neighbour_cohesion_dbm,
            det.neighbour_cohesion_rank,
            det.neighbour_cohesion_window_s,
        )
        return np.asarray(np.where(np.isnan(level), -1, near), dtype=np.int8)

    return cohesion


def pair_groups(
    state: PipelineState,
    graph: sparse.csr_matrix,
    pts: np.ndarray,
    badge: np.ndarray,
    pair_distance: Callable[[np.ndarray, np.ndarray], np.ndarray],
    now: float,
    measure: bool,
    upper: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The floor's groups on RSSI: DBSCAN over the learned pair score (the colleague score,
    for every pair of the floor graph within ``floor_pair_m``, whatever their companies),
    averaged per pair like the colleagues' own; edges within ``floor_pair_eps_m``."""
    det = state.detector
    averages = state.floor_averages
    assert averages is not None
    r, c, _ = upper_pairs(graph) if upper is None else upper
    near = np.hypot(pts[r, 0] - pts[c, 0], pts[r, 1] - pts[c, 1]) <= det.floor_pair_m
    r, c = r[near], c[near]
    a, b = badge[r], badge[c]
    d = averages.update(a, b, pair_distance(r, c), now) if measure else averages.recall(a, b, now)
    close = d <= det.floor_pair_eps_m
    r, c, d = r[close], c[close], d[close]
    return dbscan_pairs(
        np.concatenate([r, c]),
        np.concatenate([c, r]),
        np.concatenate([d, d]),
        graph.shape[0],
        det.floor_pair_eps_m,
        det.min_samples,
    )


def with_neighbours(
    state: PipelineState,
    graph: sparse.csr_matrix,
    badge: np.ndarray,
    xy: np.ndarray,
    heading: np.ndarray,
    profiles: Profiles | None,
    now: float,
) -> sparse.csr_matrix:
    """``graph`` with an edge (its blended distance) for every pair of placed badges that one of
    them reported at ``neighbour_edge_dbm`` or better, however far apart their positions: the
    radio's positions are metres off, and a pair that hears each other that well stands close."""
    a, b, _ = state.neighbours.pairs(now, state.detector.neighbour_edge_dbm)
    rows = row_of(state, badge)
    r, c = rows[a], rows[b]
    placed = (r >= 0) & (c >= 0)
    r, c = r[placed], c[placed]
    n = graph.shape[0]
    coo = graph.tocoo()
    edges = np.sort(coo.row.astype(np.int64) * n + coo.col)
    _, present = find_sorted(edges, r * n + c)
    r, c = r[~present], c[~present]
    if r.shape[0] == 0:
        return graph
    pts = state.groups.points(xy, heading)
    d = state.groups.blend(r, c, np.hypot(pts[r, 0] - pts[c, 0], pts[r, 1] - pts[c, 1]), profiles)
    return distance_graph(
        np.concatenate([coo.row, r, c]),
        np.concatenate([coo.col, c, r]),
        np.concatenate([coo.data, d, d]),
        graph.shape[0],
    )
