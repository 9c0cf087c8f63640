"""The learned pair score (pipeline/pairscore.py): the venue's co-fluctuation shift, the RSSI
floor groups and what the badges' neighbour reports add, on hand-made inputs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from mingle_wire import Topics
from pipeline.detector import MINGLE, Detector
from pipeline.roster import load_roster
from pipeline.step import PipelineState, step
from pipeline.venue import load_venue

T0 = 1764140000.0


def test_a_venue_whose_radio_does_not_fluctuate_together_is_not_held_against(
    venue_file: Path, roster_file: Path
) -> None:
    import numpy as np
    from scipy import sparse

    from pipeline.core.covary import Fluctuations
    from pipeline.core.windows import PairSeries
    from pipeline.pairscore import covary_shift

    venue, roster = load_venue(venue_file), load_roster(roster_file)
    rng = np.random.default_rng(7)
    n, gateways, seconds = 40, 6, 30
    # 20 close pairs (rows 2k, 2k+1) on the floor graph.
    rows, cols = np.arange(0, n, 2), np.arange(1, n, 2)
    graph = sparse.csr_matrix((np.full(rows.shape[0], 0.5), (rows, cols)), shape=(n, n))
    keys = [(b, g) for b in range(n) for g in range(gateways)]
    badge = np.array([k[0] for k in keys])
    gateway = np.array([k[1] for k in keys])

    def shift_for(shared_db: float) -> float:
        common = rng.normal(0, 1, (n // 2, gateways, seconds))  # one moving shadow per pair
        values = np.array([-70 + shared_db * common[b // 2, g] + rng.normal(0, 2, seconds) for b, g in keys])
        fl = Fluctuations.from_series(PairSeries(badge, gateway, values.astype(np.float32)), np.arange(n), n, gateways)
        state = PipelineState(venue, roster, MINGLE)
        shift = 0.0
        for t in range(0, 600, 10):  # the level is averaged over minutes
            shift = covary_shift(state, graph, fl, T0 + t)
        return shift

    calm = shift_for(0.0)  # badges side by side, but nothing fluctuates together
    assert calm > 0.5 * MINGLE.covary_m * MINGLE.covary_reference
    assert shift_for(4.0) == 0.0  # a crowd like the one the score was fitted on


def test_the_venue_probe_asks_for_at_most_covary_probe_pairs_spread_over_the_floor(
    venue_file: Path, roster_file: Path
) -> None:
    from dataclasses import replace

    import numpy as np
    import pytest
    from scipy import sparse

    from pipeline.pairscore import covary_shift

    n = 1000
    rows, cols = np.arange(0, n - 1), np.arange(1, n)  # 999 close pairs along the floor's rows
    graph = sparse.csr_matrix((np.full(rows.shape[0], 0.5), (rows, cols)), shape=(n, n))
    asked: list[tuple[np.ndarray, np.ndarray]] = []

    class Probe:
        def correlation(self, r: np.ndarray, c: np.ndarray) -> np.ndarray:
            asked.append((r, c))
            return np.full(r.shape[0], 0.3)

    det = replace(MINGLE, covary_probe_pairs=100)
    state = PipelineState(load_venue(venue_file), load_roster(roster_file), det)
    assert covary_shift(state, graph, Probe(), T0) == 0.0  # type: ignore[arg-type]
    ((r, c),) = asked
    assert r.shape[0] == 100 and np.all(c == r + 1)
    assert r[0] == 0 and r[-1] == n - 2 and np.all(np.diff(r) >= 9)  # first to last, evenly spread
    assert state.covary_level == (pytest.approx(0.3), T0)
    with pytest.raises(ValueError, match="covary_probe_pairs"):
        Detector(name="x", covary_probe_pairs=5)


def test_rssi_floor_groups_come_from_the_averaged_pair_score() -> None:
    import types

    import numpy as np
    from scipy import sparse

    from pipeline.core.pairavg import PairAverages
    from pipeline.pairscore import pair_groups

    det = dataclasses.replace(MINGLE, floor_pair_eps_m=0.45, floor_pair_m=7.0)
    state = types.SimpleNamespace(detector=det, floor_averages=PairAverages(20.0, cap_m=1.5))
    # Two pairs standing together (0-1, 2-3) 5 m apart, and badge 4 far off (10 m from all).
    pts = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [6.0, 0.0], [20.0, 0.0]])
    badge = np.array([40, 41, 42, 43, 44])
    n = pts.shape[0]
    graph = sparse.csr_matrix(np.ones((n, n)) - np.eye(n))
    asked: list[tuple[int, int]] = []

    def score(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        asked.extend(zip(r.tolist(), c.tolist(), strict=True))
        together = {(0, 1), (2, 3)}
        return np.array([0.2 if (a, b) in together else 1.5 for a, b in zip(r.tolist(), c.tolist(), strict=True)])

    labels = pair_groups(state, graph, pts, badge, score, 0.0, True)  # type: ignore[arg-type]
    assert labels[0] == labels[1] >= 0 and labels[2] == labels[3] >= 0 and labels[0] != labels[2]
    assert labels[4] == -1
    assert all(4 not in pair for pair in asked)  # badge 4 is beyond floor_pair_m of everyone
    # Not measured this tick: the averages are read back (by badge id, not row), nothing is asked.
    asked.clear()
    order = np.array([1, 0, 3, 2, 4])
    again = pair_groups(state, graph, pts[order], badge[order], score, 1.0, False)  # type: ignore[arg-type]
    assert asked == [] and again[0] == again[1] >= 0 and again[2] == again[3] >= 0 and again[0] != again[2]
    # One tick apart the pair 0-1 measured far: its 20 s average stays within eps; a fresh one would not.
    labels = pair_groups(state, graph, pts, badge, lambda r, c: np.full(r.shape[0], 1.5), 2.0, True)  # type: ignore[arg-type]
    assert labels[0] == labels[1] >= 0


def test_neighbour_reports_reach_the_pair_score_and_the_floor_graph(venue_file: Path, roster_file: Path) -> None:
    from scipy import sparse

    from mingle_wire import Contact, ContactBatch, encode_contacts
    from pipeline.pairscore import neighbour_term, reports_in_use, with_neighbours

    venue, roster = load_venue(venue_file), load_roster(roster_file)
    state = PipelineState(venue, roster, MINGLE)
    idx = {b: state.badges.get(b) for b in ("b-01", "b-02", "b-03", "b-05", "b-06")}
    a, b = idx["b-01"], idx["b-02"]
    assert a is not None and b is not None
    pair = (np.array([a, a, idx["b-05"]]), np.array([b, idx["b-03"], idx["b-06"]]))
    assert neighbour_term(state, *pair, T0) is None  # no badge reports: the gateway-only score
    assert not reports_in_use(state)  # ... and the gateway-only colleague_eps_m
    # b-01 reports b-02 at -60 dBm (b-02 names nobody); b-05 and b-06 never report.
    report = ContactBatch("gw-01", T0 + 1, (Contact("b-01", "b-02", -60.0, T0, 5),))
    step(state, [(Topics(venue.site).contacts("gw-01"), json.loads(encode_contacts(report)))], T0 + 1)
    assert state.ingest.contacts == 1 and len(state.neighbours) == 1 and reports_in_use(state)
    term = neighbour_term(state, *pair, T0 + 1)
    assert term is not None
    w, ref = MINGLE.neighbour_m_per_db, MINGLE.neighbour_ref_dbm
    # Heard well: a little closer; b-01 reports but never named b-03: far; nobody reporting: nothing.
    assert term.tolist() == pytest.approx([w * (ref + 60.0), w * (ref + 95.0), 0.0])
    off = PipelineState(venue, roster, dataclasses.replace(MINGLE, neighbour_m_per_db=0.0))
    off.neighbours = state.neighbours
    assert neighbour_term(off, *pair, T0 + 1) is None

    # The floor graph gains an edge for the pair heard at neighbour_edge_dbm or better, however
    # far apart their positions (rows 0 and 1 here), and nothing else.
    badge = np.array([a, b, idx["b-03"]])
    xy = np.array([[0.0, 0.0], [30.0, 0.0], [1.0, 0.0]])
    empty = sparse.csr_matrix((3, 3))
    graph = with_neighbours(state, empty, badge, xy, np.full(3, np.nan), None, T0 + 1)
    assert graph.nnz == 2 and graph[0, 1] == graph[1, 0] == pytest.approx(30.0)
    state.neighbours.add(np.array([a]), np.array([idx["b-03"]]), np.array([-75.0]), np.array([T0 + 1]))
    assert with_neighbours(state, empty, badge, xy, np.full(3, np.nan), None, T0 + 1).nnz == 2  # -75: too weak

    # Reported together (the strangers' attachment): b-01 and b-02 at -60 dBm, each first on the
    # other's list; b-01 and b-03 at -75 dBm: too weak. Off in a detector without it.
    from pipeline.pairscore import reported_together

    together = reported_together(state, badge, T0 + 1)
    assert together is not None
    assert together(np.array([0, 0, 2]), np.array([1, 2, 1])).tolist() == [True, False, False]
    # A third badge heard louder by b-01 pushes b-02 down b-01's list, but b-02 still has b-01 first.
    state.neighbours.add(
        np.array([a, a]), np.array([idx["b-05"], idx["b-06"]]), np.array([-50.0, -52.0]), np.array([T0 + 1] * 2)
    )
    assert together(np.array([0]), np.array([1])).tolist() == [True]
    # Once b-02 too hears two others louder, neither has the other among its first two: apart.
    state.neighbours.add(
        np.array([b, b]), np.array([idx["b-05"], idx["b-06"]]), np.array([-50.0, -52.0]), np.array([T0 + 1] * 2)
    )
    assert together(np.array([0]), np.array([1])).tolist() == [False]
    alone = PipelineState(venue, roster, dataclasses.replace(MINGLE, neighbour_attach_dbm=0.0))
    alone.neighbours = state.neighbours
    assert reported_together(alone, badge, T0 + 1) is None

    # Cohesion: b-01/b-02 (-60 dBm, third on each other's list) and b-01/b-03 (-75, b-01 first on
    # b-03's): together; b-02/b-03 (both report, never named each other): apart; b-05/b-06
    # (neither reports): no evidence.
    from pipeline.pairscore import reported_cohesion

    five = np.array([a, b, idx["b-03"], idx["b-05"], idx["b-06"]])
    cohesion = reported_cohesion(state, five, T0 + 1)
    assert cohesion is not None
    assert cohesion(np.array([0, 0, 1, 3]), np.array([1, 2, 2, 4])).tolist() == [1, 1, 0, -1]
    alone = PipelineState(venue, roster, dataclasses.replace(MINGLE, neighbour_cohesion_rank=0))
    alone.neighbours = state.neighbours
    assert reported_cohesion(alone, five, T0 + 1) is None
    # Cohesion reads only the last neighbour_cohesion_window_s (16 s of the reports' 20): 17 s on,
    # b-01 and b-02 report again, each naming only b-06. The whole window still holds their -60
    # dBm of each other; cohesion's span does not, and calls them apart.
    later = T0 + 1 + 17
    state.neighbours.add(np.array([a, b]), np.array([idx["b-06"]] * 2), np.array([-58.0, -58.0]), np.array([later] * 2))
    assert state.neighbours.level(np.array([a]), np.array([b]), later).tolist() == [-60.0]
    late = reported_cohesion(state, five, later)
    assert late is not None and late(np.array([0]), np.array([1])).tolist() == [0]
    with pytest.raises(ValueError, match="neighbour_cohesion_window_s"):
        Detector(name="x", neighbour_window_s=10.0, neighbour_cohesion_window_s=16.0)
