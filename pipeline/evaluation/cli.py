"""``mingle evaluate SCENARIO_DIR REPLAY_DIR [--no-baseline] [--json-only] [--bridge-s S]``.

Scores a replay (``frames.jsonl``, ``alerts.jsonl`` in REPLAY_DIR) against a simulated
scenario's truth (``venue.yaml``, ``roster.csv``, ``truth.jsonl`` in SCENARIO_DIR), and the
naive baseline detector, replayed in-process over SCENARIO_DIR's ``recording.jsonl.gz``,
beside it. Prints a table (rows ``mingle`` and ``baseline``) and, last, one JSON line; with
``--json-only`` only the JSON line. ``--bridge-s S`` scores against the true huddles with
each group's episodes joined across gaps of at most S seconds (see
:func:`~pipeline.evaluation.huddles.bridge_episodes`); the default 0 is the strict
definition. Exit status 0; 2 with a message on stderr when the venue
or roster is invalid, 1 when another input is missing or invalid.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from mingle_wire import Alert, Frame, WireError
from pipeline.allocator import set_up_pipeline_process
from pipeline.errors import ConfigError, MingleError
from pipeline.roster import Roster, load_roster
from pipeline.venue import Venue, load_venue

from .errors import InputError
from .huddles import true_huddles
from .replay_files import load_alerts, load_frames
from .report import format_table, to_json
from .scoring import Evaluation, evaluate
from .truth import load_truth

__all__ = ["add_parser", "run"]

_PROG = "mingle evaluate"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``evaluate`` command; ``args.run`` is :func:`run`."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score a replay against a simulated scenario's ground truth",
        description="Score a replay's frames and alerts, and the naive baseline's, against the truth.",
    )
    parser.add_argument("scenario", type=Path, metavar="SCENARIO_DIR", help="simulator output with truth.jsonl")
    parser.add_argument("replay", type=Path, metavar="REPLAY_DIR", help="replay output with frames and alerts")
    parser.add_argument("--no-baseline", action="store_true", help="do not replay and score the naive baseline")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    parser.add_argument(
        "--bridge-s",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="join a true group's huddle episodes across gaps of at most S seconds before scoring "
        "(a comparison view; default 0, the strict definition every published figure uses)",
    )
    parser.set_defaults(run=run)
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"seconds must be finite and >= 0, got {text!r}")
    return value


def _existing(directory: Path, name: str) -> Path:
    """``directory/name``, or its ``.gz`` sibling when only that exists."""
    path = directory / name
    gz = directory / (name + ".gz")
    return gz if not path.exists() and gz.exists() else path


def _baseline(scenario: Path, venue: Venue, roster: Roster) -> tuple[list[Frame], list[Alert]]:
    """Replay the recording with the naive baseline detector, in memory."""
    recording = scenario / "recording.jsonl.gz"
    if not recording.exists():
        raise InputError(str(recording), None, "no recording to replay the baseline over (use --no-baseline)")
    try:
        from pipeline.replay import run_replay  # the heavy pipeline, only when the baseline is wanted
    except ModuleNotFoundError as exc:
        if exc.name != "pipeline.replay":
            raise
        raise InputError("pipeline.replay", None, f"cannot run the baseline: {exc} (use --no-baseline)") from exc
    result = run_replay(recording, venue, roster, out_dir=None, detector="baseline", progress=False)
    return list(result.frames), list(result.alerts)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the table and the JSON line; 0 on success, 2 on a bad venue or roster, 1 on other bad input."""
    set_up_pipeline_process()
    scenario, replay = Path(args.scenario), Path(args.replay)
    try:
        venue = load_venue(scenario / "venue.yaml")
        roster = load_roster(scenario / "roster.csv")
    except ConfigError as exc:
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 2
    try:
        truth = load_truth(_existing(scenario, "truth.jsonl"))
        frames = load_frames(_existing(replay, "frames.jsonl"))
        alerts = load_alerts(_existing(replay, "alerts.jsonl"))
        huddles = true_huddles(truth, roster, venue, bridge_s=args.bridge_s)
        rows: dict[str, Evaluation] = {"mingle": evaluate(truth, roster, venue, frames, alerts, huddles=huddles)}
        if not args.no_baseline:
            base_frames, base_alerts = _baseline(scenario, venue, roster)
            rows["baseline"] = evaluate(truth, roster, venue, base_frames, base_alerts, huddles=huddles)
    except (MingleError, WireError, OSError, EOFError) as exc:  # EOFError: a truncated gzip recording
        print(f"{_PROG}: {exc}", file=sys.stderr)
        return 1
    if not args.json_only:
        print(format_table(rows))
    print(to_json(rows))
    return 0
