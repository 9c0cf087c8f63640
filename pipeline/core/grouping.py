"""Which badges stand together this tick: DBSCAN over a precomputed sparse distance.

The distance between two badges combines what says they stand together:

* their positions (or, when headings are known, their **o-space** points — each person
  projected ``ospace_m`` metres along the way they face, after Kendon's F-formation and
  GCFF, Setti et al. 2015 — which pulls members of one circle together and pushes two
  back-to-back circles apart);
* how alike their RSSI profiles are across gateways: neighbours share most of their
  shadowing (Gudmundson), so a small profile difference is evidence of closeness even
  when both positions are metres off. ``profile_m_per_db`` turns the RMS profile
  difference (dB, over gateways both hear) into metres, and the two are blended by
  ``profile_weight`` (0 = positions only).

Only pairs within ``search_m`` of each other are considered (a radius query), so the
matrix stays sparse at 20,000 badges.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.cluster import DBSCAN
from sklearn.neighbors import radius_neighbors_graph

__all__ = ["GroupFinder"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class GroupFinder:
    """Labels badges with a group number (``-1`` = alone) every tick.

    ``eps_m``: DBSCAN neighbourhood in metres of blended distance (inclusive);
    ``min_samples``: points (the badge itself included) needed for a core point;
    ``ospace_m``: o-space projection in metres when a heading is known;
    ``profile_weight`` in [0, 1] and ``profile_m_per_db`` as above;
    ``min_common_gateways``: gateways both must hear for a profile comparison.
    """

    def __init__(
        self,
        eps_m: float = 1.5,
        *,
        min_samples: int = 2,
        ospace_m: float = 0.6,
        profile_weight: float = 0.0,
        profile_m_per_db: float = 0.5,
        min_common_gateways: int = 3,
        search_m: float | None = None,
        mutual_k: int = 0,
    ) -> None:
        if not eps_m > 0:
            raise ValueError(f"eps_m must be > 0 metres, got {eps_m!r}")
        if not (isinstance(min_samples, int) and min_samples >= 1):
            raise ValueError(f"min_samples must be an integer >= 1, got {min_samples!r}")
        if not 0.0 <= profile_weight <= 1.0:
            raise ValueError(f"profile_weight must be in [0, 1], got {profile_weight!r}")
        if not ospace_m >= 0:
            raise ValueError(f"ospace_m must be >= 0 metres, got {ospace_m!r}")
        self.eps_m = eps_m
        self.min_samples = min_samples
        self.ospace_m = ospace_m
        self.profile_weight = profile_weight
        self.profile_m_per_db = profile_m_per_db
        self.min_common_gateways = min_common_gateways
        self.search_m = search_m if search_m is not None else 2.5 * eps_m
        self.mutual_k = mutual_k

    def points(self, xy: FloatArray, heading: FloatArray) -> FloatArray:
        """Positions, projected into o-space where the heading is known (not NaN)."""
        known = ~np.isnan(heading)
        h = np.where(known, heading, 0.0)
        off = np.where(known, self.ospace_m, 0.0)
        return np.column_stack([xy[:, 0] + off * np.cos(h), xy[:, 1] + off * np.sin(h)])

    def distances(self, pts: FloatArray, profiles: FloatArray | None) -> sparse.csr_matrix:
        """Sparse blended distances between badges within ``search_m`` of each other."""
        graph = radius_neighbors_graph(pts, self.search_m, mode="distance", include_self=False).tocoo()
        row, col = graph.row, graph.col
        d = self.blend(row, col, graph.data, profiles)
        if self.mutual_k > 0 and d.shape[0]:
            row, col, d = _mutual_knn(row, col, d, self.mutual_k)
        # Explicit zeros would be dropped by sparse ops: keep a tiny positive distance.
        d = np.maximum(d, 1e-6)
        return sparse.csr_matrix((d, (row, col)), shape=graph.shape)

    def blend(self, row: IntArray, col: IntArray, d: FloatArray, profiles: FloatArray | None) -> FloatArray:
        """Blend positional distances ``d`` of pairs (``row``, ``col``) with their profile difference."""
        if profiles is None or self.profile_weight == 0 or d.shape[0] == 0:
            return d
        heard = ~np.isnan(profiles)
        level = np.where(heard, profiles, 0.0)
        both = heard[row] & heard[col]
        diff = (level[row] - level[col]) * both
        common = both.sum(axis=1)
        # Remove the per-badge level difference (badge TX offsets differ): compare shapes.
        # sum((diff - mean)^2) = sum(diff^2) - common * mean^2
        total = diff.sum(axis=1)
        mean = total / np.maximum(common, 1)
        spread = np.maximum((diff * diff).sum(axis=1) - common * mean * mean, 0.0)
        rms = np.sqrt(spread / np.maximum(common - 1, 1))
        blended = (1 - self.profile_weight) * d + self.profile_weight * rms * self.profile_m_per_db
        return np.asarray(np.where(common >= self.min_common_gateways, blended, d), dtype=np.float64)

    def graph(self, xy: FloatArray, heading: FloatArray, profiles: FloatArray | None = None) -> sparse.csr_matrix:
        """The sparse blended-distance graph for badges at ``xy`` ([N, 2] m), ``heading`` ([N], NaN = unknown)."""
        if xy.shape[0] < 2:
            return sparse.csr_matrix((xy.shape[0], xy.shape[0]))
        return self.distances(self.points(xy, heading), profiles)

    def fit(self, xy: FloatArray, heading: FloatArray, profiles: FloatArray | None = None) -> IntArray:
        """Group labels for badges at ``xy`` ([N, 2] metres) with ``heading`` ([N], NaN = unknown)."""
        return self.fit_graph(self.graph(xy, heading, profiles))

    def fit_graph(self, dist: sparse.csr_matrix) -> IntArray:
        """DBSCAN labels over a precomputed sparse distance graph."""
        n = dist.shape[0]
        if n == 0:
            return np.empty(0, dtype=np.int64)
        if n == 1:
            return np.full(1, 0 if self.min_samples <= 1 else -1, dtype=np.int64)
        labels = DBSCAN(eps=self.eps_m, min_samples=self.min_samples, metric="precomputed").fit_predict(dist)
        return np.asarray(labels, dtype=np.int64)


def _mutual_knn(row: IntArray, col: IntArray, d: FloatArray, k: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Keep an edge only when each end is among the other's ``k`` nearest (stops chaining)."""
    order = np.lexsort((d, row))
    row, col, d = row[order], col[order], d[order]
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    counts = np.diff(np.r_[starts, row.shape[0]])
    rank = np.arange(row.shape[0]) - np.repeat(starts, counts)
    keep = rank < k
    row, col, d = row[keep], col[keep], d[keep]
    n = int(max(row.max(), col.max())) + 1
    key = row.astype(np.int64) * n + col
    back = col.astype(np.int64) * n + row
    mutual = np.isin(back, key)
    return row[mutual], col[mutual], d[mutual]
