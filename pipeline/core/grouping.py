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
held as :class:`Profiles` — each badge's own gateways as a short list plus a lookup table —
so comparing a pair costs the gateways one badge hears, not every gateway of the venue.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .jit import compiled
from .runs import find_sorted, ranks, runs

__all__ = ["GroupFinder", "Profiles", "dbscan_precomputed", "distance_graph"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Profiles:
    """RSSI profiles of ``n`` badges over ``n_gateways``: per badge, the gateways it hears
    (strongest first; at most ``k`` if given) with their levels in dBm, and every level it
    hears, by gateway, for lookups.

    ``from_entries`` takes aligned ``row``/``gateway``/``level`` arrays (one entry per heard
    pair; a (row, gateway) given twice holds its last level). Levels are looked up as float32
    (0.01 dB resolution is far below the radio's noise) among each badge's own entries sorted
    by gateway (``entry_gateway``/``entry_level``/``entry_rank`` from ``first[badge]``,
    ``heard[badge]`` of them), so comparing two badges is one walk along both sorted lists,
    in memory proportional to what is heard (a dense table of badges x gateways would be
    33 MB of bytes at 20,000 badges and 1,645 gateways).
    """

    __slots__ = (
        "__weakref__",
        "counts",
        "entry_gateway",
        "entry_level",
        "entry_rank",
        "first",
        "gateways",
        "heard",
        "levels",
        "n_gateways",
    )

    def __init__(
        self,
        gateways: IntArray,
        levels: FloatArray,
        entry_gateway: IntArray,
        entry_level: npt.NDArray[np.float32],
        entry_rank: IntArray,
        heard: IntArray,
        n_gateways: int,
    ) -> None:
        self.gateways = gateways  # [n, k], -1 = none (a badge's gateways come first)
        self.levels = levels  # [n, k], NaN = none
        self.entry_gateway = entry_gateway  # every badge's gateways, badge after badge, each's sorted
        self.entry_level = entry_level  # ... and their float32 levels
        self.entry_rank = entry_rank  # ... and their places in their badge's list (strongest first)
        self.heard = heard  # [n] entries per badge
        self.first = np.cumsum(heard) - heard  # [n] each badge's first entry
        self.n_gateways = int(n_gateways)
        self.counts = (gateways >= 0).sum(axis=1)

    @classmethod
    def from_entries(
        cls, row: IntArray, gateway: IntArray, level: FloatArray, n: int, n_gateways: int, k: int | None = None
    ) -> Profiles:
        # A repeated (row, gateway) holds its last entry; by: the entries kept, by (row, gateway).
        key = np.asarray(row, dtype=np.int64) * n_gateways + gateway
        ascending = bool(np.all(key[1:] > key[:-1]))  # as summaries come: nothing to sort or drop
        by = np.arange(key.shape[0]) if ascending else np.argsort(key, kind="stable")
        if not ascending:
            last = np.ones(by.shape[0], dtype=np.bool_)
            np.not_equal(key[by[1:]], key[by[:-1]], out=last[:-1])
            by = by[last]
        # The lists: strongest first, ties in entry order.
        kept = by if ascending else np.sort(by)
        order = kept[_strongest_first(row[kept], level[kept])]
        rank = np.empty(row.shape[0], dtype=np.int64)
        rank[order] = ranks(runs(row[order])[1])  # each entry's place in its badge's list
        places = int(rank[order].max() + 1) if order.shape[0] else 0
        width = places if k is None else min(places, k)
        keep = order[rank[order] < width]
        gws = np.full((n, width), -1, dtype=np.int64)
        lev = np.full((n, width), np.nan)
        gws[row[keep], rank[keep]] = gateway[keep]
        lev[row[keep], rank[keep]] = level[keep].astype(np.float32)  # as they are looked up
        heard = np.bincount(row[by], minlength=n).astype(np.int64)
        entry_gateway = np.asarray(gateway[by], dtype=np.int64)
        entry_level = np.asarray(level[by], dtype=np.float32)
        return cls(gws, lev, entry_gateway, entry_level, rank[by], heard, n_gateways)

    @classmethod
    def from_dense(cls, profiles: FloatArray, k: int | None = None) -> Profiles:
        """From an [n, n_gateways] array with NaN for unheard."""
        row, gateway = np.nonzero(~np.isnan(profiles))
        n, g = profiles.shape
        return cls.from_entries(row.astype(np.int64), gateway.astype(np.int64), profiles[row, gateway], n, g, k)

    def level(self, badge: IntArray, gateway: IntArray) -> npt.NDArray[np.float32]:
        """The levels (float32 dBm, NaN = unheard) of aligned ``badge`` rows and ``gateway`` indices."""
        badge = np.asarray(badge, dtype=np.int64)
        keys = np.repeat(np.arange(len(self), dtype=np.int64), self.heard) * self.n_gateways + self.entry_gateway
        at, found = find_sorted(keys, badge * self.n_gateways + gateway)
        out = np.full(badge.shape[0], np.nan, dtype=np.float32)
        out[found] = self.entry_level[at[found]]
        return out

    def __len__(self) -> int:
        return int(self.heard.shape[0])


def _strongest_first(row: IntArray, level: FloatArray) -> IntArray:
    """The order of entries by ``row``, then ``level`` descending, ties in entry order (as
    ``np.lexsort((-level, row))``). Entries already grouped by ascending row (as summaries
    come) are ordered by a stable sort of each row's padded levels: small sorts, not one
    two-key sort of every entry."""
    if row.shape[0] == 0 or np.any(row[1:] < row[:-1]):
        return np.asarray(np.lexsort((-level, row)), dtype=np.int64)
    starts, counts = runs(row)
    padded = np.full((starts.shape[0], int(counts.max())), np.inf)
    padded[np.repeat(np.arange(starts.shape[0]), counts), ranks(counts)] = -level
    pick = np.argsort(padded, axis=1, kind="stable")  # the padding (inf) last
    return np.asarray((starts[:, None] + pick)[pick < counts[:, None]], dtype=np.int64)


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
        # Each pair once (i < j): the blend is symmetric, so compute it once and mirror.
        pairs = cKDTree(pts).query_pairs(self.search_m, output_type="ndarray").astype(np.int64)
        # Memory order for the profile gathers: by row, then column (one key: pairs are unique).
        order = np.argsort(pairs[:, 0] * max(n, 1) + pairs[:, 1])
        r, c = pairs[order, 0], pairs[order, 1]
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
        _check_pairs(row, col, len(profiles))  # (before the memo, whose keys a pair out of range could alias)
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
        common, total, squares = _profile_sums(profiles, row, col)
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


def _profile_sums(profiles: Profiles, row: IntArray, col: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per pair: how many gateways both hear, and the sum and sum of squares of the differences.

    Compares over the gateways of the row badge that the column badge hears too; with every
    gateway a badge hears in its list (the usual case) that is exactly the common set. Each
    pair costs the gateways its row badge hears, and its sums run over them in list order.
    """
    _check_pairs(row, col, len(profiles))
    m = row.shape[0]
    common, total, squares = np.empty(m), np.empty(m), np.empty(m)
    _pair_sums(
        profiles.counts,
        profiles.levels,
        profiles.first,
        profiles.heard,
        profiles.entry_gateway,
        profiles.entry_level,
        profiles.entry_rank,
        np.asarray(row, dtype=np.int64),
        np.asarray(col, dtype=np.int64),
        common,
        total,
        squares,
    )
    return common, total, squares


def _check_pairs(row: IntArray, col: IntArray, n: int) -> None:
    """Pairs as two aligned 1-D arrays of badges in ``0 .. n - 1``, or ``ValueError`` /
    ``IndexError`` (the compiled loops check no bounds: a pair past them would read any memory)."""
    if row.ndim != 1 or row.shape != col.shape:
        raise ValueError(f"pairs must be two aligned 1-D arrays, got shapes {row.shape} and {col.shape}")
    if row.shape[0] and (min(int(row.min()), int(col.min())) < 0 or max(int(row.max()), int(col.max())) >= n):
        raise IndexError(f"pairs name badges outside the {n} profiles")


@compiled
def _pair_sums(
    counts: IntArray,
    levels: FloatArray,
    first: IntArray,
    heard: IntArray,
    entry_gateway: IntArray,
    entry_level: npt.NDArray[np.float32],
    entry_rank: IntArray,
    row: IntArray,
    col: IntArray,
    common: FloatArray,
    total: FloatArray,
    squares: FloatArray,
) -> None:
    # The column badge's level at each place of the row badge's list (NaN: not heard), found
    # by one walk along both badges' entries sorted by gateway; then the sums in list order.
    theirs = np.empty(levels.shape[1])
    for p in range(row.shape[0]):
        r, c = row[p], col[p]
        theirs[: counts[r]] = np.nan
        j, end = first[c], first[c] + heard[c]
        for i in range(first[r], first[r] + heard[r]):
            g = entry_gateway[i]
            while j < end and entry_gateway[j] < g:
                j += 1
            if j == end:
                break
            if entry_gateway[j] == g and entry_rank[i] < counts[r]:
                theirs[entry_rank[i]] = entry_level[j]
        both, t, sq = 0, 0.0, 0.0
        for k in range(counts[r]):
            b = theirs[k]
            if b == b:
                d = levels[r, k] - b
                t += d
                sq += d * d
                both += 1
        common[p], total[p], squares[p] = both, t, sq


def distance_graph(row: IntArray, col: IntArray, d: FloatArray, n: int) -> sparse.csr_matrix:
    """The sparse [n, n] graph of distances ``d`` at (``row``, ``col``), as DBSCAN takes it.

    Explicit zeros would be dropped by sparse ops (a pair at distance 0 would vanish): every
    distance is kept at 1e-6 m at least.
    """
    return sparse.csr_matrix((np.maximum(d, 1e-6), (row, col)), shape=(n, n))


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
            data[at[i]] = max(d[p], 1e-6)
            at[i] += 1


def dbscan_precomputed(dist: sparse.spmatrix, eps: float, min_samples: int) -> IntArray:
    """DBSCAN labels over a symmetric sparse distance graph (absent entry = not a neighbour).

    Edges beyond ``eps`` are dropped first. With ``min_samples`` <= 2 DBSCAN has no border
    points — every badge with a neighbour is a core point (a point is its own neighbour, as
    in scikit-learn) — so the clusters are exactly the connected components of the
    ``eps``-graph, numbered as scikit-learn numbers them (by lowest member index); that
    is computed directly, without scikit-learn's per-point neighbourhood lists (the tests
    check it label for label against ``sklearn.cluster.DBSCAN``). Larger ``min_samples``
    go to scikit-learn.
    """
    n = dist.shape[0]
    coo = dist.tocoo()
    near = coo.data <= eps
    row, col = coo.row[near], coo.col[near]
    if min_samples > 2:
        # (Imported here: scikit-learn costs a process 64 MB and 0.7 s to import, and the
        # default detector never gets here.)
        from sklearn.cluster import DBSCAN

        pruned = sparse.csr_matrix((coo.data[near], (row, col)), shape=dist.shape)
        return np.asarray(DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(pruned), np.int64)
    if min_samples <= 1:
        core = np.ones(n, dtype=np.bool_)
    else:
        core = np.zeros(n, dtype=np.bool_)
        core[row] = True
        core[col] = True
    graph = sparse.csr_matrix((np.ones(row.shape[0], dtype=np.int8), (row, col)), shape=dist.shape)
    _, comp = connected_components(graph, directed=False)
    first = np.full(int(comp.max()) + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(n))
    kept = np.unique(comp[core])  # components with a core point (all of them when min_samples <= 1)
    rank = np.full(first.shape[0], -1, dtype=np.int64)
    rank[kept[np.argsort(first[kept], kind="stable")]] = np.arange(kept.shape[0])
    labels = rank[comp]
    labels[~core] = -1
    return np.asarray(labels, dtype=np.int64)


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
