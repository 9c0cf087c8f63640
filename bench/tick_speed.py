"""Full tick at 1k-20k badges against scikit-learn DBSCAN alone on the same points.

    python bench/tick_speed.py [--sizes 1000,5000,10000,20000] [--ticks 10] [--warmup 35]

Each size runs in its own process (so peak memory is that size's own). A synthetic crowd
on a simulated venue (gateway every 7 m, one advertisement per badge per second, heard by
every gateway above -95 dBm: about a dozen readings per badge per second, as the simulator
gives: log-distance plus 0.5 dB/m of crowd loss) is fed through ``step()``; after
``--warmup`` ticks (the 30 s profile window fills) the next ``--ticks`` are timed:

  * ingest — ``Ingest.accept`` of that second's messages (decode, validation, id mapping),
  * tick — ``step()`` on the drained input: windows, calibration, positions, smoothing,
    the blended distance graph, DBSCAN, colleague candidates, tracking, policy, the frame,
  * DBSCAN alone — ``sklearn.cluster.DBSCAN(eps=1.4, min_samples=2)`` on the same ticks'
    positions (the frame's badges), timed in the same process after the last tick, once its
    peak memory is taken (the pipeline never imports scikit-learn, which adds 64 MB).

The crowd is cheap on purpose (vectorised; not the ground-truth simulator, which is too slow
at 20k): people stand in circles of 2-5 or walk, groups re-form now and then, and RSSI is
log-distance with hashed per-pair shadowing and per-reading fading. Peak memory is the
whole child process (crowd + messages + pipeline); ``crowd only`` is the same child
without the pipeline, so the difference is the pipeline's own. A second's readings are
generated a thousand badges at a time, and its messages built one at a time as they are
accepted (a live pipeline takes them one at a time from the broker and holds none once taken).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from mingle_wire import Topics
from pipeline.allocator import set_up_pipeline_process
from pipeline.detector import DETECTORS
from pipeline.roster import Roster
from pipeline.sim.floorplan import gateway_grid, reference_spots
from pipeline.sim.population import build_cast
from pipeline.step import PipelineState, step
from pipeline.venue import Floor, Policy, Venue

T0 = 1764140000.0


class Crowd:
    """People in small circles or walking, on ``width`` x ``height`` metres."""

    def __init__(self, n: int, width: float, height: float, rng: np.random.Generator) -> None:
        self.n, self.w, self.h, self.rng = n, width, height, rng
        self.xy = np.empty((n, 2))
        self.group = np.full(n, -1)
        self.vel = np.zeros((n, 2))
        self._form(np.arange(n))

    def _form(self, who: np.ndarray) -> None:
        rng = self.rng
        k = 0
        while k < who.shape[0]:
            if rng.random() < 0.15:  # a walker
                i = who[k]
                self.xy[i] = rng.uniform((1, 1), (self.w - 1, self.h - 1))
                ang = rng.uniform(0, 2 * np.pi)
                self.vel[i] = (np.cos(ang), np.sin(ang))
                self.group[i] = -1
                k += 1
                continue
            size = int(min(rng.integers(2, 6), who.shape[0] - k))
            members = who[k : k + size]
            centre = rng.uniform((2, 2), (self.w - 2, self.h - 2))
            ang = rng.uniform(0, 2 * np.pi) + np.arange(size) * 2 * np.pi / size
            r = 0.45 + 0.1 * size
            self.xy[members] = centre + np.column_stack([r * np.cos(ang), r * np.sin(ang)])
            self.vel[members] = 0.0
            self.group[members] = int(members[0])
            k += size

    def advance(self) -> None:
        walking = self.group < 0
        self.xy[walking] += self.vel[walking]
        out = (
            (self.xy[:, 0] < 0.5)
            | (self.xy[:, 0] > self.w - 0.5)
            | (self.xy[:, 1] < 0.5)
            | (self.xy[:, 1] > self.h - 0.5)
        )
        self.vel[out] *= -1.0
        self.xy = np.clip(self.xy, 0.5, (self.w - 0.5, self.h - 0.5))
        # About 1 % of people leave their group or stop walking each second, and re-form.
        moving = np.flatnonzero(self.rng.random(self.n) < 0.01)
        if moving.shape[0]:
            self._form(self.rng.permutation(moving))


def _hash_normal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random N(0, 1)-ish value per (a, b) pair, without storing an N x G table."""
    x = (a.astype(np.uint64) * np.uint64(2654435761) + b.astype(np.uint64) * np.uint64(40503)) & np.uint64(0xFFFFFFFF)
    u = []
    for shift in (0, 8, 16, 24):
        x = (x * np.uint64(1103515245) + np.uint64(12345)) & np.uint64(0xFFFFFFFF)
        u.append(((x >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.float64) / 65535.0)
    return (sum(u) - 2.0) * np.sqrt(3.0)


class Second:
    """One second of readings as the gateways publish them: iterating gives one message per
    gateway (split at the wire's 5,000 readings), each built only as it is taken, as a broker
    hands them over one at a time. ``readings`` is how many there are in all."""

    def __init__(self, readings: tuple[np.ndarray, np.ndarray, np.ndarray], stamp: list[float], now: float) -> None:
        self.badge, self.gw, self.rssi = readings  # sorted by gateway, then badge
        self.stamp, self.now = stamp, now
        self.readings = int(self.badge.shape[0])
        self.names: tuple[list[str], list[str], Topics] | None = None  # gateway ids, badge ids, topics

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        assert self.names is not None
        gw_ids, ids, topics = self.names
        gw = self.gw
        starts = np.flatnonzero(np.r_[True, gw[1:] != gw[:-1]]).tolist() if gw.shape[0] else []
        ends = [*starts[1:], gw.shape[0]]
        level: dict[float, float] = {}  # one float object per RSSI value
        stamp = self.stamp
        for a, b in zip(starts, ends, strict=True):
            g = gw_ids[int(gw[a])]
            items = [
                {"badge": ids[k], "rssi": level.setdefault(r, r), "ts": stamp[k]}
                for k, r in zip(self.badge[a:b].tolist(), self.rssi[a:b].tolist(), strict=True)
            ]
            for c in range(0, len(items), 5000):  # the wire's MAX_ITEMS per message
                yield topics.readings(g), {"v": 1, "gateway": g, "sent": self.now, "readings": items[c : c + 5000]}


def messages(
    crowd: Crowd,
    gw_xyz: np.ndarray,
    grid: tuple[int, int],
    gw_ids: list[str],
    ids: list[str],
    topics: Topics,
    now: float,
    rng: np.random.Generator,
    chunk: int = 1024,
) -> Second:
    """One second of readings, as the gateways would publish them (one message per gateway).

    Badges are taken ``chunk`` at a time, in order (the fading draws come from ``rng`` in the
    same sequence as for the whole crowd at once), so the arrays of candidate (badge, gateway)
    pairs stay small; only the readings heard are kept, and the messages are built from them
    one at a time as they are taken. A badge's ``ts`` is the same at every gateway and an
    RSSI is a whole number, so the payloads share those float objects.
    """
    n = crowd.n
    nx, ny = grid
    dx, dy = crowd.w / nx, crowd.h / ny
    off = np.arange(-4, 5)
    di, dj = (a.ravel() for a in np.meshgrid(off, off))
    heard_badge, heard_gw, heard_rssi = [], [], []
    for lo in range(0, n, chunk):
        xy = crowd.xy[lo : lo + chunk]
        ci = np.floor(xy[:, 0] / dx).astype(np.int64)
        cj = np.floor(xy[:, 1] / dy).astype(np.int64)
        ii = ci[:, None] + di[None, :]
        jj = cj[:, None] + dj[None, :]
        ok = (ii >= 0) & (ii < nx) & (jj >= 0) & (jj < ny)
        badge = np.repeat(np.arange(lo, lo + xy.shape[0]), ok.sum(axis=1))
        gw = (jj * nx + ii)[ok]  # gateway_grid numbers gateways row by row
        d = np.sqrt(((crowd.xy[badge] - gw_xyz[gw, :2]) ** 2).sum(axis=1) + (gw_xyz[gw, 2] - 1.3) ** 2)
        rssi = -59.0 - 22.0 * np.log10(d) - 0.5 * d + 4.0 * _hash_normal(badge, gw) + rng.normal(0.0, 3.0, d.shape[0])
        heard = rssi > -95.0
        heard_badge.append(badge[heard])
        heard_gw.append(gw[heard])
        heard_rssi.append(np.round(rssi[heard]))
    badge, gw, rssi = np.concatenate(heard_badge), np.concatenate(heard_gw), np.concatenate(heard_rssi)
    order = np.argsort(gw, kind="stable")
    stamp = [round(t, 3) for t in (now - 1.0 + ((np.arange(n) * 7919) % 1000) / 1000.0).tolist()]
    second = Second((badge[order], gw[order], rssi[order]), stamp, now)
    second.names = (gw_ids, ids, topics)
    return second


def event(n: int) -> tuple[Venue, Roster]:
    """A venue of 4 m² per attendee (4:3), gateways every 7 m, and a roster of ``n`` (the
    simulator's own builders; its scenario config stops at 5,000 attendees)."""
    rng = np.random.default_rng(1)
    width = round(float(np.sqrt(4.0 * n * 4 / 3)), 1)
    height = round(width * 0.75, 1)
    venue = Venue(
        site="bench",
        name=f"tick bench, {n} attendees",
        floor=Floor(width, height),
        gateways=gateway_grid(width, height, 7.0, rng),
        references=reference_spots(4, width, height, (), rng),
        policy=Policy(),
    )
    return venue, build_cast(n, 6, 0, 0.05, rng).roster


def child(n: int, ticks: int, warmup: int, detector: str, pipeline: bool) -> dict[str, Any]:
    venue, roster = event(n)
    rng = np.random.default_rng(1)
    crowd = Crowd(n, venue.floor.width, venue.floor.height, rng)
    ids = sorted(roster)[:n]
    gw_xyz = np.array([(g.x, g.y, g.z) for g in venue.gateways])
    grid = (len({g.x for g in venue.gateways}), len({g.y for g in venue.gateways}))
    assert grid[0] * grid[1] == len(venue.gateways)
    gw_ids = [g.id for g in venue.gateways]
    topics = Topics(venue.site)
    state = PipelineState(venue, roster, DETECTORS[detector]) if pipeline else None
    ingest_ms, tick_ms, dbscan_ms, readings, placed = [], [], [], [], []
    timed_xy: list[np.ndarray] = []
    for k in range(warmup + ticks):
        now = T0 + k + 1.0
        crowd.advance()
        second = messages(crowd, gw_xyz, grid, gw_ids, ids, topics, now, rng)
        if state is None:
            for _ in second:  # built and dropped one at a time, as below
                pass
            continue
        # Ingest: Ingest.accept of that second's messages, each built as it is taken (a live
        # pipeline holds no message once it has taken it, nor a second's worth at once).
        ingest_s = 0.0
        for topic, payload in second:
            t0 = time.perf_counter()
            state.ingest.accept(topic, payload)
            ingest_s += time.perf_counter() - t0
        heard = second.readings
        del second
        t_step = time.perf_counter()
        result = step(state, [], now)
        t2 = time.perf_counter()
        if k >= warmup:
            ingest_ms.append(ingest_s * 1e3)
            tick_ms.append((t2 - t_step) * 1e3)
            readings.append(heard)
            placed.append(len(result.frame.badges))
            timed_xy.append(np.array([(b.x, b.y) for b in result.frame.badges]).reshape(-1, 2))
    out: dict[str, Any] = {"n": n, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    # DBSCAN alone on each timed tick's positions, once the peak is taken: the pipeline never
    # imports scikit-learn (its labels at min_samples 2 are the eps-graph's components), which
    # would add 64 MB to the process.
    from sklearn.cluster import DBSCAN

    for xy in timed_xy:
        t3 = time.perf_counter()
        DBSCAN(eps=1.4, min_samples=2).fit(xy)
        dbscan_ms.append((time.perf_counter() - t3) * 1e3)
    if state is not None:
        out |= {
            "readings_per_s": statistics.mean(readings),
            "placed": statistics.mean(placed),
            "ingest_ms": statistics.median(ingest_ms),
            "tick_ms_p50": statistics.median(tick_ms),
            "tick_ms_max": max(tick_ms),
            "dbscan_ms": statistics.median(dbscan_ms),
        }
    return out


def run_child(n: int, args: argparse.Namespace, pipeline: bool) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        str(n),
        "--ticks",
        str(args.ticks),
        "--warmup",
        str(args.warmup),
        "--detector",
        args.detector,
    ]
    if not pipeline:
        cmd.append("--crowd-only")
    if args.default_malloc:
        cmd.append("--default-malloc")
    return child_result(cmd)


def child_result(cmd: list[str]) -> dict[str, Any]:
    """Run a child process (one size of a bench) and read the JSON its last line prints."""
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def print_head(head: tuple[str, ...]) -> None:
    """A markdown table's header and rule, as docs/benchmarks.md takes them."""
    print_row(head)
    print("|" + "---|" * len(head))


def print_row(cells: tuple[str, ...]) -> None:
    print("| " + " | ".join(cells) + " |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,5000,10000,20000")
    ap.add_argument("--ticks", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=35)
    ap.add_argument("--detector", default="mingle", choices=sorted(DETECTORS))
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--crowd-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument(
        "--default-malloc",
        action="store_true",
        help="leave glibc's allocator and the garbage collector at their defaults (see pipeline/allocator.py)",
    )
    args = ap.parse_args()
    if args.child is not None:
        if not args.default_malloc:
            set_up_pipeline_process()  # as every pipeline process does at its edge
        print(json.dumps(child(args.child, args.ticks, args.warmup, args.detector, not args.crowd_only)))
        return 0
    malloc = "glibc and gc defaults" if args.default_malloc else "freed memory kept, fewer collections"
    print(f"full tick vs DBSCAN alone ({args.detector}; median of {args.ticks} ticks after {args.warmup}; {malloc})")
    head = (
        "badges",
        "readings/s",
        "ingest ms",
        "tick ms",
        "tick max ms",
        "DBSCAN ms",
        "tick/DBSCAN",
        "peak MB",
        "crowd-only MB",
    )
    print_head(head)
    for n in (int(s) for s in args.sizes.split(",")):
        r = run_child(n, args, True)
        base = run_child(n, args, False)
        cells = (
            f"{n:,}",
            f"{r['readings_per_s']:,.0f}",
            f"{r['ingest_ms']:.0f}",
            f"{r['tick_ms_p50']:.0f}",
            f"{r['tick_ms_max']:.0f}",
            f"{r['dbscan_ms']:.1f}",
            f"{r['tick_ms_p50'] / r['dbscan_ms']:.1f}x",
            f"{r['peak_mb']:.0f}",
            f"{base['peak_mb']:.0f}",
        )
        print_row(cells)
    return 0


if __name__ == "__main__":
    sys.exit(main())
