"""Replay speed (x real time) at 500 attendees, against decode-only and the naive baseline.

    python bench/replay_speed.py [--attendees 500] [--minutes 10] [--seed 1] [--keep DIR] [--contacts]

Simulates a scenario (not timed), then times in the same run:
  * decode only — read the recording and validate every message (the floor any replay pays),
  * replay with the naive baseline detector,
  * replay with Mingle's detector,
and prints one table. With ``--contacts`` the badges also report their neighbours
(``mingle simulate --contacts``: the same readings plus ``contacts/<gateway>``), and the
table adds Mingle's replay of the same scenario without them (simulated beside it, in
DIR-plain with ``--keep``): what reading the reports costs. Figures in docs/benchmarks.md
come from this script.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson

from mingle_wire import read_recording
from pipeline.allocator import set_up_pipeline_process
from pipeline.ingest import BadgeIndex, Ingest
from pipeline.replay import run_replay
from pipeline.roster import load_roster
from pipeline.sim import ScenarioConfig, simulate
from pipeline.venue import load_venue


def decode_only(scenario: Path) -> tuple[float, int]:
    venue, roster = load_venue(scenario / "venue.yaml"), load_roster(scenario / "roster.csv")
    ingest = Ingest(venue.site, [g.id for g in venue.gateways], roster, BadgeIndex())
    started = time.perf_counter()
    for msg in read_recording(scenario / "recording.jsonl.gz", orjson.loads):
        ingest.accept(msg.topic, msg.payload)
        ingest.drain()
    return time.perf_counter() - started, ingest.readings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attendees", type=int, default=500)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="reuse or keep the scenario in this directory")
    ap.add_argument("--contacts", action="store_true", help="badges also report neighbours; compare without them")
    ap.add_argument(
        "--default-malloc",
        action="store_true",
        help="leave glibc's allocator and the garbage collector at their defaults (see pipeline/allocator.py)",
    )
    args = ap.parse_args()
    if not args.default_malloc:
        set_up_pipeline_process()  # as `mingle replay` does
    tmp = None
    if args.keep is not None:
        scenario = args.keep
    else:
        tmp = tempfile.TemporaryDirectory()
        scenario = Path(tmp.name) / "scenario"
    config = ScenarioConfig(attendees=args.attendees, minutes=args.minutes, seed=args.seed, contacts=args.contacts)
    plain = scenario.with_name(scenario.name + "-plain")
    wanted = [(scenario, config)]
    if args.contacts:
        wanted.append((plain, ScenarioConfig(**{**config.to_dict(), "contacts": False})))
    for where, cfg in wanted:
        if not (where / "recording.jsonl.gz").exists():
            print(f"simulating {args.attendees} attendees x {args.minutes} min into {where} ...", file=sys.stderr)
            simulate(cfg, where)
    venue, roster = load_venue(scenario / "venue.yaml"), load_roster(scenario / "roster.csv")
    span = args.minutes * 60.0
    rows = []
    wall, readings = decode_only(scenario)
    rows.append(("decode only", wall, readings, "-", "-"))
    runs = [("replay baseline", scenario, "baseline"), ("replay mingle", scenario, "mingle")]
    if args.contacts:
        runs.append(("mingle, no contacts", plain, "mingle"))
    for what, where, name in runs:
        started = time.perf_counter()
        result = run_replay(where / "recording.jsonl.gz", venue, roster, detector=name)
        wall = time.perf_counter() - started
        t = result.summary["timing"]
        rows.append((what, wall, result.summary["readings"], t["tick_ms_p50"], t["tick_ms_p95"]))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    malloc = "glibc and gc defaults" if args.default_malloc else "freed memory kept, fewer collections"
    print(f"\nreplay speed: {args.attendees} attendees, {args.minutes:g} min simulated, seed {args.seed}; {malloc}")
    print(f"{'what':<18}{'wall s':>9}{'x real time':>13}{'readings/s':>13}{'tick p50 ms':>13}{'tick p95 ms':>13}")
    for what, wall, n, p50, p95 in rows:
        print(f"{what:<18}{wall:>9.1f}{span / wall:>13.1f}{n / wall:>13,.0f}{p50!s:>13}{p95!s:>13}")
    print(f"peak memory (whole process): {peak_mb:,.0f} MB")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
