"""simulate(): the files, their formats, and byte-for-byte determinism."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from mingle_wire import (
    PositionBatch,
    ReadingBatch,
    decode_positions,
    decode_readings,
    dumps,
    encode_positions,
    encode_readings,
    read_recording,
)
from mingle_wire.topics import parse_topic
from pipeline.roster import load_roster
from pipeline.sim import FILES, ScenarioConfig, SimulationSummary, simulate
from pipeline.venue import load_venue

CONFIG = ScenarioConfig(attendees=40, minutes=2, booths=2, input="both", seed=7)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    out = tmp_path_factory.mktemp("sim")
    return out, simulate(CONFIG, out)


def _lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as fh:
        return fh.read().splitlines(keepends=True)


def test_writes_every_file(run: tuple[Path, SimulationSummary]) -> None:
    out, _ = run
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())


def test_venue_and_roster_load_back(run: tuple[Path, SimulationSummary]) -> None:
    out, summary = run
    venue = load_venue(out / "venue.yaml")
    roster = load_roster(out / "roster.csv")
    assert venue.site == "expo" and len(venue.gateways) == summary.gateways
    assert len(roster) == 40 == summary.attendees


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, run: tuple[Path, SimulationSummary]) -> None:
    out, _ = run
    again = tmp_path / "again"
    simulate(CONFIG, again)
    for name in FILES.values():
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    assert (out / "recording.jsonl.gz").read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime fixed, not the wall clock
    other = tmp_path / "other"
    simulate(ScenarioConfig(attendees=40, minutes=2, booths=2, input="both", seed=8), other)
    for name in ("recording.jsonl.gz", "truth.jsonl", "roster.csv"):
        assert (out / name).read_bytes() != (other / name).read_bytes(), name


def test_recording_decodes_without_a_single_rejection(run: tuple[Path, SimulationSummary]) -> None:
    out, summary = run
    readings = positions = 0
    kinds: Counter[str] = Counter()
    for message in read_recording(out / "recording.jsonl.gz"):
        topic = parse_topic(message.topic)
        assert topic is not None and topic.site == "expo"
        assert isinstance(message.payload, dict) and message.t is not None
        kinds[topic.kind] += 1
        if topic.kind == "readings":
            decoded = decode_readings(message.payload, topic.key)
            assert isinstance(decoded.batch, ReadingBatch)
            readings += len(decoded.batch.readings)
            # the payload is exactly what the codec itself would write for it
            assert json.loads(encode_readings(decoded.batch)) == message.payload
        else:
            assert topic.key == "rtls-1"
            decoded = decode_positions(message.payload, topic.key)
            assert isinstance(decoded.batch, PositionBatch)
            positions += len(decoded.batch.positions)
            assert json.loads(encode_positions(decoded.batch)) == message.payload
        assert decoded.rejected == ()
    assert readings == summary.readings > 0
    assert positions == summary.positions > 0
    assert kinds["positions"] == 120 == summary.position_messages


def test_lines_are_canonical_and_sorted_by_arrival(run: tuple[Path, SimulationSummary]) -> None:
    out, _ = run
    keys = []
    for line in _lines(out / "recording.jsonl.gz"):
        entry = json.loads(line)
        assert list(entry) == ["topic", "t", "payload"]
        assert dumps(entry) + b"\n" == line  # what RecordingWriter would have written
        keys.append((entry["t"], entry["topic"]))
    assert keys == sorted(keys)


def test_one_message_per_gateway_per_second(run: tuple[Path, SimulationSummary]) -> None:
    out, summary = run
    per_gateway: Counter[str] = Counter()
    arrival_lag: list[float] = []
    for message in read_recording(out / "recording.jsonl.gz"):
        if "/readings/" in message.topic:
            assert isinstance(message.payload, dict) and message.t is not None
            per_gateway[message.payload["gateway"]] += 1
            for r in message.payload["readings"]:
                assert isinstance(r["rssi"], int) and r["tx"] == -59 and isinstance(r["seq"], int)
                assert -95 <= r["rssi"] <= 10
                assert r["ts"] <= message.payload["sent"]  # stamped before the window was sent
                arrival_lag.append(message.t - r["ts"])
    assert set(per_gateway) == {f"gw-{k:02d}" for k in range(1, summary.gateways + 1)}
    for count in per_gateway.values():
        assert CONFIG.duration_s <= count <= CONFIG.duration_s + 2  # plus the windows open at either end
    # ts is on the gateway clock (off by ~50 ms), arrival on the true clock
    assert min(arrival_lag) > -0.3 and max(arrival_lag) < 1.5


def test_truth_format(run: tuple[Path, SimulationSummary]) -> None:
    out, _ = run
    lines = (out / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == CONFIG.duration_s
    roster = load_roster(out / "roster.csv")
    venue = load_venue(out / "venue.yaml")
    refs = {r.id for r in venue.references}
    unknown_seen = set()
    for k, line in enumerate(lines):
        tick = json.loads(line)
        assert list(tick) == ["t", "people", "groups"]
        assert tick["t"] == CONFIG.start + k
        assert " " not in line  # compact
        for p in tick["people"]:
            assert list(p) == ["badge", "x", "y", "heading"]
            assert round(p["x"], 2) == p["x"] and round(p["heading"], 3) == p["heading"]
            assert p["badge"] not in refs
            if p["badge"] not in roster:
                unknown_seen.add(p["badge"])
        for g in tick["groups"]:
            assert list(g) == ["id", "members"] and g["id"].startswith("g-")
    assert len(unknown_seen) == CONFIG.unknown_badges


def test_scenario_json(run: tuple[Path, SimulationSummary]) -> None:
    out, summary = run
    doc = json.loads((out / "scenario.json").read_text(encoding="utf-8"))
    assert doc["config"] == CONFIG.to_dict()
    assert doc["summary"] == summary.to_dict()
    for key in ("people", "companies", "gateways", "messages", "readings", "same_company_groups"):
        assert key in doc["summary"]
    assert summary.people == 43 and summary.messages == summary.reading_messages + summary.position_messages


def test_positions_only_publishes_no_readings(tmp_path: Path) -> None:
    summary = simulate(ScenarioConfig(attendees=20, minutes=0.5, booths=1, input="positions"), tmp_path)
    assert summary.reading_messages == 0 and summary.readings == 0
    assert summary.position_messages == 30
