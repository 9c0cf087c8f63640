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
Each tick's distance is first capped at ``cap_m`` (if set), so the average says whether the
pair stood together lately rather than how far apart they once were: it crosses ``eps_m``
about 15 s after two colleagues meet instead of a minute.

With a ``pair_distance`` (the step's learned pair score), strangers are attached by that
same score, smoothed the same way, for the pairs of the floor graph between a candidate's
members and non-colleagues; without one, by the floor graph's own blended distance. Once
attached, a stranger stays attached while within the looser ``keep_m``: the per-stranger
evidence is weak (a true stranger's average hovers around ``attach_m``), and a stranger lost
for a few ticks lets a mixed group pass for a huddle.

Where badges scan, ``heard`` (the pairs their neighbour reports put together) is a second
way for a stranger to stand with a member, beside the pair score: the score's radio terms
often keep someone standing in the circle at its cap, while the members' badges hear them
directly. And ``cohesion`` drops from a candidate the colleague whose reports put it with
none of the other members (it just left, or stands beside them: the averaged score lags).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import sparse

from .grouping import dbscan_pairs
from .pairavg import PairAverages
from .runs import find_sorted, ranks, runs

__all__ = ["ColleagueFinder"]

IntArray = npt.NDArray[np.int64]

_NONE: tuple[IntArray, IntArray] = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))


class ColleagueFinder:
    """``eps_m``: DBSCAN neighbourhood between colleagues (blended metres, inclusive);
    ``attach_m``: how close a non-colleague must stand to a member to count as in the group;
    ``attach_share``: the share of members (inclusive) it must be that close to;
    ``smooth_s``/``forget_s``: the pair average's time constant and how long an unseen pair is
    remembered; ``cap_m``: per-tick distances are capped at this before averaging (0 = no cap);
    ``keep_m``: a stranger attached to a candidate last tick stays attached while within this
    (>= ``attach_m``) of enough members — hysteresis, so a stranger who is in the group is not
    lost on the ticks its average drifts just above ``attach_m`` (needs badge ``ids``)."""

    def __init__(
        self,
        eps_m: float = 1.5,
        *,
        attach_m: float = 1.2,
        attach_share: float = 0.5,
        smooth_s: float = 0.0,
        forget_s: float = 60.0,
        cap_m: float = 0.0,
        keep_m: float = 0.0,
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
        self.cap_m = cap_m
        self.keep_m = max(keep_m, attach_m)
        # Strangers attached last tick, as (stranger id, member id) pairs: each with the members of
        # the candidate it was attached to.
        self._attached: tuple[IntArray, IntArray] = _NONE
        self.averages = PairAverages(smooth_s, cap_m=cap_m, forget_s=forget_s)

    def fit(
        self,
        graph: sparse.csr_matrix,
        company: IntArray,
        ids: IntArray | None = None,
        pair_distance: Callable[[IntArray, IntArray], npt.NDArray[np.float64]] | None = None,
        now: float = 0.0,
        measure: bool = True,
        eps_m: float | None = None,
        heard: Callable[[IntArray, IntArray], npt.NDArray[np.bool_]] | None = None,
        cohesion: Callable[[IntArray, IntArray], npt.NDArray[np.int8]] | None = None,
    ) -> list[IntArray]:
        """Candidate groups (row indices, colleagues first) from ``graph`` and per-row ``company``
        codes (-1: not counted — unknown badge or exempt role); ``eps_m`` for this tick in
        place of the finder's own (a score with more evidence in it separates at another level).

        ``heard`` (with ``pair_distance``): for row pairs, whether the badges' neighbour reports
        put them together; a non-colleague so paired with a member stands with it whatever
        their pair distance. ``cohesion``: for row pairs, 1 (the reports put them together),
        0 (apart) or -1 (no evidence); a colleague with no 1 and some 0 among its pairs with
        the rest of its cluster leaves it (and a cluster left with one member is none).

        With ``pair_distance`` (blended distance of given row pairs) every pair of colleagues is
        compared, not only those ``graph`` holds, and the distances are smoothed over time under
        the rows' stable badge ``ids`` (integers below 2**31; ``now`` in seconds). With
        ``measure`` false (and ``ids``), ``pair_distance`` is not called: every pair keeps the
        average it had when last measured (a pair never measured, or forgotten, counts as far).
        """
        n = graph.shape[0]
        if n < 2:
            self._attached = _NONE  # (attached *last tick*: none after a tick without candidates)
            return []
        coo = graph.tocoo()
        if pair_distance is None:
            same = (company[coo.row] == company[coo.col]) & (company[coo.row] >= 0)
            row, col, dist = coo.row[same], coo.col[same], coo.data[same]
        else:
            row, col = _colleague_pairs(company)
            dist = self._averages(row, col, ids, pair_distance, now, measure)
            row, col, dist = np.r_[row, col], np.r_[col, row], np.r_[dist, dist]
        labels = dbscan_pairs(row, col, dist, n, self.eps_m if eps_m is None else eps_m, 2)
        if cohesion is not None:
            labels = _cohesive(labels, row, col, cohesion)
        if pair_distance is None:
            close = coo.data <= self.attach_m
            near = loose = (coo.row[close].astype(np.int64), coo.col[close].astype(np.int64))
        else:
            near, loose = self._strangers_near(coo, labels, company, ids, pair_distance, now, measure, heard)
        clustered = np.flatnonzero(labels >= 0)
        k = int(labels.max()) + 1 if clustered.shape[0] else 0
        if k == 0:
            self._attached = _NONE
            return []
        sizes = np.bincount(labels[clustered], minlength=k)
        # Members of every cluster in one sort (ascending within each), not a pass per cluster.
        by_label = clustered[np.argsort(labels[clustered], kind="stable")]
        first = np.cumsum(sizes) - sizes
        own = company[by_label[first]]  # (a cluster's members are colleagues)
        need = np.maximum(1, np.ceil(self.attach_share * sizes).astype(np.int64))
        # Per (cluster, non-colleague): how many of its members that one stands close to.
        lab, col = _reaching(_hits(labels, *near, n), need, company, own)
        if self.keep_m > self.attach_m and ids is not None and self._attached[0].shape[0]:
            # Within keep_m of enough members, and attached last tick to one of them.
            held_lab, held_col = _reaching(_hits(labels, *loose, n), need, company, own)
            stay = self._stayed(held_lab, held_col, ids, labels, clustered, k)
            lab, col = np.concatenate([lab, held_lab[stay]]), np.concatenate([col, held_col[stay]])
        key = np.unique(lab * n + col)  # by cluster, then row; each once
        lab, col = key // n, key % n
        self._attached = _attachments(lab, col, ids, by_label, first, sizes, n) if ids is not None else _NONE
        return _member_lists(by_label, sizes, lab, col, k)

    def _stayed(
        self, lab: IntArray, col: IntArray, ids: IntArray, labels: IntArray, clustered: IntArray, k: int
    ) -> npt.NDArray[np.bool_]:
        """Which (cluster ``lab``, row ``col``) pairs were attached last tick to a badge that is a
        member of that cluster now."""
        stranger, member = self._attached
        member_ids = ids[clustered]
        order = np.argsort(member_ids, kind="stable")
        at, found = find_sorted(member_ids[order], member)
        was = np.unique(stranger[found] * k + labels[clustered[order[at[found]]]])  # (stranger id, its cluster now)
        _, hit = find_sorted(was, ids[col] * k + lab)
        return hit

    def _strangers_near(
        self,
        coo: sparse.coo_matrix,
        labels: IntArray,
        company: IntArray,
        ids: IntArray | None,
        pair_distance: Callable[[IntArray, IntArray], npt.NDArray[np.float64]],
        now: float,
        measure: bool = True,
        heard: Callable[[IntArray, IntArray], npt.NDArray[np.bool_]] | None = None,
    ) -> tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]]:
        """Candidate members and the non-colleagues near them (``graph`` pairs, as (member,
        other) rows) whose pair distance, measured like the colleagues' own and smoothed the same
        way, is within ``attach_m``, and within ``keep_m`` — or that ``heard`` puts together (in both)."""
        n = labels.shape[0]
        in_group = labels[coo.row] >= 0
        other = company[coo.col] != company[coo.row]
        row, col = coo.row[in_group & other].astype(np.int64), coo.col[in_group & other].astype(np.int64)
        if row.shape[0] == 0:
            return (row, col), (row, col)
        # A pair of members of two different candidates appears both ways: measure (and smooth) it once.
        lo, hi = np.minimum(row, col), np.maximum(row, col)
        _, first, back = np.unique(lo * n + hi, return_index=True, return_inverse=True)
        dist = self._averages(lo[first], hi[first], ids, pair_distance, now, measure)[back.ravel()]
        loud = np.zeros(row.shape[0], dtype=bool)
        if heard is not None:
            loud = heard(lo[first], hi[first])[back.ravel()]
        attach, keep = (dist <= self.attach_m) | loud, (dist <= self.keep_m) | loud
        return (row[attach], col[attach]), (row[keep], col[keep])

    def _averages(
        self,
        row: IntArray,
        col: IntArray,
        ids: IntArray | None,
        pair_distance: Callable[[IntArray, IntArray], npt.NDArray[np.float64]],
        now: float,
        measure: bool,
    ) -> npt.NDArray[np.float64]:
        """The distances of row pairs (``row``, ``col``): measured and smoothed under the badge
        ``ids``, or, when not ``measure``, the averages as last measured (``ids`` needed)."""
        if ids is not None and not measure:
            return self.averages.recall(ids[row], ids[col], now)
        dist = pair_distance(row, col)
        return self.averages.update(ids[row], ids[col], dist, now) if ids is not None else dist

    def smoothed(self, a: IntArray, b: IntArray, now: float) -> npt.NDArray[np.float64]:
        """The moving average of each pair (badge ids ``a``, ``b``) as updated at ``now``; NaN for a
        pair not measured at ``now`` (for diagnosis: what the candidates were judged by)."""
        return self.averages.at(a, b, now)


def _cohesive(
    labels: IntArray, row: IntArray, col: IntArray, cohesion: Callable[[IntArray, IntArray], npt.NDArray[np.int8]]
) -> IntArray:
    """``labels`` without the members whose every pair with the rest of their cluster
    ``cohesion`` calls apart (0) — none together (1), at least one with evidence (-1: none)."""
    same = (labels[row] >= 0) & (labels[row] == labels[col]) & (row < col)
    r, c = row[same], col[same]
    if r.shape[0] == 0:
        return labels
    ev = cohesion(r, c)
    n = labels.shape[0]
    together = np.bincount(r[ev == 1], minlength=n) + np.bincount(c[ev == 1], minlength=n)
    apart = np.bincount(r[ev == 0], minlength=n) + np.bincount(c[ev == 0], minlength=n)
    out = labels.copy()
    out[(together == 0) & (apart > 0)] = -1
    # A cluster left with one member is no cluster.
    kept = out[out >= 0]
    sizes = np.bincount(kept, minlength=int(labels.max()) + 1)
    out[(out >= 0) & (sizes[np.maximum(out, 0)] < 2)] = -1
    left = out >= 0
    out[left] = np.unique(out[left], return_inverse=True)[1].ravel()  # labels 0..k-1 again
    return out


def _hits(labels: IntArray, row: IntArray, col: IntArray, n: int) -> tuple[IntArray, IntArray, IntArray]:
    """From the (row, column) pairs that stand close (each pair once, as a graph holds them), per
    (cluster, column): how many of the cluster's members (rows labelled with it) the column
    stands close to."""
    lab = labels[row]
    mine = lab >= 0
    key, counts = np.unique(lab[mine] * n + col[mine], return_counts=True)
    return key // n, key % n, counts


def _reaching(
    hits: tuple[IntArray, IntArray, IntArray], need: IntArray, company: IntArray, own: IntArray
) -> tuple[IntArray, IntArray]:
    """The (cluster, non-colleague column) entries of ``hits`` that count the column as close to at
    least ``need[cluster]`` of that cluster's members (``own[cluster]``: its company)."""
    lab, col, count = hits
    ok = (count >= need[lab]) & (company[col] != own[lab])
    return lab[ok], col[ok]


def _attachments(
    lab: IntArray, col: IntArray, ids: IntArray, by_label: IntArray, first: IntArray, sizes: IntArray, n: int
) -> tuple[IntArray, IntArray]:
    """This tick's attachments for the next, as (stranger id, member id) pairs: each attached
    row's badge with every member of the last cluster (by label) it is attached to."""
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, col, lab)
    rows = np.flatnonzero(last >= 0)
    cluster = last[rows]
    count = sizes[cluster]
    members = by_label[np.repeat(first[cluster], count) + ranks(count)]
    return np.repeat(ids[rows], count).astype(np.int64), ids[members].astype(np.int64)


def _member_lists(by_label: IntArray, sizes: IntArray, lab: IntArray, col: IntArray, k: int) -> list[IntArray]:
    """Per cluster, its members (ascending) then its attached rows (ascending; ``lab``/``col``
    sorted by cluster, then row)."""
    extra = np.bincount(lab, minlength=k)
    total = sizes + extra
    start = np.cumsum(total) - total
    flat = np.empty(int(total.sum()), dtype=np.int64)
    flat[np.repeat(start, sizes) + ranks(sizes)] = by_label
    flat[np.repeat(start + sizes, extra) + ranks(extra)] = col
    return list(np.split(flat, np.cumsum(total)[:-1]))


def _colleague_pairs(company: IntArray) -> tuple[IntArray, IntArray]:
    """Every pair (i < j) of rows with the same company code (codes < 0 excluded)."""
    rows = np.flatnonzero(company >= 0)
    order = rows[np.lexsort((rows, company[rows]))]  # by company, then row
    codes = company[order]
    m = order.shape[0]
    if m < 2:
        e = np.empty(0, dtype=np.int64)
        return e, e
    starts, counts = runs(codes)
    later = np.repeat(starts + counts, counts) - np.arange(m) - 1  # colleagues after each position in its run
    first = np.repeat(np.arange(m), later)
    offset = ranks(later)
    return order[first].astype(np.int64), order[first + 1 + offset].astype(np.int64)
