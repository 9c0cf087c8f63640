"""The read-ahead replay: the same ticks, frames, alerts, counts and logs as the one-process
replay, and errors from the child raised in the parent."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from mingle_wire import RecordingError, RecordingWriter, read_recording
from pipeline.readahead import ReadAhead
from pipeline.replay import run_replay
from pipeline.roster import load_roster
from pipeline.sim import ScenarioConfig, simulate
from pipeline.step import PipelineState
from pipeline.venue import load_venue


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 attendees for 2 minutes, with positions and neighbour reports, and a recording that
    also holds what an ingest must reject or count: bad JSON, an unknown gateway, a reading out
    of range, badges off the roster (one first heard halfway)."""
    out = tmp_path_factory.mktemp("readahead") / "scenario"
    simulate(ScenarioConfig(attendees=40, minutes=2, booths=1, input="both", seed=5, contacts=True), out)
    messages = list(read_recording(out / "recording.jsonl.gz", orjson.loads))
    site = load_venue(out / "venue.yaml").site
    gw = load_venue(out / "venue.yaml").gateways[0].id
    with RecordingWriter(out / "mixed.jsonl.gz") as w:
        for k, msg in enumerate(messages):
            w.write(msg.topic, msg.payload, t=msg.t)
            t = msg.t if msg.t is not None else 0.0
            if k % 97 == 0:
                w.write(f"mingle/{site}/readings/{gw}", b"{broken", t=t)
            if k % 151 == 0:
                w.write(f"mingle/{site}/readings/gw-nowhere", {"v": 1, "gateway": "gw-nowhere", "sent": t}, t=t)
            if k % 173 == 0:
                bad = {"badge": "b-0001", "rssi": 40, "ts": t}  # far above any BLE level
                w.write(f"mingle/{site}/readings/{gw}", {"v": 1, "gateway": gw, "sent": t, "readings": [bad]}, t=t)
            if k == len(messages) // 2:
                stray = {"badge": "stray-1", "rssi": -70, "ts": t - 0.2}
                w.write(f"mingle/{site}/readings/{gw}", {"v": 1, "gateway": gw, "sent": t, "readings": [stray]}, t=t)
    return out


def _replay(scenario: Path, out: Path, read_ahead: bool) -> dict[str, object]:
    venue, roster = load_venue(scenario / "venue.yaml"), load_roster(scenario / "roster.csv")
    result = run_replay(scenario / "mixed.jsonl.gz", venue, roster, out_dir=out, read_ahead=read_ahead)
    summary = dict(result.summary)
    summary.pop("timing")
    return summary


def test_read_ahead_gives_the_one_process_replay_byte_for_byte(
    scenario: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mingle"):
        alone = _replay(scenario, tmp_path / "alone", read_ahead=False)
    logged_alone = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="mingle"):
        ahead = _replay(scenario, tmp_path / "ahead", read_ahead=True)
    logged_ahead = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    for name in ("frames.jsonl", "alerts.jsonl"):
        assert (tmp_path / "alone" / name).read_bytes() == (tmp_path / "ahead" / name).read_bytes()
    assert ahead == alone
    # The recording holds what the counts must show, and its rejections are logged in order.
    rejected = alone["rejected"]
    assert isinstance(rejected, dict) and {"bad_json", "unknown_gateway"} <= set(rejected)
    assert alone["unknown_badges"] == 4 and alone["contacts"] and alone["positions"]
    assert logged_ahead == logged_alone and any("rejected bad_json" in m for _, _, m in logged_ahead)
    frames = (tmp_path / "ahead" / "frames.jsonl").read_text().splitlines()
    assert len(frames) == alone["ticks"] and any("stray-1" in f for f in frames)


def test_an_unreadable_recording_raises_in_the_parent_as_it_was_raised(scenario: Path, tmp_path: Path) -> None:
    venue, roster = load_venue(scenario / "venue.yaml"), load_roster(scenario / "roster.csv")
    with pytest.raises(FileNotFoundError):
        run_replay(tmp_path / "missing.jsonl", venue, roster)
    bad = tmp_path / "bad.jsonl"
    first = json.dumps({"topic": f"mingle/{venue.site}/readings/gw-01", "payload": {}, "t": 1764140000.5})
    bad.write_text(first + "\n" + "not a recording line\n")
    with pytest.raises(RecordingError, match=r"bad\.jsonl:2"):
        run_replay(bad, venue, roster)


@pytest.mark.timeout(120)
def test_a_child_that_dies_even_in_the_middle_of_a_drain_is_an_error_not_a_hang(scenario: Path) -> None:
    venue, roster = load_venue(scenario / "venue.yaml"), load_roster(scenario / "roster.csv")
    with ReadAhead(scenario / "mixed.jsonl.gz", venue, roster) as reader:
        ticks = reader.ticks(PipelineState(venue, roster))
        next(ticks)
        time.sleep(1.0)  # (the child fills the pipe and waits in the middle of a send)
        assert reader.process.pid is not None
        os.kill(reader.process.pid, signal.SIGKILL)
        with pytest.raises(RuntimeError, match="read-ahead process ended"):
            for _ in ticks:
                pass


@pytest.mark.timeout(120)
def test_a_child_whose_parent_dies_ends_too(scenario: Path, tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from pipeline.readahead import ReadAhead\n"
        "from pipeline.roster import load_roster\n"
        "from pipeline.venue import load_venue\n"
        "sc = Path(sys.argv[1])\n"
        "reader = ReadAhead(sc / 'mixed.jsonl.gz', load_venue(sc / 'venue.yaml'), load_roster(sc / 'roster.csv'))\n"
        "print(reader.process.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)  # (dies without closing anything)\n"
    )
    out = tmp_path / "out.txt"
    with out.open("w") as fh:  # (a file, not a pipe: the child holds the parent's stdout while it runs)
        subprocess.run([sys.executable, str(script), str(scenario)], stdout=fh, timeout=60, check=False)
    child = int(out.read_text().split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _running(child):
        time.sleep(0.1)
    assert not _running(child)


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie awaiting its reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_an_error_that_does_not_survive_pickling_reaches_the_parent_as_text() -> None:
    from pipeline.readahead import _portable

    class StubbornError(Exception):
        def __init__(self, a: int, b: int) -> None:
            super().__init__(f"{a} and {b}")

    try:
        raise StubbornError(1, 2)
    except StubbornError as exc:
        sent = _portable(exc)
    assert isinstance(sent, RuntimeError) and "StubbornError: 1 and 2" in str(sent)
    try:
        raise ValueError("plain")
    except ValueError as exc:
        sent = _portable(exc)
    assert isinstance(sent, ValueError) and any("read-ahead process" in n for n in sent.__notes__)


def test_a_pipeline_state_that_numbers_badges_otherwise_is_refused(scenario: Path) -> None:
    venue, roster = load_venue(scenario / "venue.yaml"), load_roster(scenario / "roster.csv")
    state = PipelineState(venue, roster)
    state.badges.get("someone-else")  # the state was used before: its indices are not the child's
    with ReadAhead(scenario / "mixed.jsonl.gz", venue, roster) as reader, pytest.raises(RuntimeError, match="numbers"):
        next(reader.ticks(state))


def test_bad_arguments_are_refused_before_any_process_starts(scenario: Path) -> None:
    venue, roster = load_venue(scenario / "venue.yaml"), load_roster(scenario / "roster.csv")
    with pytest.raises(ValueError, match="tick_s"):
        ReadAhead(scenario / "mixed.jsonl.gz", venue, roster, tick_s=0)
