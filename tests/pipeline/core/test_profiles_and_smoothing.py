"""Sparse RSSI profiles and smoothed colleague distances against plain reference formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from pipeline.core.colleagues import ColleagueFinder
from pipeline.core.grouping import GroupFinder
from pipeline.core.pairavg import PairAverages
from pipeline.core.profiles import Profiles


def dense_blend(row: np.ndarray, col: np.ndarray, d: np.ndarray, prof: np.ndarray, w: float, m: float) -> np.ndarray:
    """The blend written over every gateway of the venue (the definition)."""
    out = d.copy()
    for k, (i, j) in enumerate(zip(row, col, strict=True)):
        both = ~np.isnan(prof[i]) & ~np.isnan(prof[j])
        if both.sum() >= 3:
            diff = prof[i, both] - prof[j, both]
            rms = math.sqrt(((diff - diff.mean()) ** 2).sum() / (both.sum() - 1))
            out[k] = (1 - w) * d[k] + w * rms * m
    return out


def test_sparse_profiles_blend_as_the_dense_definition() -> None:
    rng = np.random.default_rng(3)
    n, g = 60, 25
    prof = np.where(rng.random((n, g)) < 0.35, np.round(rng.normal(-80, 8, (n, g)), 1), np.nan)
    row, col = rng.integers(0, n, 400), rng.integers(0, n, 400)
    d = rng.uniform(0, 7, 400)
    finder = GroupFinder(1.4, profile_weight=0.8, profile_m_per_db=0.35)
    got = finder.blend(row, col, d, Profiles.from_dense(prof))
    np.testing.assert_allclose(got, dense_blend(row, col, d, prof, 0.8, 0.35), atol=1e-4)
    # Symmetric, and a capped list (strongest gateways only) is an approximation, not the definition.
    np.testing.assert_allclose(got, finder.blend(col, row, d, Profiles.from_dense(prof)), atol=1e-9)
    capped = finder.blend(row, col, d, Profiles.from_dense(prof, k=3))
    assert not np.allclose(capped, got)


def test_the_graphs_pairs_are_looked_up_not_compared_again_and_give_the_same_figures() -> None:
    rng = np.random.default_rng(5)
    n, g = 80, 20
    prof = np.where(rng.random((n, g)) < 0.5, np.round(rng.normal(-80, 8, (n, g)), 2), np.nan)
    xy = rng.uniform(0, 12, (n, 2))
    profiles = Profiles.from_dense(prof)
    finder = GroupFinder(1.4, profile_weight=0.8, profile_m_per_db=0.35)
    graph = sparse.triu(finder.graph(xy, np.full(n, np.nan), profiles), k=1).tocoo()
    inside = (graph.row.astype(np.int64), graph.col.astype(np.int64))
    outside = (rng.integers(0, n, 50), rng.integers(0, n, 50))  # mostly not graph pairs, either way round
    row, col = np.r_[inside[0], outside[0], inside[1][:7]], np.r_[inside[1], outside[1], inside[0][:7]]
    compared: list[int] = []
    real = finder._profile_difference

    def counting(r: np.ndarray, c: np.ndarray, p: Profiles) -> tuple[np.ndarray, np.ndarray]:
        compared.append(r.shape[0])
        return real(r, c, p)

    finder._profile_difference = counting  # type: ignore[method-assign]
    rms, common = finder.profile_difference(row, col, profiles)
    fresh_rms, fresh_common = GroupFinder(1.4, profile_weight=0.8).profile_difference(row, col, profiles)
    assert rms.tobytes() == fresh_rms.tobytes() and common.tobytes() == fresh_common.tobytes()
    graph_pairs = set(zip(inside[0].tolist(), inside[1].tolist(), strict=True))
    misses = sum((r, c) not in graph_pairs for r, c in zip(row.tolist(), col.tolist(), strict=True))
    assert inside[0].shape[0] > 100 and misses > 20
    assert compared == [misses]  # only the pairs the graph did not hold, as (row, col), were compared
    # Other profiles (even equal ones) are compared afresh.
    compared.clear()
    finder.profile_difference(row, col, Profiles.from_dense(prof))
    assert compared == [row.shape[0]]
    # A finder still copies (without the cache).
    import pickle

    copied = pickle.loads(pickle.dumps(GroupFinder(1.4, profile_weight=0.8)))
    copied.graph(xy, np.full(n, np.nan), profiles)
    again = pickle.loads(pickle.dumps(copied))
    assert again._memo is None and again.eps_m == 1.4


@pytest.mark.parametrize("seed", range(4))
def test_profile_sums_are_bit_for_bit_those_over_the_common_gateways_only(seed: int) -> None:
    from pipeline.core.profiles import profile_sums

    rng = np.random.default_rng(seed)
    n, g = 50, 30
    prof = np.where(rng.random((n, g)) < 0.4, np.round(rng.normal(-80, 8, (n, g)), 2), np.nan)
    prof[0] = np.nan  # a badge that hears nothing
    profiles = Profiles.from_dense(prof)
    row, col = rng.integers(0, n, 300), rng.integers(0, n, 300)
    common, total, squares = profile_sums(profiles, row, col)
    for k, (i, j) in enumerate(zip(row.tolist(), col.tolist(), strict=True)):
        listed = profiles.gateways[i, : profiles.counts[i]]  # the row badge's list
        theirs = np.flatnonzero(~np.isnan(prof[j]))  # the column badge's gateways, in order
        both = theirs[np.isin(theirs, listed)]
        a = profiles.level(np.full(both.shape[0], i), both).astype(np.float64)
        b = profiles.level(np.full(both.shape[0], j), both).astype(np.float64)
        want_total = want_squares = 0.0
        for d in (a - b).tolist():  # one running sum (float32 levels: their differences add exactly)
            want_total += d
            want_squares += d * d
        assert common[k] == both.shape[0]
        assert total[k].tobytes() == np.float64(want_total).tobytes()
        assert squares[k].tobytes() == np.float64(want_squares).tobytes()
    # Capped lists (the strongest 3): only the row badge's 3 count.
    capped = Profiles.from_dense(prof, k=3)
    common3, _, _ = profile_sums(capped, row, col)
    want = [
        np.isin(capped.gateways[i, : capped.counts[i]], np.flatnonzero(~np.isnan(prof[j]))).sum()
        for i, j in zip(row.tolist(), col.tolist(), strict=True)
    ]
    assert common3.tolist() == want and common3.max() == 3


@pytest.mark.parametrize("seed", range(4))
def test_profile_lists_are_strongest_first_with_ties_in_entry_order_however_the_entries_come(seed: int) -> None:
    from pipeline.core.profiles import _strongest_first

    rng = np.random.default_rng(seed)
    row = np.sort(rng.integers(0, 40, 600))
    gateway = rng.integers(0, 25, 600)
    level = np.round(rng.normal(-80, 3, 600))  # whole dB: many ties
    assert _strongest_first(row, level).tolist() == np.lexsort((-level, row)).tolist()
    shuffled = rng.permutation(600)  # not grouped by row: the two-key sort
    assert (
        _strongest_first(row[shuffled], level[shuffled]).tolist()
        == np.lexsort((-level[shuffled], row[shuffled])).tolist()
    )
    assert _strongest_first(row[:0], level[:0]).tolist() == []
    keep = np.unique(row * 25 + gateway, return_index=True)[1]  # one entry per (row, gateway)
    built = Profiles.from_entries(row[keep], gateway[keep], level[keep], 40, 25)
    for r in range(40):
        mine = keep[row[keep] == r]
        want = mine[np.lexsort((-level[mine], np.zeros(mine.shape[0])))]
        assert built.gateways[r, : built.counts[r]].tolist() == gateway[want].tolist()


@pytest.mark.parametrize("seed", range(4))
def test_profile_levels_are_those_of_a_dense_float32_table(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, g = 40, 25
    row = rng.integers(0, n, 500)
    gateway = rng.integers(0, g, 500)  # some (row, gateway) repeated: the last entry holds
    level = np.round(rng.normal(-80, 6, 500), 2)
    if seed % 2:
        order = np.lexsort((gateway, row))  # grouped by row, as summaries come
        row, gateway, level = row[order], gateway[order], level[order]
    table = np.full((n, g), np.nan, dtype=np.float32)  # what the lookup stands for
    for r, c, v in zip(row.tolist(), gateway.tolist(), level.tolist(), strict=True):
        table[r, c] = v
    for k in (None, 3):
        built = Profiles.from_entries(row, gateway, level, n, g, k)
        every_row, every_gateway = np.divmod(np.arange(n * g), g)
        got = built.level(every_row, every_gateway).reshape(n, g)
        assert got.dtype == np.float32 and got.tobytes() == table.tobytes()
        assert len(built) == n
        for r in range(n):  # the lists too hold a repeated gateway once, at its last level
            listed = built.gateways[r, : built.counts[r]]
            assert np.unique(listed).shape[0] == listed.shape[0]
            assert built.levels[r, : built.counts[r]].astype(np.float32).tobytes() == table[r, listed].tobytes()
    empty = Profiles.from_entries(row[:0], gateway[:0], level[:0], 5, g)
    assert np.isnan(empty.level(np.arange(5), np.zeros(5, dtype=np.int64))).all()


def test_the_search_radius_is_capped_where_no_blend_can_reach_eps() -> None:
    assert GroupFinder(1.4, profile_weight=0.8, search_m=12.0).search_m == pytest.approx(7.0)
    assert GroupFinder(1.4, profile_weight=0.0, search_m=3.0).search_m == 1.4
    assert GroupFinder(1.4, profile_weight=1.0, search_m=12.0).search_m == 12.0


def reference_ema(steps: list[tuple[float, dict[tuple[int, int], float]]], tau: float, forget: float) -> list[dict]:
    state: dict[tuple[int, int], tuple[float, float]] = {}
    out = []
    for now, pairs in steps:
        got = {}
        for key, value in pairs.items():
            prev = state.get(key)
            if prev is not None and now - prev[1] <= forget:
                value = prev[0] + (1 - math.exp(-(now - prev[1]) / tau)) * (value - prev[0])
            state[key] = (value, now)
            got[key] = value
        out.append(got)
    return out


def test_pair_distances_are_smoothed_per_pair_over_time() -> None:
    rng = np.random.default_rng(5)
    averages = PairAverages(40.0, forget_s=60.0)
    steps = []
    for t in range(0, 300, 7):
        keys = {tuple(sorted(map(int, rng.choice(30, 2, replace=False)))) for _ in range(25)}
        steps.append((float(t), {k: float(rng.uniform(0, 5)) for k in keys}))
    want = reference_ema(steps, 40.0, 60.0)
    for (now, pairs), expected in zip(steps, want, strict=True):
        keys = list(pairs)
        a = np.array([k[1] for k in keys])  # either order of a pair is the same pair
        b = np.array([k[0] for k in keys])
        got = averages.update(a, b, np.array([pairs[k] for k in keys]), now)
        np.testing.assert_allclose(got, [expected[k] for k in keys], rtol=1e-12)


def test_colleague_fit_smooths_under_stable_ids() -> None:
    # Two colleagues at 1 m, then one noisy tick at 5 m: smoothing keeps them together.
    graph = sparse.csr_matrix((2, 2))
    company = np.array([0, 0])
    finder = ColleagueFinder(2.0, smooth_s=40.0)
    ids = np.array([17, 4])
    for t, dist in ((0.0, 1.0), (1.0, 1.0), (2.0, 5.0)):
        groups = finder.fit(graph, company, ids, lambda r, c, dist=dist: np.full(r.shape[0], dist), t)
    assert [sorted(g.tolist()) for g in groups] == [[0, 1]]
    fresh = ColleagueFinder(2.0, smooth_s=40.0).fit(graph, company, ids, lambda r, c: np.full(r.shape[0], 5.0), 2.0)
    assert fresh == []


def test_between_measurements_the_pairs_keep_their_averages_and_nothing_is_measured() -> None:
    graph = sparse.csr_matrix((3, 3))
    company = np.array([0, 0, 0])
    finder = ColleagueFinder(2.0, smooth_s=20.0, forget_s=60.0)

    def unmeasured(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        raise AssertionError("measured on a tick that should read the averages back")

    two = np.array([17, 4, 9])[:2]
    groups = finder.fit(sparse.csr_matrix((2, 2)), company[:2], two, lambda r, c: np.full(r.shape[0], 1.0), 0.0)
    assert [sorted(g.tolist()) for g in groups] == [[0, 1]]
    # Badge 9 appears: never measured, so it is far from both; the pair 17-4 keeps its 1.0.
    groups = finder.fit(graph, company, np.array([17, 4, 9]), unmeasured, 1.0, measure=False)
    assert [sorted(g.tolist()) for g in groups] == [[0, 1]]
    # Past forget_s the kept average is gone too.
    assert finder.fit(graph, company, np.array([17, 4, 9]), unmeasured, 61.0, measure=False) == []


@pytest.mark.parametrize("min_samples", [1, 2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_dbscan_on_a_sparse_graph_labels_exactly_as_scikit_learn(min_samples: int, seed: int) -> None:
    from sklearn.cluster import DBSCAN

    from pipeline.core.grouping import dbscan_precomputed

    rng = np.random.default_rng(seed)
    n = 80
    xy = rng.uniform(0, 12, (n, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    i, j = np.nonzero((d < 3.0) & ~np.eye(n, dtype=bool))
    graph = sparse.csr_matrix((d[i, j] + 1e-6, (i, j)), shape=(n, n))
    want = DBSCAN(eps=1.1, min_samples=min_samples, metric="precomputed").fit_predict(graph)
    got = dbscan_precomputed(graph, 1.1, min_samples)
    assert got.tolist() == want.tolist()
    assert len(set(got.tolist()) - {-1}) > 1  # the case is not trivial


def test_colleague_pairs_are_every_pair_within_a_company() -> None:
    from pipeline.core.colleagues import _colleague_pairs

    company = np.array([2, 0, 2, -1, 0, 2, 1, 2])
    r, c = _colleague_pairs(company)
    got = sorted(zip(r.tolist(), c.tolist(), strict=True))
    want = sorted((i, j) for i in range(8) for j in range(i + 1, 8) if company[i] == company[j] >= 0)
    assert got == want
    assert all(a < b for a, b in got)


@pytest.mark.parametrize("seed", range(20))
def test_assignment_per_overlap_cluster_is_as_good_as_one_dense_problem_over_the_usable_pairs(seed: int) -> None:
    from scipy.optimize import linear_sum_assignment

    from pipeline.core.tracking import _assign

    rng = np.random.default_rng(seed)
    n_t, n_g = 30, 28
    dense = np.where(rng.random((n_t, n_g)) < 0.08, rng.choice([0.2, 0.25, 1 / 3, 0.5, 0.6, 1.0], (n_t, n_g)), 0.0)
    t, g = np.nonzero(dense)
    got = _assign(t.tolist(), g.tolist(), dense[t, g].tolist(), n_t, 0.3)
    assert len({a for a, _ in got}) == len(got) == len({b for _, b in got})  # one to one
    assert all(dense[a, b] >= 0.3 for a, b in got)
    usable = np.where(dense >= 0.3, dense, 0.0)  # pairs below the least overlap never continue a track
    r, c = linear_sum_assignment(-usable)
    best = sum(usable[a, b] for a, b in zip(r, c, strict=True))
    assert sum(dense[a, b] for a, b in got) == pytest.approx(best)
    # ... which is never worse than solving every overlap and dropping the weak pairs after.
    r, c = linear_sum_assignment(-dense)
    assert best >= sum(dense[a, b] for a, b in zip(r, c, strict=True) if dense[a, b] >= 0.3) - 1e-9


def test_a_split_or_a_merge_keeps_its_best_pair_and_ties_are_still_solved() -> None:
    from pipeline.core.tracking import _assign

    # Track 0 split into groups 0-2; tracks 1-3 merged into group 3; track 4 split with a tie.
    t = [0, 0, 0, 1, 2, 3, 4, 4]
    g = [0, 1, 2, 3, 3, 3, 4, 5]
    s = [0.5, 0.7, 0.4, 0.35, 0.9, 0.6, 0.6, 0.6]
    got = sorted(_assign(t, g, s, 5, 0.3))
    assert got[:2] == [(0, 1), (2, 3)]
    assert len(got) == 3 and got[2] in ((4, 4), (4, 5))


def test_a_lingering_track_does_not_steal_members_from_the_track_they_merged_back_into() -> None:
    from pipeline.core.tracking import Group, Tracker

    tracker = Tracker(min_jaccard=0.3, max_miss_s=20.0)
    whole = Group(("a", "b", "c", "d"), 0.0, 0.0)
    (first,) = tracker.update([whole], 0.0).seen
    # One noisy tick splits the group: c and d get a track of their own ...
    split = tracker.update([Group(("a", "b"), 0.0, 0.0), Group(("c", "d"), 0.0, 0.0)], 1.0)
    assert split.seen[0].id == first.id and split.seen[1].id != first.id
    # ... the next tick it is whole again and stays whole: it keeps its original track (and
    # the dwell clock hanging on it), although the split-off track still lingers with c and d.
    assert [t.id for t in tracker.update([whole], 2.0).seen] == [first.id]
    assert [t.id for t in tracker.update([whole], 3.0).seen] == [first.id]


def test_pairs_outside_the_profiles_are_refused_not_read() -> None:
    profiles = Profiles.from_dense(np.full((3, 4), -70.0))
    finder = GroupFinder(1.5, profile_weight=0.5)
    for row, col in (([0, 3], [1, 0]), ([0, 1], [2, -1])):
        with pytest.raises(IndexError, match="outside the 3 profiles"):
            finder.profile_difference(np.array(row), np.array(col), profiles)
    rms, common = finder.profile_difference(np.array([0]), np.array([2]), profiles)
    assert common.tolist() == [4.0] and rms.tolist() == [0.0]
    with pytest.raises(ValueError, match="aligned"):
        finder.profile_difference(np.zeros(1000, dtype=np.int64), np.array([1]), profiles)
    # After a graph the pairs are looked up in its memo first: (0, 5) would alias its (1, 2).
    finder.distances(np.zeros((3, 2)), profiles)
    with pytest.raises(IndexError):
        finder.profile_difference(np.array([0]), np.array([5]), profiles)
    assert finder.profile_difference(np.array([], dtype=np.int64), np.array([], dtype=np.int64), profiles)[0].shape == (
        0,
    )


def test_profile_entries_naming_gateways_outside_the_venue_are_refused_when_built() -> None:
    row, level = np.array([0, 1]), np.array([-70.0, -71.0])
    ok = Profiles.from_entries(row, np.array([0, 3]), level, 2, 4)
    assert ok.n_gateways == 4 and ok.heard.tolist() == [1, 1]
    for gateway in ([0, 4], [-1, 2]):  # (the compiled comparison would index its table with them)
        with pytest.raises(IndexError, match=r"outside 0\.\.3"):
            Profiles.from_entries(row, np.array(gateway), level, 2, 4)


@pytest.mark.parametrize("seed", range(4))
def test_profiles_from_entries_in_order_are_those_of_the_whole_array_formulation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, g = 60, 30
    key = np.unique(rng.integers(0, n * g, 700))  # each (row, gateway) once, in order (as summaries come)
    row, gateway = key // g, key % g
    level = np.round(rng.normal(-80, 3, key.shape[0]), 1)  # many ties
    level[::37] = np.nan
    for k in (None, 4):
        fast = Profiles.from_entries(row, gateway, level, n, g, k)  # the compiled pass
        slow = Profiles._from_sorting(row, gateway, level, n, g, k, key, True)
        for f in ("gateways", "levels", "entry_gateway", "entry_level", "entry_rank", "heard", "first", "counts"):
            assert getattr(fast, f).tobytes() == getattr(slow, f).tobytes(), f
    assert Profiles.from_entries(row[:0], gateway[:0], level[:0], n, g).heard.tolist() == [0] * n


def test_profiles_refuse_entries_that_do_not_line_up() -> None:
    row, gateway, level = np.arange(1000) // 10, np.arange(1000) % 10, np.full(1000, -70.0)
    for bad in ((row, gateway[:1], level), (row, gateway, level[:10]), (row[:999], gateway, level)):
        with pytest.raises(ValueError, match="aligned 1-D"):  # (the compiled passes would read past them)
            Profiles.from_entries(*bad, 100, 10)
    ok = Profiles.from_entries(row, gateway, level, 100, 10)
    with pytest.raises(ValueError, match="adding up to"):
        Profiles(ok.gateways, ok.entry_gateway, ok.entry_level, ok.entry_rank, ok.heard + 1, 10)
    with pytest.raises(ValueError, match="ranks"):
        Profiles(ok.gateways, ok.entry_gateway, ok.entry_level, ok.entry_rank[:5], ok.heard, 10)


def test_a_gateway_heard_at_nan_counts_on_the_row_side_only_as_it_always_has() -> None:
    from pipeline.core.profiles import profile_sums

    profiles = Profiles.from_entries(np.array([0, 1]), np.array([0, 0]), np.array([-70.0, np.nan]), 2, 1)
    common, total, _ = profile_sums(profiles, np.array([0, 1]), np.array([1, 0]))
    assert common.tolist() == [0.0, 1.0]  # the column badge's NaN is left out; the row badge's is compared
    assert total[0] == 0.0 and np.isnan(total[1])


def test_lists_rank_levels_as_given_not_as_float32() -> None:
    # Two levels one float32 apart from neither: the stronger first, as the float64 levels say.
    profiles = Profiles.from_entries(np.array([0, 0]), np.array([0, 1]), np.array([-50.0000001, -50.00000001]), 1, 2)
    assert profiles.gateways[0].tolist() == [1, 0]
