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
matrix stays sparse at 20,000 badges; the radius is capped at ``eps_m / (1 - profile_weight)``,
beyond which no blend can come within ``eps_m`` (so the cap changes no label). Profiles are
held as :class:`~.profiles.Profiles`, so comparing a pair costs the gateways the two badges
hear, not every gateway of the venue.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from .jit import check_pairs, compiled
from .nearpairs import pairs_within
from .profiles import Profiles, profile_sums
from .runs import find_sorted, ranks, runs

__all__ = ["GroupFinder", "components", "dbscan_pairs", "dbscan_precomputed", "distance_graph", "upper_pairs"]

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
        if profile_weight < 1.0:  # (1 - w) * d <= blend: farther pairs can never be within eps_m
            self.search_m = min(self.search_m, eps_m / (1.0 - profile_weight))
        self.mutual_k = mutual_k
        # The last graph's profile differences, for its pairs asked about again with the same
        # profiles (the colleague score compares many of them): a weak reference to those
        # profiles, the badge count, the pairs' keys (row x n + col, sorted), RMS and common.
        self._memo: tuple[weakref.ref[Profiles], int, IntArray, FloatArray, FloatArray] | None = None

    def __getstate__(self) -> dict[str, object]:
        # The memo is a cache tied to one Profiles object by a weak reference: not copied.
        return {**self.__dict__, "_memo": None}

    def points(self, xy: FloatArray, heading: FloatArray) -> FloatArray:
        """Positions, projected into o-space where the heading is known (not NaN)."""
        known = ~np.isnan(heading)
        h = np.where(known, heading, 0.0)
        off = np.where(known, self.ospace_m, 0.0)
        return np.column_stack([xy[:, 0] + off * np.cos(h), xy[:, 1] + off * np.sin(h)])

    def distances(self, pts: FloatArray, profiles: Profiles | FloatArray | None) -> sparse.csr_matrix:
        """Sparse blended distances between badges within ``search_m`` of each other."""
        n = pts.shape[0]
        # Each pair once (i < j): the blend is symmetric, so compute it once and mirror. By
        # row, then column: the profile comparison's order, and the memo's keys come sorted.
        r, c = pairs_within(pts, self.search_m)
        near = np.hypot(pts[r, 0] - pts[c, 0], pts[r, 1] - pts[c, 1])
        self._memo = None
        if isinstance(profiles, Profiles) and self.profile_weight != 0 and r.shape[0]:
            rms, common = self.profile_difference(r, c, profiles)
            self._memo = (weakref.ref(profiles), n, r * n + c, rms, common)  # (r, c) sorted: the keys too
            half = self._blended(near, rms, common)
        else:
            half = self.blend(r, c, near, profiles)
        if self.mutual_k > 0 and half.shape[0]:
            row, col, d = np.concatenate([r, c]), np.concatenate([c, r]), np.concatenate([half, half])
            return distance_graph(*_mutual_knn(row, col, d, self.mutual_k), n)
        return _symmetric_graph(r, c, half, n)

    def blend(self, row: IntArray, col: IntArray, d: FloatArray, profiles: Profiles | FloatArray | None) -> FloatArray:
        """Blend positional distances ``d`` of pairs (``row``, ``col``) with their profile difference.

        The profile difference is the RMS over the gateways both hear of the level differences
        minus their mean (badge TX offsets differ: shapes are compared, not levels).
        """
        if profiles is None or self.profile_weight == 0 or d.shape[0] == 0:
            return d
        rms, common = self.profile_difference(row, col, profiles)
        return self._blended(d, rms, common)

    def _blended(self, d: FloatArray, rms: FloatArray, common: FloatArray) -> FloatArray:
        blended = (1 - self.profile_weight) * d + self.profile_weight * rms * self.profile_m_per_db
        return np.asarray(np.where(common >= self.min_common_gateways, blended, d), dtype=np.float64)

    def profile_difference(
        self, row: IntArray, col: IntArray, profiles: Profiles | FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Per pair: the RMS (dB) of their centred profile differences, and how many gateways both hear.

        Pairs (``row``, ``col``) of the last graph built on these same ``profiles`` are looked up,
        not compared again: a pair's figures depend on the pair and the profiles alone.
        """
        if not isinstance(profiles, Profiles):
            profiles = Profiles.from_dense(profiles)
        # (Checked before the memo, whose keys a pair out of range could alias.)
        check_pairs(row, col, len(profiles), "profiles")
        memo = self._memo
        if memo is None or memo[0]() is not profiles or row.shape[0] == 0:
            return self._profile_difference(row, col, profiles)
        _, n, keys, memo_rms, memo_common = memo
        want = row.astype(np.int64) * n + col
        at, hit = find_sorted(keys, want)
        rms, common = memo_rms[at], memo_common[at]
        if not hit.all():
            miss = np.flatnonzero(~hit)
            rms[miss], common[miss] = self._profile_difference(row[miss], col[miss], profiles)
        return rms, common

    def _profile_difference(self, row: IntArray, col: IntArray, profiles: Profiles) -> tuple[FloatArray, FloatArray]:
        common, total, squares = profile_sums(profiles, row, col)
        # sum((diff - mean)^2) = sum(diff^2) - common * mean^2
        mean = total / np.maximum(common, 1)
        spread = np.maximum(squares - common * mean * mean, 0.0)
        rms = np.sqrt(spread / np.maximum(common - 1, 1))
        return np.asarray(rms, dtype=np.float64), common

    def graph(
        self, xy: FloatArray, heading: FloatArray, profiles: Profiles | FloatArray | None = None
    ) -> sparse.csr_matrix:
        """The sparse blended-distance graph for badges at ``xy`` ([N, 2] m), ``heading`` ([N], NaN = unknown)."""
        if xy.shape[0] < 2:
            return sparse.csr_matrix((xy.shape[0], xy.shape[0]))
        return self.distances(self.points(xy, heading), profiles)

    def fit(self, xy: FloatArray, heading: FloatArray, profiles: Profiles | FloatArray | None = None) -> IntArray:
        """Group labels for badges at ``xy`` ([N, 2] metres) with ``heading`` ([N], NaN = unknown)."""
        return self.fit_graph(self.graph(xy, heading, profiles))

    def fit_graph(self, dist: sparse.csr_matrix) -> IntArray:
        """DBSCAN labels over a precomputed sparse distance graph."""
        n = dist.shape[0]
        if n == 0:
            return np.empty(0, dtype=np.int64)
        if n == 1:
            return np.full(1, 0 if self.min_samples <= 1 else -1, dtype=np.int64)
        return dbscan_precomputed(dist, self.eps_m, self.min_samples)


# Explicit zeros would be dropped by sparse ops (a pair at distance 0 would vanish): every
# distance in a graph is kept at this at least (metres).
_LEAST_DISTANCE_M = 1e-6


def distance_graph(row: IntArray, col: IntArray, d: FloatArray, n: int) -> sparse.csr_matrix:
    """The sparse [n, n] graph of distances ``d`` at (``row``, ``col``), as DBSCAN takes it
    (each at least ``_LEAST_DISTANCE_M``)."""
    return sparse.csr_matrix((np.maximum(d, _LEAST_DISTANCE_M), (row, col)), shape=(n, n))


def _symmetric_graph(r: IntArray, c: IntArray, d: FloatArray, n: int) -> sparse.csr_matrix:
    """:func:`distance_graph` of the pairs (``r``, ``c``) sorted by ``r`` then ``c``, each once,
    and their mirror images: the same matrix, entry for entry, each row's columns ascending
    (the pairs it follows, then those it leads), built in place without the mirrored copies."""
    kind = np.int32 if max(2 * r.shape[0], n) < np.iinfo(np.int32).max else np.int64
    indptr: npt.NDArray[np.signedinteger[Any]] = np.zeros(n + 1, dtype=kind)
    indices: npt.NDArray[np.signedinteger[Any]] = np.empty(2 * r.shape[0], dtype=kind)
    data = np.empty(2 * r.shape[0])
    _fill_symmetric(r, c, d, indptr, indices, data)
    return sparse.csr_matrix((data, indices, indptr), shape=(n, n), copy=False)


@compiled
def _fill_symmetric(
    r: IntArray,
    c: IntArray,
    d: FloatArray,
    indptr: npt.NDArray[np.signedinteger],
    indices: npt.NDArray[np.signedinteger],
    data: FloatArray,
) -> None:
    n = indptr.shape[0] - 1
    degree = np.zeros(n, dtype=np.int64)
    for p in range(r.shape[0]):
        degree[r[p]] += 1
        degree[c[p]] += 1
    for i in range(n):
        indptr[i + 1] = indptr[i] + degree[i]
    at = indptr[:-1].astype(np.int64)
    for half in range(2):  # the pairs each row follows (lower columns), then those it leads
        for p in range(r.shape[0]):
            i, j = (c[p], r[p]) if half == 0 else (r[p], c[p])
            indices[at[i]] = j
            data[at[i]] = max(d[p], _LEAST_DISTANCE_M)
            at[i] += 1


def upper_pairs(graph: sparse.csr_matrix, at_most: float | None = None) -> tuple[IntArray, IntArray, FloatArray]:
    """The entries of ``graph`` above its diagonal as (row, column, value) arrays, in the order
    it holds them (by row): ``sparse.triu(graph, k=1)``'s, without its conversions; with
    ``at_most``, only those whose value is at most that (found by value first: a few of a
    large graph's)."""
    data = np.asarray(graph.data, dtype=np.float64)
    if at_most is None:
        row = np.repeat(np.arange(graph.shape[0], dtype=np.int64), np.diff(graph.indptr))
        col = graph.indices.astype(np.int64)
        above = col > row
        return row[above], col[above], data[above]
    at = np.flatnonzero(data <= at_most)
    row = np.searchsorted(graph.indptr, at, side="right").astype(np.int64) - 1  # (the row holding each)
    col = graph.indices[at].astype(np.int64)
    above = col > row
    return row[above], col[above], data[at[above]]


def dbscan_precomputed(dist: sparse.spmatrix, eps: float, min_samples: int) -> IntArray:
    """DBSCAN labels over a symmetric sparse distance graph (absent entry = not a neighbour):
    :func:`dbscan_pairs` of its entries."""
    coo = dist.tocoo()
    return dbscan_pairs(coo.row, coo.col, coo.data, dist.shape[0], eps, min_samples)


def dbscan_pairs(
    row: npt.NDArray[np.integer[Any]],
    col: npt.NDArray[np.integer[Any]],
    d: FloatArray,
    n: int,
    eps: float,
    min_samples: int,
) -> IntArray:
    """DBSCAN labels of ``n`` badges over the distances ``d`` of the pairs (``row``, ``col``):
    each pair given once each way, as a symmetric graph holds them (no pair twice).

    Pairs beyond ``eps`` are dropped first. With ``min_samples`` <= 2 DBSCAN has no border
    points — every badge with a neighbour is a core point (a point is its own neighbour, as
    in scikit-learn) — so the clusters are exactly the connected components of the
    ``eps``-graph, numbered as scikit-learn numbers them (by lowest member index); that is
    computed directly, in one compiled pass (:func:`components`), without scikit-learn's
    per-point neighbourhood lists (the tests check it label for label against
    ``sklearn.cluster.DBSCAN``). Larger ``min_samples`` go to scikit-learn.
    """
    # (max(d, least) <= eps, as a distance graph holds them: d <= eps when least <= eps; NaN: no.)
    near = d <= eps if eps >= _LEAST_DISTANCE_M else np.zeros(d.shape[0], dtype=np.bool_)
    r: IntArray = np.asarray(row[near], dtype=np.int64)
    c: IntArray = np.asarray(col[near], dtype=np.int64)
    check_pairs(r, c, n, "badges")  # (the pairs the compiled pass is given)
    if min_samples > 2:
        # (Imported here: scikit-learn costs a process 64 MB and 0.7 s to import, and the
        # default detector never gets here.)
        from sklearn.cluster import DBSCAN

        pruned = distance_graph(r, c, np.asarray(d)[near], n)
        return np.asarray(DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(pruned), np.int64)
    if min_samples <= 1:
        core = np.ones(n, dtype=np.bool_)
    else:
        core = np.zeros(n, dtype=np.bool_)
        core[r] = True
        core[c] = True
    return components(r, c, core)


def components(row: IntArray, col: IntArray, member: npt.NDArray[np.bool_]) -> IntArray:
    """Connected components of the graph of ``member.shape[0]`` nodes with edges (``row``,
    ``col``; in range), numbered 0, 1, ... by their lowest node; -1 for the nodes not
    ``member`` (whose components are numbered by their lowest member node)."""
    labels = np.empty(member.shape[0], dtype=np.int64)
    _components(row, col, member, labels)
    return labels


@compiled
def _root(parent: IntArray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # (path halving)
        i = parent[i]
    return i


@compiled
def _components(row: IntArray, col: IntArray, member: npt.NDArray[np.bool_], labels: IntArray) -> None:
    """Union-find whose roots are each component's lowest node, then one pass in node order."""
    n = member.shape[0]
    parent = np.arange(n)
    for p in range(row.shape[0]):
        a, b = _root(parent, row[p]), _root(parent, col[p])
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    label_of = np.full(n, -1, dtype=np.int64)
    k = 0
    for i in range(n):
        if not member[i]:
            labels[i] = -1
            continue
        r = _root(parent, i)
        if label_of[r] < 0:
            label_of[r] = k
            k += 1
        labels[i] = label_of[r]


def _mutual_knn(row: IntArray, col: IntArray, d: FloatArray, k: int) -> tuple[IntArray, IntArray, FloatArray]:
    """Keep an edge only when each end is among the other's ``k`` nearest (stops chaining)."""
    order = np.lexsort((d, row))
    row, col, d = row[order], col[order], d[order]
    keep = ranks(runs(row)[1]) < k
    row, col, d = row[keep], col[keep], d[keep]
    n = int(max(row.max(), col.max())) + 1
    key = row.astype(np.int64) * n + col
    back = col.astype(np.int64) * n + row
    mutual = np.isin(back, key)
    return row[mutual], col[mutual], d[mutual]
