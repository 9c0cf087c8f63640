"""``mingle replay``: run a recording through the pipeline offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mingle_wire import WireError

from .allocator import set_up_pipeline_process
from .detector import DETECTORS
from .errors import ConfigError
from .replay import run_replay
from .roster import load_roster
from .venue import load_venue

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="run a recording through the pipeline, as fast as possible",
        description="Replays RECORDING through the same step() the live service runs, on the recording's own clock. "
        "Writes OUT/frames.jsonl, OUT/alerts.jsonl and OUT/summary.json.",
    )
    p.add_argument("recording", type=Path, help="recording (.jsonl or .jsonl.gz)")
    p.add_argument("--venue", type=Path, required=True, help="venue.yaml")
    p.add_argument("--roster", type=Path, required=True, help="roster.csv")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--tick-s", type=float, default=1.0, help="tick interval in seconds (default 1)")
    p.add_argument("--detector", choices=sorted(DETECTORS), default="mingle", help="detector settings (default mingle)")
    p.add_argument("--store", type=Path, help="also write the event store (SQLite) for mingle report")
    p.add_argument(
        "--no-read-ahead",
        dest="read_ahead",
        action="store_false",
        help="read and decode the recording in this process, not in a second one (same outputs, slower)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    set_up_pipeline_process()
    try:
        venue = load_venue(args.venue)
        roster = load_roster(args.roster)
    except ConfigError as exc:
        print(f"mingle replay: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_replay(
            args.recording,
            venue,
            roster,
            out_dir=args.out,
            tick_s=args.tick_s,
            detector=args.detector,
            progress=sys.stderr.isatty(),
            store=args.store,
            read_ahead=args.read_ahead,
        )
    except (WireError, OSError) as exc:
        print(f"mingle replay: {exc}", file=sys.stderr)
        return 1
    s = result.summary
    print(
        f"{s['ticks']} ticks over {s['span_s']:.0f} s; {s['messages']} messages, {s['readings']} readings, "
        f"{s['rejected_total']} rejected; {s['alerts']} alerts ({s['held_out']} held out), {s['nudges']} nudges; "
        f"{s['timing']['x_real_time']}x real time"
    )
    print(json.dumps({"out": str(args.out), **{k: s[k] for k in ("ticks", "alerts", "rejected_total")}}))
    return 0
