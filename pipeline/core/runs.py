"""Runs of equal keys in sorted arrays: where each run starts, and each element's rank in it.

The vectorised "group by a sorted key" that several cores need (strongest gateways per
badge, profile lists, k nearest per badge, colleague pairs, overlap clusters, RSSI bins).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["ranks", "runs"]

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
