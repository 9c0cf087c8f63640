"""Tracking groups across ticks with stable ids.

Each tick's groups are assigned to live tracks by member overlap (Jaccard, optimal
one-to-one assignment). What is left over is a birth; a track that loses a split keeps
its id on the larger overlap and the rest is born anew; in a merge the best-overlapping
track continues. A track that finds no group keeps its id for ``max_miss_s`` seconds
(hysteresis), so one noisy tick does not end it — nor reset the dwell clock that hangs
on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, count

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from .grouping import components
from .runs import ranks, runs

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

__all__ = ["Group", "Track", "TrackUpdate", "Tracker"]


@dataclass(frozen=True, slots=True)
class Group:
    """A group found this tick: sorted member badge ids and centre (metres)."""

    members: tuple[str, ...]
    x: float
    y: float


@dataclass(slots=True)
class Track:
    id: str
    members: tuple[str, ...]
    x: float
    y: float
    born: float
    last_seen: float


@dataclass(frozen=True, slots=True)
class TrackUpdate:
    """Tracks seen this tick (in group order), and ids born and ended."""

    seen: tuple[Track, ...]
    born: tuple[str, ...] = ()
    ended: tuple[str, ...] = field(default_factory=tuple)


class Tracker:
    """``min_jaccard``: least overlap (inclusive) to continue a track;
    ``max_miss_s``: seconds a track survives without a group (0 = none)."""

    def __init__(self, *, min_jaccard: float = 0.3, max_miss_s: float = 10.0, prefix: str = "c-") -> None:
        if not 0 < min_jaccard <= 1:
            raise ValueError(f"min_jaccard must be in (0, 1], got {min_jaccard!r}")
        if not max_miss_s >= 0:
            raise ValueError(f"max_miss_s must be >= 0 seconds, got {max_miss_s!r}")
        self.min_jaccard = min_jaccard
        self.max_miss_s = max_miss_s
        self.prefix = prefix
        self.tracks: dict[str, Track] = {}
        self._next = 1

    def update(self, groups: Sequence[Group], now: float) -> TrackUpdate:
        live = list(self.tracks.values())
        pair_t, pair_g, pair_s = _overlaps([t.members for t in live], [g.members for g in groups])
        assigned = {gi: live[ti] for ti, gi in _assign(pair_t, pair_g, pair_s, len(live), self.min_jaccard)}
        born: list[str] = []
        seen: list[Track] = []
        for gi, g in enumerate(groups):
            track = assigned.get(gi)
            if track is None:
                track = Track(f"{self.prefix}{self._next}", g.members, g.x, g.y, now, now)
                self._next += 1
                self.tracks[track.id] = track
                born.append(track.id)
            else:
                track.members, track.x, track.y, track.last_seen = g.members, g.x, g.y, now
            seen.append(track)
        ended = [tid for tid, t in self.tracks.items() if now - t.last_seen > self.max_miss_s]
        for tid in ended:
            del self.tracks[tid]
        return TrackUpdate(tuple(seen), tuple(born), tuple(ended))


def _overlaps(
    tracks: Sequence[tuple[str, ...]], groups: Sequence[tuple[str, ...]]
) -> tuple[IntArray, IntArray, FloatArray]:
    """Every (track, group) pair sharing a member, as aligned arrays of track index, group
    index and Jaccard overlap (shared / members of either), in no particular order.

    A badge can be in more than one track (one seen last tick and one lingering unseen,
    hysteresis, with its old members) and, for candidates with attached strangers, in more
    than one group: every track holding a member of a group gets its overlap. Members are
    joined by integer codes (one sort), not by a Python pass over every member; the overlap
    is the same division of the same integers.
    """
    t_sizes = np.fromiter(map(len, tracks), dtype=np.int64, count=len(tracks))
    g_sizes = np.fromiter(map(len, groups), dtype=np.int64, count=len(groups))
    t_members = list(chain.from_iterable(tracks))
    g_members = list(chain.from_iterable(groups))
    code = dict(zip(dict.fromkeys(chain(t_members, g_members)), count()))
    t_code = np.fromiter(map(code.__getitem__, t_members), dtype=np.int64, count=len(t_members))
    g_code = np.fromiter(map(code.__getitem__, g_members), dtype=np.int64, count=len(g_members))
    t_of = np.repeat(np.arange(len(tracks), dtype=np.int64), t_sizes)
    g_of = np.repeat(np.arange(len(groups), dtype=np.int64), g_sizes)
    order = np.argsort(t_code, kind="stable")
    t_code, t_of = t_code[order], t_of[order]
    lo = np.searchsorted(t_code, g_code, side="left")
    hi = np.searchsorted(t_code, g_code, side="right")
    # Every (group member, track holding that badge): one entry per shared member.
    per = hi - lo
    g_pair = np.repeat(g_of, per)
    t_pair = t_of[np.repeat(lo, per) + ranks(per)]
    key, shared = np.unique(t_pair * max(len(groups), 1) + g_pair, return_counts=True)
    ti, gi = key // max(len(groups), 1), key % max(len(groups), 1)
    return ti, gi, shared / (t_sizes[ti] + g_sizes[gi] - shared)


def _assign(
    tracks: IntArray | list[int],
    groups: IntArray | list[int],
    scores: FloatArray | list[float],
    n_tracks: int,
    least: float,
) -> list[tuple[int, int]]:
    """One-to-one (track, group) pairs of greatest total overlap among the pairs scoring at
    least ``least`` (the others can never continue a track, so they are left out first).

    Only those pairs have a score, and they form small connected clusters (a track overlaps
    the groups its members went to, and at most 1 / ``least`` of them that much), so the
    optimal assignment is solved per cluster: a lone pair directly, the rest with
    ``linear_sum_assignment`` — not one dense tracks x groups problem, which is cubic in
    the crowd (and, when a crowd first blurs into a few huge groups, hundreds of MB).
    """
    t = np.asarray(tracks, dtype=np.int64)
    g = np.asarray(groups, dtype=np.int64)
    s = np.asarray(scores, dtype=np.float64)
    usable = s >= least
    t, g, s = t[usable], g[usable], s[usable]
    if not s.shape[0]:
        return []
    # A pair whose track and group have no other usable pair is a cluster of its own: taken
    # as it is (most of them); the others are clustered and solved.
    lone = (np.bincount(t)[t] == 1) & (np.bincount(g)[g] == 1)
    out: list[tuple[int, int]] = list(zip(t[lone].tolist(), g[lone].tolist(), strict=True))
    t, g, s = t[~lone], g[~lone], s[~lone]
    if not s.shape[0]:
        return out
    n_groups = int(g.max()) + 1
    comp = components(t, n_tracks + g, np.ones(n_tracks + n_groups, dtype=np.bool_))  # of the bipartite graph
    pair_comp = comp[t]
    # A cluster with one track (split) or one group (merge) keeps its best pair, when that
    # is the only best; the rest (and ties) go to linear_sum_assignment.
    n_comp = int(pair_comp.max()) + 1
    tracks_in = np.bincount(np.unique(pair_comp * (n_tracks + 1) + t) // (n_tracks + 1), minlength=n_comp)
    groups_in = np.bincount(np.unique(pair_comp * (n_groups + 1) + g) // (n_groups + 1), minlength=n_comp)
    best = np.full(n_comp, -np.inf)
    np.maximum.at(best, pair_comp, s)
    at_best = s == best[pair_comp]
    star = ((tracks_in == 1) | (groups_in == 1)) & (np.bincount(pair_comp[at_best], minlength=n_comp) == 1)
    pick = at_best & star[pair_comp] & (s > 0)  # (a pair with no usable score is no pair)
    out.extend(zip(t[pick].tolist(), g[pick].tolist(), strict=True))
    rest = np.flatnonzero(~star[pair_comp])
    order = rest[np.argsort(pair_comp[rest], kind="stable")]
    starts, counts = runs(pair_comp[order])
    for a, b in zip(starts, starts + counts, strict=True):
        k = order[a:b]  # two pairs or more
        rows, row_of = np.unique(t[k], return_inverse=True)
        cols, col_of = np.unique(g[k], return_inverse=True)
        dense = np.zeros((rows.shape[0], cols.shape[0]))
        dense[row_of, col_of] = s[k]
        for r, c in zip(*linear_sum_assignment(-dense), strict=True):
            if dense[r, c] > 0:  # a pair with no usable score is no pair
                out.append((int(rows[r]), int(cols[c])))
    return out
