"""How fast a tick could be at best: the floor of the work issue 3 itself asks for.

    python bench/tick_floor.py [--sizes 1000,5000,10000,20000] [--repeat 5]

The speed bar asks for a full tick of at most 1.5x scikit-learn DBSCAN alone at 10,000
badges and at most 150 ms at 20,000. This script times, on the same crowd as
``bench/tick_speed.py`` (circles of 2-5 and walkers at 4 m2 a head, a gateway every 7 m;
14 gateways hearing each badge, tick_speed's 138,719 readings a second over 10,000 badges),
the cheapest formulation of three stages the issue requires of every tick, each stripped
to its arithmetic, beside the bar's yardstick:

  * DBSCAN alone (the yardstick): ``sklearn.cluster.DBSCAN(eps=1.4, min_samples=2)`` on
    the people's positions. tick_speed times it on the frame's estimated positions, median
    of 8 ticks; here it is the true positions, best of ``--repeat``;
  * clustering (floor): the same labels without scikit-learn's per-point neighbourhoods,
    as the pipeline clusters (``pipeline.core.grouping.dbscan_precomputed``: with
    ``min_samples`` 2 the clusters are the connected components of the eps-graph): pairs
    within eps from a k-d tree, then connected components; checked label for label against
    DBSCAN's;
  * windows: the robust filter the issue names (median and IQR of a window), as one
    ``np.partition`` of a dense int16 block of (badge, gateway) x seconds: 10 s (the shipped
    position window), 5 s, and the 30 s a profile needs (no ring buffer, no expiry, no late
    readings: the data already in place);
  * positions: weighted least-squares multilateration as 3 Gauss-Newton steps on every badge
    at once with closed-form 2x2 solves (no bounds, no damping, no error estimate, no
    calibration, no smoothing).

The floor is clustering + the 10 s window + 3 Gauss-Newton steps (last column: with the
5 s window instead). What the bar leaves beside it (``1.5 x DBSCAN - floor``) is all the
time there is for the rest of a tick: calibration, smoothing, the pair evidence that lifts
the huddle F1 past 0.90 (profiles, co-fluctuation, neighbour reports), tracking, the
policy and the frame. Each figure is the best of ``--repeat`` runs; every size runs in its
own process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tick_speed import Crowd, child_result, event, print_head, print_row

HEARD_PER_BADGE = 14  # gateways hearing a badge in tick_speed's crowd (12-14 readings a second)


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


def gauss_newton(xy0: np.ndarray, gw: np.ndarray, dist: np.ndarray, w: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` unbounded Gauss-Newton steps of weighted range residuals, all badges at once."""
    xy = xy0.copy()
    for _ in range(steps):
        d = xy[:, None, :] - gw  # (n, k, 2)
        r = np.sqrt(np.einsum("nki,nki->nk", d, d)) + 1e-9
        res = (r - dist) * w
        jx, jy = d[..., 0] / r, d[..., 1] / r
        a = np.einsum("nk,nk,nk->n", jx, w, jx)
        b = np.einsum("nk,nk,nk->n", jx, w, jy)
        c = np.einsum("nk,nk,nk->n", jy, w, jy)
        gx = np.einsum("nk,nk->n", jx, res)
        gy = np.einsum("nk,nk->n", jy, res)
        det = a * c - b * b + 1e-12
        xy[:, 0] -= (c * gx - b * gy) / det
        xy[:, 1] -= (a * gy - b * gx) / det
    return xy


def components(xy: np.ndarray, eps: float) -> np.ndarray:
    """DBSCAN's labels at ``min_samples`` 2 the cheap way: connected components of the pairs
    within ``eps`` (a badge with no such pair is noise, -1), numbered by lowest member."""
    n = xy.shape[0]
    pairs = cKDTree(xy).query_pairs(eps, output_type="ndarray")
    graph = coo_matrix((np.ones(pairs.shape[0], dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    core = np.zeros(n, dtype=np.bool_)
    core[pairs.ravel()] = True
    first = np.full(int(comp.max()) + 1, n, dtype=np.int64)
    np.minimum.at(first, comp, np.arange(n))
    kept = np.unique(comp[core])
    number = np.full(first.shape[0], -1, dtype=np.int64)
    number[kept[np.argsort(first[kept])]] = np.arange(kept.shape[0])
    return np.where(core, number[comp], -1)


def child(n: int, repeat: int) -> dict[str, Any]:
    venue, _ = event(n)
    rng = np.random.default_rng(1)
    crowd = Crowd(n, venue.floor.width, venue.floor.height, rng)
    for _ in range(5):
        crowd.advance()
    xy = crowd.xy.copy()
    gw_xy = np.array([(g.x, g.y) for g in venue.gateways])
    # Each badge's nearest HEARD_PER_BADGE gateways, their true ranges, and rough starts.
    near = np.argsort(np.hypot(xy[:, None, 0] - gw_xy[None, :, 0], xy[:, None, 1] - gw_xy[None, :, 1]), axis=1)
    near = near[:, :HEARD_PER_BADGE]
    gw = gw_xy[near]  # (n, k, 2)
    dist = np.hypot(*(xy[:, None, :] - gw).transpose(2, 0, 1)) * rng.lognormal(0, 0.3, near.shape)
    w = 1.0 / np.maximum(dist, 1.0) ** 2
    start = gw.mean(axis=1)
    slots = n * HEARD_PER_BADGE
    out: dict[str, Any] = {"n": n, "gateways": len(venue.gateways)}
    out["dbscan_ms"] = best_ms(lambda: DBSCAN(eps=1.4, min_samples=2).fit(xy), repeat)
    same = np.array_equal(components(xy, 1.4), DBSCAN(eps=1.4, min_samples=2).fit(xy).labels_)
    if not same:
        raise SystemExit(f"{n}: the components' labels differ from DBSCAN's")
    out["cluster_ms"] = best_ms(lambda: components(xy, 1.4), repeat)
    for window in (5, 10, 30):
        block = rng.integers(-9500, -4000, size=(slots, window)).astype(np.int16)
        kth = (window // 4, window // 2, (3 * window) // 4)
        out[f"window{window}_ms"] = best_ms(lambda b=block, k=kth: np.partition(b, k, axis=1), repeat)
        del block
    out["gn3_ms"] = best_ms(lambda: gauss_newton(start, gw, dist, w, 3), repeat)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,5000,10000,20000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.repeat)))
        return 0
    print(f"the floor of a tick (best of {args.repeat}; numpy and scipy, one process per size)")
    head = (
        "badges",
        "DBSCAN alone ms",
        "clustering ms",
        "5 s window ms",
        "10 s window ms",
        "30 s window ms",
        "3 Gauss-Newton ms",
        "floor ms",
        "floor / DBSCAN",
        "left by the bar ms",
        "with a 5 s window",
    )
    print_head(head)
    for n in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--child", str(n), "--repeat", str(args.repeat)]
        r = child_result(cmd)
        floor = r["cluster_ms"] + r["window10_ms"] + r["gn3_ms"]
        floor5 = floor - r["window10_ms"] + r["window5_ms"]
        cells = (
            f"{n:,}",
            f"{r['dbscan_ms']:.1f}",
            f"{r['cluster_ms']:.1f}",
            f"{r['window5_ms']:.1f}",
            f"{r['window10_ms']:.1f}",
            f"{r['window30_ms']:.1f}",
            f"{r['gn3_ms']:.1f}",
            f"{floor:.1f}",
            f"{floor / r['dbscan_ms']:.2f}x",
            f"{1.5 * r['dbscan_ms'] - floor:.1f}",
            f"{floor5 / r['dbscan_ms']:.2f}x, {1.5 * r['dbscan_ms'] - floor5:.1f} ms left",
        )
        print_row(cells)
    print("bars: full tick <= 1.5x DBSCAN alone at 10,000 badges; <= 150 ms at 20,000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
