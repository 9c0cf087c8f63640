"""Huddle candidates: colleagues who stand together, and who else stands with them.

Positions from fixed gateways are metres off and RSSI profiles only moderately tell
neighbours apart, so clustering everybody at once chains whole neighbourhoods together.
The question the product asks is narrower — are at least three people of one company
standing together, and mostly among themselves? — and the roster answers half of it.
:class:`ColleagueFinder` runs DBSCAN (scikit-learn, precomputed sparse distances) over
the blended-distance graph restricted to edges between colleagues, which cannot chain
through strangers; then attaches to each colleague cluster the non-colleagues that stand
within ``attach_m`` of at least ``attach_share`` of its members, so that a same-company
core inside a mixed group is seen as mixed.

Colleague distances are smoothed over time (an exponential moving average with time
constant ``smooth_s``): a pair that stands together keeps a small distance through a noisy
tick, which is the "agreement over time" a single tick lacks (a convoy, Jeung et al. 2008).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.cluster import DBSCAN

__all__ = ["ColleagueFinder"]

IntArray = npt.NDArray[np.int64]


class ColleagueFinder:
    """``eps_m``: DBSCAN neighbourhood between colleagues (blended metres, inclusive);
    ``attach_m``: how close a non-colleague must stand to a member to count as in the group;
    ``attach_share``: the share of members (inclusive) it must be that close to."""

    def __init__(
        self,
        eps_m: float = 1.5,
        *,
        attach_m: float = 1.2,
        attach_share: float = 0.5,
        smooth_s: float = 0.0,
        forget_s: float = 60.0,
    ) -> None:
        if not eps_m > 0:
            raise ValueError(f"eps_m must be > 0 metres, got {eps_m!r}")
        if not attach_m >= 0:
            raise ValueError(f"attach_m must be >= 0 metres, got {attach_m!r}")
        if not 0 < attach_share <= 1:
            raise ValueError(f"attach_share must be in (0, 1], got {attach_share!r}")
        self.eps_m = eps_m
        self.attach_m = attach_m
        self.attach_share = attach_share
        self.smooth_s = smooth_s
        self.forget_s = forget_s
        self._ema: dict[tuple[str, str], tuple[float, float]] = {}

    def fit(
        self,
        graph: sparse.csr_matrix,
        company: IntArray,
        names: Sequence[str] = (),
        pair_distance: Callable[[IntArray, IntArray], npt.NDArray[np.float64]] | None = None,
        now: float = 0.0,
    ) -> list[IntArray]:
        """Candidate groups (row indices, colleagues first) from ``graph`` and per-row ``company``
        codes (-1: not counted — unknown badge or exempt role).

        With ``pair_distance`` (blended distance of given row pairs) every pair of colleagues is
        compared, not only those ``graph`` holds, and the distances are smoothed over time under
        the badge ``names`` (``now`` in seconds).
        """
        n = graph.shape[0]
        if n < 2:
            return []
        coo = graph.tocoo()
        if pair_distance is None:
            same = (company[coo.row] == company[coo.col]) & (company[coo.row] >= 0)
            row, col, dist = coo.row[same], coo.col[same], coo.data[same]
        else:
            row, col = _colleague_pairs(company)
            dist = self._smooth(row, col, pair_distance(row, col), names, now)
            row, col, dist = np.r_[row, col], np.r_[col, row], np.r_[dist, dist]
        colleague = sparse.csr_matrix((np.maximum(dist, 1e-6), (row, col)), shape=graph.shape)
        labels = DBSCAN(eps=self.eps_m, min_samples=2, metric="precomputed").fit_predict(colleague)
        groups: list[IntArray] = []
        close = coo.data <= self.attach_m
        near = sparse.csr_matrix((coo.data[close], (coo.row[close], coo.col[close])), shape=graph.shape)
        for label in np.unique(labels[labels >= 0]):
            members = np.flatnonzero(labels == label)
            sub = near[members]
            hits = np.bincount(sub.indices, minlength=n)  # how many members each badge stands close to
            own = company[members[0]]
            need = max(1, int(np.ceil(self.attach_share * members.shape[0])))
            attached = np.flatnonzero((hits >= need) & (company != own))
            groups.append(np.r_[members, attached].astype(np.int64))
        return groups

    def _smooth(
        self, row: IntArray, col: IntArray, dist: npt.NDArray[np.float64], names: Sequence[str], now: float
    ) -> npt.NDArray[np.float64]:
        if self.smooth_s <= 0:
            return dist
        out = np.empty_like(dist)
        ema = self._ema
        for k in range(dist.shape[0]):
            key = (names[row[k]], names[col[k]])
            prev = ema.get(key)
            value = float(dist[k])
            if prev is not None and now - prev[1] <= self.forget_s:
                alpha = 1.0 - math.exp(-max(now - prev[1], 0.0) / self.smooth_s)
                value = prev[0] + alpha * (value - prev[0])
            ema[key] = (value, now)
            out[k] = value
        if len(ema) > 4 * max(dist.shape[0], 1024):
            horizon = now - self.forget_s
            self._ema = {key: v for key, v in ema.items() if v[1] >= horizon}
        return out


def _colleague_pairs(company: IntArray) -> tuple[IntArray, IntArray]:
    """Every pair (i < j) of rows with the same company code (codes < 0 excluded)."""
    rows = np.flatnonzero(company >= 0)
    order = rows[np.argsort(company[rows], kind="stable")]
    codes = company[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if order.shape[0] else np.empty(0, np.int64)
    ends = np.r_[starts[1:], order.shape[0]]
    out_r: list[IntArray] = []
    out_c: list[IntArray] = []
    for a, b in zip(starts, ends, strict=True):
        members = np.sort(order[a:b])
        if members.shape[0] < 2:
            continue
        i, j = np.triu_indices(members.shape[0], k=1)
        out_r.append(members[i])
        out_c.append(members[j])
    if not out_r:
        e = np.empty(0, dtype=np.int64)
        return e, e
    return np.concatenate(out_r).astype(np.int64), np.concatenate(out_c).astype(np.int64)
