"""Group centres, all groups of a tick at once, bit for bit numpy's per-group means."""

from __future__ import annotations

from itertools import chain

import numpy as np

__all__ = ["centres"]


def centres(rows: list[list[int]], xy: np.ndarray) -> tuple[list[float], list[float]]:
    """Each group's mean x and y over its ``rows`` of ``xy`` (none empty): bit for bit
    ``float(xy[r, 0].mean())``, without two numpy calls for every group of the tick.

    numpy sums fewer than ``_SEQUENTIAL`` values one after another (more, pairwise): for those
    groups the members' values are added column by column across every group at once, rows
    padded with -0.0 (``v + -0.0 == v`` for every ``v``), and divided by the count, as ``mean``
    ends. Larger groups, rare, take ``mean`` itself. A test holds the sameness."""
    sizes = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
    if not sizes.all():
        raise ValueError("a group without members has no centre")
    x = np.empty(len(rows))
    y = np.empty(len(rows))
    small = np.flatnonzero(sizes < _SEQUENTIAL)
    if small.shape[0]:
        k = sizes[small]
        flat = np.fromiter(chain.from_iterable(rows[g] for g in small.tolist()), dtype=np.intp, count=int(k.sum()))
        pad = xy.shape[0]  # the index of a -0.0 row
        at = np.full((small.shape[0], _SEQUENTIAL - 1), pad, dtype=np.intp)
        first = np.cumsum(k) - k
        at[np.repeat(np.arange(small.shape[0]), k), np.arange(flat.shape[0]) - np.repeat(first, k)] = flat
        vals = np.vstack([xy, [(-0.0, -0.0)]])[at]  # (groups, columns, 2)
        total = vals[:, 0] + 0.0  # (numpy's sum starts from +0.0: a lone -0.0 sums to +0.0)
        for j in range(1, _SEQUENTIAL - 1):
            total += vals[:, j]
        x[small] = total[:, 0] / k
        y[small] = total[:, 1] / k
    for g in np.flatnonzero(sizes >= _SEQUENTIAL).tolist():
        x[g], y[g] = xy[rows[g], 0].mean(), xy[rows[g], 1].mean()
    return x.tolist(), y.tolist()


_SEQUENTIAL = 8  # numpy adds fewer values than this one after another (pairwise_sum's n < 8)
