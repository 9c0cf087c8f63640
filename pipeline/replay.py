"""Offline replay: a recording through the same ``step()`` the live service runs.

The clock is the recording's own (:mod:`.replayclock`). By default the recording is read,
decoded and validated in a second process, ahead of the ticks
(:mod:`.readahead`): the same ingest, the same drains, the same ticks, on two cores.
Deterministic: the same recording, files and detector give byte-identical ``frames.jsonl``
and ``alerts.jsonl``, read ahead or not.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from mingle_wire import Alert, Frame, RecordedMessage, alert_to_dict, dumps, frame_to_dict, read_recording

from .detector import DETECTORS, Detector
from .readahead import ReadAhead
from .readahead import available as read_ahead_available
from .replayclock import MAX_GAP_S, tick_batches
from .roster import Roster
from .step import PipelineState, TickResult, step
from .store import StoreSink
from .venue import Venue

__all__ = ["MAX_GAP_S", "ReplayResult", "replay_ticks", "run_replay"]


@dataclass(slots=True)
class ReplayResult:
    frames: list[Frame] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def replay_ticks(
    messages: Iterator[RecordedMessage], state: PipelineState, tick_s: float = 1.0
) -> Iterator[TickResult]:
    """Run ``step`` over ``messages`` on their own clock (:func:`~.replayclock.tick_batches`);
    yields one result per tick."""
    for now, pending in tick_batches(messages, tick_s):
        yield step(state, pending, now)


def run_replay(
    recording: Path,
    venue: Venue,
    roster: Roster,
    *,
    out_dir: Path | None = None,
    tick_s: float = 1.0,
    detector: str | Detector = "mingle",
    progress: bool = False,
    store: Path | None = None,
    read_ahead: bool = True,
) -> ReplayResult:
    """Replay ``recording``; with ``out_dir``, write frames.jsonl, alerts.jsonl and summary.json;
    with ``store``, also write the event store (SQLite) that ``mingle report`` reads.
    ``read_ahead``: read, decode and validate the recording in a second process
    (:class:`~.readahead.ReadAhead`; the same outputs, where the platform can fork), else in
    this one, tick by tick. Read ahead, the summary's tick times leave the decoding out."""
    det = DETECTORS[detector] if isinstance(detector, str) else detector
    # (Forked before the pipeline's state exists: see readahead.)
    reader = ReadAhead(recording, venue, roster, tick_s) if read_ahead and read_ahead_available() else None
    try:
        return _run(reader, recording, venue, roster, out_dir, tick_s, det, progress, store)
    finally:
        if reader is not None:
            reader.close()


def _run(
    reader: ReadAhead | None,
    recording: Path,
    venue: Venue,
    roster: Roster,
    out_dir: Path | None,
    tick_s: float,
    det: Detector,
    progress: bool,
    store: Path | None,
) -> ReplayResult:
    state = PipelineState(venue, roster, det)
    result = ReplayResult()
    started = time.perf_counter()
    frames_fh = alerts_fh = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        frames_fh = open(out_dir / "frames.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        alerts_fh = open(out_dir / "alerts.jsonl", "w", encoding="utf-8")  # noqa: SIM115
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=f"replay ({det.name})", unit=" ticks", file=sys.stderr, leave=False)
    sink = StoreSink.for_venue(store, venue, roster) if store is not None else None
    first_ts = last_ts = None
    try:
        ticks = (
            reader.ticks(state)
            if reader is not None
            else replay_ticks(read_recording(recording, orjson.loads), state, tick_s)
        )
        for tick in ticks:
            result.frames.append(tick.frame)
            result.alerts.extend(tick.alerts)
            first_ts = tick.frame.ts if first_ts is None else first_ts
            last_ts = tick.frame.ts
            if frames_fh is not None and alerts_fh is not None:
                frames_fh.write(dumps(frame_to_dict(tick.frame)).decode() + "\n")
                for alert in tick.alerts:
                    alerts_fh.write(dumps(alert_to_dict(alert)).decode() + "\n")
            if sink is not None:
                sink.on_tick(tick)
            if bar is not None:
                bar.update(1)
    finally:
        if sink is not None:
            sink.close()
        if bar is not None:
            bar.close()
        if frames_fh is not None and alerts_fh is not None:
            frames_fh.close()
            alerts_fh.close()
    wall = time.perf_counter() - started
    result.summary = summarize(state, result, det, first_ts, last_ts, wall)
    if out_dir is not None:
        (out_dir / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n", encoding="utf-8")
    return result


def summarize(
    state: PipelineState,
    result: ReplayResult,
    det: Detector,
    first_ts: float | None,
    last_ts: float | None,
    wall_s: float,
) -> dict[str, Any]:
    ing = state.ingest
    span = 0.0 if first_ts is None or last_ts is None else last_ts - first_ts
    ticks = np.array(state.tick_seconds) if state.tick_seconds else np.zeros(1)
    nudges = Counter(b for a in result.alerts for b in a.nudge)
    return {
        "detector": det.name,
        "site": state.venue.site,
        "ticks": state.ticks,
        "span_s": round(span, 3),
        "messages": ing.messages,
        "readings": ing.readings,
        "positions": ing.positions,
        "contacts": ing.contacts,
        "contact_copies": ing.contact_copies,
        "rejected": dict(sorted(ing.rejected.items())),
        "rejected_total": sum(ing.rejected.values()),
        "unknown_badges": len(ing.unknown_badges),
        "alerts": len(result.alerts),
        "held_out": sum(1 for a in result.alerts if a.held_out),
        "nudges": sum(nudges.values()),
        "suppressed_alerts": state.policy.suppressed,
        "timing": {
            "wall_s": round(wall_s, 3),
            "x_real_time": round(span / wall_s, 1) if wall_s > 0 else None,
            "tick_ms_p50": round(float(np.percentile(ticks, 50)) * 1000, 2),
            "tick_ms_p95": round(float(np.percentile(ticks, 95)) * 1000, 2),
        },
    }
