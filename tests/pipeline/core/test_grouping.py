"""GroupFinder: DBSCAN over the blended distance graph (o-space, profiles, mutual k-NN)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.grouping import GroupFinder


def test_dbscan_groups_points_within_eps() -> None:
    finder = GroupFinder(1.0, min_samples=2)
    xy = np.array([[0, 0], [0.5, 0], [5, 5], [5.9, 5], [20, 20]], dtype=float)
    labels = finder.fit(xy, np.full(5, np.nan))
    assert labels[0] == labels[1] != -1 and labels[2] == labels[3] != labels[0] and labels[4] == -1
    assert finder.fit(np.empty((0, 2)), np.empty(0)).shape == (0,)
    assert finder.fit(np.zeros((1, 2)), np.full(1, np.nan)).tolist() == [-1]


def test_ospace_separates_back_to_back_circles() -> None:
    # Two pairs facing each other across 1.2 m, the pairs back to back 1.0 m apart.
    xy = np.array([[0, 0], [1.2, 0], [2.2, 0], [3.4, 0]], dtype=float)
    heading = np.array([0, np.pi, 0, np.pi])
    plain = GroupFinder(1.25, ospace_m=0.0).fit(xy, np.full(4, np.nan))
    assert len(set(plain.tolist())) == 1  # positions alone chain them together
    ospace = GroupFinder(1.25, ospace_m=0.6).fit(xy, heading)
    assert ospace[0] == ospace[1] and ospace[2] == ospace[3] and ospace[0] != ospace[2]


def test_profile_similarity_pulls_shared_shadowing_together() -> None:
    xy = np.array([[0, 0], [2.0, 0]], dtype=float)
    same = np.array([[-60, -70, -80, -75.0], [-61, -71, -79, -75.0]])
    unlike = np.array([[-60, -70, -80, -75.0], [-80, -60, -65, -90.0]])
    finder = GroupFinder(1.5, profile_weight=0.7, profile_m_per_db=0.3)
    assert finder.fit(xy, np.full(2, np.nan), same).tolist() == [0, 0]
    assert finder.fit(xy, np.full(2, np.nan), unlike).tolist() == [-1, -1]


def test_mutual_knn_cuts_chains() -> None:
    # A chain of evenly spaced points: every neighbour within eps, so plain DBSCAN joins all.
    xy = np.array([[0.0, 0], [1.0, 0], [2.2, 0], [3.2, 0], [4.4, 0], [5.4, 0]])
    plain = GroupFinder(1.3).fit(xy, np.full(6, np.nan))
    assert len(set(plain.tolist())) == 1
    cut = GroupFinder(1.3, mutual_k=1).fit(xy, np.full(6, np.nan))
    assert cut.tolist() == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("seed", range(3))
def test_the_symmetric_graph_is_the_mirrored_pairs_graph_entry_for_entry(seed: int) -> None:
    from pipeline.core.grouping import _symmetric_graph, distance_graph

    rng = np.random.default_rng(seed)
    n = 60
    pairs = np.unique(np.sort(rng.integers(0, n, (400, 2)), axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]  # sorted by row, then column; each once
    r, c = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    d = rng.uniform(0, 3, r.shape[0])
    d[:5] = 0.0  # kept as 1e-6
    want = distance_graph(np.r_[r, c], np.r_[c, r], np.r_[d, d], n)
    got = _symmetric_graph(r, c, d, n)
    assert got.shape == want.shape and got.indptr.dtype == want.indptr.dtype
    assert got.indptr.tolist() == want.indptr.tolist() and got.indices.tolist() == want.indices.tolist()
    assert got.data.tobytes() == want.data.tobytes()
    empty = _symmetric_graph(r[:0], c[:0], d[:0], 4)
    assert empty.shape == (4, 4) and empty.nnz == 0


@pytest.mark.parametrize("seed", range(5))
def test_components_are_scipys_numbered_by_lowest_node(seed: int) -> None:
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    from pipeline.core.grouping import components

    rng = np.random.default_rng(seed)
    n = 300
    row = rng.integers(0, n, 250)
    col = rng.integers(0, n, 250)  # (self-loops and repeated edges included)
    member = rng.random(n) < 0.8
    _, comp = connected_components(sparse.csr_matrix((np.ones(250), (row, col)), shape=(n, n)), directed=False)
    # scipy numbers components by lowest node; here only those with a member, by lowest member.
    kept = sorted(
        {int(comp[i]) for i in range(n) if member[i]}, key=lambda k: int(np.flatnonzero((comp == k) & member)[0])
    )
    want = [kept.index(int(comp[i])) if member[i] else -1 for i in range(n)]
    assert components(row, col, member).tolist() == want
    assert components(row, col, np.ones(n, dtype=bool)).tolist() == comp.tolist()
    assert components(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.ones(3, dtype=bool)).tolist() == [
        0,
        1,
        2,
    ]


def test_dbscan_on_pairs_is_dbscan_on_their_graph_and_checks_its_pairs() -> None:
    from scipy import sparse

    from pipeline.core.grouping import dbscan_pairs, dbscan_precomputed, distance_graph

    rng = np.random.default_rng(3)
    n = 60
    r, c = rng.integers(0, n, 200), rng.integers(0, n, 200)
    keep = r < c
    r, c = np.unique(r[keep] * n + c[keep]) // n, np.unique(r[keep] * n + c[keep]) % n
    d = rng.uniform(0, 2, r.shape[0])
    d[:3] = 0.0  # (a distance of 0 is kept, not dropped as a sparse zero)
    d[3] = np.nan  # (no edge)
    row, col, dd = np.r_[r, c], np.r_[c, r], np.r_[d, d]
    for min_samples in (1, 2, 3):
        want = dbscan_precomputed(distance_graph(row, col, dd, n), 0.9, min_samples)
        assert dbscan_pairs(row, col, dd, n, 0.9, min_samples).tolist() == want.tolist()
    assert sparse.issparse(distance_graph(row, col, dd, n))
    with pytest.raises(IndexError, match="outside"):
        dbscan_pairs(np.array([0]), np.array([n]), np.array([0.5]), n, 0.9, 2)


def test_upper_pairs_are_scipys_triu_in_its_order() -> None:
    from scipy import sparse

    from pipeline.core.grouping import upper_pairs

    rng = np.random.default_rng(4)
    n = 50
    r, c = rng.integers(0, n, 400), rng.integers(0, n, 400)
    graph = sparse.csr_matrix((rng.uniform(0.1, 3.0, 400), (r, c)), shape=(n, n))
    want = sparse.triu(graph, k=1).tocoo()
    row, col, d = upper_pairs(graph)
    assert row.tolist() == want.row.tolist() and col.tolist() == want.col.tolist()
    assert d.tobytes() == want.data.astype(np.float64).tobytes()
    some = sparse.triu(graph, k=1).tocoo()
    close = some.data <= 1.2
    row, col, d = upper_pairs(graph, 1.2)
    assert row.tolist() == some.row[close].tolist() and col.tolist() == some.col[close].tolist()
    assert d.tolist() == some.data[close].tolist() and 0 < row.shape[0] < some.row.shape[0]
    empty = upper_pairs(sparse.csr_matrix((3, 3)))
    assert [a.shape[0] for a in empty] == [0, 0, 0]
