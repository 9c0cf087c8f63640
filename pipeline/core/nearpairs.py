"""Every pair of points within a radius, sorted by row then column, in a compiled grid search.

The graph of a tick (:mod:`.grouping`) compares every pair of badges within ``search_m`` of
each other, row by row (the profile comparison is cheapest with pairs sorted by row). A k-d
tree gives the pairs in its own order, and sorting a few hundred thousand of them cost more
than finding them. Points are binned into square cells of the radius instead; each point
looks at the nine cells around its own, and its partners, found in index order, come out
sorted. The test is the k-d tree's (``dx*dx + dy*dy <= r*r``), so the pairs are the same.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .jit import compiled

__all__ = ["pairs_within"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_MAX_CELLS = 1 << 22  # a grid finer than this (a radius tiny against the spread) is coarsened


def pairs_within(pts: FloatArray, r: float) -> tuple[IntArray, IntArray]:
    """The pairs (i, j), i < j, of rows of ``pts`` ([n, 2], finite) at most ``r`` apart
    (inclusive), sorted by i then j."""
    pts = np.ascontiguousarray(pts, dtype=np.float64)
    n = pts.shape[0]
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must be an [n, 2] array, got shape {pts.shape}")
    if not r >= 0:
        raise ValueError(f"r must be >= 0, got {r!r}")
    if n < 2:
        e = np.empty(0, dtype=np.int64)
        return e, e
    if not np.isfinite(pts).all():
        raise ValueError("points must be finite")
    lo = pts.min(axis=0)
    with np.errstate(over="ignore"):
        span = pts.max(axis=0) - lo
    if not np.isfinite(span).all():
        raise ValueError("points too far apart to grid")
    # Cells a little wider than r: (x - lo) is rounded, and two points exactly r apart must
    # still fall in the same or neighbouring cells.
    side = max(float(r), 1e-9) * (1.0 + 1e-9) + 8.0 * float(np.spacing(max(float(span.max()), 1.0)))
    while math.ceil(span[0] / side + 1e-9) * math.ceil(span[1] / side + 1e-9) > _MAX_CELLS:
        side *= 2.0  # (cells wider than r still hold every pair within r of a neighbour cell)
    nx = max(int(span[0] // side) + 1, 1)
    ny = max(int(span[1] // side) + 1, 1)
    cx = np.minimum(((pts[:, 0] - lo[0]) // side).astype(np.int64), nx - 1)
    cy = np.minimum(((pts[:, 1] - lo[1]) // side).astype(np.int64), ny - 1)
    cell = cy * nx + cx
    by_cell = np.argsort(cell, kind="stable")  # each cell's points in index order
    start = np.searchsorted(cell[by_cell], np.arange(nx * ny + 1))
    r2 = float(r) * float(r)
    found = np.zeros(n, dtype=np.int64)
    # One pass into room for 1.5 times the pairs a uniform spread would give (at least 8 per
    # point, at most 48: points on a line would make the estimate n^2); more pairs than
    # that are counted first, then filled.
    area = max(float(span[0]) * float(span[1]), math.pi * r2)
    expected = 1.5 * n * n * math.pi * r2 / (2.0 * area) if 0 < area < math.inf else math.inf
    room = int(min(expected + 8 * n, 48 * n, n * (n - 1) // 2))
    col = np.empty(room, dtype=np.int64)
    if not _fill(pts, r2, cx, cy, nx, ny, by_cell, start, col, found, True):
        _fill(pts, r2, cx, cy, nx, ny, by_cell, start, col, found, False)  # counted only
        col = np.empty(int(found.sum()), dtype=np.int64)
        _fill(pts, r2, cx, cy, nx, ny, by_cell, start, col, found, True)
    col = col[: int(found.sum())].copy() if col.shape[0] > found.sum() else col
    row = np.repeat(np.arange(n, dtype=np.int64), found)
    return row, col


@compiled
def _fill(
    pts: FloatArray,
    r2: float,
    cx: IntArray,
    cy: IntArray,
    nx: int,
    ny: int,
    by_cell: IntArray,
    start: IntArray,
    col: IntArray,
    found: IntArray,
    write: bool,
) -> bool:
    """Each point's later partners (ascending) one point after another into ``col`` (with
    ``write``; without, they are only counted), and how many into ``found``; False (and
    ``col`` part-filled) when ``col`` is too short."""
    at = 0
    for i in range(pts.shape[0]):
        first = at
        for gy in range(max(cy[i] - 1, 0), min(cy[i] + 2, ny)):
            for gx in range(max(cx[i] - 1, 0), min(cx[i] + 2, nx)):
                c = gy * nx + gx
                for s in range(start[c], start[c + 1]):
                    j = by_cell[s]
                    if j > i:
                        dx = pts[i, 0] - pts[j, 0]
                        dy = pts[i, 1] - pts[j, 1]
                        if dx * dx + dy * dy <= r2:
                            if write:
                                if at == col.shape[0]:
                                    return False
                                # insertion into the sorted run so far (a dozen or two per point)
                                k = at
                                while k > first and col[k - 1] > j:
                                    col[k] = col[k - 1]
                                    k -= 1
                                col[k] = j
                            at += 1
        found[i] = at - first
    return True
