from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.positioning import Fixes
from pipeline.core.smoothing import Smoother
from pipeline.core.tracking import Group, Tracker


def g(*members: str) -> Group:
    return Group(tuple(members), 0.0, 0.0)


def test_tracks_keep_ids_through_membership_change() -> None:
    t = Tracker(min_jaccard=0.3, max_miss_s=0)
    first = t.update([g("a", "b", "c")], 0.0)
    assert first.born == ("c-1",)
    second = t.update([g("a", "b", "c", "d")], 1.0)
    assert [x.id for x in second.seen] == ["c-1"] and second.born == ()


def test_split_keeps_id_on_the_larger_part_and_merge_continues_the_best() -> None:
    t = Tracker(max_miss_s=0)
    t.update([g("a", "b", "c", "d", "e")], 0.0)
    split = t.update([g("a", "b", "c"), g("d", "e")], 1.0)
    assert [x.id for x in split.seen] == ["c-1", "c-2"]
    merged = t.update([g("a", "b", "c", "d", "e")], 2.0)
    assert [x.id for x in merged.seen] == ["c-1"] and merged.ended == ("c-2",)


def test_hysteresis_survives_a_missed_tick() -> None:
    t = Tracker(max_miss_s=5)
    t.update([g("a", "b")], 0.0)
    gap = t.update([], 1.0)
    assert gap.seen == () and gap.ended == ()
    back = t.update([g("a", "b")], 2.0)
    assert [x.id for x in back.seen] == ["c-1"]
    t.update([], 3.0)
    assert t.update([], 8.0).ended == ("c-1",)


def test_without_hysteresis_one_bad_tick_ends_a_track() -> None:
    t = Tracker(max_miss_s=0)
    t.update([g("a", "b")], 0.0)
    assert t.update([], 1.0).ended == ("c-1",)
    assert t.update([g("a", "b")], 2.0).born == ("c-2",)


def test_low_overlap_is_a_new_track() -> None:
    t = Tracker(min_jaccard=0.5, max_miss_s=0)
    t.update([g("a", "b", "c", "d")], 0.0)
    assert t.update([g("d", "e", "f")], 1.0).born == ("c-2",)


def test_smoother_damps_a_wild_fix() -> None:
    s = Smoother(gate_speed_m_s=1.0)
    idx = np.array([0])
    for t in range(5):
        s.update(Fixes(idx, np.array([5.0]), np.array([5.0]), np.array([1.0])), float(t))
    out = s.update(Fixes(idx, np.array([25.0]), np.array([5.0]), np.array([1.0])), 5.0)
    assert out.x[0] < 7.0 and s.gated == 1
    with pytest.raises(ValueError, match="process_sd"):
        Smoother(process_sd=0)


def test_a_fix_of_no_error_at_a_repeated_now_keeps_the_badge_placed() -> None:
    # A feed may report err 0; the same now twice leaves the filter no uncertainty either.
    s = Smoother()
    idx = np.array([0])
    for now, x in ((100.0, 1.0), (100.0, 1.1), (101.0, 1.2), (110.0, 1.3)):
        out = s.update(Fixes(idx, np.array([x]), np.array([1.0]), np.array([0.0])), now)
        assert np.isfinite(out.x).all() and np.isfinite(out.err).all(), now
    assert abs(out.x[0] - 1.3) < 0.05


def test_the_persistent_part_of_the_error_is_reported_and_never_moves_a_position() -> None:
    rng = np.random.default_rng(5)
    idx = np.arange(3)
    plain, biased = Smoother(), Smoother(persistent_m=3.0, persistent_share=0.5)
    for t in range(60):
        fixes = Fixes(idx, rng.normal(10, 3, 3), rng.normal(8, 3, 3), np.array([1.0, 2.0, 4.0]))
        a, b = plain.update(fixes, float(t)), biased.update(fixes, float(t))
        assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    # The filter's own error shrinks as fixes add up; the reported one keeps what persists.
    assert np.all(a.err < 0.6 * np.array([1.0, 2.0, 4.0]))
    assert np.all(b.err > 3.0)
    assert np.allclose(b.err, np.sqrt(a.err**2 + 3.0**2 + (0.5 * np.array([1.0, 2.0, 4.0])) ** 2))
    with pytest.raises(ValueError, match=r"persistent_m must be >= 0, got -1\.0"):
        Smoother(persistent_m=-1.0)


def test_gateway_spacing_is_the_median_nearest_neighbour_distance() -> None:
    from pipeline.step import _gateway_spacing

    grid = np.array([(x, y) for x in (0.0, 7.0, 14.0) for y in (0.0, 7.0)])
    assert _gateway_spacing(grid) == 7.0
    assert _gateway_spacing(np.array([[0.0, 0.0], [3.0, 4.0], [20.0, 0.0]])) == 5.0
    assert _gateway_spacing(np.zeros((1, 2))) == 0.0


def test_colleague_candidates_do_not_chain_through_strangers() -> None:
    from scipy import sparse

    from pipeline.core.colleagues import ColleagueFinder

    # 0,1,2 are colleagues (company 0); 3 a stranger standing with them; 4 a colleague far away
    # reachable only through the stranger; 5 not counted (exempt role or unknown badge).
    edges = {(0, 1): 1.0, (1, 2): 1.0, (0, 2): 1.5, (2, 3): 0.9, (1, 3): 1.1, (3, 4): 1.0, (2, 5): 0.5, (0, 5): 0.5}
    rows, cols, data = [], [], []
    for (i, j), d in edges.items():
        rows += [i, j]
        cols += [j, i]
        data += [d, d]
    graph = sparse.csr_matrix((data, (rows, cols)), shape=(6, 6))
    company = np.array([0, 0, 0, 1, 0, -1])
    (group,) = ColleagueFinder(1.6, attach_m=1.2, attach_share=0.5).fit(graph, company)
    assert sorted(group.tolist()) == [0, 1, 2, 3, 5]  # the stranger and the exempt badge stand with them
    (alone,) = ColleagueFinder(1.6, attach_m=0.0).fit(graph, company)
    assert sorted(alone.tolist()) == [0, 1, 2]
    # A tick's own eps: at 1.2 the pair (0, 2) at 1.5 is out, but 0-1-2 still chain through 1.
    (cut,) = ColleagueFinder(1.6, attach_m=0.0).fit(graph, company, eps_m=1.2)
    assert sorted(cut.tolist()) == [0, 1, 2]
    assert ColleagueFinder(1.6, attach_m=0.0).fit(graph, company, eps_m=0.9) == []
    with pytest.raises(ValueError, match="attach_share"):
        ColleagueFinder(attach_share=0)


def test_strangers_attach_by_the_pair_distance_when_one_is_given() -> None:
    from scipy import sparse

    from pipeline.core.colleagues import ColleagueFinder

    # 0,1,2 colleagues; 3 and 4 strangers near them on the floor graph (any distance there).
    # The pair distance says 3 stands with 0 and 1 (two of three members) and 4 with 0 only.
    score = {(0, 1): 0.2, (0, 2): 0.3, (1, 2): 0.2, (0, 3): 0.3, (1, 3): 0.4, (2, 3): 1.2, (0, 4): 0.3}

    def pair_distance(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.array([score.get((min(a, b), max(a, b)), 2.0) for a, b in zip(r.tolist(), c.tolist(), strict=True)])

    rows = [i for i in range(5) for j in range(5) if i != j]
    cols = [j for i in range(5) for j in range(5) if i != j]
    graph = sparse.csr_matrix((np.full(len(rows), 3.0), (rows, cols)), shape=(5, 5))
    company = np.array([0, 0, 0, 1, 2])
    finder = ColleagueFinder(0.5, attach_m=0.5, attach_share=0.5)
    (group,) = finder.fit(graph, company, np.arange(5), pair_distance, now=10.0)
    assert sorted(group.tolist()) == [0, 1, 2, 3]
    # With the floor graph alone (no pair distance), nobody is within attach_m.
    (alone,) = ColleagueFinder(3.5, attach_m=0.5).fit(graph, company)
    assert sorted(alone.tolist()) == [0, 1, 2]


def test_strangers_the_members_hear_loudly_attach_whatever_their_score() -> None:
    from scipy import sparse

    from pipeline.core.colleagues import ColleagueFinder

    # 0,1,2 colleagues; 3, 4 and 5 strangers whose pair score says "apart" (1.2) to everyone.
    # The neighbour reports: 0 and 1 hear 3 at -60 dBm (two of three members), 4 only at
    # -70 dBm (below the level), and only 2 hears 5 loudly (one of three: not enough).
    level = {(0, 3): -60.0, (1, 3): -61.0, (0, 4): -70.0, (1, 4): -70.0, (2, 5): -58.0}

    def pair_distance(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.where((r < 3) & (c < 3), 0.2, 1.2)

    def heard_at(dbm: float):  # type: ignore[no-untyped-def]
        def heard(r: np.ndarray, c: np.ndarray) -> np.ndarray:
            got = [level.get((min(a, b), max(a, b)), np.nan) for a, b in zip(r.tolist(), c.tolist(), strict=True)]
            return np.array(got) >= dbm

        return heard

    rows = [i for i in range(6) for j in range(6) if i != j]
    cols = [j for i in range(6) for j in range(6) if i != j]
    graph = sparse.csr_matrix((np.full(len(rows), 3.0), (rows, cols)), shape=(6, 6))
    company = np.array([0, 0, 0, 1, 2, 3])
    finder = ColleagueFinder(0.5, attach_m=0.5, attach_share=0.5)
    (group,) = finder.fit(graph, company, np.arange(6), pair_distance, now=1.0, heard=heard_at(-63.0))
    assert sorted(group.tolist()) == [0, 1, 2, 3]
    # Without the reports (or with the level set above what they heard) nobody attaches.
    (alone,) = ColleagueFinder(0.5, attach_m=0.5).fit(graph, company, np.arange(6), pair_distance, now=1.0)
    assert sorted(alone.tolist()) == [0, 1, 2]
    (strict,) = ColleagueFinder(0.5, attach_m=0.5).fit(
        graph, company, np.arange(6), pair_distance, now=1.0, heard=heard_at(-55.0)
    )
    assert sorted(strict.tolist()) == [0, 1, 2]


def test_a_colleague_the_reports_put_with_nobody_leaves_the_candidate() -> None:
    from scipy import sparse

    from pipeline.core.colleagues import ColleagueFinder

    # Two candidates by the pair score: 0,1,2,3 (company 0) and 4,5 (company 1). The reports put
    # 0-1 and 1-2 together, say 3 is apart from all three (it just left), 4-5 apart too;
    # 6,7 (company 2) have no evidence at all (their badges do not scan): kept.
    ev = {(0, 1): 1, (1, 2): 1, (0, 2): 0, (0, 3): 0, (1, 3): 0, (2, 3): 0, (4, 5): 0}

    def cohesion(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        pairs = zip(r.tolist(), c.tolist(), strict=True)
        return np.array([ev.get((min(a, b), max(a, b)), -1) for a, b in pairs], dtype=np.int8)

    def pair_distance(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.full(r.shape[0], 0.2)

    n = 8
    rows = [i for i in range(n) for j in range(n) if i != j]
    cols = [j for i in range(n) for j in range(n) if i != j]
    graph = sparse.csr_matrix((np.full(len(rows), 3.0), (rows, cols)), shape=(n, n))
    company = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    found = ColleagueFinder(0.5, attach_m=0.0).fit(
        graph, company, np.arange(n), pair_distance, now=1.0, cohesion=cohesion
    )
    assert sorted(sorted(g.tolist()) for g in found) == [[0, 1, 2], [6, 7]]
    plain = ColleagueFinder(0.5, attach_m=0.0).fit(graph, company, np.arange(n), pair_distance, now=1.0)
    assert sorted(sorted(g.tolist()) for g in plain) == [[0, 1, 2, 3], [4, 5], [6, 7]]


def test_a_stranger_is_held_by_keep_m_only_if_attached_on_the_tick_before() -> None:
    from scipy import sparse

    from pipeline.core.colleagues import ColleagueFinder

    company, ids = np.array([0, 0, 1]), np.array([10, 11, 12])  # 0, 1 colleagues; 2 a stranger
    graph = sparse.csr_matrix(np.ones((3, 3)) - np.eye(3))

    def at(colleagues: float, stranger: float):  # type: ignore[no-untyped-def]
        def pair_distance(r: np.ndarray, c: np.ndarray) -> np.ndarray:
            return np.where(np.maximum(r, c) == 2, stranger, colleagues).astype(float)

        return pair_distance

    finder = ColleagueFinder(1.5, attach_m=1.2, keep_m=2.0)
    assert [g.tolist() for g in finder.fit(graph, company, ids, at(0.5, 1.0), now=0.0)] == [[0, 1, 2]]
    assert finder.fit(graph, company, ids, at(9.0, 9.0), now=10.0) == []  # no candidate for a while
    assert finder.fit(graph[:1, :1], company[:1], ids[:1], at(9.0, 9.0), now=11.0) == []
    # Ten minutes on the stranger stands within keep_m but beyond attach_m: not in the group.
    assert [g.tolist() for g in finder.fit(graph, company, ids, at(0.5, 1.5), now=600.0)] == [[0, 1]]


def test_an_attached_stranger_stays_attached_within_keep_m() -> None:
    from scipy import sparse

    from pipeline.core.colleagues import ColleagueFinder

    # 0,1,2 colleagues; 3 and 4 strangers. Tick 1: 3 is within attach_m of all members, 4 is not.
    # Tick 2: both are at 0.7 — above attach_m, within keep_m.
    company = np.array([0, 0, 0, 1, 2])
    rows = [i for i in range(5) for j in range(5) if i != j]
    cols = [j for i in range(5) for j in range(5) if i != j]
    graph = sparse.csr_matrix((np.full(len(rows), 3.0), (rows, cols)), shape=(5, 5))

    def at(stranger_3: float, stranger_4: float):  # type: ignore[no-untyped-def]
        def pair_distance(r: np.ndarray, c: np.ndarray) -> np.ndarray:
            far = {3: stranger_3, 4: stranger_4}
            return np.array([far.get(max(a, b), 0.2) for a, b in zip(r.tolist(), c.tolist(), strict=True)])

        return pair_distance

    def run(finder: ColleagueFinder) -> list[list[int]]:
        out = []
        for now, pd in ((1.0, at(0.4, 0.7)), (2.0, at(0.7, 0.7)), (3.0, at(0.9, 0.7))):
            (group,) = finder.fit(graph, company, np.arange(10, 15), pd, now=now)
            out.append(sorted(group.tolist()))
        return out

    kept = run(ColleagueFinder(0.5, attach_m=0.5, keep_m=0.8))
    assert kept == [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2]]  # 4 was never attached; 3 leaves past keep_m
    plain = run(ColleagueFinder(0.5, attach_m=0.5))
    assert plain == [[0, 1, 2, 3], [0, 1, 2], [0, 1, 2]]


def test_smoothed_reads_back_the_averages_of_the_last_update() -> None:
    from pipeline.core.colleagues import ColleagueFinder

    f = ColleagueFinder(1.0, smooth_s=10.0)
    f.averages.update(np.array([1, 5]), np.array([2, 3]), np.array([1.0, 2.0]), 0.0)
    later = f.averages.update(np.array([2]), np.array([1]), np.array([0.0]), 10.0)  # either order of ids
    got = f.smoothed(np.array([1, 3, 7]), np.array([2, 5, 8]), 10.0)
    assert got[0] == later[0] and 0.0 < got[0] < 1.0
    assert np.isnan(got[1]) and np.isnan(got[2])  # (3, 5) was last measured at 0 s; (7, 8) never
    assert f.smoothed(np.array([3]), np.array([5]), 0.0).tolist() == [2.0]


def test_capped_smoothing_forgets_how_far_apart_a_pair_was() -> None:
    from pipeline.core.pairavg import PairAverages

    a, b = np.array([1]), np.array([2])
    plain = PairAverages(20.0)
    capped = PairAverages(20.0, cap_m=1.5)
    for f in (plain, capped):
        f.update(a, b, np.array([6.0]), 0.0)  # far apart on the first tick
    # Then together: the capped average starts from 1.5, not 6, and crosses 0.8 far sooner.
    crossed = {}
    for name, f in (("plain", plain), ("capped", capped)):
        for t in range(1, 120):
            if f.update(a, b, np.array([0.2]), float(t))[0] <= 0.8 and name not in crossed:
                crossed[name] = t
    assert crossed["capped"] < 25 < crossed["plain"]


def _plain_overlaps(tracks: list[tuple[str, ...]], groups: list[tuple[str, ...]]) -> list[tuple[int, int, float]]:
    """Member by member, with a dict of the tracks holding each badge (the formulation
    ``_overlaps`` replaces)."""
    owner: dict[str, list[int]] = {}
    for ti, members in enumerate(tracks):
        for m in members:
            owner.setdefault(m, []).append(ti)
    out = []
    for gi, members in enumerate(groups):
        counts: dict[int, int] = {}
        for m in members:
            for hit in owner.get(m, ()):
                counts[hit] = counts.get(hit, 0) + 1
        for ti, inter in counts.items():
            out.append((ti, gi, inter / (len(tracks[ti]) + len(members) - inter)))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_overlaps_are_the_plain_member_by_member_ones_and_assignment_ignores_their_order(seed: int) -> None:
    from pipeline.core.tracking import _assign, _overlaps

    rng = np.random.default_rng(seed)
    badges = [f"b-{k:04d}" for k in range(300)]
    for _ in range(10):
        # Tracks and groups of 1-12 badges; a badge may be in several tracks and several groups.
        tracks = [tuple(sorted(rng.choice(badges, int(rng.integers(1, 13)), replace=False))) for _ in range(60)]
        groups = [tuple(sorted(rng.choice(badges, int(rng.integers(1, 13)), replace=False))) for _ in range(50)]
        tracks = tracks[: int(rng.integers(0, 61))]
        groups = groups[: int(rng.integers(0, 51))]
        t, g, s = _overlaps(tracks, groups)
        got = sorted(zip(t.tolist(), g.tolist(), s.tolist(), strict=True))
        want = sorted(_plain_overlaps(tracks, groups))
        assert [(a, b) for a, b, _ in got] == [(a, b) for a, b, _ in want]
        assert np.array([x for *_, x in got]).tobytes() == np.array([x for *_, x in want]).tobytes()
        least = float(rng.choice([0.05, 0.1, 0.3]))
        pairs = sorted(_assign(t, g, s, len(tracks), least))
        perm = rng.permutation(t.shape[0])
        assert sorted(_assign(t[perm], g[perm], s[perm], len(tracks), least)) == pairs
        w = [list(x) for x in zip(*want, strict=True)] if want else [[], [], []]
        assert sorted(_assign(w[0], w[1], w[2], len(tracks), least)) == pairs


def test_pair_memo_measures_each_pair_once_and_reads_it_back() -> None:
    from pipeline.core.pairavg import PairMemo

    asked: list[list[tuple[int, int]]] = []

    def score(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        asked.append(list(zip(r.tolist(), c.tolist(), strict=True)))
        return (r * 10 + c).astype(np.float64)

    memo = PairMemo(score, 10)
    first = memo(np.array([1, 2, 1]), np.array([3, 4, 3]))  # (1, 3) twice in one call
    assert first.tolist() == [13.0, 24.0, 13.0] and asked == [[(1, 3), (2, 4)]]
    again = memo(np.array([2, 5, 1]), np.array([4, 6, 3]))
    assert again.tolist() == [24.0, 56.0, 13.0] and asked[-1] == [(5, 6)]
    assert memo(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (0,)
