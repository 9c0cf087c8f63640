"""The one composition point: ``step(state, messages, now)``.

The live service, the offline replay, the benchmarks and the tests all call this; the
live runner only adds a clock and a broker. Everything inside is synchronous and takes
``now`` (Unix seconds) as an argument.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from mingle_wire import Alert, Frame, FrameBadge, FrameCluster

from .core.centres import centres
from .core.colleagues import ColleagueFinder
from .core.composition import Person, compose
from .core.covary import MIN_SECONDS, Fluctuations
from .core.grouping import GroupFinder, upper_pairs
from .core.motion import Motion
from .core.neighbours import NeighbourReports
from .core.pairavg import PairAverages, PairMemo
from .core.policy import HuddlePolicy
from .core.positioning import CentroidPositioner, Fixes, Multilaterator
from .core.profiles import Profiles
from .core.radio import Calibrator
from .core.smoothing import Smoother
from .core.tracking import Group, Tracker
from .core.windows import PairSeries, PairSummary, RssiWindows
from .detector import MINGLE, Detector
from .ingest import anchors_of, venue_ingest
from .ingested import Drained, Message
from .pairscore import (
    colleague_score,
    covary_shift,
    neighbour_term,
    pair_groups,
    reported_cohesion,
    reported_together,
    reports_in_use,
    row_of,
    with_neighbours,
)
from .roster import Roster
from .tickpositions import TickPositions
from .venue import Venue
from .warmup import warm_up

__all__ = ["PipelineState", "TickResult", "run_tick", "step"]


@dataclass(frozen=True, slots=True)
class TickResult:
    frame: Frame
    alerts: tuple[Alert, ...]
    duration_s: float = field(default=0.0, compare=False)


class PipelineState:
    """Everything ``step`` carries from one tick to the next, for one venue and roster."""

    def __init__(self, venue: Venue, roster: Roster, detector: Detector = MINGLE, *, prefix: str = "mingle") -> None:
        self.venue = venue
        self.roster = roster
        self.detector = detector
        gw = venue.gateways
        self.gateways_xyz = np.array([[g.x, g.y, g.z] for g in gw], dtype=np.float64).reshape(-1, 3)
        self.ingest = venue_ingest(venue, roster, prefix=prefix)
        self.badges = self.ingest.badges
        # Known transmitters at known spots (reference badges, gateways heard by others): the
        # ingest's badge index holds them first.
        anchors = anchors_of(venue)
        self.anchor_index = np.array([self.badges.find(a[0]) for a in anchors], dtype=np.int64)
        self.anchor_xyz = np.array([a[1:] for a in anchors], dtype=np.float64).reshape(-1, 3)
        # One store of readings serves both the positioning window and the longer profile window.
        self.profile_s = detector.profile_window_s if detector.profile_weight > 0 else None
        keep_s = max(detector.window_s, self.profile_s or 0.0, detector.covary_window_s if detector.covary_m > 0 else 0)
        self.windows = RssiWindows(detector.window_s, keep_s=keep_s)
        self.calibrator = Calibrator(len(gw))
        self.multilaterator = Multilaterator(self.gateways_xyz, (venue.floor.width, venue.floor.height))
        self.centroid = CentroidPositioner(self.gateways_xyz[:, :2])
        # RSSI fixes: the error that persists, calibrated on the simulator (see Detector).
        spacing = _gateway_spacing(self.gateways_xyz[:, :2])
        self.smoother = Smoother(
            persistent_m=detector.err_floor_m_per_sqrt_m * np.sqrt(spacing),
            persistent_share=detector.err_fix_share,
        )
        self.feed_smoother = Smoother(process_sd=0.5)
        self.motion = Motion(window_s=detector.walk_window_s, walk_m_s=detector.walk_m_s) if detector.walk_m_s else None
        self.groups = GroupFinder(
            detector.eps_m,
            min_samples=detector.min_samples,
            ospace_m=detector.ospace_m,
            profile_weight=detector.profile_weight,
            profile_m_per_db=detector.profile_m_per_db,
            search_m=detector.search_m,
            mutual_k=detector.mutual_k,
        )
        self.tracker = Tracker(min_jaccard=detector.track_min_jaccard, max_miss_s=detector.track_max_miss_s)
        self.colleagues = (
            ColleagueFinder(
                detector.colleague_eps_m,
                attach_m=detector.attach_m,
                keep_m=detector.keep_m,
                smooth_s=detector.colleague_smooth_s,
                cap_m=detector.colleague_cap_m,
            )
            if detector.colleague_eps_m
            else None
        )
        # RSSI floor groups by the averaged pair score (see pair_groups), when switched on.
        self.floor_averages = (
            PairAverages(detector.colleague_smooth_s, cap_m=detector.colleague_cap_m)
            if detector.floor_pair_eps_m > 0 and self.colleagues is not None
            else None
        )
        self.huddle_tracker = Tracker(
            min_jaccard=detector.track_min_jaccard, max_miss_s=detector.track_max_miss_s, prefix="h-"
        )
        self.people = {a.badge: Person(a.company, a.role, a.opt_out, a.interests) for a in roster.values()}
        companies = sorted({p.company for p in self.people.values()})
        code = {c: k for k, c in enumerate(companies)}
        exempt = set(venue.policy.exempt_roles)
        self.company_code = {b: code[p.company] for b, p in self.people.items() if p.role not in exempt}
        self.company_of: np.ndarray = np.empty(0, dtype=np.int64)  # company_code by badge index, as badges appear
        self.policy = HuddlePolicy(
            venue.policy,
            self.people,
            venue.zones,
            site=venue.site,
            grace_s=detector.grace_s,
            suppress_repeats=detector.suppress_repeats,
            shrunk_grace_s=detector.shrunk_grace_s,
        )
        self.feed: dict[int, tuple[float, float, float, float, float]] = {}  # idx -> x, y, heading, err, ts
        self.neighbours = NeighbourReports(detector.neighbour_window_s)
        self.covary_level: tuple[float, float] | None = None  # the venue's co-fluctuation level, and when
        self.colleagues_measured: float | None = None  # when the colleague pair scores were last measured
        self.ticks = 0
        self.tick_seconds: deque[float] = deque(maxlen=10_000)
        warm_up(self)  # the compiled loops: compiled (or loaded) now, not in the first ticks


def _gateway_spacing(xy: np.ndarray) -> float:
    """The median distance (m) from a gateway to its nearest neighbour (0 with fewer than two)."""
    if xy.shape[0] < 2:
        return 0.0
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(axis=1)))


def _positions(state: PipelineState, now: float) -> tuple[Fixes, np.ndarray, Profiles | None]:
    """Fixes for people (RSSI and feed), their headings, and their RSSI profiles."""
    det = state.detector
    n_gw = state.gateways_xyz.shape[0]
    summary = state.windows.summarize(now, n_gw)
    # Badge kinds by table lookup (a pass over the pairs), not set membership (a sort).
    kind = np.zeros(len(state.badges), dtype=np.int8)  # 0 person, 1 anchor, 2 on the feed
    kind[state.anchor_index] = 1
    feed_ids = np.array(sorted(state.feed), dtype=np.int64)
    feed_ids = feed_ids[kind[feed_ids] != 1]  # (a reference badge or gateway a feed also tracks is no person)
    kind[feed_ids] = 2
    pair_kind = kind[summary.badge]
    is_anchor = pair_kind == 1
    if np.any(is_anchor):
        pos = np.zeros(len(state.badges), dtype=np.int64)  # badge index -> its anchor row
        pos[state.anchor_index] = np.arange(state.anchor_index.shape[0])
        rows = np.flatnonzero(is_anchor)
        src = state.anchor_xyz[pos[summary.badge[rows]]]
        dst = state.gateways_xyz[summary.gateway[rows]]
        dist = np.linalg.norm(src - dst, axis=1)
        state.calibrator.update(summary.gateway[rows], dist, summary.median[rows])
    people = pair_kind == 0
    mine = PairSummary(*(getattr(summary, f)[people] for f in PairSummary.__slots__))
    del summary, pair_kind, is_anchor, people  # (at 20,000 badges, tens of MB the tick needs again)
    if det.positioner == "centroid":
        fixes = state.centroid.locate(mine)
    else:
        fixes = state.multilaterator.locate(mine, state.calibrator.model)
    del mine
    if det.smoothing:
        fixes = state.smoother.update(fixes, now)
    heading = np.full(len(fixes), np.nan)
    if feed_ids.shape[0]:
        fx = np.array([state.feed[int(i)] for i in feed_ids])
        feed_fix = Fixes(feed_ids, fx[:, 0], fx[:, 1], fx[:, 3])
        if det.smoothing:
            feed_fix = state.feed_smoother.update(feed_fix, now)
        fixes = Fixes(
            np.r_[fixes.badge, feed_fix.badge],
            np.r_[fixes.x, feed_fix.x],
            np.r_[fixes.y, feed_fix.y],
            np.r_[fixes.err, feed_fix.err],
        )
        heading = np.r_[heading, fx[:, 2]]
    return fixes, heading, _profiles(state, fixes.badge, now)


def _profiles(state: PipelineState, badges: np.ndarray, now: float) -> Profiles | None:
    """RSSI profiles (medians over the profile window) of ``badges``, row for row (None when
    the detector does not use them)."""
    if state.profile_s is None or badges.shape[0] == 0:
        return None
    n_gw = state.gateways_xyz.shape[0]
    long = state.windows.summarize(now, n_gw, span_s=state.profile_s, min_count=state.detector.profile_min_count)
    rows = row_of(state, badges)[long.badge]
    ok = rows >= 0  # (summarize left out the pairs heard in fewer than profile_min_count seconds)
    row, gateway, level = rows[ok], long.gateway[ok], long.median[ok]
    del long, rows, ok  # (the rest of the summary: not held while the profiles are built)
    return Profiles.from_entries(row, gateway, level, badges.shape[0], n_gw)


def _fluctuations(state: PipelineState, badges: np.ndarray, now: float) -> Fluctuations | None:
    """Centred per-second RSSI series of ``badges``, row for row (None when the detector does not
    use them), built for a row when a pair first asks for it; valid until the windows change."""
    det = state.detector
    if det.covary_m <= 0 or badges.shape[0] < 2:
        return None
    windows = state.windows
    revision = windows.revision

    def source(wanted: np.ndarray) -> PairSeries:
        if windows.revision != revision:
            raise RuntimeError("these fluctuations were taken before the RSSI windows last changed")
        # Series heard in fewer seconds than the fluctuations keep are left out before they are
        # built (at 20,000 badges, four in ten of them).
        return windows.series(now, det.covary_window_s, badges=wanted, min_heard=MIN_SECONDS)

    n_gw = state.gateways_xyz.shape[0]
    return Fluctuations(
        source, row_of(state, badges), badges.shape[0], n_gw, min_seconds=MIN_SECONDS, smooth_s=det.covary_smooth_s
    )


def _companies(state: PipelineState, badges: np.ndarray) -> np.ndarray:
    """Each badge index's company code (-1: not on the roster, or exempt), kept by index as
    badges first appear, so a tick looks codes up by index, not by id."""
    known = state.company_of.shape[0]
    if len(state.badges) > known:
        more = [state.company_code.get(b, -1) for b in state.badges.ids[known:]]
        state.company_of = np.concatenate([state.company_of, np.array(more, dtype=np.int64)])
    codes: np.ndarray = state.company_of[badges]
    return codes


def _without(graph: sparse.csr_matrix, walking: np.ndarray) -> sparse.csr_matrix:
    """``graph`` without the edges of walking badges: a walker is in no group, and cannot
    chain two groups together as it passes between them."""
    if not walking.any():
        return graph
    coo = graph.tocoo()
    keep = ~(walking[coo.row] | walking[coo.col])
    return sparse.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=graph.shape)


def _groups(index_sets: Iterable[Iterable[int]], names: list[str], xy: np.ndarray) -> list[Group]:
    """Groups as sorted badge ids with their centre, in a deterministic order."""
    rows = [sorted(ks, key=names.__getitem__) for ks in index_sets]
    if not rows:
        return []
    x, y = centres(rows, xy)
    named = names.__getitem__
    out = [Group(tuple(map(named, r)), cx, cy) for r, cx, cy in zip(rows, x, y, strict=True)]
    return sorted(out, key=lambda g: g.members)


def step(state: PipelineState, messages: Iterable[Message], now: float) -> TickResult:
    """Ingest ``messages`` (in arrival order), then run one tick at ``now``."""
    started = time.perf_counter()  # measures the tick's own duration; never enters the maths
    for topic, payload in messages:
        state.ingest.accept(topic, payload)
    return run_tick(state, state.ingest.drain(now), now, started)


def run_tick(state: PipelineState, drained: Drained, now: float, started: float | None = None) -> TickResult:
    """One tick at ``now`` on what an ingest drained for it: ``step`` after its ingest (a replay
    that ingests ahead in another process hands its drains here). ``started``: when the tick's
    own duration began (``perf_counter``; now when None)."""
    started = time.perf_counter() if started is None else started
    state.windows.add(drained.badge, drained.gateway, drained.ts, drained.rssi)
    for pause in drained.pauses:
        state.policy.pause(pause.badge, pause.until, pause.sent, pause.source)
    if drained.contacts is not None:
        c = drained.contacts
        state.neighbours.add(c.badge, c.near, c.rssi, c.ts, now)
    for idx, p in drained.positions.items():
        held = state.feed.get(idx)
        # Older than the one held (it arrived late) is not news, unless the clock has been set
        # back past the one held.
        if held is not None and p.ts < held[4] <= now:
            continue
        # (Stamped a little ahead, it ages from now: it must not outstay the feed's max age.)
        towards = np.nan if p.heading is None else p.heading
        state.feed[idx] = (p.x, p.y, towards, 0.5 if p.err is None else p.err, min(p.ts, now))
    if state.motion is not None and drained.positions:
        moved = np.fromiter(drained.positions, dtype=np.int64, count=len(drained.positions))
        where = np.array([(p.x, p.y) for p in drained.positions.values()], dtype=np.float64)
        state.motion.record(moved, where[:, 0], where[:, 1], now)
    max_age = state.detector.feed_max_age_s
    for idx in [i for i, v in state.feed.items() if now - v[4] > max_age]:
        del state.feed[idx]

    fixes, heading, profiles = _positions(state, now)
    ids = state.badges.ids
    names = [ids[b] for b in fixes.badge.tolist()]
    order = sorted(range(len(names)), key=names.__getitem__)
    xy = np.column_stack([fixes.x, fixes.y]) if len(fixes) else np.empty((0, 2))
    graph = state.groups.graph(xy, heading, profiles)
    if state.detector.neighbour_edge_dbm < 0 and len(state.neighbours):
        graph = with_neighbours(state, graph, fixes.badge, xy, heading, profiles, now)
    if state.motion is not None:
        graph = _without(graph, state.motion.walking(fixes.badge, now))
    # With a positioning feed the floor's groups are accurate (o-space DBSCAN), and they are the
    # candidates; the colleague graph is for RSSI, where whole neighbourhoods chain together.
    from_feed = len(state.feed) * 2 >= max(len(fixes), 1)
    radio = state.colleagues is not None and not from_feed  # colleague candidates from the radio
    floor_labels: np.ndarray | None = None
    huddles = None
    if radio:
        assert state.colleagues is not None
        company = _companies(state, fixes.badge)
        pts = state.groups.points(xy, heading) if len(xy) else xy

        # The pair scores are averages over colleague_smooth_s: refreshed every colleague_every_s,
        # read back from the averages in between.
        last = state.colleagues_measured
        # (A clock set back measures at once: it is not "too soon" after a time yet to come.)
        measure = last is None or not 0 <= now - last < state.detector.colleague_every_s - 1e-6
        covary = _fluctuations(state, fixes.badge, now) if measure else None
        floor_pairs = state.floor_averages is not None and len(fixes) <= state.detector.floor_pair_max_badges
        upper = upper_pairs(graph) if floor_pairs else None  # (the graph's pairs, each once, for both)
        shift = covary_shift(state, graph, covary, now, upper) if covary is not None else 0.0
        if measure:
            state.colleagues_measured = now

        def pair_distance(r: np.ndarray, c: np.ndarray) -> np.ndarray:
            d = np.hypot(pts[r, 0] - pts[c, 0], pts[r, 1] - pts[c, 1])
            if covary is None or profiles is None:
                return state.groups.blend(r, c, d, profiles)
            rms, common = state.groups.profile_difference(r, c, profiles)
            min_common = state.groups.min_common_gateways
            near = neighbour_term(state, fixes.badge[r], fixes.badge[c], now)
            return colleague_score(state.detector, d, rms, common, covary, r, c, shift, min_common, near)

        scores: Callable[[np.ndarray, np.ndarray], np.ndarray] = pair_distance
        if floor_pairs:
            # The colleague finder asks again for many of the floor's pairs (its strangers'):
            # each measured once. Without the floor groups no pair is asked twice.
            scores = PairMemo(pair_distance, len(fixes))
            floor_labels = pair_groups(state, graph, pts, fixes.badge, scores, now, measure, upper)
        # With neighbour reports in the score, colleagues who stand together score lower and
        # the rest higher: the candidates are cut at their own level.
        eps = state.detector.neighbour_colleague_eps_m if reports_in_use(state) else None
        heard = reported_together(state, fixes.badge, now)
        cohesion = reported_cohesion(state, fixes.badge, now)
        candidates = state.colleagues.fit(graph, company, fixes.badge, scores, now, measure, eps, heard, cohesion)
        huddles = state.huddle_tracker.update(_groups(candidates, names, xy), now)
    labels = (state.groups.fit_graph(graph) if floor_labels is None else floor_labels).tolist()
    members: dict[int, list[int]] = {}
    for k in order:
        if labels[k] >= 0:
            members.setdefault(labels[k], []).append(k)
    update = state.tracker.update(_groups(members.values(), names, xy), now)
    if huddles is None:
        huddles = update
    xs, ys = xy[:, 0].tolist(), xy[:, 1].tolist()
    positions = TickPositions(state.badges.index, row_of(state, fixes.badge), names, xs, ys)
    lead_s = state.detector.lead_s if radio else 0.0
    margin = state.detector.zone_margin_m if radio else 0.0
    alerts = state.policy.update(huddles.seen, huddles.ended, positions, now, update.seen, lead_s, margin)

    clusters = []
    for track in update.seen:
        comp = state.policy.composition(track.members)
        if comp.company is None:  # only exempt roles or unknown badges: describe it anyway
            comp = compose(track.members, state.people, ())
        zone = state.policy.zone_at(track.x, track.y)
        clusters.append(
            FrameCluster(
                id=track.id,
                members=track.members,
                x=track.x,
                y=track.y,
                company=comp.company,
                homogeneity=comp.share,
                since=track.born,
                zone=None if zone is None else zone.name,
            )
        )
    names_sorted = [names[k] for k in order]
    frame = Frame(
        site=state.venue.site,
        ts=now,
        badges=tuple(
            map(FrameBadge, names_sorted, xy[order, 0].tolist(), xy[order, 1].tolist(), fixes.err[order].tolist())
        ),
        clusters=tuple(clusters),
    )
    state.ticks += 1
    duration = time.perf_counter() - started
    state.tick_seconds.append(duration)
    return TickResult(frame, tuple(alerts), duration)
