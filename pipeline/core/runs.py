"""Sorted arrays of keys: runs of equal keys (where each starts, each element's rank in it),
and where wanted keys stand among sorted unique ones.

The vectorised "group by a sorted key" that several cores need (strongest gateways per
badge, profile lists, k nearest per badge, colleague pairs, overlap clusters, RSSI bins), and
the "look keys up in a sorted table" of their stores and memos.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["find_sorted", "ranks", "runs"]

IntArray = npt.NDArray[np.int64]


def runs(keys: npt.NDArray[np.generic]) -> tuple[IntArray, IntArray]:
    """``(starts, counts)`` of the runs of equal values in ``keys`` (sorted, or at least grouped)."""
    n = keys.shape[0]
    if n == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e
    # (Plain array building, not ``np.r_``: this runs dozens of times a tick, and ``np.r_``'s
    # Python-level parsing cost more than the arithmetic.)
    change = np.flatnonzero(keys[1:] != keys[:-1])
    starts = np.empty(change.shape[0] + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = change + 1
    counts = np.empty_like(starts)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1] = n - starts[-1]
    return starts, counts


def ranks(counts: IntArray) -> IntArray:
    """For runs of ``counts`` elements laid end to end, each element's position in its run."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def find_sorted(keys: IntArray, want: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """For each of ``want``: a position in ``keys`` (sorted, unique) — where it is, if ``found``
    — and whether it is there. Positions are always valid indices of a non-empty ``keys``
    (0 when ``keys`` is empty, with nothing found)."""
    if keys.shape[0] == 0:
        return np.zeros(want.shape[0], dtype=np.int64), np.zeros(want.shape[0], dtype=np.bool_)
    pos = np.minimum(np.searchsorted(keys, want), keys.shape[0] - 1)
    return pos, keys[pos] == want
