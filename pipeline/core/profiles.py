"""RSSI profiles of badges, and what comparing two of them costs.

A badge's profile is the level (dBm) at which each gateway hears it, over the profile window.
Neighbours share most of their shadowing (Gudmundson), so two badges whose profiles differ
little are likely close even when both positions are metres off (:mod:`.grouping` blends the
two). :class:`Profiles` holds each badge's own gateways, strongest first, and every level it
hears sorted by gateway; :func:`profile_sums` compares pairs of badges over the gateways both
hear, in a compiled loop (:mod:`.jit`) that walks the two sorted lists.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .jit import check_indices, check_pairs, compiled, in_parts
from .runs import find_sorted, ranks, runs

__all__ = ["Profiles", "profile_sums"]

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
        "n_gateways",
    )

    def __init__(
        self,
        gateways: IntArray,
        entry_gateway: IntArray,
        entry_level: npt.NDArray[np.float32],
        entry_rank: IntArray,
        heard: IntArray,
        n_gateways: int,
    ) -> None:
        self.gateways = gateways  # [n, k], -1 = none (a badge's gateways come first)
        self.entry_gateway = entry_gateway  # every badge's gateways, badge after badge, each's sorted
        self.entry_level = entry_level  # ... and their float32 levels
        self.entry_rank = entry_rank  # ... and their places in their badge's list (strongest first)
        self.heard = heard  # [n] entries per badge
        self.first = np.cumsum(heard) - heard  # [n] each badge's first entry
        self.n_gateways = int(n_gateways)
        self.counts = (gateways >= 0).sum(axis=1)
        # (The compiled comparison walks each badge's entries and looks their gateways up in a
        # table of n_gateways, checking no bounds: what it walks must be there.)
        entries = entry_gateway.shape[0]
        if not entry_level.shape[0] == entry_rank.shape[0] == entries:
            raise ValueError(f"{entries} entry gateways, {entry_level.shape[0]} levels, {entry_rank.shape[0]} ranks")
        if heard.shape[0] != gateways.shape[0] or (
            heard.shape[0] and (int(heard.min()) < 0 or int(heard.sum()) != entries)
        ):
            raise ValueError(f"entries per badge must be {gateways.shape[0]} counts adding up to {entries}")
        check_indices(entry_gateway, self.n_gateways, f"profile entries name gateways outside 0..{self.n_gateways - 1}")

    @classmethod
    def from_entries(
        cls, row: IntArray, gateway: IntArray, level: FloatArray, n: int, n_gateways: int, k: int | None = None
    ) -> Profiles:
        row, gateway, level = np.asarray(row), np.asarray(gateway), np.asarray(level)
        if not (row.ndim == gateway.ndim == level.ndim == 1 and row.shape == gateway.shape == level.shape):
            raise ValueError(f"entries must be aligned 1-D arrays, got {row.shape}, {gateway.shape}, {level.shape}")
        # A repeated (row, gateway) holds its last entry; by: the entries kept, by (row, gateway).
        key = np.asarray(row, dtype=np.int64) * n_gateways + gateway
        ascending = bool(np.all(key[1:] > key[:-1]))  # as summaries come: nothing to sort or drop
        grouped = row.shape[0] == 0 or (int(row[0]) >= 0 and int(row[-1]) < n and bool(np.all(row[1:] >= row[:-1])))
        if ascending and grouped:
            return cls._from_ascending(np.asarray(row, dtype=np.int64), gateway, level, n, n_gateways, k)
        return cls._from_sorting(row, gateway, level, n, n_gateways, k, key, ascending)

    @classmethod
    def _from_sorting(
        cls,
        row: IntArray,
        gateway: IntArray,
        level: FloatArray,
        n: int,
        n_gateways: int,
        k: int | None,
        key: IntArray,
        ascending: bool,
    ) -> Profiles:
        """``from_entries`` for entries in any order (``key``: row x n_gateways + gateway;
        ``ascending``: whether the keys already are), as whole arrays."""
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
        gws[row[keep], rank[keep]] = gateway[keep]
        heard = np.bincount(row[by], minlength=n).astype(np.int64)
        entry_gateway = np.asarray(gateway[by], dtype=np.int64)
        entry_level = np.asarray(level[by], dtype=np.float32)
        return cls(gws, entry_gateway, entry_level, rank[by], heard, n_gateways)

    @classmethod
    def _from_ascending(
        cls, row: IntArray, gateway: IntArray, level: FloatArray, n: int, n_gateways: int, k: int | None
    ) -> Profiles:
        """``from_entries`` for entries in ascending (row, gateway) order, each once (as
        summaries give them): the lists built by one compiled pass."""
        heard = np.bincount(row, minlength=n).astype(np.int64)
        places = int(heard.max()) if n else 0
        width = places if k is None else min(places, k)
        gws = np.full((n, width), -1, dtype=np.int64)
        entry_level = level.astype(np.float32)  # (copies: nothing the caller holds)
        entry_gateway = gateway.astype(np.int64)
        rank = np.empty(row.shape[0], dtype=np.int64)
        _lists(heard, level.astype(np.float64, copy=False), entry_gateway, rank, gws)
        return cls(gws, entry_gateway, entry_level, rank, heard, n_gateways)

    @classmethod
    def from_dense(cls, profiles: FloatArray, k: int | None = None) -> Profiles:
        """From an [n, n_gateways] array with NaN for unheard."""
        row, gateway = np.nonzero(~np.isnan(profiles))
        n, g = profiles.shape
        return cls.from_entries(row.astype(np.int64), gateway.astype(np.int64), profiles[row, gateway], n, g, k)

    @property
    def levels(self) -> FloatArray:
        """[n, k] each badge's list's levels (dBm, as the float32 they are looked up at; NaN =
        none), place for place with ``gateways``: made when asked, since the comparison looks
        levels up among the entries."""
        n, width = self.gateways.shape
        out = np.full((n, width), np.nan)
        keep = self.entry_rank < width
        out[np.repeat(np.arange(n), self.heard)[keep], self.entry_rank[keep]] = self.entry_level[keep]
        return out

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


@compiled
def _lists(
    heard: IntArray,
    level: FloatArray,
    gateway: IntArray,
    rank: IntArray,
    gws: IntArray,
) -> None:
    """Per badge (its ``heard[badge]`` entries laid end to end): each entry's place in its
    list, strongest first (ties, and NaN last, in entry order: a stable sort by ``level``,
    descending), into ``rank``; and the first ``gws.shape[1]`` places' gateways."""
    width = gws.shape[1]
    order = np.empty(max(heard.max(), 1) if heard.shape[0] else 1, dtype=np.int64)
    first = 0
    for b in range(heard.shape[0]):
        m = heard[b]
        for e in range(m):  # insertion, after every entry at least as strong
            v = level[first + e]
            at = e
            while at > 0:
                u = level[first + order[at - 1]]
                if v > u or (v == v and u != u):
                    order[at] = order[at - 1]
                    at -= 1
                else:
                    break
            order[at] = e
        for place in range(m):
            e = first + order[place]
            rank[e] = place
            if place < width:
                gws[b, place] = gateway[e]
        first += m


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


def profile_sums(profiles: Profiles, row: IntArray, col: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per pair: how many gateways both hear, and the sum and sum of squares of the differences.

    Compares over the gateways of the row badge that the column badge hears too; with every
    gateway a badge hears in its list (the usual case) that is exactly the common set. Each
    pair costs a lookup per gateway its column badge hears, and its sums run in the column
    badge's gateway order. Pairs sorted by row (as the graph gives them) are cheapest.

    The differences of float32 levels are exact in float64 and so are their sums, in any
    order; their squares' sums are the same bits in any order while every level is at or
    below -16 dBm (a venue's always are), and may differ in the last bit above that.
    """
    check_pairs(row, col, len(profiles), "profiles")
    m = row.shape[0]
    common, total, squares = np.empty(m), np.empty(m), np.empty(m)
    in_parts(
        _pair_sums,
        m,
        _PAIR_PART,
        profiles.counts,
        profiles.first,
        profiles.heard,
        profiles.entry_gateway,
        profiles.entry_level,
        profiles.entry_rank,
        profiles.n_gateways,
        np.asarray(row, dtype=np.int64),
        np.asarray(col, dtype=np.int64),
        common,
        total,
        squares,
    )
    return common, total, squares


_PAIR_PART = 20_000  # pairs at least per part of the comparison run at once (about 2 ms)


@compiled
def _pair_sums(
    lo: int,
    hi: int,
    counts: IntArray,
    first: IntArray,
    heard: IntArray,
    entry_gateway: IntArray,
    entry_level: npt.NDArray[np.float32],
    entry_rank: IntArray,
    n_gateways: int,
    row: IntArray,
    col: IntArray,
    common: FloatArray,
    total: FloatArray,
    squares: FloatArray,
) -> None:
    # The row badge's levels go into a table by gateway (``mine[gateway]``, where ``held``),
    # set once for a run of pairs with the same row (pairs come sorted by row); each pair then
    # walks the column badge's entries, in gateway order, looking each up in it. (A gateway the
    # column badge hears at NaN is left out; one the row badge holds at NaN makes the sums NaN.)
    mine = np.empty(max(n_gateways, 1))
    held = np.zeros(max(n_gateways, 1), dtype=np.bool_)
    current = -1
    for p in range(lo, hi):
        r, c = row[p], col[p]
        if r != current:
            if current >= 0:
                for i in range(first[current], first[current] + heard[current]):
                    held[entry_gateway[i]] = False
            for i in range(first[r], first[r] + heard[r]):
                if entry_rank[i] < counts[r]:
                    held[entry_gateway[i]] = True
                    mine[entry_gateway[i]] = entry_level[i]
            current = r
        both, t, sq = 0, 0.0, 0.0
        for j in range(first[c], first[c] + heard[c]):
            g = entry_gateway[j]
            b = np.float64(entry_level[j])
            if held[g] and b == b:
                d = mine[g] - b
                t += d
                sq += d * d
                both += 1
        common[p], total[p], squares[p] = both, t, sq
